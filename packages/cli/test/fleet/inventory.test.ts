import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { cutover, NEW, OLD } from './fleet-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

/**
 * Three local-directory machines named by an Ansible inventory with groups (one a child of
 * another), and a spec whose steps run on groups.
 */
function inventoryFleet(): { dir: string; read: (m: string, f: string) => string } {
  const dir = tempDir('cutover-fleet-inventory-')
  for (const m of ['finance', 'timesheets', 'hrdb', 'other']) {
    mkdirSync(join(dir, 'machines', m, 'etc'), { recursive: true })
    writeFileSync(join(dir, 'machines', m, 'etc/app.conf'), `db = ${OLD}\n`)
    writeFileSync(join(dir, 'machines', m, 'etc/hosts'), `${OLD} db.example.net\n`)
  }
  const host = (m: string) => [
    `        ${m}:`,
    '          ansible_connection: local',
    `          cutover_root: machines/${m}`,
  ]
  writeFileSync(
    join(dir, 'inventory.yml'),
    [
      'all:',
      '  children:',
      '    web:',
      '      hosts:',
      ...host('finance'),
      ...host('timesheets'),
      '      children:',
      '        db:',
      '          hosts:',
      ...host('hrdb').map((l) => `    ${l}`),
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'other.yml'),
    ['all:', '  hosts:', ...host('other').map((l) => l.slice(4)), ''].join('\n'),
  )
  writeFileSync(
    join(dir, 'cutover.yaml'),
    [
      'version: 1',
      'machines: { ansible: inventory.yml }',
      'hosts:',
      `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
      'steps:',
      '  - text: { files: [etc/app.conf], addresses: new }',
      "  - hosts: { on: ['@db'], files: [etc/hosts], ensure: new }",
      '',
    ].join('\n'),
  )
  return { dir, read: (m, f) => readFileSync(join(dir, 'machines', m, f), 'utf8') }
}

describe.runIf(need('ansible-inventory'))(
  'machines of an Ansible inventory through the built CLI',
  () => {
    it('machines: { ansible: FILE }: every host planned and applied, @group steps on its hosts only', async () => {
      const { dir, read } = inventoryFleet()
      const planned = await cutover(['plan', '--json'], dir)
      expect(planned.err).toBe('')
      const doc = JSON.parse(planned.out) as {
        machines: Array<{ name: string; root: string }>
        changes: Array<{ machine: string; target: string }>
      }
      expect(doc.machines).toEqual([
        { name: 'finance', root: join(dir, 'machines/finance') },
        { name: 'timesheets', root: join(dir, 'machines/timesheets') },
        { name: 'hrdb', root: join(dir, 'machines/hrdb') },
      ])
      expect(doc.changes.map((c) => `${c.machine}:${c.target}`)).toEqual([
        'finance:etc/app.conf',
        'timesheets:etc/app.conf',
        'hrdb:etc/app.conf',
        'hrdb:etc/hosts',
      ])
      const applied = await cutover(['apply', '--yes', '--quiet', '--machine', 'hrdb'], dir)
      expect(applied.err).toBe('')
      expect(applied.code).toBe(0)
      expect([read('hrdb', 'etc/app.conf'), read('finance', 'etc/app.conf')]).toEqual([
        `db = ${NEW}\n`,
        `db = ${OLD}\n`,
      ])
      const state = await cutover(['state', '--machine', 'hrdb'], dir)
      expect(state.out).toMatch(/^hrdb: \S+ {2}apply {4}committed /)
    })

    it("--inventory FILE replaces the spec's; an unknown group is an error at its line:col", async () => {
      const { dir, read } = inventoryFleet()
      const other = await cutover(['apply', '--yes', '--quiet', '--inventory', 'other.yml'], dir)
      // other.yml has no group db
      expect(other.code).toBe(1)
      expect(other.err).toContain(
        'cutover.yaml:7:19: SPEC_VALUE unknown group "@db"; the inventory\'s groups: @all, @ungrouped',
      )
      expect(read('other', 'etc/app.conf')).toBe(`db = ${OLD}\n`)
      writeFileSync(
        join(dir, 'cutover.yaml'),
        readFileSync(join(dir, 'cutover.yaml'), 'utf8').replace("on: ['@db']", "on: ['@all']"),
      )
      const applied = await cutover(['apply', '--yes', '--quiet', '--inventory', 'other.yml'], dir)
      expect(applied.err).toBe('')
      expect(applied.code).toBe(0)
      expect(read('other', 'etc/hosts')).toContain(NEW)
      expect(read('finance', 'etc/app.conf')).toBe(`db = ${OLD}\n`)
    })

    it('without ansible-inventory: exit 1, one line naming the Debian package, nothing written', async () => {
      const { dir, read } = inventoryFleet()
      const bin = join(dir, 'bin')
      mkdirSync(bin)
      symlinkSync(process.execPath, join(bin, 'node'))
      const r = await cutover(['apply', '--yes'], dir, { PATH: bin })
      expect(r.code).toBe(1)
      expect(r.err).toBe(
        'cutover: Ansible inventory inventory.yml: ansible-inventory is not installed (it reads the inventory as Ansible does): install Ansible (on Debian and Ubuntu: apt-get install ansible-core, which provides ansible-inventory; the ansible package depends on it)\n',
      )
      expect(read('finance', 'etc/app.conf')).toBe(`db = ${OLD}\n`)
    })
  },
)
