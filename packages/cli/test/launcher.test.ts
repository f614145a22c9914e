import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The `cutover` launcher (dist/cutover.cjs) loads the bundle; a bundle that is missing (an
 * installation cut short) or that throws while it loads is a clear line and exit 1, not Node's
 * unhandled rejection with its stack.
 */

const launcher = resolve(import.meta.dirname, '../dist/cutover.cjs')
const dir = tempDir('cutover-launcher-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(at: string, env: Record<string, string> = {}) {
  const base = { ...process.env }
  delete base.CUTOVER_DEBUG
  return spawnSync(process.execPath, [at, '--version'], {
    encoding: 'utf8',
    env: { ...base, ...env },
  })
}

describe('the cutover launcher', () => {
  it('says the installation is incomplete when its bundle is missing', () => {
    const at = join(dir, 'missing')
    mkdirSync(at)
    copyFileSync(launcher, join(at, 'cutover.cjs'))
    const r = run(join(at, 'cutover.cjs'))
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^cutover: this installation is incomplete: .*bundle\/cutover\.mjs.*; reinstall @cutover\/cli\n$/,
    )
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('calls a bundle that throws as it loads an internal error, with its stack only under CUTOVER_DEBUG', () => {
    const at = join(dir, 'throws')
    mkdirSync(join(at, 'bundle'), { recursive: true })
    copyFileSync(launcher, join(at, 'cutover.cjs'))
    writeFileSync(join(at, 'bundle', 'cutover.mjs'), "throw new Error('broken chunk')\n")
    const r = run(join(at, 'cutover.cjs'))
    expect(r.status).toBe(1)
    expect(r.stderr).toBe(
      'cutover: internal error: broken chunk (set CUTOVER_DEBUG=1 for details)\n',
    )
    const debug = run(join(at, 'cutover.cjs'), { CUTOVER_DEBUG: '1' })
    expect(debug.status).toBe(1)
    expect(debug.stderr).toMatch(
      /^cutover: internal error: broken chunk\nError: broken chunk\n\s+at /,
    )
  })
})
