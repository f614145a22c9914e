import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeTree } from './tree.js'

const launcher = resolve(import.meta.dirname, '../dist/cutover.cjs')

const SPEC = `version: 1
steps:
  - text: { files: ["etc/*.conf"], replace: { db-old: db-new } }
`

/** Runs the launcher with its stdout a pipe closed after the first bytes, as `| head -c 1` does. */
function runClosedEarly(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [launcher, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.stdout.once('data', () => child.stdout.destroy())
    child.on('error', fail)
    child.on('close', (code) => done({ code, err }))
  })
}

describe('output to a reader that stops early (`cutover plan | head`)', () => {
  // a review and a plan document of ≈ 300 KB each: far more than a pipe holds
  const pad = '# a comment that makes the line long enough for the output to be large'
  const lines = Array.from({ length: 2000 }, (_, i) => `host${i} = db-old ${pad}\n`).join('')
  const dir = makeTree({ 'cutover.yaml': SPEC, 'etc/big.conf': lines })

  for (const args of [
    ['plan', '--root', '.', '--out', 'plan.json'],
    ['plan', '--root', '.', '--json'],
  ])
    it(`ends as it would, with no stack trace: ${args.join(' ')}`, async () => {
      const r = await runClosedEarly(args, dir)
      expect(r.err).toBe('')
      expect(r.code).toBe(0)
      if (args.includes('--out')) expect(existsSync(join(dir, 'plan.json'))).toBe(true)
    })
})
