import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { localStateFileSystem } from '../src/index.js'

/* The backup pack of the local state directory: concurrent appends, range reads. */

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-pack-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('the local backup pack', () => {
  it('appends concurrently at distinct offsets, 0600 whatever the umask, read back by range', async () => {
    const dir = scratch()
    const path = join(dir, 'pack')
    const old = process.umask(0)
    const pack = await localStateFileSystem.openPack!(path).finally(() => process.umask(old))
    const pieces = Array.from({ length: 200 }, (_, i) => Buffer.from(`piece ${i} `.repeat(i + 1)))
    const at = await Promise.all(pieces.map((p) => pack.append(p)))
    await pack.sync()
    await pack.close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
    // the slices tile the file, none overlapping another
    const sorted = [...at].sort((a, b) => a[0] - b[0])
    let end = 0
    for (const [o, l] of sorted) {
      expect(o).toBe(end)
      end = o + l
    }
    expect(statSync(path).size).toBe(end)
    const all = readFileSync(path)
    for (const [i, [o, l]] of at.entries()) {
      expect(l).toBe(pieces[i]!.length)
      expect(all.subarray(o, o + l).equals(pieces[i]!)).toBe(true)
      expect((await localStateFileSystem.readRange!(path, o, l)).equals(pieces[i]!)).toBe(true)
    }
  })

  it('never opens an existing file as a pack, and reads a short range from a torn one', async () => {
    const dir = scratch()
    const path = join(dir, 'pack')
    writeFileSync(path, 'abc')
    await expect(localStateFileSystem.openPack!(path)).rejects.toMatchObject({ code: 'EEXIST' })
    expect((await localStateFileSystem.readRange!(path, 1, 10)).toString()).toBe('bc')
    await expect(localStateFileSystem.readRange!(join(dir, 'none'), 0, 1)).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})
