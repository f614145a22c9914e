import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { moduleLog } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

const repo = resolve(import.meta.dirname, '..')
const bin = join(repo, 'packages/cli/dist/bin.js')

/** Runs the built `cutover` binary; returns exit code and output. */
function cutover(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** A copy of an example (spec and machines) in a temporary directory. */
function copyExample(name: string): string {
  const dir = tempDir(`cutover-e2e-${name}-`)
  cpSync(join(repo, 'examples', name), dir, { recursive: true })
  return dir
}

const exampleEnv = { FINANCE_DB_PASSWORD: 'n3w-Pa55w0rd', TIMESHEETS_DB_PASSWORD: 'ts-n3w-Pa55' }

describe('the built cutover binary', () => {
  it('prints help without loading any heavy library', () => {
    const dir = tempDir('cutover-hooks-')
    const modules = moduleLog(dir)
    const out = execFileSync(process.execPath, [...modules.importArgs, bin, '--help'], {
      encoding: 'utf8',
    })
    expect(out).toContain('Usage: cutover')
    expect(out).toMatch(/plan .*\n.*apply/s)
    const loaded = modules.loaded()
    expect(loaded).toContain('commander')
    for (const heavy of [
      'ts-morph',
      'php-parser',
      'libpg-query',
      'pglite',
      'pgsql-ast-parser',
      'fast-glob',
      'yaml',
      '/diff/',
      'jsonc-parser',
      '@cutover/rewrite',
    ]) {
      expect(loaded, heavy).not.toContain(heavy)
    }
  })

  it('plans, applies and verifies the finance example on a copy', () => {
    const dir = copyExample('finance')
    const args = ['--spec', 'cutover.yaml', '--profile', 'test']
    const plan = cutover(['plan', ...args, '--detailed-exitcode'], dir, exampleEnv)
    expect(plan.err).toBe('')
    expect(plan.code).toBe(2)
    expect(plan.out).toContain('--- a/finance:home/finance/pullTimeSheets.sh')
    // the new passwords, and the old one the dump's dblink had, are never shown
    for (const secret of [...Object.values(exampleEnv), 'Tr1al-2019'])
      expect(plan.out).not.toContain(secret)
    expect(plan.out).toContain('(sensitive)')
    const apply = cutover(['apply', ...args, '--yes'], dir, exampleEnv)
    expect(apply.err).toBe('')
    expect(apply.code).toBe(0)
    for (const secret of [...Object.values(exampleEnv), 'Tr1al-2019'])
      expect(apply.out).not.toContain(secret)
    expect(readFileSync(join(dir, 'machines/finance/backup/finance-schema.sql'), 'utf8')).toContain(
      'password=ts-n3w-Pa55',
    )
    expect(cutover(['plan', ...args, '--detailed-exitcode'], dir, exampleEnv).code).toBe(0)
    expect(cutover(['verify', ...args], dir, exampleEnv).code).toBe(0)
    const live = cutover(
      ['apply', '--spec', 'cutover.yaml', '--profile', 'live', '--yes'],
      dir,
      exampleEnv,
    )
    expect(live.code).toBe(0)
    expect(
      readFileSync(join(dir, 'machines/finance/home/finance/archive-consumer.conf'), 'utf8'),
    ).toContain('staff = oas.staff\n')
  })

  it('swaps and exchanges the mentat example at cutover only', () => {
    const dir = copyExample('mentat')
    // the trial only installs the sync scripts on mentat-alt
    const test = cutover(['plan', '--profile', 'test', '--detailed-exitcode'], dir)
    expect(test.code).toBe(2)
    expect(test.out).toMatch(/^Plan for profile test: 2 file\(s\) to change/)
    expect(test.out).toContain('+++ b/mentat-alt:root/mentat-sync-files.sh\n')
    expect(cutover(['apply', '--profile', 'live', '--yes'], dir).code).toBe(0)
    const [hub, alt] = ['mentat-hub', 'mentat-alt'].map((m) => join(dir, 'machines', m))
    expect(readFileSync(join(alt!, 'etc/hostname'), 'utf8')).toBe('mentat-hub\n')
    expect(readFileSync(join(hub!, 'etc/hostname'), 'utf8')).toBe('mentat-alt\n')
    expect(readFileSync(join(alt!, 'etc/network/interfaces'), 'utf8')).toContain(
      '\taddress 192.0.2.10/24\n\tgateway 192.0.2.1\n',
    )
    expect(readFileSync(join(hub!, 'etc/network/interfaces'), 'utf8')).toContain(
      '\taddress 192.0.2.11/24\n\tgateway 192.0.2.1\n',
    )
    expect(cutover(['plan', '--profile', 'live', '--detailed-exitcode'], dir).code).toBe(0)
  })

  it('exits 1 with path:line:col for a bad spec and never prints a stack', () => {
    const dir = tempDir('cutover-bad-')
    writeFileSync(
      join(dir, 'cutover.yaml'),
      'version: 1\nsteps:\n  - text: { files: [x], replace: oops }\n',
    )
    const r = cutover(['plan', '--root', '.'], dir)
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'cutover.yaml:3:34: SPEC_TYPE expected a mapping of old name or address to new one, got "oops"',
    )
    expect(r.err).not.toMatch(/\n\s+at /)
    const missing = cutover(['plan', '--spec', 'nope.yaml'], dir)
    expect(missing.code).toBe(1)
    expect(missing.err).toMatch(/^cutover: cannot read the spec .*nope.yaml: no such file/)
  })
})
