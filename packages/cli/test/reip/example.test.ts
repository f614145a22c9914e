import { spawnSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { cutover } from './kit.js'
import { tempDir } from '@cutover/test-kit/temp'

/** Runs a checker of a file's own program; its output when it refuses the file. */
function check(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return r.status === 0 ? '' : `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`
}

const example = resolve(import.meta.dirname, '../../../../examples/dept')

/** Every file below `dir` (cutover's state directory left out) whose text holds `needle`, with its lines. */
function holding(dir: string, needle: string): string[] {
  const out: string[] = []
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name
      if (r.endsWith('var/lib/cutover')) continue
      if (statSync(join(dir, r)).isDirectory()) walk(r)
      else
        for (const line of readFileSync(join(dir, r), 'utf8').split('\n'))
          if (line.includes(needle)) out.push(`${r}: ${line}`)
    }
  }
  walk('')
  return out
}

describe('acceptance: examples/dept, the department of the issue', () => {
  it('planned offline and applied, leaves no address of 172.20.0.0/24 on any machine, and verify --strict passes', async () => {
    const dir = tempDir('cutover-reip-example-')
    cpSync(example, dir, { recursive: true })
    // every machine's files start in the old network
    for (const m of ['web', 'db', 'mail', 'ns1'])
      expect(holding(join(dir, 'machines', m), '172.20.0.').length, m).toBeGreaterThan(0)
    const plan = await cutover(['plan', '--detailed-exitcode'], dir)
    expect(plan.err).toBe('')
    expect(plan.code).toBe(2)
    expect(plan.out).toContain('Leftovers: none')
    // the review names the command apply runs before anything is installed
    expect(plan.out).toContain('validate: named-checkconf %s: ns1:etc/bind/named.conf.options')
    const apply = await cutover(['apply', '--yes', '--quiet'], dir)
    expect(apply.err).toBe('')
    expect(apply.code).toBe(0)
    expect(holding(join(dir, 'machines'), '172.20.0.')).toEqual([])
    // what could only be an address is one: netplan, compose's ports, extra_hosts and dns
    const compose = readFileSync(join(dir, 'machines/web/srv/dept/compose.yaml'), 'utf8')
    expect(compose).toContain('  - "db-a.dept.example.edu:10.20.0.5"\n')
    expect(compose).toContain('    dns: 10.20.0.2\n')
    expect(compose).toContain('      POSTGRES_HOST: db-a.dept.example.edu:6432\n')
    // every rewritten file is still read by its program as before
    const machines = join(dir, 'machines')
    for (const f of [
      'web/srv/dept/compose.yaml',
      ...['web', 'db', 'mail', 'ns1'].map((m) => `${m}/etc/netplan/01-netcfg.yaml`),
    ])
      for (const d of parseAllDocuments(readFileSync(join(machines, f), 'utf8')))
        expect(d.errors, f).toEqual([])
    if (need('php'))
      expect(check('php', ['-l', join(machines, 'web/var/www/nextcloud/config/config.php')])).toBe(
        '',
      )
    if (need('named-checkconf'))
      expect(check('named-checkconf', [join(machines, 'ns1/etc/bind/named.conf.options')])).toBe('')
    if (need('named-checkzone'))
      expect(
        check('named-checkzone', [
          'dept.example.edu',
          join(machines, 'ns1/etc/bind/db.dept.example.edu'),
        ]),
      ).toBe('')
    const verify = await cutover(['verify', '--strict'], dir)
    expect(verify.err).toBe('')
    expect(verify.out).toMatch(/^Verified: no changes and no leftovers/)
    expect(verify.code).toBe(0)
  })
})
