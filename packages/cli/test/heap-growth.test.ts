import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/*
 * The `cutover` command lets V8's heap grow by half of what a full collection kept, not up to 4×
 * (a plan of a large tree passes hundreds of MB through the heap, most of it dead soon after).
 * Seen from a module preloaded with --require: once the command's first lines have run, it keeps
 * a live set and makes objects that live long enough to be promoted, then die, and reports the
 * largest heap it saw, against the same in a script that sets nothing (V8's default).
 */

const dist = resolve(import.meta.dirname, '../dist')
const dir = mkdtempSync(join(tmpdir(), 'cutover-heap-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const probe = join(dir, 'heap.cjs')
const plain = join(dir, 'plain.cjs')
writeFileSync(plain, '')
writeFileSync(
  probe,
  `const v8 = require('node:v8')
const fs = require('node:fs')
setImmediate(() => {
  const live = []
  for (let i = 0; i < 200; i++) live.push(new Array(10000).fill(i))
  const ring = new Array(512)
  let peak = 0
  for (let i = 0; i < 4000; i++) {
    ring[i % 512] = new Array(5000).fill(i)
    if (i % 50 === 0) peak = Math.max(peak, v8.getHeapStatistics().total_heap_size)
  }
  fs.writeSync(2, 'peak=' + peak + ' live=' + live.length + '\\n')
})
`,
)

/** The largest heap the probe saw in a run of `script` (`--version`). */
function peak(script: string): number {
  const r = spawnSync(process.execPath, ['--require', probe, script, '--version'], {
    encoding: 'utf8',
  })
  expect(r.status).toBe(0)
  const m = /peak=(\d+) live=200/.exec(r.stderr)
  expect(m, r.stderr).not.toBeNull()
  return Number(m![1])
}

describe('the heap of the cutover command', () => {
  it('grows by half of what a full collection kept, not up to V8’s 4×', () => {
    const command = peak(join(dist, 'cutover.cjs'))
    expect(command).toBeLessThan(peak(plain) * 0.8)
  })
})
