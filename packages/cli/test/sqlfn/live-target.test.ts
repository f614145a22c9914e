import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { LIVE_SCHEMA, OVERLOADS, SECRET, SPEC, definitions } from '@cutover/test-kit/finance-live'
import { AMQP_STUB, startPg, type PgServer } from '@cutover/test-kit/pg'
import { tempDir } from '@cutover/test-kit/temp'

let pg: PgServer

/** Before each test a fresh database holding OVERLOADS, its URL in CUTOVER_T_URL; closed after. */
function useOverloadsDb(): void {
  beforeEach(async () => {
    pg = await startPg()
    await pg.query(OVERLOADS)
    process.env.CUTOVER_T_URL = pg.url
  })
  afterEach(async () => {
    delete process.env.CUTOVER_T_URL
    await pg.close()
  })
}

describe('against a real PostgreSQL (PGlite over the wire, or CUTOVER_TEST_PG_URL)', () => {
  useOverloadsDb()

  describe('a file step and a database step in one apply', () => {
    it('a failing statement in the database rolls back the database and leaves every file as it was', async () => {
      await pg.query(
        LIVE_SCHEMA.replace(AMQP_STUB, '').replace(/^INSERT INTO amqp\.broker .*$/m, ''),
      )
      await pg.query(
        "ALTER TABLE amqp.broker ADD CONSTRAINT host_is_an_address CHECK (host ~ '^[0-9.]+$')",
      )
      const dir = tempDir('cutover-live-files-')
      mkdirSync(join(dir, 'root/etc'), { recursive: true })
      const config = 'amqp_host = 10.0.10.107\n'
      writeFileSync(join(dir, 'root/etc/finance.conf'), config)
      writeFileSync(
        join(dir, 'cutover.yaml'),
        SPEC.replace('FINANCE_PG_URL', 'CUTOVER_T_URL') +
          '  - text: { files: [etc/finance.conf], addresses: names }\n',
      )
      const before = await definitions(pg)
      const io = memoryIo({ cwd: dir, env: { FINANCE_DB_PASSWORD: SECRET, CUTOVER_T_URL: pg.url } })
      const code = await run(
        [
          'apply',
          '--profile',
          'test',
          '--yes',
          '--spec',
          join(dir, 'cutover.yaml'),
          '--root',
          join(dir, 'root'),
        ],
        io,
      )
      expect(code).not.toBe(0)
      expect(io.err()).toMatch(/amqp\.broker\(broker_id=1\): .*host_is_an_address/)
      expect(readFileSync(join(dir, 'root/etc/finance.conf'), 'utf8')).toBe(config)
      expect(await definitions(pg)).toEqual(before)
      expect(await pg.query('SELECT host FROM amqp.broker')).toEqual([{ host: '10.0.10.107' }])
    })
  })
})

describe('a database step and NEVER_MATCHED', () => {
  useOverloadsDb()

  it('is not warned of: its keys are not looked for in files', async () => {
    const dir = tempDir('cutover-live-keys-')
    mkdirSync(join(dir, 'root'), { recursive: true })
    writeFileSync(
      join(dir, 'cutover.yaml'),
      'version: 1\nsteps:\n  - sql:\n      database: { url: { env: CUTOVER_T_URL } }\n      functions: ["public.amqp_*"]\n      replace: { oas.staff: oas.office }\n',
    )
    const io = memoryIo({ cwd: dir, env: { CUTOVER_T_URL: pg.url } })
    expect(await run(['plan', '--root', 'root'], io), io.err()).toBe(0)
    expect(io.out()).toContain('Database: 2 object(s) to change')
    expect(io.out()).not.toContain('NEVER_MATCHED')
  })
})
