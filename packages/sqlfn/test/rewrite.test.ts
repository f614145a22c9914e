import { applyEdits, type Context } from '@cutover/rewrite'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  compileRules,
  decodeCopyField,
  loadLexer,
  parseConninfo,
  planSql,
  readFunction,
  rewriteFunctionDefinition,
  splitSql,
  sqlSplitValidator,
  type SqlOptions,
} from '../src/index.js'
import { financeContext } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

function context(profile: string, secrets: Record<string, string> = {}): Context {
  return financeContext({ profile, secrets })
}

const opts = (extra: Partial<SqlOptions> = {}): SqlOptions => ({
  files: ['*.sql'],
  addresses: 'names',
  variants: ['routing-keys'],
  ...extra,
})

async function rewrite(sql: string, o: SqlOptions, ctx: Context): Promise<string> {
  const r = await planSql(sql, o, ctx)
  expect(r.diagnostics.filter((d) => (d.severity ?? 'error') === 'error')).toEqual([])
  return applyEdits(sql, r.edits)
}

beforeAll(async () => {
  await loadLexer()
})

describe('function bodies', () => {
  const fn = `CREATE FUNCTION public.amqp_x(a integer, VARIADIC b text[]) RETURNS void LANGUAGE plpgsql AS $_$
BEGIN
  PERFORM amqp.publish(1, 'amq.topic', unnest(ARRAY['oas.staff', E'oas.projects', $k$oas.staff$k$]), 'oas.staff.test');
  PERFORM 'oas.staff.extra', 'xoas.staff', 'host=10.0.10.48 port=5432', 'postgresql://u@10.0.10.48/db', '10.0.10.480';
END;
$_$;
`
  it('rewrites whole-literal variants and addresses inside literals, in every literal form', async () => {
    const out = await rewrite(fn, opts(), context('test'))
    expect(out).toContain(
      `ARRAY['oas.staff.test', E'oas.projects.test', $k$oas.staff.test$k$]), 'oas.staff.test')`,
    )
    expect(out).toContain(
      `'oas.staff.extra', 'xoas.staff', 'host=finance.thehumanjourney.net port=5432', 'postgresql://u@finance.thehumanjourney.net/db', '10.0.10.480'`,
    )
  })

  it('is idempotent and flips back: test twice = test, then live gives the original keys', async () => {
    const test = await rewrite(fn, opts(), context('test'))
    expect(await rewrite(test, opts(), context('test'))).toBe(test)
    const live = await rewrite(test, opts(), context('live'))
    expect(live).toContain(`ARRAY['oas.staff', E'oas.projects', $k$oas.staff$k$]), 'oas.staff')`)
    expect(live).not.toContain('oas.staff.test.test')
  })

  it('reads schema, name, argument types, language and the body span', () => {
    const f = readFunction(fn, 0, fn.length - 1, { schema: 'public', name: 'amqp_x' })
    expect(f).toMatchObject({
      schema: 'public',
      name: 'amqp_x',
      argTypes: ['integer', 'text[]'],
      language: 'plpgsql',
    })
    const g =
      'CREATE FUNCTION s.g(IN p_a double precision, character varying, OUT x int, b timestamp(3) with time zone DEFAULT now(), "T" numeric(5,2)[] = \'{}\') RETURNS void AS $$ $$;'
    expect(readFunction(g, 0, g.length, { schema: 's', name: 'g' }).argTypes).toEqual([
      'double precision',
      'character varying',
      'timestamp(3) with time zone',
      'numeric(5,2)[]',
    ])
    expect(f.body).toMatchObject({ form: 'dollar', tag: '$_$' })
    expect(fn.slice(f.body!.at(0), f.body!.at(f.body!.value.length))).toBe(f.body!.value)
  })

  it("decodes a '…'-quoted body: its literals are doubled twice, replacements too", async () => {
    const old =
      "CREATE OR REPLACE FUNCTION f() RETURNS text LANGUAGE sql AS 'SELECT ''oas.staff''::text || '' host=10.0.10.48''';\n"
    const out = await rewrite(old, opts(), context('test'))
    expect(out).toBe(
      "CREATE OR REPLACE FUNCTION f() RETURNS text LANGUAGE sql AS 'SELECT ''oas.staff.test''::text || '' host=finance.thehumanjourney.net''';\n",
    )
  })

  it('reads a SQL-standard body (BEGIN ATOMIC) from the statement itself', async () => {
    const std =
      "CREATE FUNCTION public.k() RETURNS text LANGUAGE sql\n    BEGIN ATOMIC\n SELECT 'oas.projects'::text;\nEND;\n"
    expect(await rewrite(std, opts(), context('test'))).toContain(
      "SELECT 'oas.projects.test'::text;",
    )
  })

  it('selects functions by globs on schema.name; the others stay and are leftovers', async () => {
    const two =
      "CREATE FUNCTION public.amqp_a() RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff' $$;\nCREATE FUNCTION other.amqp_b() RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff' $$;\n"
    const r = await planSql(two, opts({ functions: ['public.amqp_*'] }), context('test'))
    expect(r.edits).toHaveLength(1)
    expect(r.leftovers).toMatchObject([
      {
        text: 'oas.staff',
        reason: expect.stringContaining('function other.amqp_b, which functions: does not select'),
      },
    ])
  })

  it('leaves a body in a language that is not SQL, and says why', async () => {
    const py =
      "CREATE FUNCTION public.p() RETURNS text LANGUAGE plpython3u AS $$ return 'oas.staff' $$;\n"
    const r = await planSql(py, opts(), context('test'))
    expect(r.edits).toEqual([])
    expect(r.leftovers[0]!.reason).toContain('plpython3u function body, which is not SQL')
  })

  it('rewrites a definition as pg_get_functiondef prints it (for live databases)', () => {
    const def =
      "CREATE OR REPLACE FUNCTION public.amqp_staff()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN PERFORM amqp.publish(1, 'x', 'oas.staff', ''); RETURN NEW; END\n$function$\n"
    const r = rewriteFunctionDefinition(def, compileRules(opts(), context('test')))
    expect(applyEdits(def, r.edits)).toContain("'x', 'oas.staff.test', ''")
  })
})

