// End to end through the built binary: a file step and a live database step in one apply, the
// process killed with SIGKILL before and after the database commits; `cutover recover` returns
// the files to the side the database is on. The database is PGlite served in this process (or
// CUTOVER_TEST_PG_URL), so the binary runs asynchronously.
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  LIVE_SCHEMA,
  SECRET,
  SPEC,
  brokerHost,
  definitions,
  fire,
} from '@cutover/test-kit/finance-live'
import { startPg, type PgServer } from '@cutover/test-kit/pg'
import { tempDir } from '@cutover/test-kit/temp'

const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js')
const CONFIG = 'amqp_host = 10.0.10.107\n'
const CONFIG_AFTER = 'amqp_host = rabbitmq.thehumanjourney.net\n'

let pg: PgServer
beforeAll(async () => {
  pg = await startPg()
})
afterAll(async () => {
  await pg?.close()
})

function cutover(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const where =
      args[0] === 'recover' ? ['--root', 'root'] : ['--spec', 'cutover.yaml', '--root', 'root']
    const child = spawn(process.execPath, [bin, ...args, ...where], {
      cwd: dir,
      env: { ...process.env, FINANCE_PG_URL: pg.url, FINANCE_DB_PASSWORD: SECRET, ...env },
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', fail)
    child.on('close', (code, signal) => done({ code, signal, out, err }))
  })
}

async function setup(): Promise<{ dir: string; conf: string; original: Record<string, string> }> {
  await pg.query(
    'DROP SCHEMA IF EXISTS amqp CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public',
  )
  await pg.query(LIVE_SCHEMA)
  const dir = tempDir('cutover-live-e2e-')
  mkdirSync(join(dir, 'root/etc'), { recursive: true })
  const conf = join(dir, 'root/etc/finance.conf')
  writeFileSync(conf, CONFIG)
  writeFileSync(
    join(dir, 'cutover.yaml'),
    SPEC + '  - text: { files: [etc/finance.conf], addresses: names }\n',
  )
  return { dir, conf, original: await definitions(pg) }
}

describe('cutover apply of files and a live database, killed with SIGKILL', () => {
  it('killed before the database commits: the database rolls back and recover restores the files', async () => {
    const { dir, conf, original } = await setup()
    const killed = await cutover(dir, ['apply', '--profile', 'test', '--yes', '--quiet'], {
      CUTOVER_FAULT_INJECT: 'before-commit',
    })
    expect(killed.signal).toBe('SIGKILL')
    expect(readFileSync(conf, 'utf8')).toBe(CONFIG_AFTER)
    const rec = await cutover(dir, ['recover'])
    expect(rec.code, rec.err).toBe(0)
    expect(rec.out).toMatch(/prepared -> rolled-back/)
    expect(readFileSync(conf, 'utf8')).toBe(CONFIG)
    expect(await definitions(pg)).toEqual(original)
    expect(await brokerHost(pg)).toBe('10.0.10.107')

    const again = await cutover(dir, ['apply', '--profile', 'test', '--yes', '--quiet'])
    expect(again.code, again.err).toBe(0)
    expect(readFileSync(conf, 'utf8')).toBe(CONFIG_AFTER)
    expect(await fire(pg)).toEqual([
      'oas.projects.test',
      'oas.projects.test',
      'oas.staff.test',
      'oas.timesheets.test',
    ])
  })

  it('killed after the database committed, before the journal did: recover keeps the files as applied', async () => {
    const { dir, conf } = await setup()
    const killed = await cutover(dir, ['apply', '--profile', 'test', '--yes', '--quiet'], {
      CUTOVER_FAULT_INJECT: 'participants-committed',
    })
    expect(killed.signal).toBe('SIGKILL')
    const rec = await cutover(dir, ['recover'])
    expect(rec.code, rec.err).toBe(0)
    expect(rec.out).toMatch(/prepared -> committed/)
    expect(readFileSync(conf, 'utf8')).toBe(CONFIG_AFTER)
    expect(await brokerHost(pg)).toBe('rabbitmq.thehumanjourney.net')
    const plan = await cutover(dir, ['plan', '--profile', 'test', '--detailed-exitcode'])
    expect(plan.code, plan.out + plan.err).toBe(0)
  })

  it('recover refuses to decide while the database cannot be reached, and leaves the files', async () => {
    const { dir, conf } = await setup()
    const killed = await cutover(dir, ['apply', '--profile', 'test', '--yes', '--quiet'], {
      CUTOVER_FAULT_INJECT: 'before-commit',
    })
    expect(killed.signal).toBe('SIGKILL')
    const rec = await cutover(dir, ['recover'], {
      FINANCE_PG_URL: 'postgres://cutover:pw@127.0.0.1:1/finance',
    })
    expect(rec.code).not.toBe(0)
    expect(rec.err).toMatch(/run cutover recover again/)
    expect(readFileSync(conf, 'utf8')).toBe(CONFIG_AFTER)
    const ok = await cutover(dir, ['recover'])
    expect(ok.code, ok.err).toBe(0)
    expect(readFileSync(conf, 'utf8')).toBe(CONFIG)
  })
})
