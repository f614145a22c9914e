import { createServer } from 'node:net'
import {
  CutoverError,
  SpecError,
  createEngine,
  type Context,
  type DatabaseApplyContext,
} from '@cutover/rewrite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  connectDatabase,
  liveParticipants,
  liveState,
  planDatabase,
  sqlStep,
  type LiveOptions,
} from '../src/index.js'
import { OVERLOADS, definitions } from '@cutover/test-kit/finance-live'
import { startPg, type PgServer } from '@cutover/test-kit/pg'

const ctx = (profile: string, secrets: Record<string, string> = {}): Context => ({
  root: '/',
  profile,
  profiles: ['test', 'live'],
  inventory: [
    { name: 'finance.thehumanjourney.net', old: '10.0.10.48', new: '10.0.10.49' },
    { name: 'rabbitmq.thehumanjourney.net', old: '10.0.10.107', new: '10.0.10.108' },
  ],
  variants: { 'routing-keys': [{ test: 'oas.staff.test', live: 'oas.staff' }] },
  secret: (n) => secrets[n] ?? '',
})

const options = (o: Partial<LiveOptions> = {}): LiveOptions => ({
  database: { url: { env: 'CUTOVER_T_URL' } },
  functions: ['public.amqp_*'],
  tables: ['amqp.*'],
  addresses: 'names',
  variants: ['routing-keys'],
  ...o,
})

let pg: PgServer
let apply: DatabaseApplyContext
/** A postgres:// URL of a port nobody listens on. */
async function closedUrl(password: string): Promise<string> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  await new Promise((r) => server.close(r))
  return `postgres://cutover:${password}@127.0.0.1:${port}/finance`
}