describe('passwords in conninfo strings', () => {
  const o = opts({ passwords: { 'finance.thehumanjourney.net': { secret: 'PW' } } })
  it('replaces a password, encoded for conninfo and then SQL, as a secret edit', async () => {
    const sql =
      "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM dblink_connect('host=10.0.10.48 dbname=finance password=''old pw'''); END $$;\n"
    const r = await planSql(sql, o, context('test', { PW: "n'w" }))
    const pw = r.edits.find((e) => e.rule === 'passwords')!
    expect(pw).toMatchObject({
      secret: { name: 'PW', encoding: ['conninfo', 'sql'] },
      sensitive: true,
      text: "''n\\''w''",
    })
    expect(applyEdits(sql, r.edits)).toContain(
      "'host=finance.thehumanjourney.net dbname=finance password=''n\\''w'''",
    )
  })

  it('adds a password where the conninfo has none, and leaves other hosts alone', async () => {
    const sql =
      "CREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS $$ SELECT dblink('host=finance.thehumanjourney.net dbname=x', 'q'), dblink('host=10.9.9.9 dbname=y', 'q') $$;\n"
    const out = await rewrite(sql, o, context('test', { PW: 'p' }))
    expect(out).toContain(
      "dblink('host=finance.thehumanjourney.net dbname=x password=p', 'q'), dblink('host=10.9.9.9 dbname=y', 'q')",
    )
    expect(await rewrite(out, o, context('test', { PW: 'p' }))).toBe(out)
  })

  it('parses libpq conninfo syntax', () => {
    expect(parseConninfo("host = a  password='x\\'y' dbname=z")).toMatchObject([
      { key: 'host', value: 'a' },
      { key: 'password', value: "x'y" },
      { key: 'dbname', value: 'z' },
    ])
    expect(parseConninfo('just text')).toBeUndefined()
  })
})

describe('data rows of tables:', () => {
  const copy =
    'COPY amqp.broker (broker_id, host, vhost) FROM stdin;\n1\t10.0.10.107\t\\\\oas.staff\n2\t\\N\tamqp://10.0.10.107:5672\n\\.\nCOPY public.other (h) FROM stdin;\n10.0.10.48\n\\.\n'
  it('rewrites COPY text fields of the selected tables only, escapes decoded', async () => {
    const out = await rewrite(copy, opts({ tables: ['amqp.broker'] }), context('test'))
    expect(out).toBe(
      copy
        .replace('1\t10.0.10.107', '1\trabbitmq.thehumanjourney.net')
        .replace('amqp://10.0.10.107', 'amqp://rabbitmq.thehumanjourney.net'),
    )
    const r = await planSql(copy, opts({ tables: ['amqp.broker'] }), context('test'))
    expect(r.leftovers).toMatchObject([
      {
        text: 'oas.staff',
        reason: expect.stringContaining(
          'inside a value of COPY data of amqp.broker that no rule rewrites whole',
        ),
      },
      {
        text: '10.0.10.48',
        reason: expect.stringContaining('COPY data of public.other, which tables: does not select'),
      },
    ])
  })

  it('decodes COPY escapes with offsets', () => {
    const v = decodeCopyField('a\\tb\\\\c', 0, 7)!
    expect(v.value).toBe('a\tb\\c')
    expect(v.at(3)).toBe(4)
    expect(decodeCopyField('\\N', 0, 2)).toBeUndefined()
  })

  it('rewrites INSERT rows (pg_dump --inserts)', async () => {
    const ins =
      "INSERT INTO amqp.broker VALUES (1, '10.0.10.107', 5672, 'oas.staff');\nINSERT INTO public.t VALUES ('10.0.10.107');\n"
    const out = await rewrite(ins, opts({ tables: ['amqp.broker'] }), context('test'))
    expect(out).toBe(
      "INSERT INTO amqp.broker VALUES (1, 'rabbitmq.thehumanjourney.net', 5672, 'oas.staff.test');\nINSERT INTO public.t VALUES ('10.0.10.107');\n",
    )
  })
})

