import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { applyEdits, type Context } from '@cutover/rewrite'
import { planSql } from '../src/index.js'
import { loadDump, openDb } from './engine.js'
import { financeContext } from '@cutover/test-kit'
import { financeDump, liveResult, original, testResult } from '@cutover/test-kit/finance-dump'

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
    join(
      import.meta.dirname,
      '../../../examples/finance/machines/finance/backup/finance-schema.sql',
    ),
    'utf8',
  )
  const ctx: Context = financeContext({
    inventory: [
      { name: 'timesheets.thehumanjourney.net', old: '10.0.10.23', new: '192.168.98.51' },
      { name: 'hrdb.thehumanjourney.net', old: '10.0.10.42', new: '10.0.10.43' },
      { name: 'finance.thehumanjourney.net', old: '10.0.10.48', new: '10.0.10.49' },
      { name: 'rabbitmq.thehumanjourney.net', old: '10.0.10.107', new: '10.0.10.107' },
    ],
    secret: () => 'unused',
  })
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
