import { spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { removeTempDirs, tempDir } from '@cutover/test-kit/temp'
import { leftBehind, tempEntries } from './temp-entries.js'

describe('tempDir and removeTempDirs: what a test file makes in the temporary directory goes', () => {
  it('removes every directory made, with what it holds, and only those', () => {
    const a = tempDir('cutover-temp-a-')
    const b = tempDir()
    mkdirSync(join(a, 'deep/er'), { recursive: true })
    writeFileSync(join(a, 'deep/er/file'), 'x')
    expect(a.startsWith(join(tmpdir(), 'cutover-temp-a-'))).toBe(true)
    expect(b.startsWith(join(tmpdir(), 'cutover-'))).toBe(true)
    removeTempDirs()
    expect([existsSync(a), existsSync(b)]).toEqual([false, false])
    // the list was emptied: a second call has nothing to do
    removeTempDirs()
  })

  it('never removes what a link inside one leads to', () => {
    const outside = mkdtempSync(join(tmpdir(), 'cutover-temp-outside-'))
    try {
      writeFileSync(join(outside, 'keep'), 'x')
      const dir = tempDir('cutover-temp-link-')
      symlinkSync(outside, join(dir, 'to-dir'))
      symlinkSync(join(outside, 'keep'), join(dir, 'to-file'))
      removeTempDirs()
      expect(existsSync(dir)).toBe(false)
      expect(readdirSync(outside)).toEqual(['keep'])
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  // root and mount(8), as the chroot machines need; under CI=true a missing one fails the test
  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0
  it.runIf(canMount || process.env.CI === 'true')(
    'never enters a directory mounted below one, even of the same file system: it stays, named',
    () => {
      // a bind mount of the temporary directory's own file system: `rm --one-file-system` enters it
      const outside = mkdtempSync(join(tmpdir(), 'cutover-temp-outside-'))
      const dir = tempDir('cutover-temp-mount-')
      const other = tempDir('cutover-temp-other-')
      const at = join(dir, 'm')
      try {
        writeFileSync(join(outside, 'keep'), 'x')
        mkdirSync(at)
        expect(spawnSync('mount', ['--bind', outside, at]).status).toBe(0)
        expect(() => removeTempDirs()).toThrow(at)
        expect(readdirSync(outside)).toEqual(['keep'])
        // the others go all the same
        expect([existsSync(dir), existsSync(other)]).toEqual([true, false])
      } finally {
        spawnSync('umount', [at])
        rmSync(dir, { recursive: true, force: true })
        rmSync(outside, { recursive: true, force: true })
      }
    },
  )
})

describe('leftBehind: the check of test/temp-left.test.ts', () => {
  const t = tmpdir()
  it('names each entry of the temporary places that is new since the start', () => {
    const before = [`${t}/cutover-old`, '/dev/shm/x']
    expect(
      leftBehind(before, [...before, `${t}/sudoers-env-abc`, '/dev/shm/cutover-mirror-m1-x'], []),
    ).toEqual(['/dev/shm/cutover-mirror-m1-x', `${t}/sudoers-env-abc`])
    expect(leftBehind(before, before, [])).toEqual([])
  })

  it("leaves out vitest's own directories and the caches kept on purpose", () => {
    expect(
      leftBehind(
        [],
        [
          `${t}/AbCdEfGhIjKlMnOpQrStU`,
          `${t}/cutover-test-pglite-0.5.16-0.tar`,
          `${t}/cutover-test-pglite-0.5.16-0.tar.lock`,
          `${t}/.pnpm-store`,
          `${t}/cutover-test-pglite-0.5.16-0.tar.junk`,
          '/dev/shm/.pnpm-store',
        ],
        [`${t}/AbCdEfGhIjKlMnOpQrStU`],
      ),
    ).toEqual(['/dev/shm/.pnpm-store', `${t}/cutover-test-pglite-0.5.16-0.tar.junk`])
  })

  it('sees a directory made now among the entries', () => {
    const before = tempEntries()
    const dir = tempDir('cutover-temp-seen-')
    expect(leftBehind(before, tempEntries(), [])).toContain(dir)
  })
})