describe('leftovers', () => {
  it('reports comments, near-misses and unselected statements with their reasons', async () => {
    const sql =
      "-- moved from 10.0.10.48\nCREATE FUNCTION public.f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN /* 10.0.10.48 */ RETURN 'oas.staff.extra'; END $$;\nCREATE VIEW v AS SELECT '10.0.10.48'::text;\n"
    const r = await planSql(sql, opts(), context('test'))
    expect(r.edits).toEqual([])
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      'old address: inside a comment',
      'old address: inside a comment in function public.f',
      expect.stringMatching(/^near-miss: "oas.staff" inside "oas.staff.extra"/),
      'old address: in a CREATE VIEW statement, which this step does not rewrite',
    ])
  })

  it('gives a reason to a near-miss of the active value in a statement that holds no needle', async () => {
    // live: `oas.staff` is the active value; the statement of f is not read, only described
    const sql =
      "CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff.x' $$;\nCREATE FUNCTION public.g() RETURNS text LANGUAGE sql AS $$ SELECT '10.0.10.48' $$;\n"
    const r = await planSql(sql, opts(), context('live'))
    expect(r.edits).toHaveLength(1)
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      'near-miss: "oas.staff" inside "oas.staff.x" is not rewritten (outside the string values of function public.f)',
    ])
  })

  it('rejects an unterminated dollar quote as an error diagnostic', async () => {
    const r = await planSql('CREATE FUNCTION f() AS $$ 10.0.10.48', opts(), context('test'))
    expect(r.diagnostics).toMatchObject([{ code: 'UNTERMINATED_DOLLAR_QUOTE' }])
    expect(splitSql('SELECT 1;').diagnostics).toEqual([])
  })
})

describe('robustness', () => {
  it('the sql-split validator accepts a clean dump and names the line:col of an unterminated quote', async () => {
    const { writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const dir = tempDir('sqlfn-')
    writeFileSync(join(dir, 'ok.sql'), "SELECT 'a';\n")
    writeFileSync(join(dir, 'bad.sql'), 'SELECT 1;\nSELECT $$ x;\n')
    expect(await sqlSplitValidator.run(join(dir, 'ok.sql'), 'ok.sql')).toBeUndefined()
    expect(await sqlSplitValidator.run(join(dir, 'bad.sql'), 'bad.sql')).toBe(
      '2:8: UNTERMINATED_DOLLAR_QUOTE a dollar quote $$ starting here is not terminated',
    )
  })

  it('never throws and always yields applicable, idempotent edits (property)', async () => {
    const token = fc.constantFrom(
      'CREATE FUNCTION public.amqp_a() RETURNS text LANGUAGE plpgsql AS $_$',
      '$_$;',
      "'oas.staff'",
      "'oas.projects.test'",
      "E'10.0.10.48'",
      "'host=10.0.10.48 password=x'",
      "''",
      '--',
      '\n',
      '/*',
      '*/',
      ';',
      ' ',
      '$$',
      'BEGIN',
      'END',
      '10.0.10.48',
      'COPY amqp.broker (h) FROM stdin;\n',
      '\\.\n',
      '\t',
      '\\N',
    )
    // a body of random tokens inside a well-formed function, so that most inputs lex and many change
    const body = fc.constantFrom(
      "'oas.staff'",
      "'oas.projects'",
      "'oas.projects.test'",
      "E'10.0.10.48'",
      "'host=10.0.10.48 dbname=f'",
      "'10.0.10.480'",
      'PERFORM 1;',
      '-- 10.0.10.48\n',
      ' ',
      '\n',
      'x := ',
      ';',
    )
    const fn = fc
      .array(body, { maxLength: 12 })
      .map(
        (b) =>
          `CREATE FUNCTION public.amqp_b() RETURNS void LANGUAGE plpgsql AS $_$\nBEGIN\n${b.join('')}\nEND\n$_$;\n`,
      )
    let changed = 0
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 30 }), fn, async (parts, f) => {
        const sql = parts.join('') + '\n' + f
        const o = opts({ tables: ['amqp.broker'] })
        const r = await planSql(sql, o, context('test'))
        if (r.diagnostics.some((d) => (d.severity ?? 'error') === 'error')) return
        if (r.edits.length) changed++
        const out = applyEdits(sql, r.edits)
        const again = await planSql(out, o, context('test'))
        // planned again, the rewritten text needs nothing more
        expect(again.edits).toEqual([])
      }),
      { numRuns: 300 },
    )
    expect(changed).toBeGreaterThan(20)
  })
})
