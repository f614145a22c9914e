import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { inProcessPg } from '@cutover/test-kit/pg'
import { tempDir } from '@cutover/test-kit/temp'

// Issue 15 §6: what the sql step writes is read back by PostgreSQL itself (PGlite, in process).

const pglite = inProcessPg()

describe("a string continued over lines ('a' newline 'b' is one literal 'ab')", () => {
  it('a dump whose only old address is split over pieces is planned through the CLI', async () => {
    const dir = tempDir('cutover-sql-cont-')
    mkdirSync(join(dir, 'root/backup'), { recursive: true })
    const file = join(dir, 'root/backup/schema.sql')
    writeFileSync(
      file,
      "CREATE FUNCTION public.pull() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM dblink_connect('host=10.0.10.'\n    '48 dbname=finance');\nEND\n$$;\n",
    )
    writeFileSync(
      join(dir, 'cutover.yaml'),
      'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - sql: { files: ["backup/*.sql"], addresses: names }\n',
    )
    const io = memoryIo({ cwd: dir })
    const code = await run(
      ['apply', '--spec', join(dir, 'cutover.yaml'), '--root', join(dir, 'root'), '--yes'],
      io,
    )
    expect(code, io.err()).toBe(0)
    const after = readFileSync(file, 'utf8')
    expect(after).toContain(
      "dblink_connect('host=finance.thehumanjourney.net'\n    ' dbname=finance')",
    )
    const src = await pglite(async (db) => {
      await db.exec(after)
      return (
        await db.query<{ prosrc: string }>("SELECT prosrc FROM pg_proc WHERE proname = 'pull'")
      ).rows[0]!.prosrc
    })
    expect(src).toContain("'host=finance.thehumanjourney.net'\n    ' dbname=finance'")
  })
})
