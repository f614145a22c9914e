import {
  SecretError,
  StalePlanError,
  applyEdits,
  sha256,
  type DatabaseApplyContext,
  type DatabaseChange,
  type TxParticipant,
} from '@cutover/rewrite'
import type { Client } from 'pg'
import {
  beforeHash,
  maskedHash,
  resolveEdits,
  rowHash,
  secretMasks,
  type LivePayload,
} from './live-plan.js'
import { SqlError } from './errors.js'
import { connectDatabase, type DatabaseOptions } from './pg-connect.js'
import { readFunction, readRow, rowCondition } from './pg-read.js'

type SecretOf = (name: string) => string

function secretOf(ctx: DatabaseApplyContext): SecretOf {
  return (name) => {
    const v = ctx.secrets.get(name)
    if (v === undefined)
      throw new SecretError(`secret "${name}" is not among the plan's secrets: plan again`)
    return v
  }
}

/** The changes grouped by connection (one database transaction each), in plan order. */
function byConnection(
  changes: readonly DatabaseChange[],
): Array<{ connection: DatabaseOptions; changes: DatabaseChange[] }> {
  const groups = new Map<string, { connection: DatabaseOptions; changes: DatabaseChange[] }>()
  for (const c of changes) {
    const key = JSON.stringify(c.connection)
    const g = groups.get(key) ?? { connection: c.connection as DatabaseOptions, changes: [] }
    g.changes.push(c)
    groups.set(key, g)
  }
  return [...groups.values()]
}

/** What a change's object holds now: its text (a definition, or a row's values), or undefined when gone. */
interface Current {
  text: string | undefined
  rows?: number
  ctid?: string
}

type RowPayload = Extract<LivePayload, { type: 'row' }>

/** The key of a row before or after the change: rewriting changes it when every column is the key. */
function keyOf(p: RowPayload, side: 'before' | 'after', secret: SecretOf): Array<string | null> {
  if (side === 'before' || p.keyKind === 'primary') return p.keyValues
  const key = [...p.keyValues]
  for (const e of p.edits) {
    const i = p.key.indexOf(p.columns[e.column]!)
    if (i >= 0 && key[i] != null) key[i] = applyEdits(key[i]!, resolveEdits(e.edits, secret))
  }
  return key
}

async function current(
  client: Client,
  c: DatabaseChange,
  side: 'before' | 'after',
  secret: SecretOf,
  lock = false,
): Promise<Current> {
  const p = c.payload as LivePayload
  if (p.type === 'function') return { text: await readFunction(client, p) }
  const rows = await readRow(
    client,
    { sql: p.table, key: p.key, keyKind: p.keyKind, columns: p.columns },
    keyOf(p, side, secret),
    lock,
  )
  return {
    text: rows.length === 1 ? JSON.stringify(rows[0]!.values) : undefined,
    rows: rows.length,
    ...(rows.length === 1 ? { ctid: rows[0]!.ctid } : {}),
  }
}

/** `sha256:` of what {@link current} read, masked like the plan's `after` when `masks` are given. */
function hashOf(c: DatabaseChange, text: string, masks: readonly string[] = []): string {
  const p = c.payload as LivePayload
  if (p.type === 'function') return masks.length ? maskedHash(text, masks) : sha256(text)
  return rowHash(JSON.parse(text) as Array<string | null>, masks)
}

function masksOf(c: DatabaseChange, secret: SecretOf): string[] {
  const p = c.payload as LivePayload
  return secretMasks(p.type === 'function' ? p.edits : p.edits.flatMap((e) => e.edits), secret)
}

/** Checks every object against the plan's `before` (rows locked); throws naming each one that differs. */
async function checkBefore(
  client: Client,
  changes: readonly DatabaseChange[],
  secret: SecretOf,
): Promise<Current[]> {
  const stale: string[] = []
  const texts: Current[] = []
  for (const c of changes) {
    const now = await current(client, c, 'before', secret, true)
    if (now.text === undefined) {
      stale.push(`${c.target}: ${now.rows ? `now matches ${now.rows} rows` : 'no longer exists'}`)
      continue
    }
    const h = beforeHash(c.payload as LivePayload, now.text)
    if (h !== c.before)
      stale.push(`${c.target}: changed since the plan (planned ${c.before}, now ${h})`)
    texts.push(now)
  }
  if (stale.length)
    throw new StalePlanError(
      `the database changed since the plan; nothing was changed:\n${stale.join('\n')}`,
    )
  return texts
}

