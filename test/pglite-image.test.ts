import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'cutover-pglite-image-'))
const saved = process.env.TMPDIR
afterAll(() => {
  if (saved === undefined) delete process.env.TMPDIR
  else process.env.TMPDIR = saved
  rmSync(dir, { recursive: true, force: true })
})

const require = createRequire(join(import.meta.dirname, '../packages/test-kit/package.json'))
const { version } = JSON.parse(
  readFileSync(
    join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json'),
    'utf8',
  ),
) as { version: string }

describe("newPglite's image of an initialised data directory", () => {
  it('is made at once when the lock names a process that has ended (a worker killed while making it)', async () => {
    process.env.TMPDIR = dir
    const image = join(dir, `cutover-test-pglite-${version}-${process.getuid?.() ?? 0}.tar`)
    // a pid that was a process and is no more; the lock is fresh (waited for up to two minutes)
    const gone = spawnSync(process.execPath, ['-e', '0']).pid
    writeFileSync(`${image}.lock`, String(gone), { mode: 0o600 })
    vi.resetModules()
    const { newPglite } = await import('@cutover/test-kit/pg')
    const started = Date.now()
    const db = await Promise.race([
      newPglite(),
      new Promise<undefined>((done) => setTimeout(() => done(undefined), 100_000).unref()),
    ])
    expect(db, 'waited for the lock of an ended process').toBeDefined()
    try {
      expect((await db!.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }])
    } finally {
      await db!.close()
    }
    expect(Date.now() - started).toBeLessThan(100_000)
    // written whole and renamed: nothing else beside it, ours, readable by us alone
    expect(readdirSync(dir)).toEqual([image.slice(dir.length + 1)])
    expect(statSync(image).mode & 0o777).toBe(0o600)
  }, 240_000)
})
