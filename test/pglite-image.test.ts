import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

const dir = tempDir('cutover-pglite-image-')
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
    // a pid that was a process and is no more; the lock is fresh (waited for up to two minutes),
    // and stays fresh however slow the machine: its time is an hour ahead, so only its ended
    // holder can let the image be made
    const gone = spawnSync(process.execPath, ['-e', '0']).pid
    writeFileSync(`${image}.lock`, String(gone), { mode: 0o600 })
    const ahead = new Date(Date.now() + 3_600_000)
    utimesSync(`${image}.lock`, ahead, ahead)
    vi.resetModules()
    const { newPglite } = await import('@cutover/test-kit/pg')
    // waiting for the lock would outlast the test's own limit
    const db = await newPglite()
    try {
      expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }])
    } finally {
      await db.close()
    }
    // written whole and renamed: nothing else beside it, ours, readable by us alone
    expect(readdirSync(dir)).toEqual([image.slice(dir.length + 1)])
    expect(statSync(image).mode & 0o777).toBe(0o600)
  }, 240_000)
})
