import type { Client } from 'pg'
import type { QualifiedName } from './functions.js'

/** A function or procedure of a live database, as `pg_get_functiondef` prints it. */
export interface LiveFunction extends QualifiedName {
  /** `pg_get_function_identity_arguments`: what tells overloads apart (`key text, n integer`). */
  args: string
  /** A complete `CREATE OR REPLACE FUNCTION …` statement. */
  definition: string
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'`

/** `pg:<database>/<schema>.<name>(<identity args>)`: how plans name a function. */
export function functionTarget(database: string, f: QualifiedName & { args: string }): string {
  return `pg:${database}/${f.schema}.${f.name}(${f.args})`
}

/**
 * The functions and procedures of the database's own schemas (not those of extensions), in
 * name order, with their definitions.
 */
export async function readFunctions(client: Client): Promise<LiveFunction[]> {
  const { rows } = await client.query<LiveFunction>(`
    SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args,
           pg_get_functiondef(p.oid) AS definition
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.prokind IN ('f', 'p') AND ${USER_SCHEMAS}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 1, 2, 3`)
  return rows
}

/** The current definition of one function, or undefined when no function has that name and arguments. */
export async function readFunction(
  client: Client,
  f: QualifiedName & { args: string },
): Promise<string | undefined> {
  const { rows } = await client.query<{ definition: string }>(
    `SELECT pg_get_functiondef(p.oid) AS definition FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2 AND pg_get_function_identity_arguments(p.oid) = $3`,
    [f.schema, f.name, f.args],
  )
  return rows[0]?.definition
}

/** A table whose text columns a step rewrites; identifiers already quoted for SQL. */
export interface LiveTable extends QualifiedName {
  /** `schema.name`, each part quoted as needed (`quote_ident`). */
  sql: string
  /** Columns that identify a row: the primary key, or every column when there is none. */
  key: string[]
  keyKind: 'primary' | 'all'
  /** Text columns outside the key (text, varchar, char): the ones rewritten. */
  columns: string[]
}

/** The ordinary tables of the database's own schemas that `select` accepts, with their columns. */
export async function readTables(
  client: Client,
  select: (q: QualifiedName) => boolean,
): Promise<LiveTable[]> {
  const { rows } = await client.query<{ schema: string; name: string; sql: string; oid: string }>(`
    SELECT n.nspname AS schema, c.relname AS name, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS sql, c.oid::int8::text AS oid
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND ${USER_SCHEMAS}
     ORDER BY 1, 2`)
  const out: LiveTable[] = []
  for (const t of rows.filter(select)) {
    const cols = await client.query<{ q: string; texty: boolean; key: boolean }>(
      `SELECT quote_ident(a.attname) AS q, a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype) AS texty,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS key
         FROM pg_attribute a
        WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum`,
      [t.oid],
    )
    const pk = cols.rows.filter((c) => c.key).map((c) => c.q)
    const key = pk.length ? pk : cols.rows.map((c) => c.q)
    const columns = cols.rows.filter((c) => c.texty && !c.key).map((c) => c.q)
    if (columns.length)
      out.push({
        schema: t.schema,
        name: t.name,
        sql: t.sql,
        key,
        keyKind: pk.length ? 'primary' : 'all',
        columns,
      })
  }
  return out
}

/** One row of a {@link LiveTable}: key values as text, and its text columns' values. */
export interface LiveRow {
  key: Array<string | null>
  values: Array<string | null>
}

/** `WHERE` of one row: `k = $n` for a primary key, `k::text IS NOT DISTINCT FROM $n` otherwise. */
export function rowCondition(t: Pick<LiveTable, 'key' | 'keyKind'>, first: number): string {
  return t.key
    .map((k, i) =>
      t.keyKind === 'primary'
        ? `${k} = $${first + i}`
        : `${k}::text IS NOT DISTINCT FROM $${first + i}`,
    )
    .join(' AND ')
}

const textArray = (cols: readonly string[]) =>
  `ARRAY[${cols.map((c) => `${c}::text`).join(', ')}]::text[]`

/** Every row of a table (key and text values). */
export async function readRows(client: Client, t: LiveTable): Promise<LiveRow[]> {
  const { rows } = await client.query<LiveRow>(
    `SELECT ${textArray(t.key)} AS key, ${textArray(t.columns)} AS values FROM ${t.sql}`,
  )
  return rows
}

/**
 * The text values of the rows a key selects (and each row's `ctid`), locked for update when `lock`
 * (inside a transaction). A key value holding NUL characters (masked in a plan) matches a value
 * of the same length equal to it wherever it holds no NUL.
 */
export async function readRow(
  client: Client,
  t: Pick<LiveTable, 'sql' | 'key' | 'keyKind' | 'columns'>,
  key: ReadonlyArray<string | null>,
  lock: boolean,
): Promise<Array<{ values: Array<string | null>; ctid: string }>> {
  const masked = key.map((k) => k !== null && k.includes('\u0000'))
  const known = { key: t.key.filter((_, i) => !masked[i]), keyKind: t.keyKind }
  const where = known.key.length ? ` WHERE ${rowCondition(known, 1)}` : ''
  const { rows } = await client.query<{
    values: Array<string | null>
    key: Array<string | null>
    ctid: string
  }>(
    `SELECT ${textArray(t.columns)} AS values, ${textArray(t.key)} AS key, ctid::text AS ctid FROM ${t.sql}${where}${lock ? ' FOR UPDATE' : ''}`,
    key.filter((_, i) => !masked[i]),
  )
  return rows
    .filter((r) => key.every((k, i) => !masked[i] || sameBeside(r.key[i] ?? null, k!)))
    .map((r) => ({ values: r.values, ctid: r.ctid }))
}

/** Whether `value` equals `masked` at every character that is not NUL, with the same length. */
function sameBeside(value: string | null, masked: string): boolean {
  if (value === null || value.length !== masked.length) return false
  for (let i = 0; i < masked.length; i++)
    if (masked[i] !== '\u0000' && masked[i] !== value[i]) return false
  return true
}

/** `'…'` with quotes doubled, or NULL: for statements shown to people (never run). */
export function sqlLiteral(v: string | null): string {
  return v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`
}
