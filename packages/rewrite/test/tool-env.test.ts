import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readXattrs, toolsOnPath, writeXattrs } from '../src/fs/xattr.js'
import { fakeTools, need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// Every tool cutover spawns (here: getfattr and setfattr) gets a timeout and an
// environment holding only PATH and the C locale: the spec's secrets come from the caller's
// environment and must not reach a child process.

const SECRET = 'S3cret-moodle-pw'
const { fakeTool, realTool: real } = fakeTools()

describe('spawned tools', () => {
  it('getfattr and setfattr get a clean environment and a timeout', async () => {
    if (!need('getfattr')) return
    const dir = tempDir('cutover-toolenv-x-')
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
  it('getfattr failing is a failure, not "no attributes": only files gone since read as absent', async () => {
    const dir = tempDir('cutover-toolenv-x-')
    const file = join(dir, 'f')
    writeFileSync(file, 'x')
    const paths = [file, ...Array.from({ length: 50 }, (_, i) => join(dir, `other-${i}`))]
    // a tool that starts and does not work (the loader's 127 for a missing library)
    fakeTool('getfattr', 'exit 127')
    await expect(readXattrs(paths)).rejects.toThrow(/^getfattr failed: exit code 127$/)
    // busybox's getfattr takes none of the options: its usage, exit code 1
    fakeTool(
      'getfattr',
      'echo "getfattr: unrecognized option: absolute-names" >&2; echo "BusyBox v1.37.0 multi-call binary." >&2; exit 1',
    )
    const usage = readXattrs(paths)
    await expect(usage).rejects.toThrow(
      'getfattr failed: exit code 1:\ngetfattr: unrecognized option: absolute-names\nBusyBox',
    )
    // a refusal to go on without the attributes (METADATA), whose message names neither the
    // command line nor the paths
    await expect(usage).rejects.toMatchObject({ code: 'METADATA' })
    await expect(usage).rejects.not.toThrow('other-49')
    // a file it may not read, or exit code 1 and no word why
    fakeTool('getfattr', `echo "getfattr: ${file}: Permission denied" >&2; exit 1`)
    await expect(readXattrs(paths)).rejects.toThrow(
      /getfattr failed: exit code 1:\n.*Permission denied/,
    )
    fakeTool('getfattr', 'exit 1')
    await expect(readXattrs(paths)).rejects.toThrow(/^getfattr failed: exit code 1$/)
    // exit 1 for files gone since: the others read
    fakeTool(
      'getfattr',
      'echo "# file: /x"; echo "user.a=0sMQ=="; echo "getfattr: /gone: No such file or directory" >&2; echo "getfattr: /f/g: Not a directory" >&2; exit 1',
    )
    expect(await readXattrs(paths)).toEqual(new Map([['/x', new Map([['user.a', '0sMQ==']])]]))
  })
  it('the real getfattr: a file gone since is absent, the others read', async () => {
    if (!need('getfattr') || !need('setfattr')) return
    const dir = tempDir('cutover-toolenv-x-')
    const file = join(dir, 'f')
    writeFileSync(file, 'x')
    await writeXattrs(file, new Map([['user.cutover', '0sMQ==']]))
    expect(await readXattrs([join(dir, 'gone'), file, join(file, 'below')])).toEqual(
      new Map([[file, new Map([['user.cutover', '0sMQ==']])]]),
    )
  })
})

describe('finding getfattr and setfattr without running them', () => {
  it('needs both, each an executable file in a directory of the search path', () => {
    const a = tempDir('cutover-path-a-')
    const b = tempDir('cutover-path-b-')
    const tool = (dir: string, name: string, mode = 0o755) => {
      writeFileSync(join(dir, name), '#!/bin/sh\n')
      chmodSync(join(dir, name), mode)
    }
    const both = ['getfattr', 'setfattr']
    expect(toolsOnPath(both, `${a}:${b}`)).toBe(false)
    tool(a, 'getfattr')
    expect(toolsOnPath(both, `${a}:${b}`)).toBe(false)
    // not executable, or a directory by that name: not the tool
    tool(a, 'setfattr', 0o644)
    mkdirSync(join(b, 'setfattr'))
    expect(toolsOnPath(both, `${a}:${b}`)).toBe(false)
    const c = tempDir('cutover-path-c-')
    tool(c, 'setfattr')
    expect(toolsOnPath(both, `${a}:${b}:${c}`)).toBe(true)
  })
})
