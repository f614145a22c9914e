import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The `cutover` command sizes libuv's thread pool (where its fsyncs wait) before the pool starts:
 * counted as the threads of the process when it exits, by a module preloaded with --require (it
 * runs before the command's own first line and starts no pool itself).
 */

const dist = resolve(import.meta.dirname, '../dist')
const dir = tempDir('cutover-pool-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const probe = join(dir, 'threads.cjs')
writeFileSync(
  probe,
  "const fs = require('node:fs')\nprocess.on('exit', () => fs.writeSync(2, `threads=${fs.readdirSync('/proc/self/task').length}\\n`))\n",
)

/** The threads of a run of `entry` (`--version`), and what it printed. */
function threads(entry: string, env: Record<string, string | undefined>): number {
  const base = { ...process.env }
  delete base.UV_THREADPOOL_SIZE
  const r = spawnSync(process.execPath, ['--require', probe, join(dist, entry), '--version'], {
    encoding: 'utf8',
    env: { ...base, ...env },
  })
  expect(r.status).toBe(0)
  const m = /threads=(\d+)/.exec(r.stderr)
  expect(m, r.stderr).not.toBeNull()
  return Number(m![1])
}

describe('the thread pool of the cutover command', () => {
  it('is 32 threads when UV_THREADPOOL_SIZE is unset, and what it says when set', () => {
    // the ES module entry alone: the module loader has started the pool of 4 before its first line
    const esm = threads('bin.js', {})
    const command = threads('cutover.cjs', {})
    expect(command - esm).toBe(32 - 4)
    expect(threads('cutover.cjs', { UV_THREADPOOL_SIZE: '4' })).toBe(esm)
    expect(threads('cutover.cjs', { UV_THREADPOOL_SIZE: '8' }) - esm).toBe(8 - 4)
  })
})
