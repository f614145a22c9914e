import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { expect } from 'vitest'
import { runCli } from '../run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The re-IP acceptance cases run `cutover` (in this process: what they check is what the command
 * does, not the binary) on a department's files: a spec beside a root directory, planned, applied
 * and planned again.
 */

/** The department's inventory: every machine keeps its host part in 10.20.0.0/24. */
export const HOSTS = `hosts:
  ns1.dept.example.edu:  { old: 172.20.0.2,  new: 10.20.0.2 }
  db-a.dept.example.edu: { old: 172.20.0.5,  new: 10.20.0.5 }
  web.dept.example.edu:  { old: 172.20.0.10, new: 10.20.0.10 }
  mail.dept.example.edu: { old: 172.20.0.12, new: 10.20.0.12 }
  app1.dept.example.edu: { old: 172.20.0.21, new: 10.20.0.21 }
  app2.dept.example.edu: { old: 172.20.0.22, new: 10.20.0.22 }
`

/** The move of the whole department network. */
export const NETWORKS = `networks:
  - { old: 172.20.0.0/24, new: 10.20.0.0/24 }
`

export interface Run {
  code: number | null
  out: string
  err: string
}

/** Runs `cutover` in `cwd` (in this process, with this process's environment and no color). */
export function cutover(args: readonly string[], cwd: string): Promise<Run> {
  return runCli(args, { cwd, env: { NO_COLOR: '1' } })
}

/** A directory holding `cutover.yaml` (`spec`) and `root/` with `files` (root-relative path → text). */
export function department(spec: string, files: Record<string, string>): string {
  const dir = tempDir('cutover-reip-')
  writeFileSync(join(dir, 'cutover.yaml'), spec)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'root', path)), { recursive: true })
    writeFileSync(join(dir, 'root', path), text)
  }
  return dir
}

/** A root-relative file of a {@link department} as it is now. */
export function read(dir: string, path: string): string {
  return readFileSync(join(dir, 'root', path), 'utf8')
}

/**
 * Plans (changes expected, exit 2), applies, and plans again (nothing left to do, exit 0): the
 * plan's output is returned for its leftovers and notes.
 */
export async function planApplyAgain(dir: string): Promise<{ plan: Run; again: Run }> {
  const common = ['--spec', 'cutover.yaml', '--root', 'root']
  const plan = await cutover(['plan', ...common, '--detailed-exitcode'], dir)
  expect(plan.code, `plan: ${plan.err}${plan.out}`).toBe(2)
  const apply = await cutover(['apply', ...common, '--yes', '--quiet'], dir)
  expect(apply.err, 'apply').toBe('')
  expect(apply.code, 'apply').toBe(0)
  const again = await cutover(['plan', ...common, '--detailed-exitcode'], dir)
  expect(again.out, 'the second plan').toMatch(/^No changes/)
  expect(again.code, `the second plan: ${again.err}`).toBe(0)
  return { plan, again }
}
