import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutover, planApplyAgain, read } from './kit.js'
import { tempDir } from '@cutover/test-kit/temp'

const example = resolve(import.meta.dirname, '../../../../examples/dept')

/** The example's inventory, read from its spec: old address → [name, new address]. */
function inventory(): Map<string, [string, string]> {
  const spec = readFileSync(join(example, 'cutover.yaml'), 'utf8')
  const out = new Map<string, [string, string]>()
  for (const m of spec.matchAll(/^ {2}(\S+): +\{ old: ([0-9.]+), +new: ([0-9.]+) \}/gm))
    out.set(m[2]!, [m[1]!, m[3]!])
  return out
}

/** What a person does after init: names and new addresses filled in, the rest deleted, the new network given. */
function fillIn(starter: string): string {
  const hosts = inventory()
  return starter
    .split('\n')
    .flatMap((line) => {
      const host = /^ {2}(?:"[^"]*"|\S+): \{ old: ([0-9.]+), new: [0-9.]+ \}/.exec(line)
      if (host) {
        const known = hosts.get(host[1]!)
        return known ? [`  ${known[0]}: { old: ${host[1]}, new: ${known[1]} }`] : []
      }
      return [
        line.replace(
          /^ {2}- \{ old: 172\.20\.0\.0\/24, new: 172\.20\.0\.0\/24 \}.*$/,
          '  - { old: 172.20.0.0/24, new: 10.20.0.0/24 }',
        ),
      ]
    })
    .join('\n')
}

describe('acceptance: cutover init on the department', () => {
  it('proposes the department network under networks:; filled in, its plan moves the CIDRs and netmask lines of pg_hba.conf', async () => {
    const dir = tempDir('cutover-reip-init-')
    cpSync(join(example, 'machines/db'), join(dir, 'root'), { recursive: true })
    const init = await cutover(['init', '--root', 'root', '--spec', 'cutover.yaml'], dir)
    expect(init.err).toBe('')
    expect(init.code).toBe(0)
    const starter = readFileSync(join(dir, 'cutover.yaml'), 'utf8')
    expect(starter).toMatch(
      /\nnetworks:\n(?: {2}#.*\n)+ {2}- \{ old: 172\.20\.0\.0\/24, new: 172\.20\.0\.0\/24 \} {3}# fill in the new network\n/,
    )
    expect(starter).toContain('  #   written at etc/postgresql/15/main/pg_hba.conf:20:41\n')
    // the network's own address is not proposed as a machine
    expect(starter).not.toContain('old: 172.20.0.0,')
    writeFileSync(join(dir, 'cutover.yaml'), fillIn(starter))
    const before = read(dir, 'etc/postgresql/15/main/pg_hba.conf')
    await planApplyAgain(dir)
    expect(read(dir, 'etc/postgresql/15/main/pg_hba.conf')).toBe(
      before
        .replace('172.20.0.5/32', '10.20.0.5/32')
        .replace('172.20.0.10/32', '10.20.0.10/32')
        .replace('172.20.0.10 255.255.255.255', '10.20.0.10 255.255.255.255')
        .replace('172.20.0.21/32', '10.20.0.21/32')
        .replace('172.20.0.22/32', '10.20.0.22/32')
        .replace('172.20.0.0/24', '10.20.0.0/24')
        .replace('172.20.0.0 255.255.255.0', '10.20.0.0 255.255.255.0')
        .replace('172.20.0.6/32', '10.20.0.6/32'),
    )
  })

  it('proposes a yaml step for the netplan and compose files; filled in, it gives compose names and netplan new addresses', async () => {
    const dir = tempDir('cutover-reip-init-')
    cpSync(join(example, 'machines/web'), join(dir, 'root'), { recursive: true })
    const init = await cutover(
      ['init', '--root', 'root', '--files', 'etc/**', 'srv/**', 'var/www/**'],
      dir,
    )
    expect(init.err).toBe('')
    expect(init.code).toBe(0)
    const starter = readFileSync(join(dir, 'cutover.yaml'), 'utf8')
    expect(starter).toContain(
      '  - yaml:\n      files: ["etc/netplan/01-netcfg.yaml", "srv/dept/compose.yaml"]\n      addresses: names\n',
    )
    writeFileSync(join(dir, 'cutover.yaml'), fillIn(starter))
    const compose = read(dir, 'srv/dept/compose.yaml')
    const netplan = read(dir, 'etc/netplan/01-netcfg.yaml')
    await planApplyAgain(dir)
    expect(read(dir, 'etc/netplan/01-netcfg.yaml')).toBe(
      netplan
        .replace('[172.20.0.10/24]', '[10.20.0.10/24]')
        .replace('via: 172.20.0.1', 'via: 10.20.0.1')
        .replace('[172.20.0.2, 9.9.9.9]', '[10.20.0.2, 9.9.9.9]'),
    )
    const after = read(dir, 'srv/dept/compose.yaml')
    expect(after).not.toBe(compose)
    expect(after).toContain('  - "db-a.dept.example.edu:10.20.0.5"\n')
    expect(after).toContain('      POSTGRES_HOST: db-a.dept.example.edu:6432\n')
    expect(after).not.toContain('172.20.0.')
  })
})
