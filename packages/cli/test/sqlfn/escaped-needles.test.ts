import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { inProcessPg } from '@cutover/test-kit/pg'
import { tempDir } from '@cutover/test-kit/temp'

// Issue 15 §6: the sql step matches a string's value as PostgreSQL reads it. A statement (and a
// file) whose only old address is spelled with escapes (E'\x31\x30…', COPY's \x31) or split over
// continued pieces with a comment or blanks after the first piece holds no byte of the needle:
// it must still be read and rewritten. Read back through PostgreSQL (PGlite).

const pglite = inProcessPg()

/** The rows of public.t after PostgreSQL runs `sql` (COPY data given as a blob), in a rolled-back transaction. */
function rows(sql: string): Promise<string[]> {
  return pglite(async (db) => {
    await db.exec('CREATE TABLE public.t (v text)')
    const copy = /^COPY public\.t \(v\) FROM stdin;\n([\s\S]*?)\\\.\n/m.exec(sql)
    if (copy) await db.query("COPY public.t FROM '/dev/blob'", [], { blob: new Blob([copy[1]!]) })
    else await db.exec(sql)
    return (await db.query<{ v: string }>('SELECT v FROM public.t')).rows.map((r) => r.v)
  })
}

const NAME = 'finance.thehumanjourney.net'
const DUMPS: Record<string, string> = {
  'comment.sql': "INSERT INTO public.t VALUES ('host=10.0.10.' -- the first piece\n  '48');\n",
  'blanks.sql': "INSERT INTO public.t VALUES ('host=10.0.10.'  \n  '48');\n",
  'e-string.sql': "INSERT INTO public.t VALUES (E'host=\\x31\\x30.0.10.48');\n",
  'copy.sql': 'COPY public.t (v) FROM stdin;\nhost=\\x31\\x30.0.10.48\n\\.\n',
}

describe('a value whose old address no byte of the dump spells', () => {
  it('PostgreSQL reads each as host=10.0.10.48 (the premise)', async () => {
    for (const sql of Object.values(DUMPS)) expect(await rows(sql)).toEqual(['host=10.0.10.48'])
  })

  it('is rewritten through the CLI, and PostgreSQL reads the new value', async () => {
    const dir = tempDir('cutover-sql-escaped-')
    mkdirSync(join(dir, 'root/backup'), { recursive: true })
    for (const [f, sql] of Object.entries(DUMPS)) writeFileSync(join(dir, 'root/backup', f), sql)
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1\nhosts:\n  ${NAME}: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - sql: { files: ["backup/*.sql"], addresses: names, tables: [public.t] }\n`,
    )
    const io = memoryIo({ cwd: dir })
    const code = await run(
      ['apply', '--spec', join(dir, 'cutover.yaml'), '--root', join(dir, 'root'), '--yes'],
      io,
    )
    expect(code, io.err()).toBe(0)
    for (const f of Object.keys(DUMPS))
      expect([f, await rows(readFileSync(join(dir, 'root/backup', f), 'utf8'))]).toEqual([
        f,
        [`host=${NAME}`],
      ])
  })

  it("left in a statement not rewritten, or in a U&'' string (never rewritten), is a leftover as the dump spells it", async () => {
    const dump = [
      "CREATE VIEW public.v AS SELECT E'host=\\x31\\x30.0.10.48' AS c;",
      "INSERT INTO public.t VALUES (U&'host=\\0031\\0030.0.10.48');",
      '',
    ].join('\n')
    expect(
      await rows(
        `CREATE VIEW public.v AS SELECT E'host=\\x31\\x30.0.10.48'::text AS v; INSERT INTO public.t SELECT v FROM public.v; ${dump.split('\n')[1]}`,
      ),
    ).toEqual(['host=10.0.10.48', 'host=10.0.10.48'])
    const dir = tempDir('cutover-sql-escaped-')
    mkdirSync(join(dir, 'root/backup'), { recursive: true })
    writeFileSync(join(dir, 'root/backup/a.sql'), dump)
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1\nhosts:\n  ${NAME}: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - sql: { files: ["backup/*.sql"], addresses: names, tables: [public.t] }\n`,
    )
    const io = memoryIo({ cwd: dir })
    expect(
      await run(['plan', '--spec', join(dir, 'cutover.yaml'), '--root', join(dir, 'root')], io),
      io.err(),
    ).toBe(0)
    expect(io.out()).toContain(
      'backup/a.sql:1:39: \\x31\\x30.0.10.48 — old address 10.0.10.48 spelled with escapes: in a CREATE VIEW statement, which this step does not rewrite',
    )
    expect(io.out()).toContain(
      "backup/a.sql:2:38: \\0031\\0030.0.10.48 — old address 10.0.10.48 spelled with escapes: in a U&'…' string of INSERT into public.t, which this step never rewrites",
    )
  })
})
