import { cpSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { moduleLog } from '@cutover/test-kit'
import { BIN } from './kit.js'
import { tempDir } from '@cutover/test-kit/temp'

const MENTAT = resolve(import.meta.dirname, '../../../../examples/mentat')

/** The modules the built `cutover` loads for `args`, run in a copy of the mentat example. */
function loadedBy(args: string[]): { code: number | null; out: string; loaded: string[] } {
  const dir = tempDir('cutover-review-lazy-')
  cpSync(MENTAT, join(dir, 'mentat'), { recursive: true })
  const modules = moduleLog(dir)
  const r = spawnSync(process.execPath, [...modules.importArgs, BIN, ...args], {
    cwd: join(dir, 'mentat'),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NO_COLOR: '1' },
  })
  expect(r.stderr).toBe('')
  return { code: r.status, out: r.stdout, loaded: modules.loaded().split('\n') }
}

const review = (urls: string[]) =>
  urls.filter((u) => u.includes('/packages/review/') || u.includes('/diff2html/'))

// The review to share is the only one that needs @cutover/review (and diff2html): the terminal
// review, even of a plan with whole-file changes whose description the formats share, and
// --help load none of it.
describe('the terminal review and --help load neither @cutover/review nor diff2html', () => {
  it('plan of the mentat example (exchanged and copied files), and --help', () => {
    const text = loadedBy(['plan', '--profile', 'live'])
    expect(text.code).toBe(0)
    expect(text.out).toContain('exchanged with mentat-alt:etc/hostname')
    expect(review(text.loaded)).toEqual([])
    const help = loadedBy(['--help'])
    expect(help.code).toBe(0)
    expect(review(help.loaded)).toEqual([])
    const md = loadedBy(['plan', '--profile', 'live', '--format', 'markdown'])
    expect(md.code).toBe(0)
    // as Markdown text, whatever it escapes
    expect(md.out.replace(/\\/g, '')).toContain('exchanged with mentat-alt:etc/hostname')
    expect(review(md.loaded).length).toBeGreaterThan(0)
  })
})
