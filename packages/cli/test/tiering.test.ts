import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The `cutover` command sets V8's interrupt budget to 4× its default: a function runs 4× as much
 * bytecode before V8 looks at optimizing it, so a short command does not spend its CPU in
 * TurboFan. Seen from a module preloaded with --require: once the command's first lines have
 * run, it calls a small function until V8 marks it for optimization and counts the calls. The
 * count is deterministic for a given V8 (the budget is bytecode run, not time); the loop that
 * counts is never optimized itself (an optimized loop would inline the function and stop
 * calling it).
 */

const dist = resolve(import.meta.dirname, '../dist')
const dir = tempDir('cutover-tiering-')
const probe = join(dir, 'tiering.cjs')
const plain = join(dir, 'plain.cjs')
writeFileSync(plain, '')
// status bits of %GetOptimizationStatus: optimized (4), marked for optimization (8, 9), being
// optimized (10)
writeFileSync(
  probe,
  `function f(a) { return a * 2 + 1 }
function count() {
  let n = 0
  while (n < 1e7) {
    f(n++)
    if ((%GetOptimizationStatus(f) & ((1 << 4) | (1 << 8) | (1 << 9) | (1 << 10))) !== 0) break
  }
  return n
}
%NeverOptimizeFunction(count)
setImmediate(() => process.stderr.write('calls ' + count() + '\\n'))
`,
)

/** How many calls of a small function V8 waited for before optimizing it, in a run of `script`. */
function callsBeforeOptimizing(script: string): number {
  const r = spawnSync(
    process.execPath,
    ['--allow-natives-syntax', '--require', probe, script, '--version'],
    { encoding: 'utf8', timeout: 30_000 },
  )
  expect(r.status, r.stderr).toBe(0)
  const m = /^calls (\d+)$/m.exec(r.stderr)
  expect(m, r.stderr).not.toBeNull()
  return Number(m![1])
}

describe('the JIT tiering of the cutover command', () => {
  it('optimizes a function after 4× the bytecode V8 waits for by default', () => {
    const base = callsBeforeOptimizing(plain)
    const command = callsBeforeOptimizing(join(dist, 'cutover.cjs'))
    // 1e7: never optimized at all, which the budget must not do either
    expect(command).toBeLessThan(1e7)
    // V8 adds a few calls of its own to each budget: not exactly 4×
    expect(command / base).toBeGreaterThan(3.5)
    expect(command / base).toBeLessThan(4.5)
  })
})
