import { applyEdits, type Context } from '@cutover/rewrite'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadLexer, planSql, type SqlOptions } from '../src/index.js'
import { financeContext } from '@cutover/test-kit'
import { inProcessPg } from '@cutover/test-kit/pg'

// Issue 15 §6: what the sql step writes is read back by PostgreSQL itself (PGlite, in process):
// continued strings, COPY fields split at an escaped tab, and function names holding a dot.

const opts = (extra: Partial<SqlOptions> = {}): SqlOptions => ({
  files: ['*.sql'],
  addresses: 'names',
  variants: ['routing-keys'],
  ...extra,
})
const context = (profile: string): Context => financeContext({ profile })

async function rewrite(sql: string, o: SqlOptions, profile: string): Promise<string> {
  const r = await planSql(sql, o, context(profile))
  expect(r.diagnostics).toEqual([])
  return applyEdits(sql, r.edits)
}

const pglite = inProcessPg()

beforeAll(async () => {
  await loadLexer()
})

describe("a string continued over lines ('a' newline 'b' is one literal 'ab')", () => {
  const dump = [
    'CREATE FUNCTION public.amqp_keys() RETURNS text[] LANGUAGE plpgsql AS $_$',
    'BEGIN',
    "  RETURN ARRAY['oas.'",
    "    'staff', 'host=10.0.10.'",
    "    '48 dbname=finance', 'host=10.0.10.'",
    "    '48', E'x\\t'",
    "    '10.0.10.48', 'oas.'",
    '    -- the projects key',
    "    'projects', 'oas.staff'",
    "   'x'];",
    'END;',
    '$_$;',
    "CREATE FUNCTION public.amqp_q() RETURNS text LANGUAGE sql AS 'SELECT ''oas.''",
    "  ''staff''::text';",
    '',
  ].join('\n')
  const call = (sql: string) =>
    pglite(async (db) => {
      await db.exec(sql)
      const [keys] = (await db.query<{ k: string[] }>('SELECT public.amqp_keys() AS k')).rows
      const [q] = (await db.query<{ q: string }>('SELECT public.amqp_q() AS q')).rows
      const src = (
        await db.query<{ prosrc: string }>("SELECT prosrc FROM pg_proc WHERE proname = 'amqp_q'")
      ).rows[0]!.prosrc
      return { keys: keys!.k, q: q!.q, src }
    })

  it('PostgreSQL reads the continued pieces as one value (the premise)', async () => {
    expect(await call(dump)).toEqual({
      keys: [
        'oas.staff',
        'host=10.0.10.48 dbname=finance',
        'host=10.0.10.48',
        'x\t10.0.10.48',
        'oas.projects',
        'oas.staffx',
      ],
      q: 'oas.staff',
      src: "SELECT 'oas.'\n  'staff'::text",
    })
  })

  it('is matched on its value and edited inside its pieces; PostgreSQL reads the rewritten values', async () => {
    const test = await rewrite(dump, opts(), 'test')
    expect(test).toContain(
      "ARRAY['oas.'\n    'staff.test', 'host=finance.thehumanjourney.net'\n    ' dbname=finance', 'host=finance.thehumanjourney.net'\n    '', E'x\\t'\n    'finance.thehumanjourney.net', 'oas.'\n    -- the projects key\n    'projects.test', 'oas.staff'\n   'x'];",
    )
    expect(await call(test)).toEqual({
      keys: [
        'oas.staff.test',
        'host=finance.thehumanjourney.net dbname=finance',
        'host=finance.thehumanjourney.net',
        'x\tfinance.thehumanjourney.net',
        'oas.projects.test',
        'oas.staffx',
      ],
      q: 'oas.staff.test',
      src: "SELECT 'oas.'\n  'staff.test'::text",
    })
    // planned again, nothing more; the live profile flips the keys back
    expect(await rewrite(test, opts(), 'test')).toBe(test)
    const live = await rewrite(test, opts(), 'live')
    expect((await call(live)).keys).toEqual([
      'oas.staff',
      'host=finance.thehumanjourney.net dbname=finance',
      'host=finance.thehumanjourney.net',
      'x\tfinance.thehumanjourney.net',
      'oas.projects',
      'oas.staffx',
    ])
  })

  it('a split old address or variant left in a statement that is not rewritten is a leftover at its first piece', async () => {
    const sql = [
      "CREATE FUNCTION public.other() RETURNS text LANGUAGE sql AS $$ SELECT 'host=10.0.10.'",
      "  '48' || 'oas.'",
      "  'staff' $$;",
      "CREATE VIEW v AS SELECT 'x 10.0.'",
      "  '10.48'::text AS h;",
      '',
    ].join('\n')
    const r = await planSql(sql, opts({ functions: ['public.amqp_*'] }), context('test'))
    expect(r.edits).toEqual([])
    const at = (s: string) => sql.indexOf(s)
    expect(r.leftovers).toEqual([
      {
        start: at('10.0.10.'),
        end: at("48' ||") + 2,
        text: "10.0.10.'\n  '48",
        reason:
          'old address 10.0.10.48 split over string pieces: in function public.other, which functions: does not select',
      },
      {
        start: at("oas.'"),
        end: at("staff' $$") + 5,
        text: "oas.'\n  'staff",
        reason:
          'variant of another profile than "test" oas.staff split over string pieces: in function public.other, which functions: does not select',
      },
      {
        start: at("10.0.'"),
        end: at("10.48'::") + 5,
        text: "10.0.'\n  '10.48",
        reason:
          'old address 10.0.10.48 split over string pieces: in a CREATE VIEW statement, which this step does not rewrite',
      },
    ])
  })
})

