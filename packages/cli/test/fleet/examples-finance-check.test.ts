import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { canChroot, startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, describe, expect, it } from 'vitest'
import { cutover, SSH_TEST_MS } from './fleet-kit.js'
import { EXAMPLES, machineNames, secrets } from './examples-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The finance example driven by an Ansible inventory (the VMs by name, in groups, reached at the
 * test fleet's Host aliases m1…m5), each VM a chroot machine: after the live profile, `cutover
 * check` asks every VM, over its connection, what each name resolves to there.
 */

/**
 * The lines of stderr but the warning that a chroot VM has no usable php (its /usr is the
 * host's, its /etc has no PHP configuration): the php files are then not linted there.
 */
function unexpected(err: string): string[] {
  return err
    .split('\n')
    .filter((l) => l !== '' && !/^warning: \w+: validator php-lint is not installed here/.test(l))
}

/** The example's spec with its machines from the inventory beside it. */
function inventorySpec(): string {
  const source = readFileSync(join(EXAMPLES, 'finance/cutover.yaml'), 'utf8')
  const block = /^machines:.*\n(?: +.*\n)+/m.exec(source)![0]
  return source.replace(block, 'machines: { ansible: inventory.yml }\n')
}

describe.runIf(need('sshd') && need('ansible-inventory'))(
  'examples/finance from an Ansible inventory, five chroot VMs over real sshd',
  () => {
    let fleet: TestFleet | undefined
    afterAll(() => fleet?.stop())

    it(
      'applies test and live; check passes on all five, and fails naming the VM and the name once its hosts file is edited back',
      async (ctx) => {
        if (!canChroot()) ctx.skip()
        fleet = await startFleet(5, { chroot: true })
        const names = machineNames('finance')
        expect(names).toEqual(['finance', 'timesheets', 'hrdb', 'tenders', 'ns1'])
        for (const [i, name] of names.entries()) {
          const root = fleet.machines[i]!.root
          cpSync(join(EXAMPLES, 'finance/machines', name), root, { recursive: true })
          // the accounts of the VM (visudo, run there, wants to know who runs it)
          writeFileSync(
            join(root, 'etc/passwd'),
            'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n',
          )
          writeFileSync(join(root, 'etc/group'), 'root:x:0:\nwww-data:x:33:\n')
        }
        const dir = tempDir('cutover-example-finance-inventory-')
        // the VMs by their names, grouped as an operator would; ansible_host is how ssh reaches each
        writeFileSync(
          join(dir, 'inventory.yml'),
          [
            'all:',
            '  children:',
            '    finance_vms:',
            '      children:',
            '        web:',
            '          hosts:',
            ...names
              .filter((n) => n !== 'hrdb' && n !== 'ns1')
              .map((n) => `            ${n}: { ansible_host: m${names.indexOf(n) + 1} }`),
            '        hr:',
            '          hosts:',
            '            hrdb: { ansible_host: m3 }',
            '    dns:',
            '      hosts:',
            '        ns1: { ansible_host: m5 }',
            '',
          ].join('\n'),
        )
        // a check only the web VMs run: each serves its config.php
        writeFileSync(
          join(dir, 'cutover.yaml'),
          inventorySpec().replace(
            /^steps:/m,
            "checks:\n  - { command: 'ls /var/www/*/config.php', exit-status: 0, on: ['@web'] }\n\nsteps:",
          ),
        )
        const env = { CUTOVER_SSH_CONFIG: fleet.sshConfig, ...secrets }

        const plan = await cutover(['plan', '--profile', 'test', '--out', 'test.json'], dir, env)
        expect(plan.err).toBe('')
        expect(plan.code).toBe(0)
        const doc = JSON.parse(readFileSync(join(dir, 'test.json'), 'utf8')) as {
          machines: Array<{ name: string; root: string }>
          changes: Array<{ machine: string; target: string }>
        }
        // the inventory's hosts, as ansible-inventory lists them, each at its / (the chroot's)
        expect(doc.machines.map((m) => [m.name, m.root]).sort()).toEqual(
          names.map((n) => [n, '/']).sort(),
        )
        // the steps on: [finance] ran on the VM the inventory calls finance only
        expect(
          doc.changes.filter((c) => c.target === 'etc/sudoers.d/finance').map((c) => c.machine),
        ).toEqual(['finance'])
        // every VM's hosts file, the DNS server's too, gets the new addresses
        expect(new Set(doc.changes.map((c) => c.machine))).toEqual(new Set(names))
        const test = await cutover(['apply', 'test.json', '--quiet'], dir, env)
        expect(unexpected(test.err)).toEqual([])
        expect(test.code).toBe(0)

        const live = await cutover(['apply', '--profile', 'live', '--yes'], dir, env)
        expect(unexpected(live.err)).toEqual([])
        expect(live.code).toBe(0)
        // every name on each of the five VMs, and the web VMs' command
        const nameCount = [
          ...readFileSync(join(dir, 'cutover.yaml'), 'utf8').matchAll(
            /^ {2}\S+\.thehumanjourney\.net: +\{ old:/gm,
          ),
        ].length
        const total = nameCount * names.length + 3
        const passed = await cutover(['check'], dir, env)
        expect(passed.err).toBe('')
        expect(passed.out).toMatch(
          new RegExp(`All ${total} check\\(s\\) passed on 5 machine\\(s\\)\\.\\n$`),
        )
        const check = await cutover(['check', '--json'], dir, env)
        expect(check.code).toBe(0)
        const rows = (JSON.parse(check.out) as { checks: Array<{ machine: string; ok: boolean }> })
          .checks
        expect(new Set(rows.map((r) => r.machine))).toEqual(new Set(names))
        expect(rows.every((r) => r.ok)).toBe(true)

        // tenders' hosts file edited back by hand: finance's old address again
        const hosts = join(fleet.machines[3]!.root, 'etc/hosts')
        writeFileSync(
          hosts,
          readFileSync(hosts, 'utf8').replace(
            /^10\.0\.10\.49(\s+finance\.thehumanjourney\.net)/m,
            '10.0.10.48$1',
          ),
        )
        const after = await cutover(['check'], dir, env)
        expect(after.code).toBe(1)
        expect(after.out).toMatch(
          /\ntenders +name finance\.thehumanjourney\.net +10\.0\.10\.49 +10\.0\.10\.48 +FAIL\n/,
        )
        expect(after.err).toBe(
          `cutover: check failed: 1 of ${total} check(s) on 1 machine(s): tenders: name finance.thehumanjourney.net\n`,
        )
      },
      3 * SSH_TEST_MS,
    )
  },
)
