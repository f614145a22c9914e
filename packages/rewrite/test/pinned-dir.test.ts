import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'
import { localFileSystem, type PinnedDir } from '../src/index.js'
import { pinChanged, pinDir } from '../src/fs/dir-pin.js'

/**
 * `dir/a/b` with `f` in it and a staged `.f.new` beside it, pinned; then `a` moved to `a2` and a
 * link `a -> to` put in its place (`to`: `a2`, or a copy of it).
 */
function swappedAbove(to: 'moved' | 'copy') {
  const dir = realpathSync(tempDir('cutover-pinned-dir-'))
  const b = join(dir, 'a', 'b')
  mkdirSync(b, { recursive: true })
  writeFileSync(join(b, 'f'), 'old\n')
  writeFileSync(join(b, '.f.new'), 'new\n')
  const at: PinnedDir = { dir: b, pin: pinDir(b), target: 'a/b/f' }
  renameSync(join(dir, 'a'), join(dir, 'a2'))
  if (to === 'copy') cpSync(join(dir, 'a2'), join(dir, 'a3'), { recursive: true })
  symlinkSync(to === 'copy' ? 'a3' : 'a2', join(dir, 'a'))
  return { dir, at }
}

describe('an operation in a pinned directory checks the directory itself', () => {
  it('a part above it moved, a link to it in its place: the pinned inode, no longer at its path, is refused, nothing written', async () => {
    const { dir, at } = swappedAbove('moved')
    // the phase's check (a walk of every part) sees the link
    expect(pinChanged(at.dir, at.pin)).toMatch(/a is now a symlink/)
    // the path still leads to the pinned directory, which is elsewhere now (it may have left the root)
    await expect(localFileSystem.renamePinned(at, '.f.new', 'f')).rejects.toMatchObject({
      code: 'TARGET_MOVED',
      message: expect.stringMatching(
        /a\/b\/f: its directory changed while applying \(.*a is now a symlink\)/,
      ),
    })
    expect(readdirSync(join(dir, 'a2', 'b')).sort()).toEqual(['.f.new', 'f'])
    expect(readFileSync(join(dir, 'a2', 'b', 'f'), 'utf8')).toBe('old\n')
  })

  it('a part above it swapped for a link to a copy: refused with what the walk finds, nothing written', async () => {
    const { dir, at } = swappedAbove('copy')
    await expect(localFileSystem.renamePinned(at, '.f.new', 'f')).rejects.toMatchObject({
      code: 'TARGET_MOVED',
      message: expect.stringMatching(
        /a\/b\/f: its directory changed while applying \(.*a is now a symlink\)/,
      ),
    })
    for (const d of ['a2', 'a3'])
      expect(readdirSync(join(dir, d, 'b')).sort()).toEqual(['.f.new', 'f'])
    expect(readFileSync(join(dir, 'a3', 'b', 'f'), 'utf8')).toBe('old\n')
  })

  it('making a directory there still walks every part first', async () => {
    const { dir, at } = swappedAbove('moved')
    const me = { uid: process.getuid!(), gid: process.getgid!(), mode: 0o755 }
    await expect(localFileSystem.mkdirPinned(at, 'new', me)).rejects.toMatchObject({
      code: 'TARGET_MOVED',
    })
    expect(readdirSync(join(dir, 'a2', 'b')).sort()).toEqual(['.f.new', 'f'])
  })
})
