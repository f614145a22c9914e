import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readXattrs, writeXattrs } from '../src/fs/xattr.js'
import { fakeTools, need } from '@cutover/test-kit'

// Every tool cutover spawns (here: getfattr and setfattr) gets a timeout and an
// environment holding only PATH and the C locale: the spec's secrets come from the caller's
// environment and must not reach a child process.

const SECRET = 'S3cret-moodle-pw'
const { fakeTool, realTool: real } = fakeTools()

describe('spawned tools', () => {
  it('getfattr and setfattr get a clean environment and a timeout', async () => {
    if (!need('getfattr')) return
    const dir = mkdtempSync(join(tmpdir(), 'cutover-toolenv-x-'))
    const file = join(dir, 'f')
    writeFileSync(file, 'x')
    process.env.MOODLE_DB_PASSWORD = SECRET
    for (const tool of ['getfattr', 'setfattr']) {
      const bin = fakeTool(tool, `env >> "$(dirname "$0")/env"\nexec '${real(tool)}' "$@"`)
      if (tool === 'setfattr') await writeXattrs(file, new Map([['user.cutover', '0sMQ==']]))
      else await readXattrs([file])
      const env = readFileSync(join(bin, 'env'), 'utf8')
      expect(env).toContain('LC_ALL=C\n')
      expect(env).not.toContain(SECRET)
    }
    fakeTool('getfattr', 'exec sleep 1000')
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '300'
    await expect(readXattrs([file])).rejects.toThrow(/getfattr failed/)
  })
})
