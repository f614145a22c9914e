// Test harness: loads a pg_dump script into a real PostgreSQL engine. PGlite runs in process by
// default; CUTOVER_TEST_PG_URL selects a server (everything runs in one transaction, rolled back).
// Extensions PGlite lacks (amqp, dblink) are replaced by stubs HERE, never in the product.
import { decodeCopyField, splitSql } from '../src/index.js'
import { AMQP_OBJECTS, newPglite } from '@cutover/test-kit/pg'

export interface Db {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  exec(sql: string): Promise<void>
  close(): Promise<void>
  /** Runs `COPY … FROM stdin` with `data` (text format) through the server's own COPY, where the engine can. */
  copy?(statement: string, data: string): Promise<void>
}

export async function openDb(): Promise<Db> {
  const url = process.env.CUTOVER_TEST_PG_URL
  if (url) {
    const { default: pg } = await import('pg')
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query('BEGIN')
    return {
      query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
      exec: async (sql) => {
        await client.query(sql)
      },
      close: async () => {
        await client.query('ROLLBACK')
        await client.end()
      },
    }
  }
  const db = await newPglite()
  return {
    query: async (sql, params) => (await db.query(sql, params)).rows as never,
    exec: async (sql) => {
      await db.exec(sql)
    },
    close: () => db.close(),
    copy: async (statement, data) => {
      await db.query(statement.replace(/\bFROM\s+stdin\s*;?\s*$/i, "FROM '/dev/blob'"), [], {
        blob: new Blob([data]),
      })
    },
  }
}

/** Runs a dump statement by statement; COPY blocks become INSERTs of their decoded rows. */
export async function loadDump(db: Db, dump: string): Promise<void> {
  const { pieces, diagnostics } = splitSql(dump)
  if (diagnostics.length) throw new Error(`dump does not split: ${JSON.stringify(diagnostics)}`)
  await db.exec(
    'DO $$ BEGIN CREATE ROLE finance; EXCEPTION WHEN duplicate_object THEN NULL; END $$',
  )
  for (let k = 0; k < pieces.length; k++) {
    const p = pieces[k]!
    const sql = dump.slice(p.codeStart, p.end)
    if (p.kind !== 'sql') continue
    if (/^CREATE EXTENSION IF NOT EXISTS amqp\b/.test(sql)) {
      await db.exec(AMQP_OBJECTS)
      continue
    }
    if (/^(CREATE EXTENSION|COMMENT ON EXTENSION)\b/.test(sql)) continue
    if (/^COPY\b/.test(sql)) {
      const data = pieces[++k]!
      // PGlite: PostgreSQL's own COPY reads the rows (the `\.` line excluded)
      if (db.copy) {
        const rows = dump.slice(data.dataStart!, data.end).replace(/(^|\n)\\\.\r?\n?$/, '$1')
        await db.copy(sql, rows)
        continue
      }
      const m = /^COPY (\S+) \(([^)]*)\) FROM stdin;$/.exec(sql)!
      const cols = m[2]!.split(', ')
      for (const line of dump.slice(data.dataStart!, data.end).split('\n')) {
        if (line === '\\.' || line === '') continue
        const fields: Array<string | null> = []
        let at = 0
        for (const raw of line.split('\t')) {
          fields.push(decodeCopyField(line, at, at + raw.length)?.value ?? null)
          at += raw.length + 1
        }
        await db.query(
          `INSERT INTO ${m[1]} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          fields,
        )
      }
      continue
    }
    await db.exec(sql)
  }
  await db.exec("SELECT pg_catalog.set_config('search_path', 'public', false)")
}
