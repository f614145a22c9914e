import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const repo = resolve(import.meta.dirname, '..')
const bin = join(repo, 'packages/cli/dist/bin.js')
const env = { FINANCE_DB_PASSWORD: 'n3w-Pa55w0rd', TIMESHEETS_DB_PASSWORD: 'ts-n3w-Pa55' }

/** Runs the built `cutover` binary; returns exit code and output. */
function cutover(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** A copy of an example (spec and root tree) in a temporary directory. */
function copyExample(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cutover-example-${name}-`))
  cpSync(join(repo, 'examples', name), dir, { recursive: true })
  return dir
}

// every profile the examples define, in the order of a migration: the trial, then the cutover
const cases = [
  { example: 'finance', profiles: ['test', 'live'] },
  { example: 'mentat', profiles: ['test', 'live'] },
]

describe.each(cases)('examples/$example', ({ example, profiles }) => {
  describe.each([
    { where: 'the default state directory', state: (_dir: string): string[] => [] },
    {
      where: '--state-dir elsewhere',
      state: (dir: string): string[] => ['--state-dir', join(dir, 'state')],
    },
    // inside the root, where the spec's globs reach: its journals and backups are never read as files in scope
    {
      where: '--state-dir inside the scanned tree',
      state: (): string[] => ['--state-dir', 'root/etc/cutover-state'],
    },
  ])('with $where', ({ state }) => {
    it('plans, applies and verifies in every profile; a second plan of each is empty', () => {
      const dir = copyExample(example)
      const s = state(dir)
      const common = ['--spec', 'cutover.yaml', '--root', 'root', ...s]
      const planned: number[] = []
      for (const profile of profiles) {
        const plan = cutover(['plan', ...common, '--profile', profile, '--detailed-exitcode'], dir)
        expect(plan.err, `plan --profile ${profile}`).toBe('')
        planned.push(plan.code!)
        const apply = cutover(['apply', ...common, '--profile', profile, '--yes', '--quiet'], dir)
        expect(apply.err, `apply --profile ${profile}`).toBe('')
        expect(apply.code, `apply --profile ${profile}`).toBe(0)
        const again = cutover(['plan', ...common, '--profile', profile, '--detailed-exitcode'], dir)
        expect(again.out, `plan --profile ${profile} after apply`).toMatch(
          /^No (file )?changes for profile /,
        )
        expect(again.code, `plan --profile ${profile} after apply`).toBe(0)
        const verify = cutover(['verify', ...common, '--profile', profile], dir)
        expect(verify.err, `verify --profile ${profile}`).toBe('')
        expect(verify.out).toBe(`Verified: no changes for profile ${profile}.\n`)
        expect(verify.code).toBe(0)
      }
      // each profile had something to do, but mentat's test profile, whose steps are all live
      expect(planned).toEqual(example === 'mentat' ? [0, 2] : [2, 2])
      // the transactions are where they were asked to be, and only there
      expect(existsSync(join(dir, 'root/var/lib/cutover/tx'))).toBe(s.length === 0)
      if (s.length) expect(existsSync(resolve(dir, s[1]!, 'tx'))).toBe(true)
    })
  })
})
