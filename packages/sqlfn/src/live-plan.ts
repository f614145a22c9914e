import {
  LineIndex,
  applyEdits,
  encodeValue,
  maskValues,
  maskedDiff,
  sha256,
  type Context,
  type DatabasePlan,
  type Edit,
  type EncodingName,
  type RuleOptions,
} from '@cutover/rewrite'
import { randomBytes } from 'node:crypto'
import { nameGlobs } from './functions.js'
import { sqlLeftovers } from './leftovers.js'
import { SQL_ENCODINGS } from './literal.js'
import { loadLexer } from './lexer.js'
import { connectDatabase, type DatabaseOptions } from './pg-connect.js'
import {
  functionTarget,
  readFunctions,
  readRows,
  readTables,
  sqlLiteral,
  type LiveFunction,
  type LiveRow,
  type LiveTable,
} from './pg-read.js'
import { rewriteFunctionDefinition, type Rewrite } from './rewrite.js'
import { compileRules, rewriteValue, type PasswordOptions, type SqlRules } from './rules.js'

/** One edit as a plan stores it: a secret by name and encoding, never its text. */
export interface StoredEdit {
  start: number
  end: number
  text?: string
  secret?: { name: string; encoding: EncodingName[] }
  sensitive?: true
}

/** What a database change of the `sql` step carries to apply time (`DatabaseChange.payload`). */
export type LivePayload =
  | {
      type: 'function'
      schema: string
      name: string
      args: string
      edits: StoredEdit[]
      salt?: string
    }
  | {
      type: 'row'
      table: string
      key: string[]
      keyKind: 'primary' | 'all'
      keyValues: Array<string | null>
      columns: string[]
      edits: Array<{ column: number; edits: StoredEdit[] }>
      salt?: string
    }
// a key value (every column of a table without a primary key) holding a sensitive value has its
// characters there replaced by NUL, which no PostgreSQL text holds: apply matches the rest

/** The options the live side reads (a `sql` step with `database:`). */
export type LiveOptions = RuleOptions & {
  functions?: string[]
  tables?: string[]
  passwords?: PasswordOptions
  database: DatabaseOptions
}

type SecretOf = (name: string) => string

/** Values that a stored edit's secret writes: the raw secret and its encoded form. Masked in hashes and output. */
export function secretMasks(edits: readonly StoredEdit[], secret: SecretOf): string[] {
  const out: string[] = []
  for (const e of edits) {
    if (!e.secret) continue
    const raw = secret(e.secret.name)
    out.push(raw, encodeValue(raw, e.secret.encoding, SQL_ENCODINGS))
  }
  return out.filter((v) => v.length > 0)
}

/** The edits with each secret's value put back (apply time). */
export function resolveEdits(edits: readonly StoredEdit[], secret: SecretOf): Edit[] {
  return edits.map((e) => ({
    start: e.start,
    end: e.end,
    text: e.secret
      ? encodeValue(secret(e.secret.name), e.secret.encoding, SQL_ENCODINGS)
      : (e.text ?? ''),
    rule: 'sql',
  }))
}

/** `sha256:` of a function definition as it will be, secrets masked: what plans record as `after`. */
export const maskedHash = (text: string, masks: readonly string[]) =>
  sha256(maskValues(text, masks))

/** `sha256:` of a row's text values (JSON of the list); `masks` are masked in each value first. */
export const rowHash = (values: ReadonlyArray<string | null>, masks: readonly string[] = []) =>
  sha256(JSON.stringify(values.map((v) => (v === null ? null : maskValues(v, masks)))))

function store(e: {
  start: number
  end: number
  text: string
  secret?: { name: string; encoding: EncodingName[] }
  sensitive?: boolean
}): StoredEdit {
  const sensitive = e.secret || e.sensitive ? { sensitive: true as const } : {}
  return e.secret
    ? { start: e.start, end: e.end, secret: e.secret, ...sensitive }
    : { start: e.start, end: e.end, text: e.text, ...sensitive }
}

