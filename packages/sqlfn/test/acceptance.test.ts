import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../cli/src/io.js'
import { run } from '../../cli/src/run.js'
import { applyEdits, type Context } from '@cutover/rewrite'
import { planSql } from '../src/index.js'
import { loadDump, openDb } from './engine.js'
import { SECRET, financeDump, liveResult, original, spec, testResult } from './fixture.js'

const TARGET = 'backup/finance-schema.sql'

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-sql-'))
  writeFileSync(join(dir, 'cutover.yaml'), spec)
  mkdirSync(join(dir, 'root/backup'), { recursive: true })
  writeFileSync(join(dir, 'root', TARGET), financeDump(original))
  return dir
}

async function cli(
  dir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({ cwd: dir, env: { FINANCE_DB_PASSWORD: SECRET } })
  const code = await run(
    [...args, '--spec', join(dir, 'cutover.yaml'), '--root', join(dir, 'root')],
    io,
  )
  return { code, out: io.out(), err: io.err() }
}

/** Loads a dump, fires both triggers, and returns the routing keys published and the broker host. */
async function fire(dump: string): Promise<{ keys: string[]; broker: string }> {
  const db = await openDb()
  try {
    await loadDump(db, dump)
    await db.exec(
      "INSERT INTO public.staff VALUES (7, 'Ada'); INSERT INTO public.projects VALUES ('P-1')",
    )
    const keys = (
      await db.query<{ routing_key: string }>(
        'SELECT routing_key FROM amqp.published ORDER BY routing_key',
      )
    ).map((r) => r.routing_key)
    const [broker] = await db.query<{ host: string }>(
      'SELECT host FROM amqp.broker WHERE broker_id = 1',
    )
    return { keys, broker: broker!.host }
  } finally {
    await db.close()
  }
}

describe('issue 6 acceptance: a finance schema dump through `cutover apply`', () => {
  it('apply --profile test, then --profile live, give the expected bytes; the test dump publishes test keys', async () => {
    const dir = tree()
    const file = join(dir, 'root', TARGET)

    const plan = await cli(dir, 'plan', '--profile', 'test', '--json')
    expect(plan.code, plan.err).toBe(0)
    const doc = JSON.parse(plan.out)
    expect(plan.out).not.toContain('s3cr3t')
    const reasons = doc.leftovers.map(
      (l: { text: string; reason: string }) => `${l.text}: ${l.reason}`,
    )
    expect(reasons).toEqual([
      expect.stringMatching(
        /^10\.0\.10\.48: old address: inside a comment in function public\.amqp_staff/,
      ),
      expect.stringMatching(/^oas\.staff: near-miss: "oas\.staff" inside "oas\.staff\.extra"/),
      expect.stringMatching(
        /^oas\.staff: variant of another profile than "test": in function public\.default_key, which functions: does not select/,
      ),
    ])

    const test = await cli(dir, 'apply', '--profile', 'test', '--yes')
    expect(test.code, test.err).toBe(0)
    expect(test.out + test.err).not.toContain('s3cr3t')
    expect(readFileSync(file, 'utf8')).toBe(financeDump(testResult))

    const again = await cli(dir, 'plan', '--profile', 'test', '--detailed-exitcode')
    expect(again.code, again.out).toBe(0)

    const live = await cli(dir, 'apply', '--profile', 'live', '--yes')
    expect(live.code, live.err).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(financeDump(liveResult))
  })

  it('the original publishes live keys; the test result publishes test keys with the broker by name', async () => {
    expect(await fire(financeDump(original))).toEqual({
      keys: ['oas.projects', 'oas.projects', 'oas.staff'],
      broker: '10.0.10.107',
    })
    expect(await fire(financeDump(testResult))).toEqual({
      keys: ['oas.projects.test', 'oas.projects.test', 'oas.staff.test'],
      broker: 'rabbitmq.thehumanjourney.net',
    })
    expect(await fire(financeDump(liveResult))).toEqual({
      keys: ['oas.projects', 'oas.projects', 'oas.staff'],
      broker: 'rabbitmq.thehumanjourney.net',
    })
  })
})

describe('examples/finance: the schema dump', () => {
  const example = readFileSync(
    join(import.meta.dirname, '../../../examples/finance/root/backup/finance-schema.sql'),
    'utf8',
  )
  const ctx: Context = {
    root: '/',
    profile: 'test',
    profiles: ['test', 'live'],
    inventory: [
      { name: 'timesheets.thehumanjourney.net', old: '10.0.10.23', new: '192.168.98.51' },
      { name: 'hrdb.thehumanjourney.net', old: '10.0.10.42', new: '10.0.10.43' },
      { name: 'finance.thehumanjourney.net', old: '10.0.10.48', new: '10.0.10.49' },
      { name: 'rabbitmq.thehumanjourney.net', old: '10.0.10.107', new: '10.0.10.107' },
    ],
    variants: {
      'routing-keys': [
        { test: 'oas.staff.test', live: 'oas.staff' },
        { test: 'oas.projects.test', live: 'oas.projects' },
      ],
    },
    secret: () => 'unused',
  }
  const options = {
    files: ['backup/*-schema.sql'],
    functions: ['public.amqp_*', 'public.pull_*', 'public.sync_*'],
    tables: ['amqp.broker'],
    addresses: 'names' as const,
    variants: ['routing-keys'],
  }

  it('loads into PostgreSQL after the test profile, and its triggers publish the test keys', async () => {
    const plan = await planSql(example, options, ctx)
    const out = applyEdits(example, plan.edits)
    expect(plan.leftovers.map((l) => l.reason)).toEqual([
      'old address: in function public.finance_dsn, which functions: does not select',
    ])
    const db = await openDb()
    try {
      await loadDump(db, out)
      await db.exec(
        "INSERT INTO public.staff (staff_id, full_name) VALUES (1, 'Ada'); INSERT INTO public.projects (project_code, title) VALUES ('P-1', 'Dig')",
      )
      const keys = (
        await db.query<{ routing_key: string }>('SELECT routing_key FROM amqp.published ORDER BY 1')
      ).map((r) => r.routing_key)
      expect(keys).toEqual(['oas.projects.test', 'oas.projects.test', 'oas.staff.test'])
      const src = await db.query<{ prosrc: string }>(
        "SELECT prosrc FROM pg_proc WHERE proname IN ('pull_timesheets', 'sync_staff_from_hrdb') ORDER BY proname",
      )
      expect(src.map((r) => /host=(\S+)/.exec(r.prosrc)![1])).toEqual([
        'timesheets.thehumanjourney.net',
        'hrdb.thehumanjourney.net',
      ])
      expect(await db.query('SELECT host FROM amqp.broker')).toEqual([
        { host: 'rabbitmq.thehumanjourney.net' },
      ])
    } finally {
      await db.close()
    }
  })
})
