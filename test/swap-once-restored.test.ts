import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { runCli } from '../packages/cli/test/run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

// Issue 15 §1: a swap restored by hand must not pass for applied. The record of an applied swap
// keeps what its places held before and after; a file restored by hand with one more line that
// holds a swapped value holds both in order, and nothing says which: plan must not stay silent.

/** Runs `cutover` in this process: exit code, and stdout then stderr. */
async function cutover(args: string[], cwd: string) {
  const r = await runCli(args, { cwd, env: { NO_COLOR: '1' } })
  return { code: r.code, out: r.out + r.err }
}

it('a swap restored by hand, with a line added that holds a swapped value, is not taken for applied', async () => {
  const dir = tempDir('cutover-swap-restored-')
  writeFileSync(
    join(dir, 'cutover.yaml'),
    'version: 1\nhosts:\n  app-db.example.org: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - text: { files: [etc/app.conf], swap: [[db-a, db-b]] }\n',
  )
  mkdirSync(join(dir, 'root/etc'), { recursive: true })
  const file = join(dir, 'root/etc/app.conf')
  writeFileSync(file, 'primary = db-a\nstandby = db-b\n')
  expect((await cutover(['apply', '--root', 'root', '--yes'], dir)).code).toBe(0)
  expect(readFileSync(file, 'utf8')).toBe('primary = db-b\nstandby = db-a\n')
  // configuration management puts the old file back, and someone adds a line
  writeFileSync(file, 'primary = db-a\nstandby = db-b\nbackup = db-a\n')
  const plan = await cutover(['plan', '--root', 'root'], dir)
  expect(plan.out).toMatch(
    /ONCE_CHANGED.*swap \[db-a, db-b\] was applied to this file by transaction/,
  )
})

it('verify shows the ONCE_CHANGED warning of a swap it cannot tell is in effect', async () => {
  const dir = tempDir('cutover-swap-restored-')
  writeFileSync(
    join(dir, 'cutover.yaml'),
    'version: 1\nhosts:\n  app-db.example.org: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - text: { files: [etc/app.conf], swap: [[db-a, db-b]] }\n',
  )
  mkdirSync(join(dir, 'root/etc'), { recursive: true })
  const file = join(dir, 'root/etc/app.conf')
  writeFileSync(file, 'primary = db-a\nstandby = db-b\n')
  expect((await cutover(['apply', '--root', 'root', '--yes'], dir)).code).toBe(0)
  writeFileSync(file, 'primary = db-b\nstandby = db-c\n')
  const verify = await cutover(['verify', '--root', 'root'], dir)
  expect(verify.out).toMatch(
    /warning: etc\/app\.conf:1:11: ONCE_CHANGED text: swap \[db-a, db-b\] was applied/,
  )
})

it('the same swap in two steps of one file is applied once, not twice (which undid it in silence)', async () => {
  const dir = tempDir('cutover-swap-twice-')
  writeFileSync(
    join(dir, 'cutover.yaml'),
    'version: 1\nhosts:\n  app-db.example.org: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - text: { files: [etc/a.conf], swap: [[db-a, db-b]] }\n  - text: { files: [etc/a.conf, etc/b.conf], swap: [[db-b, db-a]] }\n',
  )
  mkdirSync(join(dir, 'root/etc'), { recursive: true })
  for (const f of ['a.conf', 'b.conf'])
    writeFileSync(join(dir, 'root/etc', f), 'primary = db-a\nstandby = db-b\n')
  expect((await cutover(['apply', '--root', 'root', '--yes'], dir)).code).toBe(0)
  for (const f of ['a.conf', 'b.conf'])
    expect([f, readFileSync(join(dir, 'root/etc', f), 'utf8')]).toEqual([
      f,
      'primary = db-b\nstandby = db-a\n',
    ])
  const plan = await cutover(['plan', '--root', 'root', '--detailed-exitcode'], dir)
  expect(plan.code).toBe(0)
  expect(plan.out).not.toContain('ONCE_')
})

it('state prune keeps the journal that records a swap in effect (without it the next plan swapped back)', async () => {
  const dir = tempDir('cutover-swap-prune-')
  writeFileSync(
    join(dir, 'cutover.yaml'),
    'version: 1\nhosts:\n  app-db.example.org: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - text: { files: [etc/a.conf], swap: [[db-a, db-b]] }\n  - text: { files: [etc/b.conf], replace: { one: two } }\n',
  )
  mkdirSync(join(dir, 'root/etc'), { recursive: true })
  writeFileSync(join(dir, 'root/etc/a.conf'), 'primary = db-a\nstandby = db-b\n')
  writeFileSync(join(dir, 'root/etc/b.conf'), 'one\n')
  expect((await cutover(['apply', '--root', 'root', '--yes'], dir)).code).toBe(0)
  // later transactions that hold no swap record go
  writeFileSync(join(dir, 'root/etc/b.conf'), 'one\n')
  expect((await cutover(['apply', '--root', 'root', '--yes'], dir)).code).toBe(0)
  const pruned = await cutover(['state', 'prune', '--root', 'root', '--keep', '0'], dir)
  expect(pruned.code, pruned.out).toBe(0)
  expect(pruned.out).toMatch(/Removed 1 finished transaction/)
  const plan = await cutover(['plan', '--root', 'root', '--detailed-exitcode'], dir)
  expect(plan.out).toContain('No changes')
  expect(plan.code).toBe(0)
})
