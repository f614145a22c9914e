import type { Context } from './context.js'
import type { TxParticipant } from '../transaction/participant.js'

/**
 * A change to an object outside the file tree (a function or a row of a live database), as a
 * plan records it. Everything here is JSON and holds no secret value: `payload` carries what
 * the target needs to apply the change (secrets by name), `connection` how to reach it (names
 * of environment variables, never a password).
 */
export interface DatabaseChange {
  /** e.g. `pg:finance/public.amqp_staff(integer)` or `pg:finance/amqp.broker(id=1)`. */
  target: string
  /** The step kind that planned it (`sql`), which also applies it. */
  kind: string
  /** `sha256:` of the object as read when planning. */
  before: string
  /** `sha256:` of the object as it will be (secret values masked). */
  after: string
  /** A unified diff of a definition, or the statement that will run; secrets masked. */
  diff: string
  /** Edits by rule, for the summary line: `{ addresses: 2, "variants.routing-keys": 1 }`. */
  rules: Record<string, number>
  payload: unknown
  connection: unknown
}

/** What a step kind's database target makes of its options. */
export interface DatabasePlan {
  changes: DatabaseChange[]
  leftovers: Array<{ target: string; line: number; col: number; text: string; reason: string }>
  notes: Array<{
    target: string
    line?: number
    col?: number
    code: string
    message: string
    severity: 'warning' | 'note'
  }>
}

/** What a database target gets at apply and recover time. */
export interface DatabaseApplyContext {
  env: Readonly<Record<string, string | undefined>>
  /** Secret values re-read from the environment and checked against the plan's fingerprints. */
  secrets: ReadonlyMap<string, string>
}

/**
 * The live-database side of a step kind (`StepKind.database`). The engine calls `plan` for a
 * step whose options `uses` it; `apply` uses `participants` inside the file transaction
 * (prepared before the renames, committed after them); `recover` asks `state` whether an
 * interrupted transaction's changes were committed, to return the files to the same side.
 */
export interface DatabaseTarget<O> {
  uses(o: O): boolean
  plan(o: O, ctx: Context): Promise<DatabasePlan>
  participants(changes: readonly DatabaseChange[], ctx: DatabaseApplyContext): TxParticipant[]
  state(
    changes: readonly DatabaseChange[],
    ctx: DatabaseApplyContext,
  ): Promise<'before' | 'after' | 'unknown'>
}
