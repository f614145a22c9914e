import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

// The bench's options: help and mistakes answer at once, before any input is generated or tool
// installed (a run of the whole bench takes many minutes).
const run = resolve(import.meta.dirname, '../bench/run.mjs')
const bench = (...args: string[]) =>
  spawnSync(process.execPath, [run, ...args], { encoding: 'utf8', timeout: 30_000 })

describe('bench/run.mjs options', () => {
  it('--help and -h print the options and exit 0', () => {
    for (const h of ['--help', '-h']) {
      const r = bench(h)
      expect(r.status, h).toBe(0)
      expect(r.stdout).toMatch(/^usage: pnpm bench/)
      for (const o of ['--quick', '--only', '--work', '--ansible-files', '--compare-with'])
        expect(r.stdout).toContain(o)
      expect(r.stderr).toBe('')
    }
  })

  it('an unknown option, a stray argument or a count that is not one exits 2 naming it', () => {
    const cases: [string[], RegExp][] = [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--', '--quick', 'stray'], /Unexpected argument 'stray'/],
      [['--files', 'many'], /--files takes a positive whole number, not "many"/],
      [['--runs', '0'], /--runs takes a positive whole number/],
      [['--only', 'nope'], /no section nope/],
    ]
    for (const [args, message] of cases) {
      const r = bench(...args)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(message)
      expect(r.stdout).toBe('')
    }
  })
})
