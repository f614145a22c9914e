import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// A swap is a one-time move (issue 15 §1): applied once per file, whatever else happened, and
// again only after its transaction was rolled back. Through the built binary.

const bin = join(resolve(import.meta.dirname, '..'), 'packages/cli/dist/bin.js')

function cutover(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const SPEC = `version: 1
hosts:
  app-db.example.org: { old: 10.0.10.48, new: 10.0.20.48 }
profiles: [test, live]
steps:
  - text: { files: [etc/app.conf], addresses: names }
  - text: { files: [etc/app.conf], profiles: [live], swap: [[db-a, db-b]] }
`
const CONF = '# the application\nserver = 10.0.10.48\nprimary = db-a\nstandby = db-b\n'
const TESTED = '# the application\nserver = app-db.example.org\nprimary = db-a\nstandby = db-b\n'
const SWAPPED = '# the application\nserver = app-db.example.org\nprimary = db-b\nstandby = db-a\n'

function tree(): string {
  const dir = tempDir('cutover-swap-once-')
  writeFileSync(join(dir, 'cutover.yaml'), SPEC)
  mkdirSync(join(dir, 'root/etc'), { recursive: true })
  writeFileSync(join(dir, 'root/etc/app.conf'), CONF)
  return dir
}

const conf = (dir: string) => readFileSync(join(dir, 'root/etc/app.conf'), 'utf8')
const live = ['--root', 'root', '--profile', 'live']
const test = ['--root', 'root', '--profile', 'test']

describe('a swap is applied exactly once', () => {
  it('is still planned for live after test applied another step of the same file, and verify fails until it is applied', () => {
    const dir = tree()
    expect(cutover(['apply', ...test, '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(TESTED)
    const plan = cutover(['plan', ...live, '--detailed-exitcode'], dir)
    expect(plan.code).toBe(2)
    expect(plan.out).toContain(
      '-primary = db-a\n-standby = db-b\n+primary = db-b\n+standby = db-a\n',
    )
    expect(cutover(['verify', ...live], dir).code).toBe(1)
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(SWAPPED)
    expect(cutover(['verify', ...live], dir).code).toBe(0)
  })

  it('is not planned again after an edit of the spec that does not touch it, nor by another profile', () => {
    const dir = tree()
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(SWAPPED)
    appendFileSync(join(dir, 'cutover.yaml'), '# reviewed by the DBA on the day of the cutover\n')
    const plan = cutover(['plan', ...live, '--detailed-exitcode'], dir)
    expect(plan.out).toContain('No changes')
    expect(plan.code).toBe(0)
    expect(cutover(['verify', ...live], dir).code).toBe(0)
    expect(cutover(['plan', ...test, '--detailed-exitcode'], dir).code).toBe(0)
    expect(conf(dir)).toBe(SWAPPED)
  })

  it('is recorded in the state directory given to apply, which plan and verify read with --state-dir', () => {
    const dir = tree()
    const state = join(dir, 'state')
    expect(cutover(['apply', ...live, '--state-dir', state, '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(SWAPPED)
    expect(cutover(['plan', ...live, '--state-dir', state, '--detailed-exitcode'], dir).code).toBe(
      0,
    )
    expect(cutover(['verify', ...live, '--state-dir', state], dir).code).toBe(0)
    // the default state directory (root/var/lib/cutover) knows of no swap: it would swap back
    expect(cutover(['plan', ...live, '--detailed-exitcode'], dir).code).toBe(2)
    expect(cutover(['apply', ...live, '--state-dir', state, '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(SWAPPED)
  })

  it('is planned again after its transaction was rolled back, and applies again', () => {
    const dir = tree()
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    expect(cutover(['rollback', '--root', 'root', '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(CONF)
    const plan = cutover(['plan', ...live, '--detailed-exitcode'], dir)
    expect(plan.code).toBe(2)
    expect(plan.out).toContain('+primary = db-b\n')
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(SWAPPED)
    expect(cutover(['plan', ...live, '--detailed-exitcode'], dir).code).toBe(0)
  })

  it('is not undone by a hand edit elsewhere in the file, nor by a line added with either value', () => {
    const dir = tree()
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    const edited = `# moved on the day of the cutover\ntimeout = 30\n${SWAPPED.replace('# the application', '# the application (new site)')}replica = db-a\n`
    writeFileSync(join(dir, 'root/etc/app.conf'), edited)
    const plan = cutover(['plan', ...live, '--detailed-exitcode'], dir)
    expect(plan.out).toContain('No changes')
    expect(plan.out).not.toContain('ONCE_CHANGED')
    expect(plan.code).toBe(0)
    expect(cutover(['verify', ...live], dir).code).toBe(0)
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    expect(conf(dir)).toBe(edited)
  })

  it('is planned again when the file holds again what it held before the swap, and left alone with a warning when the swapped places changed', () => {
    const dir = tree()
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    // restored by hand (or by configuration management): the swap is not in effect any more
    writeFileSync(join(dir, 'root/etc/app.conf'), TESTED)
    expect(cutover(['verify', ...live], dir).code).toBe(1)
    // one swapped place edited by hand: never swapped back blindly
    writeFileSync(
      join(dir, 'root/etc/app.conf'),
      SWAPPED.replace('standby = db-a', 'standby = db-c'),
    )
    const plan = cutover(['plan', ...live, '--detailed-exitcode'], dir)
    expect(plan.code).toBe(0)
    expect(plan.out).toMatch(
      /ONCE_CHANGED.*text: swap \[db-a, db-b\] was applied to this file by transaction/,
    )
  })

  it('warns when a file was written by an older cutover that kept no record of swaps', () => {
    const dir = tree()
    expect(cutover(['apply', ...live, '--yes'], dir).code).toBe(0)
    // the journal as an older cutover wrote it: no record of the swap
    const txDir = join(dir, 'root/var/lib/cutover/tx')
    const [txid] = readdirSync(txDir)
    const path = join(txDir, txid!, 'journal.json')
    const journal = JSON.parse(readFileSync(path, 'utf8'))
    delete journal.meta.once
    for (const t of journal.targets) delete t.once
    writeFileSync(path, JSON.stringify(journal, null, 2))
    const plan = cutover(['plan', ...live, '--detailed-exitcode'], dir)
    expect(plan.code).toBe(2)
    expect(plan.out).toMatch(
      new RegExp(
        `ONCE_UNRECORDED.*text: swap \\[db-a, db-b\\]: this file was written by transaction ${txid} of an older cutover`,
      ),
    )
  })
})
