import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The `cutover` command lets V8's heap grow by half of what a full collection kept, not up to 4×
 * (a plan of a large tree passes hundreds of MB through the heap, most of it dead soon after).
 * Seen from a module preloaded with --require: once the command's first lines have run, it runs
 * a full collection on the main thread and on a worker thread (the flag is the process's, so the
 * reader threads have it too), and V8's --trace-gc-verbose prints the factor each one's next
 * limit was computed with. The factor is read, not a heap's size: the size a heap reaches
 * depends on the machine's memory and on when the bundle's loading lands, the factor does not.
 */

const dist = resolve(import.meta.dirname, '../dist')
const dir = tempDir('cutover-heap-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const probe = join(dir, 'heap.cjs')
const plain = join(dir, 'plain.cjs')
writeFileSync(plain, '')
writeFileSync(
  probe,
  `const { Worker, isMainThread } = require('node:worker_threads')
if (isMainThread)
  setImmediate(() => {
    globalThis.gc()
    new Worker('globalThis.gc()', { eval: true, execArgv: [] }).on('exit', (code) =>
      process.stderr.write('worker ' + code + '\\n'),
    )
  })
`,
)

/**
 * The factors of the heap limits V8 set in a run of `script` (`--version`), by heap, under an old
 * space of `oldMb` (the same for both scripts: V8 caps its own factor by it, 4× from 2 GB).
 */
function factors(script: string, oldMb = 4096): Map<string, string[]> {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--trace-gc-verbose',
      `--max-old-space-size=${oldMb}`,
      '--require',
      probe,
      script,
      '--version',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  )
  expect(r.status, r.stderr).toBe(0)
  expect(r.stderr).toContain('worker 0')
  const got = new Map<string, string[]>()
  for (const m of r.stdout.matchAll(
    /^\[\d+:(0x[0-9a-f]+)\].*\[HeapController\] Limit: .* \((\d+\.\d)\)$/gm,
  ))
    got.set(m[1]!, [...(got.get(m[1]!) ?? []), m[2]!])
  return got
}

describe('the heap of the cutover command', () => {
  it('grows by half of what a full collection kept, on the main thread and in worker threads', () => {
    const command = factors(join(dist, 'cutover.cjs'))
    // the main thread's heap and the worker's, each with at least its forced full collection
    expect(command.size).toBeGreaterThanOrEqual(2)
    for (const f of command.values()) expect(new Set(f)).toEqual(new Set(['1.5']))
    // without the launcher the same run grows by V8's own factor
    const base = factors(plain)
    expect(base.size).toBeGreaterThanOrEqual(2)
    expect([...base.values()].flat()).not.toContain('1.5')
  })

  it('keeps V8’s own factor where V8 caps it below 1.5 (a small heap limit: a small machine)', () => {
    // 512 MB of old space, a machine of 2 GB: V8 grows the heap by at most 1.4×
    const base = [...factors(plain, 512).values()].flat()
    expect(base.length).toBeGreaterThanOrEqual(2)
    expect(new Set(base)).toEqual(new Set(['1.4']))
    const command = [...factors(join(dist, 'cutover.cjs'), 512).values()].flat()
    expect(command.length).toBeGreaterThanOrEqual(2)
    expect(new Set(command)).toEqual(new Set(['1.4']))
  })
})