/**
 * The `before` hash of a database change, from what the object holds (a definition, or the JSON
 * of a row's values): `sha256:` of it; or, when the payload has a `salt` (an edit replaces a
 * sensitive value, an old password), `masked-sha256:` of the salt and the object with the
 * replaced values masked wherever they occur, so that no guess of the old password can be
 * checked against the plan while every other character is still compared.
 */
export function beforeHash(p: LivePayload, text: string): string {
  if (p.type === 'function') {
    if (p.salt === undefined) return sha256(text)
    return masked(p.salt, maskOld(text, p.edits))
  }
  if (p.salt === undefined) return rowHash(JSON.parse(text) as Array<string | null>)
  const values = JSON.parse(text) as Array<string | null>
  for (const c of p.edits) {
    const v = values[c.column]
    if (typeof v === 'string') values[c.column] = maskOld(v, c.edits)
  }
  return masked(p.salt, JSON.stringify(values))
}

function maskOld(text: string, edits: readonly StoredEdit[]): string {
  const old = edits.filter((e) => e.sensitive && e.end > e.start)
  const values = old.map((e) => text.slice(e.start, e.end))
  let out = ''
  let at = 0
  for (const e of [...old].sort((a, b) => a.start - b.start)) {
    out += text.slice(at, Math.max(at, e.start)) + '\u0000'
    at = Math.max(at, e.end)
  }
  out += text.slice(at)
  for (const v of values.filter((v) => v.length > 0).sort((a, b) => b.length - a.length))
    out = out.split(v).join('\u0000')
  return out
}

function maskSpans(text: string, spans: ReadonlyArray<{ start: number; end: number }>): string {
  let out = ''
  let at = 0
  for (const x of spans) {
    out += text.slice(at, Math.max(at, x.start)) + '(sensitive)'
    at = Math.max(at, x.end)
  }
  return out + text.slice(at)
}

function masked(salt: string, text: string): string {
  return 'masked-' + sha256(`${salt}\u0000${text}`)
}

/** A random salt when any of the edits replaces a sensitive value. */
function saltFor(edits: readonly StoredEdit[]): { salt?: string } {
  return edits.some((e) => e.sensitive) ? { salt: randomBytes(16).toString('hex') } : {}
}

function countRules(edits: ReadonlyArray<{ rule: string }>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const e of edits) out[e.rule] = (out[e.rule] ?? 0) + 1
  return out
}

function within(spans: ReadonlyArray<{ start: number; end: number }>, at: number): boolean {
  return spans.some((x) => x.start <= at && at < x.end)
}

function reasonIn(r: Rewrite, what: string, at: number): string {
  if (r.skipped) return `${r.skipped} (${what})`
  if (within(r.comments, at)) return `inside a comment in ${what}`
  if (within(r.values, at)) return `inside a value of ${what} that no rule rewrites whole`
  return `outside the string values of ${what}`
}

interface Planner {
  db: string
  ctx: Context
  rules: SqlRules
  o: LiveOptions
  out: DatabasePlan
}

function leftoversOf(
  p: Planner,
  target: string,
  text: string,
  edits: readonly Edit[],
  reason: (at: number) => string,
): void {
  const found = sqlLeftovers(text, p.ctx, edits, reason)
  if (found.length === 0) return // most values: no index of their lines
  const lines = new LineIndex(text)
  for (const l of found) {
    const at = lines.position(l.start)
    p.out.leftovers.push({ target, line: at.line, col: at.col, text: l.text, reason: l.reason })
  }
}