async function run(
  client: Client,
  c: DatabaseChange,
  read: Current,
  secret: SecretOf,
): Promise<void> {
  const p = c.payload as LivePayload
  const text = read.text!
  try {
    if (p.type === 'function') {
      // pg_get_functiondef prints a complete CREATE OR REPLACE: owner, grants and comments stay
      await client.query(applyEdits(text, resolveEdits(p.edits, secret)))
    } else {
      const values = JSON.parse(text) as Array<string | null>
      const set = p.edits.map((e, i) => `${p.columns[e.column]} = $${i + 1}`).join(', ')
      const params = p.edits.map((e) =>
        applyEdits(values[e.column]!, resolveEdits(e.edits, secret)),
      )
      // a key the plan holds masked: the row read and locked just before
      const masked = p.keyValues.some((k) => k?.includes('\u0000'))
      const where = masked
        ? `ctid = $${params.length + 1}::tid`
        : rowCondition(p, params.length + 1)
      const r = await client.query(`UPDATE ${p.table} SET ${set} WHERE ${where}`, [
        ...params,
        ...(masked ? [read.ctid] : p.keyValues),
      ])
      if (r.rowCount !== 1) throw new Error(`the UPDATE changed ${r.rowCount} rows, not 1`)
    }
  } catch (e) {
    throw new SqlError(
      'DATABASE_APPLY',
      `${c.target}: ${(e as Error).message}; the database transaction is rolled back`,
      { cause: e },
    )
  }
  const now = await current(client, c, 'after', secret)
  if (now.text === undefined || hashOf(c, now.text, masksOf(c, secret)) !== c.after) {
    throw new SqlError(
      'DATABASE_APPLY',
      `${c.target}: PostgreSQL holds something other than the planned result; the database transaction is rolled back`,
    )
  }
}

/** One database's part of an apply: BEGIN, check, change (prepare); COMMIT (commit); ROLLBACK. */
class LiveParticipant implements TxParticipant {
  readonly name: string
  #client: Client | undefined
  constructor(
    readonly connection: DatabaseOptions,
    readonly changes: readonly DatabaseChange[],
    readonly ctx: DatabaseApplyContext,
  ) {
    this.name = `PostgreSQL (${changes.length} object(s), e.g. ${changes[0]?.target ?? ''})`
  }

  async prepare(): Promise<void> {
    const secret = secretOf(this.ctx)
    const client = (this.#client = await connectDatabase(this.connection, {
      env: this.ctx.env,
      secret,
    }))
    await client.query('BEGIN')
    const texts = await checkBefore(client, this.changes, secret)
    for (const [i, c] of this.changes.entries()) await run(client, c, texts[i]!, secret)
  }

  async commit(): Promise<void> {
    const client = this.#client
    if (!client) throw new SqlError('DATABASE_APPLY', `${this.name}: commit without prepare`)
    await client.query('COMMIT')
    this.#client = undefined
    await client.end().catch(() => undefined)
  }

  async rollback(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    if (!client) return
    await client.query('ROLLBACK').catch(() => undefined)
    await client.end().catch(() => undefined)
  }
}

/** The transaction participants of a plan's `sql` database changes: one per database connection. */
export function liveParticipants(
  changes: readonly DatabaseChange[],
  ctx: DatabaseApplyContext,
): TxParticipant[] {
  return byConnection(changes).map((g) => new LiveParticipant(g.connection, g.changes, ctx))
}

async function stateOf(
  client: Client,
  c: DatabaseChange,
  secret: SecretOf,
): Promise<'before' | 'after' | 'unknown'> {
  const before = await current(client, c, 'before', secret)
  if (before.text !== undefined && beforeHash(c.payload as LivePayload, before.text) === c.before)
    return 'before'
  const after =
    (c.payload as LivePayload).type === 'function'
      ? before
      : await current(client, c, 'after', secret)
  if (after.text !== undefined && hashOf(c, after.text, masksOf(c, secret)) === c.after)
    return 'after'
  return 'unknown'
}

/**
 * Whether the changes are in the database (`after`), not (`before`), or neither / unreachable
 * (`unknown`): what recovery asks after an interrupted apply.
 */
export async function liveState(
  changes: readonly DatabaseChange[],
  ctx: DatabaseApplyContext,
): Promise<'before' | 'after' | 'unknown'> {
  const secret = secretOf(ctx)
  const seen = new Set<'before' | 'after' | 'unknown'>()
  for (const g of byConnection(changes)) {
    let client: Client
    try {
      client = await connectDatabase(g.connection, { env: ctx.env, secret })
    } catch {
      return 'unknown'
    }
    try {
      for (const c of g.changes) seen.add(await stateOf(client, c, secret))
    } finally {
      await client.end().catch(() => undefined)
    }
  }
  return seen.size === 1 ? [...seen][0]! : 'unknown'
}
