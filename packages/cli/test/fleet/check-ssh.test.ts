import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { canChroot, startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, describe, expect, it } from 'vitest'
import { cutover, NEW, OLD, SSH_TEST_MS } from './fleet-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

// `cutover check` over real sshd, each machine a chroot: `getent` on a machine reads that
// machine's own etc/hosts, so the check sees what each machine resolves. The machines are the
// hosts of an Ansible inventory, its groups used in on:.
describe.runIf(need('sshd') && need('ansible-inventory'))('cutover check over ssh', () => {
  let fleet: TestFleet | undefined
  afterAll(() => fleet?.stop())

  it(
    'passes when every machine resolves every name to its new address; fails naming machine and name after a hosts file is edited back',
    async (ctx) => {
      if (!canChroot()) ctx.skip()
      fleet = await startFleet(3, { chroot: true })
      for (const m of fleet.machines) {
        mkdirSync(join(m.root, 'etc'), { recursive: true })
        writeFileSync(join(m.root, 'etc/nsswitch.conf'), 'hosts: files\n')
        writeFileSync(
          join(m.root, 'etc/hosts'),
          `127.0.0.1 localhost\n${OLD} db.example.net db\n10.0.0.6 web.example.net\n`,
        )
        // a command that exists on this machine only
        writeFileSync(join(m.bin, `only-${m.name}`), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
      }
      const dir = tempDir('cutover-check-ssh-')
      // the test fleet's ssh_config names the machines m1…m3: the inventory's hosts, as Ansible would reach them
      writeFileSync(
        join(dir, 'inventory.yml'),
        [
          'all:',
          '  children:',
          '    app:',
          '      hosts: { m1: , m2: }',
          '    db:',
          '      hosts: { m3: }',
          '',
        ].join('\n'),
      )
      writeFileSync(
        join(dir, 'cutover.yaml'),
        [
          'version: 1',
          'machines: { ansible: inventory.yml }',
          'hosts:',
          `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
          '  web.example.net: { old: 10.0.0.6, new: 10.0.0.7 }',
          'checks:',
          "  - { command: only-m3, exit-status: 0, on: ['@db'] }",
          "  - { command: 'grep -q 10.0.0.7 /etc/hosts', on: ['@app'] }",
          'steps:',
          '  - hosts: { files: [etc/hosts], ensure: new }',
          '',
        ].join('\n'),
      )
      const env = { CUTOVER_SSH_CONFIG: fleet.sshConfig }
      const before = await cutover(['check', '--json'], dir, env)
      expect(before.code).toBe(1)
      const rows = (JSON.parse(before.out) as { checks: Array<Record<string, unknown>> }).checks
      expect(rows.map((r) => [r.machine, r.check, r.got, r.ok])).toEqual([
        ['m1', 'name db.example.net', OLD, false],
        ['m1', 'name web.example.net', '10.0.0.6', false],
        ['m1', 'command grep -q 10.0.0.7 /etc/hosts', 'exit 1', false],
        ['m2', 'name db.example.net', OLD, false],
        ['m2', 'name web.example.net', '10.0.0.6', false],
        ['m2', 'command grep -q 10.0.0.7 /etc/hosts', 'exit 1', false],
        ['m3', 'name db.example.net', OLD, false],
        ['m3', 'name web.example.net', '10.0.0.6', false],
        ['m3', 'command only-m3', 'exit 0', true],
      ])
      const applied = await cutover(['apply', '--yes', '--check'], dir, env)
      expect(applied.err).toBe('')
      expect(applied.code).toBe(0)
      expect(applied.out).toMatch(/All 9 check\(s\) passed on 3 machine\(s\)\.\n$/)
      // one machine's hosts file edited back by hand
      writeFileSync(
        join(fleet.machines[1]!.root, 'etc/hosts'),
        `127.0.0.1 localhost\n${OLD} db.example.net db\n10.0.0.7 web.example.net\n`,
      )
      const after = await cutover(['check'], dir, env)
      expect(after.code).toBe(1)
      expect(after.out).toMatch(
        new RegExp(
          `\\nm2 +name db\\.example\\.net +${NEW.replaceAll('.', '\\.')} +${OLD.replaceAll('.', '\\.')} +FAIL\\n`,
        ),
      )
      expect(after.err).toBe(
        'cutover: check failed: 1 of 9 check(s) on 1 machine(s): m2: name db.example.net\n',
      )
      // an unreachable machine is a failed row; the others are still checked
      await fleet.machines[2]!.stop()
      const down = await cutover(
        ['check', '--json', '--machine', 'm1', '--machine', 'm3'],
        dir,
        env,
      )
      expect(down.code).toBe(1)
      const downRows = (JSON.parse(down.out) as { checks: Array<Record<string, unknown>> }).checks
      expect(downRows.filter((r) => !r.ok)).toEqual([
        {
          machine: 'm3',
          check: 'connect',
          expected: 'reachable over ssh (m3)',
          got: expect.stringContaining('m3'),
          ok: false,
        },
      ])
      expect(downRows.filter((r) => r.ok)).toHaveLength(3)
    },
    SSH_TEST_MS,
  )
})