describe('against a real PostgreSQL (PGlite over the wire, or CUTOVER_TEST_PG_URL)', () => {
  beforeEach(async () => {
    pg = await startPg()
    await pg.query(OVERLOADS)
    process.env.CUTOVER_T_URL = pg.url
    apply = { env: { CUTOVER_T_URL: pg.url }, secrets: new Map() }
  })
  afterEach(async () => {
    delete process.env.CUTOVER_T_URL
    await pg.close()
  })

  async function commit(
    changes: Awaited<ReturnType<typeof planDatabase>>['changes'],
    secrets: Record<string, string> = {},
  ): Promise<void> {
    for (const p of liveParticipants(changes, {
      ...apply,
      secrets: new Map(Object.entries(secrets)),
    })) {
      await p.prepare()
      await p.commit()
    }
  }

  describe('the live target of the sql step', () => {
    it('tells overloads apart, identifies rows of a table without a primary key by all columns, and reapplies nothing', async () => {
      const plan = await planDatabase(options(), ctx('test'))
      expect(plan.changes.map((c) => c.target.replace(/^pg:[^/]+\//, ''))).toEqual([
        'public.amqp_send(key text)',
        'public.amqp_send(key text, n integer)',
        'amqp.broker(broker_id=1)',
        expect.stringMatching(/^amqp\.hosts\(row [0-9a-f]{12}\)$/),
      ])
      expect(plan.changes[3]!.diff).toContain(
        "UPDATE amqp.hosts SET host = 'rabbitmq.thehumanjourney.net' WHERE /* every column equal",
      )
      expect(plan.leftovers).toEqual([])
      await commit(plan.changes)
      expect(await pg.query('SELECT host, note FROM amqp.hosts ORDER BY note')).toEqual([
        { host: 'rabbitmq.thehumanjourney.net', note: 'broker' },
        { host: '10.0.10.9', note: 'other' },
      ])
      expect(
        await pg.query("SELECT public.amqp_send('k') AS a, public.amqp_send('k', 2) AS b"),
      ).toEqual([{ a: 'oas.staff.test', b: 'oas.staff.test2' }])
      expect(await liveState(plan.changes, apply)).toBe('after')
      expect((await planDatabase(options(), ctx('test'))).changes).toEqual([])
    })

    it('keeps an old password that is part of a row key (no primary key) out of the plan, and still updates that row', async () => {
      await pg.query(`CREATE TABLE amqp.links (conninfo text, note text);
        INSERT INTO amqp.links VALUES ('host=10.0.10.48 dbname=finance user=u password=old-pw', 'a'), ('host=10.0.10.48 dbname=finance user=u password=oth3r', 'b')`)
      const o = options({
        functions: [],
        tables: ['amqp.links'],
        passwords: { 'finance.thehumanjourney.net': { secret: 'PW' } },
      })
      const plan = await planDatabase(o, ctx('test', { PW: 'n3w' }))
      expect(plan.changes).toHaveLength(2)
      const json = JSON.stringify(plan)
      for (const old of ['old-pw', 'oth3r']) expect(json).not.toContain(old)
      expect(plan.changes[0]!.before).toMatch(/^masked-sha256:/)
      expect(plan.changes[0]!.diff).toContain("password=(sensitive)'")
      await commit(plan.changes, { PW: 'n3w' })
      expect(await pg.query('SELECT conninfo, note FROM amqp.links ORDER BY note')).toEqual([
        {
          conninfo: 'host=finance.thehumanjourney.net dbname=finance user=u password=n3w',
          note: 'a',
        },
        {
          conninfo: 'host=finance.thehumanjourney.net dbname=finance user=u password=n3w',
          note: 'b',
        },
      ])
      expect(await liveState(plan.changes, { ...apply, secrets: new Map([['PW', 'n3w']]) })).toBe(
        'after',
      )
    })

    it("state(): 'before' after a rollback (what a dropped connection does), 'after' once committed, 'unknown' when someone else changed an object or the server is gone", async () => {
      const { changes } = await planDatabase(options(), ctx('test'))
      const [p] = liveParticipants(changes, apply)
      await p!.prepare()
      await p!.rollback()
      expect(await liveState(changes, apply)).toBe('before')
      await commit(changes)
      expect(await liveState(changes, apply)).toBe('after')
      await pg.query(
        "CREATE OR REPLACE FUNCTION public.amqp_send(key text) RETURNS text LANGUAGE sql AS $$ SELECT 'oas.other' $$",
      )
      expect(await liveState(changes, apply)).toBe('unknown')
      expect(
        await liveState(changes, { ...apply, env: { CUTOVER_T_URL: await closedUrl('pw') } }),
      ).toBe('unknown')
    })

    it('aborts before changing anything when an object differs from the plan, naming each one', async () => {
      const { changes } = await planDatabase(options(), ctx('test'))
      await pg.query(
        "UPDATE amqp.broker SET host = '10.0.10.200'; DROP FUNCTION public.amqp_send(text, integer)",
      )
      const before = await definitions(pg)
      const [p] = liveParticipants(changes, apply)
      const err = await p!.prepare().then(
        () => undefined,
        (e: unknown) => e,
      )
      await p!.rollback()
      expect(err).toMatchObject({ code: 'STALE_PLAN' })
      expect((err as Error).message).toMatch(
        /public\.amqp_send\(key text, n integer\): no longer exists/,
      )
      expect((err as Error).message).toMatch(/amqp\.broker\(broker_id=1\): changed since the plan/)
      expect((err as Error).message).not.toMatch(/amqp_send\(key text\):/)
      expect(await definitions(pg)).toEqual(before)
    })

    it('reads the libpq environment, and a URL from a spec secret', async () => {
      const u = new URL(pg.url)
      const saved = { ...process.env }
      Object.assign(process.env, {
        PGHOST: u.hostname,
        PGPORT: u.port,
        PGUSER: u.username,
        PGPASSWORD: u.password,
        PGDATABASE: u.pathname.slice(1),
      })
      try {
        expect(
          (await planDatabase(options({ database: { libpq: true } }), ctx('test'))).changes,
        ).toHaveLength(4)
      } finally {
        for (const k of ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'])
          if (saved[k] === undefined) delete process.env[k]
      }
      const viaSecret = await planDatabase(
        options({ database: { url: { secret: 'PG_URL' } } }),
        ctx('test', { PG_URL: pg.url }),
      )
      expect(viaSecret.changes).toHaveLength(4)
    })

    it('says where it could not connect (host, port, database, user), never the password', async () => {
      const url = await closedUrl('hunter2')
      const port = new URL(url).port
      const err = await connectDatabase(
        { url: { env: 'U' } },
        { env: { U: url }, secret: () => '' },
      ).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(CutoverError)
      expect(err).toMatchObject({ code: 'DATABASE_CONNECT' })
      expect((err as Error).message).toBe(
        `cannot connect to PostgreSQL at 127.0.0.1:${port}, database finance as user cutover: connection refused (is the server running and listening there?)`,
      )
      expect((err as Error).message).not.toContain('hunter2')
      const unset = await connectDatabase(
        { url: { env: 'NOPE' } },
        { env: {}, secret: () => '' },
      ).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(unset).toMatchObject({
        code: 'DATABASE_URL',
        message: expect.stringContaining('export NOPE'),
      })
    })
  })
})

describe('the sql step options', () => {
  const engine = createEngine({ steps: [sqlStep] })
  const spec = (step: string) => `version: 1\nsecrets:\n  U: { env: U }\nsteps:\n  - sql: ${step}\n`
  const codes = (step: string) => {
    try {
      engine.parseSpec(spec(step), 'cutover.yaml')
      return []
    } catch (e) {
      if (!(e instanceof SpecError)) throw e
      return e.diagnostics.map((d) => ({
        code: d.code,
        message: d.message,
        at: spec(step).slice(d.range.start, d.range.end),
      }))
    }
  }

  it('takes exactly one of files: and database:, and exactly one of url: and libpq:', () => {
    expect(codes('{ database: { url: { env: FINANCE_PG_URL } } }')).toEqual([])
    expect(codes('{ database: { url: { secret: U } } }')).toEqual([])
    expect(codes('{ database: { libpq: true } }')).toEqual([])
    expect(codes('{ files: [a.sql], database: { libpq: true } }')).toEqual([
      {
        code: 'SPEC_VALUE',
        message: 'a sql step needs exactly one of files: (dumps) and database: (a live server)',
        at: '{ files: [a.sql], database: { libpq: true } }',
      },
    ])
    expect(codes('{ functions: [public.amqp_*] }')).toMatchObject([{ code: 'SPEC_VALUE' }])
    // a live database stages no file for a command to check
    expect(codes('{ database: { libpq: true }, validate: "pg_verify %s" }')).toEqual([
      {
        code: 'SPEC_VALUE',
        message: expect.stringContaining('a sql step with database: stages none'),
        at: '{ database: { libpq: true }, validate: "pg_verify %s" }',
      },
    ])
    expect(codes('{ files: [a.sql], validate: "pg_verify %s" }')).toEqual([])
    expect(codes('{ database: { libpq: true, url: { env: X } } }')).toMatchObject([
      { code: 'SPEC_VALUE', at: '{ libpq: true, url: { env: X } }' },
    ])
    expect(codes('{ database: { url: { secret: NOPE } } }')).toMatchObject([
      { message: expect.stringContaining('unknown secret "NOPE"') },
    ])
    expect(codes('{ database: { url: postgres://u:pw@db/finance } }')).toMatchObject([
      { code: 'SPEC_TYPE' },
    ])
  })
})