function planFunction(p: Planner, f: LiveFunction, selected: boolean): void {
  const target = functionTarget(p.db, f)
  const what = `function ${f.schema}.${f.name}(${f.args})`
  if (!selected) {
    leftoversOf(p, target, f.definition, [], () => `in ${what}, which functions: does not select`)
    return
  }
  let r: ReturnType<typeof rewriteFunctionDefinition>
  try {
    r = rewriteFunctionDefinition(f.definition, p.rules, f)
  } catch (cause) {
    p.out.notes.push({
      target,
      code: 'SQL_LEX',
      message: `${what}: ${(cause as Error).message}`,
      severity: 'warning',
    })
    return
  }
  const lines = r.diagnostics.length ? new LineIndex(f.definition) : undefined
  for (const d of r.diagnostics) {
    const at = lines!.position(d.range.start)
    p.out.notes.push({
      target,
      line: at.line,
      col: at.col,
      code: d.code,
      message: d.message,
      severity: d.severity === 'warning' ? 'warning' : 'note',
    })
  }
  leftoversOf(p, target, f.definition, r.edits, (at) => reasonIn(r, what, at))
  if (r.edits.length === 0) return
  const stored = r.edits.map(store)
  const payload: LivePayload = {
    type: 'function',
    schema: f.schema,
    name: f.name,
    args: f.args,
    edits: stored,
    ...saltFor(stored),
  }
  const masks = secretMasks(stored, p.ctx.secret)
  const after = applyEdits(f.definition, r.edits)
  p.out.changes.push({
    target,
    kind: 'sql',
    before: beforeHash(payload, f.definition),
    after: maskedHash(after, masks),
    diff: maskedDiff(target, f.definition, [r.edits]),
    rules: countRules(r.edits),
    payload,
    connection: p.o.database,
  })
}

/** `(broker_id=1)`, or a digest of every column for a table without a primary key. */
function rowName(t: LiveTable, key: ReadonlyArray<string | null>): string {
  if (t.keyKind === 'all') return `(row ${rowHash(key).slice(7, 19)})`
  return `(${t.key.map((k, i) => `${k}=${key[i]}`).join(', ')})`
}

/** The row's key, with the characters of a key column's sensitive values replaced by NUL (same length). */
function maskedKey(
  t: LiveTable,
  row: LiveRow,
  all: ReadonlyArray<{ column: number; edits: ReturnType<typeof rewriteValue> }>,
): Array<string | null> {
  const key = [...row.key]
  for (const c of all) {
    const k = t.key.indexOf(t.columns[c.column]!)
    const v = key[k]
    if (k < 0 || v == null) continue
    let masked = v
    for (const e of c.edits)
      if (e.sensitive || e.secret)
        masked = masked.slice(0, e.start) + '\u0000'.repeat(e.end - e.start) + masked.slice(e.end)
    key[k] = masked
  }
  return key
}

