import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'
import { createEngine, textStep, type Validator } from '../src/index.js'
import { traced } from './traced.js'

/* CUTOVER_TRACE_PHASES: a line on stderr at the end of each stage of a plan, nothing without it. */

async function planTraced(
  env: string | undefined,
  validators: (lines: readonly string[]) => Validator[] = () => [],
): Promise<string[]> {
  const root = tempDir('cutover-plan-trace-')
  writeFileSync(join(root, 'app.conf'), 'db = 10.0.10.48\n')
  const lines: string[] = []
  const engine = createEngine({ steps: [{ ...textStep, validators: validators(lines) }] })
  const spec = engine.parseSpec(
    'version: 1\nhosts:\n  db.example.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["*.conf"], addresses: names }\n',
    'cutover.yaml',
  )
  return traced(env, lines, async () => {
    expect((await engine.plan(spec, { root })).changes.map((c) => c.target)).toEqual(['app.conf'])
  })
}

describe('the stage trace of a plan', () => {
  it('names each stage with its wall and CPU time when CUTOVER_TRACE_PHASES is set', async () => {
    const lines = await planTraced('1')
    for (const l of lines)
      expect(l).toMatch(/^cutover: phase [a-z:-]+ at \d+ ms \(\+\d+ ms, cpu \+\d+ ms\)\n$/)
    expect(lines.map((l) => l.split(' ')[2])).toEqual([
      'plan:start',
      'plan:scope',
      'plan:read',
      'plan:finish',
      'plan:check',
    ])
  })

  it('shows the planned text validated while the diffs are made and masked', async () => {
    let finishedFirst: boolean | undefined
    const lint = (lines: readonly string[]): Validator => ({
      name: 'test-lint',
      plan: true,
      run: async () => 'never run one by one',
      // the verdict waits for the end of finish (or for 5 s, where it would wait forever: the
      // plan that validated first made its diffs only after every verdict)
      runBatch: async (items) => {
        const done = () => lines.some((l) => l.startsWith('cutover: phase plan:finish '))
        for (let t = Date.now(); !done() && Date.now() - t < 5000;)
          await new Promise((go) => setTimeout(go, 5))
        finishedFirst = done()
        return items.map(() => undefined)
      },
    })
    const lines = await planTraced('1', (l) => [lint(l)])
    expect(finishedFirst).toBe(true)
    expect(lines.map((l) => l.split(' ')[2]).slice(-2)).toEqual(['plan:finish', 'plan:check'])
  })

  it('prints nothing without it', async () => {
    expect(await planTraced(undefined)).toEqual([])
  })
})
