import { rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { socketDir } from '../src/open.js'
import { tempDir } from '@cutover/test-kit/temp'

describe('socketDir: where a command keeps its control sockets', () => {
  it('is a new 0700 directory under ssh/ of the state directory', async () => {
    const state = join(tempDir('sd-'), '.cutover')
    const a = await socketDir(state)
    const b = await socketDir(state)
    expect(dirname(a)).toBe(join(state, 'ssh'))
    expect(a).not.toBe(b)
    for (const d of [a, join(state, 'ssh')]) expect(statSync(d).mode & 0o777).toBe(0o700)
  })

  it('is under the temp directory when the state directory is too long for a socket path', async () => {
    const state = join(tempDir('sd-'), 'x'.repeat(80))
    const d = await socketDir(state)
    onTestFinished(() => rmSync(d, { recursive: true, force: true }))
    expect(d.startsWith(join(tmpdir(), 'cutover-ssh-'))).toBe(true)
    expect(statSync(d).mode & 0o777).toBe(0o700)
  })
})
