import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { startPg, type PgServer } from '@cutover/test-kit/pg'
import { NEW, OLD, strays } from './fleet-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

let pg: PgServer
beforeAll(async () => {
  pg = await startPg()
})
afterAll(async () => {
  await pg?.close()
})

const body = async () =>
  (
    await pg.query<{ src: string }>(
      `SELECT prosrc AS src FROM pg_proc WHERE proname = 'db_host_fleet'`,
    )
  )[0]!.src

/** Two local-directory machines with a file each, a live function, and the spec that moves both. */
async function setup(): Promise<{ ctl: string; roots: string[] }> {
  await pg.query(`DROP FUNCTION IF EXISTS public.db_host_fleet()`)
  await pg.query(
    `CREATE FUNCTION public.db_host_fleet() RETURNS text LANGUAGE sql AS $$ SELECT '${OLD}'::text $$`,
  )
  const dir = tempDir('cutover-fleet-db-')
  const roots = ['a', 'b'].map((n) => join(dir, n))
  for (const r of roots) {
    mkdirSync(join(r, 'etc'), { recursive: true })
    writeFileSync(join(r, 'etc/app.conf'), `db = ${OLD}\n`)
  }
  const ctl = join(dir, 'ctl')
  mkdirSync(ctl)
  writeFileSync(
    join(ctl, 'cutover.yaml'),
    [
      'version: 1',
      'machines:',
      `  a: { root: ${roots[0]} }`,
      `  b: { root: ${roots[1]} }`,
      'hosts:',
      `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
      'steps:',
      '  - text: { files: [etc/app.conf], addresses: new }',
      '  - sql:',
      '      on: [a]',
      '      database: { url: { env: PG_URL } }',
      '      functions: ["public.db_host_fleet"]',
      '      addresses: new',
      '',
    ].join('\n'),
  )
  return { ctl, roots }
}

async function cli(ctl: string, args: string[], env: Record<string, string> = {}) {
  const io = memoryIo({ cwd: ctl, env: { PG_URL: pg.url, ...env } })
  const code = await run(args, io)
  return { code, out: io.out(), err: io.err() }
}

const files = (roots: readonly string[]) =>
  roots.map((r) =>
    readFileSync(join(r, 'etc/app.conf'), 'utf8').includes(NEW) ? 'after' : 'before',
  )

const fleetJournal = (ctl: string) => {
  const [txid] = readdirSync(join(ctl, '.cutover/fleet'))
  return JSON.parse(readFileSync(join(ctl, '.cutover/fleet', txid!, 'journal.json'), 'utf8')) as {
    state: string
    database?: { changes: unknown[] }
  }
}

describe("a live database in a fleet's two phases", () => {
  it('commits with every machine; the fleet journal records it', async () => {
    const { ctl, roots } = await setup()
    const applied = await cli(ctl, ['apply', '--yes', '--quiet'])
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    expect(await body()).toContain(NEW)
    expect(files(roots)).toEqual(['after', 'after'])
    expect(fleetJournal(ctl).state).toBe('committed')
    expect(fleetJournal(ctl).database?.changes).toHaveLength(1)
  })

  it('a database changed since the plan aborts every machine: nothing changes anywhere', async () => {
    const { ctl, roots } = await setup()
    expect((await cli(ctl, ['plan', '--out', 'plan.json', '--quiet'])).code).toBe(0)
    await pg.query(
      `CREATE OR REPLACE FUNCTION public.db_host_fleet() RETURNS text LANGUAGE sql AS $$ SELECT '${OLD}'::text || '' $$`,
    )
    const applied = await cli(ctl, ['apply', 'plan.json'])
    expect(applied.code).toBe(1)
    expect(applied.err).toMatch(/not applied, nothing was changed on any machine:\n {2}database: /)
    expect(await body()).not.toContain(NEW)
    expect(files(roots)).toEqual(['before', 'before'])
    for (const r of roots) expect(strays(r)).toEqual([])
    expect(fleetJournal(ctl).state).toBe('aborted')
  })

  it('stopped after the database committed and before the commit record: recover asks it and finishes every machine', async () => {
    const { ctl, roots } = await setup()
    const stopped = await cli(ctl, ['apply', '--yes', '--quiet'], {
      CUTOVER_FAULT_INJECT: 'fleet:database-committed=EIO',
    })
    expect(stopped.code).toBe(1)
    expect(await body()).toContain(NEW)
    expect(fleetJournal(ctl).state).toBe('preparing')
    expect(files(roots)).toEqual(['before', 'before'])
    const recovered = await cli(ctl, ['recover'])
    expect(recovered.err).toBe('')
    expect(recovered.code).toBe(0)
    expect(recovered.out).toMatch(/^Fleet transaction \S+: preparing -> committed\n/)
    expect(files(roots)).toEqual(['after', 'after'])
    for (const r of roots) expect(strays(r)).toEqual([])
  })

  it('an error after the database prepared, before its commit, rolls it back and aborts every machine', async () => {
    const { ctl, roots } = await setup()
    const failed = await cli(ctl, ['apply', '--yes', '--quiet'], {
      CUTOVER_FAULT_INJECT: 'fleet:prepared=EIO',
    })
    expect(failed.code).toBe(1)
    expect(failed.err).toContain('EIO: i/o error (injected at fleet:prepared)')
    expect(fleetJournal(ctl).state).toBe('aborted')
    expect(await body()).not.toContain(NEW)
    expect(files(roots)).toEqual(['before', 'before'])
    for (const r of roots) expect(strays(r)).toEqual([])
    expect((await cli(ctl, ['recover'])).out).toBe('Nothing to recover.\n')
  })
})
