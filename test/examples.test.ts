import { cpSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../packages/cli/test/run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

const repo = resolve(import.meta.dirname, '..')
const env = { FINANCE_DB_PASSWORD: 'n3w-Pa55w0rd', TIMESHEETS_DB_PASSWORD: 'ts-n3w-Pa55' }

/** Runs `cutover` in this process (the binary's own tests spawn it); returns exit code and output. */
function cutover(args: string[], cwd: string) {
  return runCli(args, { cwd, env: { NO_COLOR: '1', ...env } })
}

/** A copy of an example (spec and machines) in a temporary directory. */
function copyExample(name: string): string {
  const dir = tempDir(`cutover-example-${name}-`)
  cpSync(join(repo, 'examples', name), dir, { recursive: true })
  return dir
}

/** Every file under each machine's root (its state directory left out): path → mode and bytes. */
function machineFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = `${rel}/${name}`
      if (r.endsWith('/var/lib/cutover')) continue
      const st = lstatSync(join(dir, r))
      if (st.isDirectory()) walk(r)
      else out[r] = `${(st.mode & 0o7777).toString(8)} ${readFileSync(join(dir, r), 'base64')}`
    }
  }
  walk('machines')
  return out
}

// every profile the examples define, in the order of a migration: the day before (finance's
// DNS TTLs), the trial, then the cutover
const cases = [
  {
    example: 'finance',
    machines: ['finance', 'timesheets', 'hrdb', 'tenders', 'ns1'],
    profiles: ['pre', 'test', 'live'],
  },
  { example: 'mentat', machines: ['mentat-hub', 'mentat-alt'], profiles: ['test', 'live'] },
  // a re-IP has no trial: the spec has no profiles
  { example: 'dept', machines: ['web', 'db', 'mail', 'ns1'], profiles: [undefined] },
]

describe.each(cases)('examples/$example, a fleet of local directories', (c) => {
  describe.each([
    { where: 'the controller state beside the spec', state: (_dir: string): string[] => [] },
    {
      where: '--state-dir elsewhere',
      state: (dir: string): string[] => ['--state-dir', join(dir, 'elsewhere')],
    },
  ])('with $where', ({ state }) => {
    it('plans, applies and verifies every profile (a second plan of each is empty), then rolls each back', async () => {
      const dir = copyExample(c.example)
      const before = machineFiles(dir)
      const s = state(dir)
      // the machines' roots are relative to the spec: the commands run from elsewhere
      const common = ['--spec', join(dir, 'cutover.yaml'), ...s]
      const planned: number[] = []
      const after: Array<Record<string, string>> = []
      for (const profile of c.profiles) {
        const p = profile === undefined ? [] : ['--profile', profile]
        const forProfile = profile === undefined ? '' : ` for profile ${profile}`
        const plan = await cutover(['plan', ...common, ...p, '--detailed-exitcode'], repo)
        expect(plan.err, `plan --profile ${profile}`).toBe('')
        planned.push(plan.code)
        // every change is on a machine of the example, labelled with its name
        for (const line of plan.out.split('\n').filter((l) => l.startsWith('--- a/')))
          expect(c.machines).toContain(/^--- a\/([^:]+):/.exec(line)![1])
        const apply = await cutover(['apply', ...common, ...p, '--yes', '--quiet'], repo)
        expect(apply.err, `apply --profile ${profile}`).toBe('')
        expect(apply.code, `apply --profile ${profile}`).toBe(0)
        const again = await cutover(['plan', ...common, ...p, '--detailed-exitcode'], repo)
        expect(again.out, `plan --profile ${profile} after apply`).toMatch(
          new RegExp(`^No (file )?changes${forProfile}[:.]`),
        )
        expect(again.code, `plan --profile ${profile} after apply`).toBe(0)
        const verify = await cutover(['verify', ...common, ...p], repo)
        expect(verify.err, `verify --profile ${profile}`).toBe('')
        expect(verify.out).toBe(`Verified: no changes${forProfile}.\n`)
        expect(verify.code).toBe(0)
        after.push(machineFiles(dir))
      }
      // each profile had something to do
      expect(planned).toEqual(c.profiles.map(() => 2))
      expect(after.at(-1)).not.toEqual(before)
      // each machine keeps its own transactions; the controller its fleet journals
      for (const m of c.machines)
        expect(existsSync(join(dir, 'machines', m, 'var/lib/cutover/tx')), m).toBe(true)
      const ctl = s.length ? s[1]! : join(dir, '.cutover')
      expect(readdirSync(join(ctl, 'fleet')).length).toBe(planned.filter((p) => p === 2).length)
      // rollback undoes the last fleet transaction on every machine, then the one before
      for (let i = c.profiles.length - 1; i >= 0; i--) {
        if (planned[i] !== 2) continue
        const rolled = await cutover(['rollback', ...common, '--yes'], repo)
        expect(rolled.err, `rollback of ${c.profiles[i]}`).toBe('')
        expect(rolled.code).toBe(0)
        expect(machineFiles(dir)).toEqual(i > 0 ? after[i - 1] : before)
      }
      expect(machineFiles(dir)).toEqual(before)
    })
  })
})
