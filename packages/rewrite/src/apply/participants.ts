import { CutoverError } from '../errors.js'
import { resolveRecordedSecrets, type SecretRecord } from '../spec/secrets.js'
import type { DatabaseChange, DatabaseTarget } from '../step/database.js'
import type {
  ParticipantRecord,
  ParticipantState,
  TxParticipant,
} from '../transaction/participant.js'

/** How apply, rollback and recovery reach the databases of the step kinds. */
export interface DatabaseOptions {
  env?: Readonly<Record<string, string | undefined>>
  /** Finds the database target of a step kind. */
  database?(kind: string): DatabaseTarget<any> | undefined
}

/** Database changes by the step kind that makes them, in plan order. */
function byKind(changes: readonly DatabaseChange[]): Map<string, DatabaseChange[]> {
  const out = new Map<string, DatabaseChange[]>()
  for (const c of changes) out.set(c.kind, [...(out.get(c.kind) ?? []), c])
  return out
}

/** The transaction's participants for a plan's database changes, one set per step kind. */
export function databaseParticipants(
  changes: readonly DatabaseChange[],
  secrets: ReadonlyMap<string, string>,
  options: DatabaseOptions,
): TxParticipant[] {
  const out: TxParticipant[] = []
  for (const [kind, list] of byKind(changes)) {
    const target = options.database?.(kind)
    if (!target)
      throw new CutoverError(
        'PLAN_INVALID',
        `the plan changes a database through step kind "${kind}", which this cutover cannot apply`,
      )
    out.push(...target.participants(list, { env: options.env ?? process.env, secrets }))
  }
  return out
}

/** What a plan's database changes journal: the changes and the records of the secrets they use. */
export function databaseRecord(
  changes: readonly DatabaseChange[],
  secrets: readonly SecretRecord[],
): ParticipantRecord {
  return { changes, secrets }
}

/**
 * The transaction's question to the databases of an interrupted transaction: whether its
 * changes committed. Their secrets are read again from the environment; every database must
 * say the same.
 */
export function databaseState(options: DatabaseOptions): ParticipantState {
  return async (record) => {
    const { changes, secrets: records } = record as {
      changes: DatabaseChange[]
      secrets: SecretRecord[]
    }
    const env = options.env ?? process.env
    let secrets: Map<string, string>
    try {
      secrets = resolveRecordedSecrets(records, env)
    } catch (e) {
      return { unknown: (e as Error).message }
    }
    const states = new Set<string>()
    for (const [kind, list] of byKind(changes)) {
      const target = options.database?.(kind)
      if (!target) return { unknown: `this cutover has no database target for step kind "${kind}"` }
      states.add(await target.state(list, { env, secrets }))
    }
    if (states.size === 1 && states.has('after')) return 'after'
    if (states.size === 1 && states.has('before')) return 'before'
    return {
      unknown: states.has('unknown')
        ? 'the database cannot be reached or holds neither the old nor the new objects'
        : 'its databases disagree',
    }
  }
}