function planRow(p: Planner, t: LiveTable, row: LiveRow): void {
  const all: Array<{ column: number; edits: ReturnType<typeof rewriteValue> }> = []
  for (const [i, v] of row.values.entries()) {
    if (v === null) continue
    const edits = rewriteValue(v, p.rules)
    if (edits.length) all.push({ column: i, edits })
  }
  // neither the plan nor the row's name holds an old password that is part of its key
  const key = maskedKey(t, row, all)
  const target = `pg:${p.db}/${t.schema}.${t.name}${rowName(t, key)}`
  for (const [i, v] of row.values.entries()) {
    if (v === null) continue
    const edits = all.find((c) => c.column === i)?.edits ?? []
    leftoversOf(
      p,
      target,
      v,
      edits as unknown as Edit[],
      () =>
        `in column ${t.columns[i]} of ${t.schema}.${t.name}${edits.length ? '' : ', which no rule rewrites'}`,
    )
  }
  if (t.keyKind === 'primary') {
    for (const [i, v] of row.key.entries())
      if (v !== null)
        leftoversOf(
          p,
          target,
          v,
          [],
          () => `in key column ${t.key[i]} of ${t.schema}.${t.name}, which is not rewritten`,
        )
  }
  if (all.length === 0) return
  const edits = all.map((c) => ({
    column: c.column,
    edits: c.edits.map((e) =>
      store({
        start: e.start,
        end: e.end,
        text: e.text,
        ...(e.secret
          ? { secret: { name: e.secret, encoding: ['conninfo'] as EncodingName[] } }
          : {}),
        ...(e.sensitive ? { sensitive: true } : {}),
      }),
    ),
  }))
  const masks = secretMasks(
    edits.flatMap((c) => c.edits),
    p.ctx.secret,
  )
  const rowPayload: LivePayload = {
    type: 'row',
    table: t.sql,
    key: t.key,
    keyKind: t.keyKind,
    keyValues: key,
    columns: t.columns,
    edits,
    ...saltFor(edits.flatMap((c) => c.edits)),
  }
  const next = [...row.values]
  const sensitive = new Set<number>()
  for (const c of all) {
    next[c.column] = applyEdits(
      row.values[c.column]!,
      c.edits.map((e) => ({ ...e, secret: undefined })) as Edit[],
    )
    if (c.edits.some((e) => e.sensitive || e.secret)) sensitive.add(c.column)
  }
  // a sensitive value is masked where it is; the rest of its column is shown
  const spans = (c: (typeof all)[number], side: 'old' | 'new') => {
    let delta = 0
    const out: Array<{ start: number; end: number }> = []
    for (const e of [...c.edits].sort((a, b) => a.start - b.start)) {
      if (e.sensitive || e.secret)
        out.push(
          side === 'old'
            ? { start: e.start, end: e.end }
            : { start: e.start + delta, end: e.start + delta + e.text.length },
        )
      delta += e.text.length - (e.end - e.start)
    }
    return out.filter((x) => x.end > x.start)
  }
  const shown = (c: (typeof all)[number], v: string, side: 'old' | 'new') =>
    sensitive.has(c.column) ? sqlLiteral(maskSpans(v, spans(c, side))) : sqlLiteral(v)
  const set = all
    .map((c) => `${t.columns[c.column]} = ${shown(c, next[c.column]!, 'new')}`)
    .join(', ')
  const where =
    t.keyKind === 'primary'
      ? t.key.map((k, i) => `${k} = ${sqlLiteral(row.key[i]!)}`).join(' AND ')
      : `/* every column equal to the row read when planning */ ${t.key.join(', ')}`
  const was = all
    .map((c) => `${t.columns[c.column]} = ${shown(c, row.values[c.column]!, 'old')}`)
    .join(', ')
  p.out.changes.push({
    target,
    kind: 'sql',
    before: beforeHash(rowPayload, JSON.stringify(row.values)),
    after: rowHash(next, masks),
    diff: `-- ${target}\nUPDATE ${t.sql} SET ${set} WHERE ${where};\n-- was: ${was}\n`,
    rules: countRules(all.flatMap((c) => c.edits)),
    payload: rowPayload,
    connection: p.o.database,
  })
}

/**
 * Plans a `sql` step against a live database: reads every function of the database's own schemas
 * (`pg_get_functiondef`) and the rows of `tables:`, rewrites the functions `functions:` selects
 * and the rows' text columns with the same rules as dumps, and reports leftovers in the rest.
 * The URL of `database: { url: { env } }` is read from the plan's environment (`ctx.env`, else `process.env`).
 * Throws a `SqlError` (`DATABASE_CONNECT`) when the server cannot be reached.
 */
export async function planDatabase(o: LiveOptions, ctx: Context): Promise<DatabasePlan> {
  const client = await connectDatabase(o.database, {
    env: ctx.env ?? process.env,
    secret: (n) => ctx.secret(n),
  })
  try {
    await loadLexer()
    const db = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db
    const p: Planner = {
      db,
      ctx,
      rules: compileRules(o, ctx),
      o,
      out: { changes: [], leftovers: [], notes: [] },
    }
    const selectFn = nameGlobs(o.functions ?? ['*.*'])
    for (const f of await readFunctions(client)) planFunction(p, f, selectFn(f))
    for (const t of await readTables(client, nameGlobs(o.tables ?? []))) {
      for (const row of await readRows(client, t)) planRow(p, t, row)
    }
    return p.out
  } finally {
    await client.end().catch(() => undefined)
  }
}
