import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { startPg, type PgServer } from '@cutover/test-kit/pg'
import { tempDir } from '@cutover/test-kit/temp'

// every message about a database names it without its password (issue 14, medium)

const PASSWORD = 'Hunter2pw'

const SPEC = `version: 1
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
secrets:
  PG: { env: PG_URL }
steps:
  - sql:
      database: { url: { secret: PG } }
      functions: ["public.*"]
      addresses: names
`

async function plan(
  url: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const dir = tempDir('cutover-connect-')
  writeFileSync(join(dir, 'cutover.yaml'), SPEC)
  mkdirSync(join(dir, 'root'))
  const io = memoryIo({ cwd: dir, env: { PG_URL: url, PGCONNECT_TIMEOUT: '5' } })
  const code = await run(['plan', '--root', 'root', ...args], io)
  return { code, out: io.out(), err: io.err() }
}

let pg: PgServer
beforeAll(async () => {
  pg = await startPg()
})
afterAll(async () => {
  await pg?.close()
})

describe('connection errors', () => {
  it('name the database of a keyword/value conninfo without its password', async () => {
    const r = await plan(
      `host=127.0.0.1 port=1 dbname=app user=bob password=${PASSWORD} connect_timeout=5`,
    )
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'cannot connect to PostgreSQL at 127.0.0.1:1, database app as user bob: connection refused',
    )
    expect(r.out + r.err).not.toContain(PASSWORD)
  })

  it('keep their words whole when the password is one letter', async () => {
    const r = await plan('host=127.0.0.1 port=1 dbname=app user=bob password=e')
    expect(r.err).toContain(
      'cannot connect to PostgreSQL at 127.0.0.1:1, database app as user bob: connection refused (is the server running and listening there?)',
    )
  })

  it('name the database of a URL without its password', async () => {
    const r = await plan(`postgres://bob:${PASSWORD}@127.0.0.1:1/app`)
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'cannot connect to PostgreSQL at 127.0.0.1:1, database app as user bob: connection refused',
    )
    expect(r.out + r.err).not.toContain(PASSWORD)
  })

  it('never quote a string that is neither a URL nor a conninfo', async () => {
    const r = await plan(`password=${PASSWORD} oops`)
    expect(r.code).toBe(1)
    expect(r.err).toContain('neither a postgres:// URL nor a libpq key=value connection string')
    expect(r.out + r.err).not.toContain(PASSWORD)
  })

  it('refuse a malformed URL with a message naming its variable, never an internal error', async () => {
    const r = await plan(`postgres://app:${PASSWORD}@[db.example/finance`)
    expect(r.code).toBe(1)
    expect(r.err).toContain('the database URL of secret PG is not a valid URL')
    expect(r.err).not.toContain('internal error')
    expect(r.out + r.err).not.toContain(PASSWORD)
  })

  it('a keyword/value conninfo connects where it points', async () => {
    const u = new URL(pg.url)
    const r = await plan(
      `host=${u.hostname} port=${u.port} dbname=${u.pathname.slice(1)} user=${u.username} password='${decodeURIComponent(u.password)}'`,
    )
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
  })
})

describe('database diffs', () => {
  it('show values that look like credentials as (sensitive), unless --show-sensitive', async () => {
    await pg.query(
      "CREATE FUNCTION public.link() RETURNS text LANGUAGE sql AS $$ SELECT 'host=10.0.10.48 password=ctx-pw'::text $$",
    )
    const masked = await plan(pg.url, '--json')
    expect(masked.code, masked.err).toBe(0)
    const diff = (
      JSON.parse(masked.out) as { database: Array<{ target: string; diff: string }> }
    ).database.find((d) => d.target.endsWith('public.link()'))!.diff
    expect(diff).toContain(
      "+AS $function$ SELECT 'host=finance.thehumanjourney.net password=(sensitive)'::text $function$\n",
    )
    expect(masked.out).not.toContain('ctx-pw')
    const shown = await plan(pg.url, '--show-sensitive')
    expect(shown.out).toContain("password=ctx-pw'")
  })
})
