import { lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runBuilt } from './run-built.js'
import { tempDir } from '@cutover/test-kit/temp'

// writeDurable's { mode }: a file meant to be shared is its mode less the umask; without it a
// file is 0600 whatever the umask. Run in a process of its own: the umask is the process's.
describe('writeDurable { mode }', () => {
  it('creates the file mode less the umask, 0600 without it, and replaces a link there', () => {
    const dir = tempDir('cutover-durable-')
    writeFileSync(join(dir, 'victim'), 'keep me\n')
    symlinkSync(join(dir, 'victim'), join(dir, 'shared'))
    const at = (f: string) => JSON.stringify(join(dir, f))
    expect(
      runBuilt(
        dir,
        [
          'process.umask(0o027)',
          `await tx.writeDurable(${at('shared')}, 'review\\n', { mode: 0o644 })`,
          `await tx.writeDurable(${at('private')}, 'plan\\n')`,
          'process.umask(0)',
          `await tx.writeDurable(${at('open')}, 'review\\n', { mode: 0o644 })`,
          `await tx.writeDurable(${at('still-private')}, 'plan\\n')`,
        ].join('\n'),
        {},
      ),
    ).toBe('exited')
    const mode = (f: string) => lstatSync(join(dir, f)).mode & 0o777
    expect(mode('shared')).toBe(0o640)
    expect(lstatSync(join(dir, 'shared')).isFile()).toBe(true)
    expect(readFileSync(join(dir, 'shared'), 'utf8')).toBe('review\n')
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep me\n')
    expect(mode('private')).toBe(0o600)
    expect(mode('open')).toBe(0o644)
    expect(mode('still-private')).toBe(0o600)
  })
})