describe('continued strings, any split (property, read back through PostgreSQL)', () => {
  const quote = (v: string) => v.replace(/'/g, "''")
  it('a value split anywhere into pieces reads back as the rewrite of the joined value, and a second plan changes nothing', async () => {
    const o = opts({ tables: ['public.t'] })
    const valueOf = (sql: string) =>
      pglite(async (db) => {
        await db.exec('CREATE TABLE public.t (v text);')
        await db.exec(sql)
        return (await db.query<{ v: string }>('SELECT v FROM public.t')).rows[0]!.v
      })
    const value = fc.constantFrom(
      'oas.staff',
      'oas.projects.test',
      'host=10.0.10.48 dbname=f',
      "it's 10.0.10.48",
      'postgresql://u@10.0.10.48/db',
      'a 10.0.10.480 b',
      'x\toas.staff',
    )
    const gap = fc.constantFrom('\n', ' \n  ', '\n-- note\n  ', '\r\n\t', '\n\n')
    await fc.assert(
      fc.asyncProperty(
        value,
        fc.array(fc.nat(), { maxLength: 4 }),
        gap,
        fc.boolean(),
        async (v, cuts, g, escape) => {
          const at = [...new Set(cuts.map((c) => c % (v.length + 1)))].sort((a, b) => a - b)
          const parts = [0, ...at].map((from, k, all) => v.slice(from, all[k + 1] ?? v.length))
          const enc = (x: string) => (escape ? quote(x).replace(/\t/g, '\\t') : quote(x))
          const lit = `${escape ? 'E' : ''}'${parts.map(enc).join(`'${g}'`)}'`
          const split = `INSERT INTO public.t VALUES (${lit});\n`
          const whole = `INSERT INTO public.t VALUES (${escape ? 'E' : ''}'${enc(v)}');\n`
          const out = await rewrite(split, o, 'test')
          expect(await valueOf(out)).toBe(await valueOf(await rewrite(whole, o, 'test')))
          expect(await rewrite(out, o, 'test')).toBe(out)
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('COPY text rows are split as PostgreSQL splits them', () => {
  const table =
    'CREATE SCHEMA amqp;\nCREATE TABLE amqp.broker (broker_id integer, host text, vhost text);\n'
  const rows = [
    '1\t10.0.10.107\tx\\\toas.staff',
    '2\tx\\\t10.0.10.48\toas.staff',
    '3\t10.0.10.48\\\\\toas.staff',
    '4\tline\\\n10.0.10.48\toas.staff',
    '5\t\\N\toas.staff',
  ].join('\n')
  const dump = `${table}COPY amqp.broker (broker_id, host, vhost) FROM stdin;\n${rows}\n\\.\n`

  /** The rows PostgreSQL's own COPY reads from the data block of `sql`. */
  const read = (sql: string) =>
    pglite(async (db) => {
      await db.exec(table)
      const data = sql.slice(sql.indexOf('FROM stdin;\n') + 'FROM stdin;\n'.length)
      await db.query("COPY amqp.broker FROM '/dev/blob'", [], { blob: new Blob([data]) })
      return (
        await db.query<{ broker_id: number; host: string | null; vhost: string }>(
          'SELECT * FROM amqp.broker ORDER BY broker_id',
        )
      ).rows.map((r) => [r.broker_id, r.host, r.vhost])
    })

  it('PostgreSQL reads an escaped tab and an escaped line break inside a field (the premise)', async () => {
    expect(await read(dump)).toEqual([
      [1, '10.0.10.107', 'x\toas.staff'],
      [2, 'x\t10.0.10.48', 'oas.staff'],
      [3, '10.0.10.48\\', 'oas.staff'],
      [4, 'line\n10.0.10.48', 'oas.staff'],
      [5, null, 'oas.staff'],
    ])
  })

  it('matches on the decoded field: a variant inside a longer value is not flipped but reported', async () => {
    const r = await planSql(dump, opts({ tables: ['amqp.broker'] }), context('test'))
    const out = applyEdits(dump, r.edits)
    expect(await read(out)).toEqual([
      [1, 'rabbitmq.thehumanjourney.net', 'x\toas.staff'],
      [2, 'x\tfinance.thehumanjourney.net', 'oas.staff.test'],
      [3, 'finance.thehumanjourney.net\\', 'oas.staff.test'],
      [4, 'line\nfinance.thehumanjourney.net', 'oas.staff.test'],
      [5, null, 'oas.staff.test'],
    ])
    const at = dump.indexOf('x\\\toas.staff') + 3
    expect(r.leftovers).toEqual([
      {
        start: at,
        end: at + 'oas.staff'.length,
        text: 'oas.staff',
        reason: expect.stringContaining(
          'inside a value of COPY data of amqp.broker that no rule rewrites whole',
        ),
      },
    ])
    expect((await planSql(out, opts({ tables: ['amqp.broker'] }), context('test'))).edits).toEqual(
      [],
    )
  })
})

describe('a quoted function name holding a dot', () => {
  const dump = [
    `CREATE FUNCTION public."amqp.staff"() RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff'::text $$;`,
    `CREATE OR REPLACE FUNCTION "amqp.other"() RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff'::text $$;`,
    `CREATE FUNCTION "Sales"."x.y"() RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff'::text $$;`,
    '',
  ].join('\n')
  const keys = (sql: string) =>
    pglite(async (db) => {
      await db.exec('CREATE SCHEMA "Sales";')
      await db.exec(sql)
      const rows = await db.query<{ a: string; b: string; c: string }>(
        'SELECT public."amqp.staff"() AS a, public."amqp.other"() AS b, "Sales"."x.y"() AS c',
      )
      return rows.rows[0]
    })

  it.each([
    [
      'every function (the default)',
      undefined,
      { a: 'oas.staff.test', b: 'oas.staff.test', c: 'oas.staff.test' },
    ],
    [
      'public."amqp.staff"',
      ['public."amqp.staff"'],
      { a: 'oas.staff.test', b: 'oas.staff', c: 'oas.staff' },
    ],
    [
      'public.amqp.staff',
      ['public.amqp.staff'],
      { a: 'oas.staff.test', b: 'oas.staff', c: 'oas.staff' },
    ],
    [
      'public.amqp.*',
      ['public.amqp.*'],
      { a: 'oas.staff.test', b: 'oas.staff.test', c: 'oas.staff' },
    ],
    [
      '"amqp.other" (any schema)',
      ['"amqp.other"'],
      { a: 'oas.staff', b: 'oas.staff.test', c: 'oas.staff' },
    ],
    ['Sales.*', ['Sales.*'], { a: 'oas.staff', b: 'oas.staff', c: 'oas.staff.test' }],
  ])(
    'is selected by %s; PostgreSQL runs the rewritten functions',
    async (_what, functions, expected) => {
      const out = await rewrite(dump, opts(functions ? { functions } : {}), 'test')
      expect(await keys(out)).toEqual(expected)
    },
  )

  it('an unselected one is named in its leftover', async () => {
    const r = await planSql(dump, opts({ functions: ['public.amqp.staff'] }), context('test'))
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      expect.stringContaining('function public.amqp.other, which functions: does not select'),
      expect.stringContaining('function Sales.x.y, which functions: does not select'),
    ])
  })
})
