import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { afterAll, describe, expect, it } from 'vitest'
import { readInventory } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

// Ansible inventories read by the real ansible-inventory (Debian ansible-core).
const dir = tempDir('cutover-inventory-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const write = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const FINANCE = `all:
  vars:
    ansible_user: root
  children:
    finance_vms:
      hosts:
        finance:
          ansible_host: 10.0.10.48
          ansible_port: 2201
        timesheets:
          ansible_host: 10.0.10.50
          cutover_root: /srv/timesheets
      children:
        databases:
          hosts:
            hrdb:
              ansible_connection: local
              cutover_root: machines/hrdb
    web:
      hosts:
        tenders:
          ansible_user: deploy
        timesheets:
`

describe.runIf(need('ansible-inventory'))('readInventory (ansible-inventory --list)', () => {
  it('makes every host a machine, in the order of the inventory, with its groups and their children', async () => {
    const inv = await readInventory(write('finance.yml', FINANCE), { shown: 'finance.yml' })
    expect(inv.file).toBe('finance.yml')
    expect(inv.machines).toEqual([
      { name: 'finance', ssh: 'root@10.0.10.48', port: 2201, root: '/' },
      { name: 'timesheets', ssh: 'root@10.0.10.50', root: '/srv/timesheets' },
      // a local directory's relative root is the inventory's directory's
      { name: 'hrdb', root: join(dir, 'machines/hrdb') },
      // without ansible_host, the inventory name is the host ssh reaches
      { name: 'tenders', ssh: 'deploy@tenders', root: '/' },
    ])
    expect(inv.groups).toMatchObject({
      databases: ['hrdb'],
      finance_vms: ['finance', 'timesheets', 'hrdb'],
      web: ['tenders', 'timesheets'],
      all: ['finance', 'timesheets', 'hrdb', 'tenders'],
    })
  })

  it('reads the INI format too (any source ansible-inventory reads)', async () => {
    const inv = await readInventory(
      write(
        'hosts.ini',
        '[web]\nw1 ansible_host=192.0.2.7 ansible_ssh_user=ops\n\n[db]\nd1 ansible_port=2222\n\n[prod:children]\nweb\ndb\n',
      ),
    )
    expect(inv.machines).toEqual([
      { name: 'w1', ssh: 'ops@192.0.2.7', root: '/' },
      { name: 'd1', ssh: 'd1', port: 2222, root: '/' },
    ])
    expect(inv.groups.prod).toEqual(['w1', 'd1'])
  })

  it('a group named as a property of every object (constructor, __proto__, toString) is a group like any other', async () => {
    const inv = await readInventory(
      write(
        'proto.yml',
        [
          'all:',
          '  children:',
          '    constructor:',
          '      hosts: { m1: }',
          '    __proto__:',
          '      hosts: { m2: }',
          '      children:',
          '        toString:',
          '          hosts: { m3: }',
          '',
        ].join('\n'),
      ),
    )
    expect(inv.machines.map((m) => m.name)).toEqual(['m1', 'm2', 'm3'])
    expect(Object.hasOwn(inv.groups, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(inv.groups)).toBe(Object.prototype)
    // ansible-inventory's order of groups (`all` first)
    expect(Object.entries(inv.groups)).toEqual([
      ['all', ['m1', 'm2', 'm3']],
      ['__proto__', ['m2', 'm3']],
      ['constructor', ['m1']],
      ['toString', ['m3']],
    ])
  })

  it('refuses what cannot be a machine, naming the host', async () => {
    const bad = (name: string, text: string) =>
      readInventory(write(name, text), { shown: name }).then(
        () => expect.unreachable(),
        (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
      )
    expect(
      await bad('winrm.yml', 'all:\n  hosts:\n    w:\n      ansible_connection: winrm\n'),
    ).toEqual({
      code: 'INVENTORY',
      message:
        'Ansible inventory winrm.yml: host "w": ansible_connection winrm: cutover reaches a machine over OpenSSH (ssh) or as a local directory (local)',
    })
    expect(
      await bad(
        'tpl.yml',
        "all:\n  hosts:\n    t:\n      ansible_host: \"{{ lookup('env', 'X') }}\"\n",
      ),
    ).toMatchObject({
      code: 'INVENTORY',
      message: expect.stringContaining('host "t": ansible_host is a template'),
    })
    expect(
      await bad('rel.yml', 'all:\n  hosts:\n    r:\n      cutover_root: srv/r\n'),
    ).toMatchObject({ message: expect.stringContaining('cutover_root "srv/r" is relative') })
    expect(
      await bad('port.yml', 'all:\n  hosts:\n    p:\n      ansible_port: 70000\n'),
    ).toMatchObject({
      message: expect.stringContaining('ansible_port "70000" is not a TCP port'),
    })
  })

  it('an inventory ansible-inventory cannot parse is an error (not an empty fleet); a missing file too', async () => {
    const broken = await readInventory(write('broken.yml', 'all: [\n'), {
      shown: 'broken.yml',
    }).catch((e: { code: string; message: string }) => e)
    expect(broken).toMatchObject({
      code: 'INVENTORY',
      message: expect.stringMatching(
        /^Ansible inventory broken\.yml: ansible-inventory failed \(exit [1-9]\d*\): .*broken\.yml/,
      ),
    })
    expect(
      await readInventory(join(dir, 'absent.yml'), { shown: 'absent.yml' }).catch(
        (e: Error) => e.message,
      ),
    ).toBe('Ansible inventory absent.yml: no such file')
  })
})

describe('readInventory without Ansible', () => {
  it('INVENTORY_TOOL names the Debian package that provides ansible-inventory', async () => {
    // a PATH with everything but ansible-inventory: only sh, for nothing else is run
    const bin = join(dir, 'bin-without-ansible')
    mkdirSync(bin)
    symlinkSync('/bin/sh', join(bin, 'sh'))
    const e = await readInventory(write('any.yml', FINANCE), {
      shown: 'any.yml',
      env: { PATH: bin },
    }).catch((x: { code: string; message: string }) => x)
    expect(e).toMatchObject({ code: 'INVENTORY_TOOL' })
    expect((e as { message: string }).message).toContain('apt-get install ansible-core')
  })
})
