import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
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

let pg: PgServer
beforeAll(async () => {
  pg = await startPg()
  await pg.query(LIVE_SCHEMA)
})
afterAll(async () => {
  await pg?.close()
})

function tree(spec: string): string {
  const dir = tempDir('cutover-live-')
  writeFileSync(join(dir, 'cutover.yaml'), spec)
  mkdirSync(join(dir, 'root'))
  return dir
}

async function cli(
  dir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  // plan and apply read the URL's variable from the CLI's environment (io.env), never process.env
  const io = memoryIo({ cwd: dir, env: { FINANCE_DB_PASSWORD: SECRET, FINANCE_PG_URL: pg.url } })
  const code = await run(
    [...args, '--spec', join(dir, 'cutover.yaml'), '--root', join(dir, 'root')],
    io,
  )
  return { code, out: io.out(), err: io.err() }
}

const functionFacts = (name: string) =>
  pg.query(
    `SELECT pg_get_userbyid(proowner) AS owner, proacl::text AS acl, obj_description(oid, 'pg_proc') AS comment, prosecdef, proconfig
              FROM pg_proc WHERE proname = $1`,
    [name],
  )

const LIVE_KEYS = ['oas.projects', 'oas.projects', 'oas.staff', 'oas.timesheets']
const TEST_KEYS = [
  'oas.projects.test',
  'oas.projects.test',
  'oas.staff.test',
  'oas.timesheets.test',
]

describe('issue 8 acceptance: a live PostgreSQL through `cutover` (PGlite over the wire, or CUTOVER_TEST_PG_URL)', () => {
  it('plans, applies test, refuses a stale live plan, applies live', async () => {
    const dir = tree(SPEC)
    const original = await definitions(pg)
    const facts = await functionFacts('amqp_staff')
    expect(await fire(pg)).toEqual(LIVE_KEYS)

    // plan --profile test --json lists the amqp_* functions under database and changes nothing
    const plan = await cli(dir, 'plan', '--profile', 'test', '--json')
    expect(plan.code, plan.err).toBe(0)
    expect(plan.out).not.toContain('s3cr3t')
    expect(plan.out).not.toContain('old pass')
    const doc = JSON.parse(plan.out) as {
      database: Array<{ target: string; kind: string; diff: string; before: string }>
      changes: unknown[]
      leftovers: Array<{ target: string; reason: string }>
    }
    const targets = doc.database.map((d) => d.target.replace(/^pg:[^/]+\//, ''))
    expect(targets).toEqual([
      'public.amqp_projects()',
      'public.amqp_staff()',
      'public.amqp_timesheets()',
      'public.sync_totals()',
      'amqp.broker(broker_id=1)',
    ])
    expect(doc.changes).toEqual([])
    expect(doc.database.every((d) => d.kind === 'sql')).toBe(true)
    const staff = doc.database.find((d) => d.target.endsWith('amqp_staff()'))!
    expect(staff.diff).toContain(
      "-    FOREACH key IN ARRAY ARRAY['oas.staff', 'oas.projects'] LOOP",
    )
    expect(staff.diff).toContain(
      "+    FOREACH key IN ARRAY ARRAY['oas.staff.test', 'oas.projects.test'] LOOP",
    )
    const sync = doc.database.find((d) => d.target.endsWith('sync_totals()'))!
    // the old password's function gets a salted hash of its masked definition: the plan cannot
    // confirm a guess of it (the definition's plain sha256, which the guess 'old pass' gives, is not there)
    expect(sync.before).toMatch(/^masked-sha256:[0-9a-f]{64}$/)
    expect(sync.before.slice(-64)).not.toBe(
      createHash('sha256').update(original['public.sync_totals()']!).digest('hex'),
    )
    expect(staff.before).toMatch(/^sha256:/)
    // the passwords are masked where they are; the rest of their lines is shown
    expect(sync.diff).toContain(
      "-      FROM public.dblink('host=10.0.10.48 dbname=finance user=finance password=(sensitive)', ",
    )
    expect(sync.diff).toContain(
      "+      FROM public.dblink('host=finance.thehumanjourney.net dbname=finance user=finance password=(sensitive)', ",
    )
    expect(doc.database.at(-1)!.diff).toContain(
      "UPDATE amqp.broker SET host = 'rabbitmq.thehumanjourney.net' WHERE broker_id = '1';",
    )
    expect(doc.leftovers.map((l) => `${l.target.replace(/^pg:[^/]+\//, '')}: ${l.reason}`)).toEqual(
      [
        'public.amqp_projects(): old address: inside a comment in function public.amqp_projects()',
        'public.amqp_staff(): old address: inside a comment in function public.amqp_staff()',
        'public.amqp_timesheets(): old address: inside a comment in function public.amqp_timesheets()',
        'public.default_key(): variant of another profile than "test": in function public.default_key(), which functions: does not select',
      ],
    )
    expect(await definitions(pg)).toEqual(original)

    // apply --profile test: the triggers publish the test keys, the broker is by name
    const test = await cli(dir, 'apply', '--profile', 'test', '--yes')
    expect(test.code, test.err).toBe(0)
    expect(test.out + test.err).not.toContain('s3cr3t')
    expect(await fire(pg)).toEqual(TEST_KEYS)
    expect(await brokerHost(pg)).toBe('rabbitmq.thehumanjourney.net')
    const afterTest = await definitions(pg)
    expect(afterTest['public.default_key()']).toBe(original['public.default_key()'])
    expect(afterTest['public.sync_totals()']).toContain(
      "public.dblink('host=finance.thehumanjourney.net dbname=finance user=finance password=''s3cr3t\\''pw''', ",
    )
    expect(await functionFacts('amqp_staff')).toEqual(facts)
    expect(facts[0]).toMatchObject({
      owner: 'finance',
      comment: 'publishes staff changes to RabbitMQ',
      prosecdef: true,
      proconfig: ['search_path=public, amqp'],
    })
    expect(facts[0]!.acl).toContain('reporting=X/')

    // a second plan is empty
    const again = await cli(dir, 'plan', '--profile', 'test', '--detailed-exitcode')
    expect(again.code, again.out + again.err).toBe(0)

    // a saved live plan made stale by a concurrent CREATE OR REPLACE is refused; nothing changes
    const saved = await cli(dir, 'plan', '--profile', 'live', '--out', 'live.json')
    expect(saved.code, saved.err).toBe(0)
    expect(readFileSync(join(dir, 'live.json'), 'utf8')).not.toContain('s3cr3t')
    const concurrent = afterTest['public.amqp_projects()']!.replace(
      'BEGIN\n',
      'BEGIN\n    -- edited during the cutover\n',
    )
    await pg.query(concurrent)
    const beforeStale = await definitions(pg)
    const stale = await cli(dir, 'apply', 'live.json', '--yes')
    expect(stale.code).not.toBe(0)
    expect(stale.err).toContain('public.amqp_projects()')
    expect(stale.err).toMatch(/changed since the plan/)
    expect(await definitions(pg)).toEqual(beforeStale)
    expect(await fire(pg)).toEqual(TEST_KEYS)

    // a fresh apply --profile live: the triggers publish the live keys again
    const live = await cli(dir, 'apply', '--profile', 'live', '--yes')
    expect(live.code, live.err).toBe(0)
    expect(await fire(pg)).toEqual(LIVE_KEYS)
    expect(await brokerHost(pg)).toBe('rabbitmq.thehumanjourney.net')
    expect((await definitions(pg))['public.amqp_projects()']).toContain(
      '-- edited during the cutover',
    )
  })
})
