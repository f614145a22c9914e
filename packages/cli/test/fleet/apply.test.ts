import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  cutover,
  fleetSnapshot,
  fleetSpec,
  NEW,
  OLD,
  SSH_TEST_MS,
  strays,
  writeTrees,
  useFleet,
} from './fleet-kit.js'

const kit = useFleet(3, 'cutover-fleet-apply-')
const env = kit.env

/** A fresh controller directory with the fleet's spec (and the trees written afresh). */
function fresh(edit?: Parameters<typeof writeTrees>[1]): string {
  const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
  writeTrees(kit.fleet, edit)
  writeFileSync(join(ctl, 'cutover.yaml'), fleetSpec(kit.fleet))
  return ctl
}

describe('plan and apply across 3 machines over real sshd', () => {
  it(
    'applies php, hosts, sudoers and text on every machine; a second plan is empty and verify passes',
    async () => {
      const ctl = fresh()
      const plan = await cutover(['plan', '--out', 'plan.json'], ctl, env())
      expect(plan.err).toBe('')
      expect(plan.code).toBe(0)
      const doc = JSON.parse(readFileSync(join(ctl, 'plan.json'), 'utf8')) as {
        machines: Array<{ name: string; hostKey?: string; root: string }>
        changes: Array<{ machine: string; target: string }>
      }
      expect(doc.machines.map((m) => [m.name, m.hostKey, m.root])).toEqual(
        kit.fleet.machines.map((m) => [m.name, m.hostKeyFingerprint, m.root]),
      )
      const targets = ['etc/app.conf', 'etc/hosts', 'etc/sudoers.d/app', 'var/www/app/config.php']
      for (const m of kit.fleet.machines)
        expect(
          doc.changes
            .filter((c) => c.machine === m.name)
            .map((c) => c.target)
            .sort(),
        ).toEqual(targets)

      const applied = await cutover(['apply', 'plan.json'], ctl, env())
      expect(applied.err).toBe('')
      expect(applied.code).toBe(0)
      expect(applied.out).toMatch(
        /^Applied 12 file\(s\) on 3 machine\(s\) in fleet transaction \S+/,
      )
      for (const [k, m] of kit.fleet.machines.entries()) {
        const read = (p: string) => readFileSync(join(m.root, p), 'utf8')
        expect(read('var/www/app/config.php')).toBe(
          `<?php\ndefine('DB_HOST', 'db.example.net');\ndefine('DB_PASSWORD', 'old-pw-${k + 1}');\n`,
        )
        expect(read('etc/hosts')).toContain(`${NEW} db.example.net db\n`)
        expect(read('etc/hosts')).not.toContain(OLD)
        expect(read('etc/sudoers.d/app')).toContain(
          'www-data ALL=(root) NOPASSWD: /usr/sbin/service app restart',
        )
        expect(statSync(join(m.root, 'etc/sudoers.d/app')).mode & 0o777).toBe(0o440)
        expect(statSync(join(m.root, 'etc/app.conf')).mode & 0o777).toBe(0o600)
        expect(read('etc/app.conf')).toBe(`# machine m${k + 1}\ndb = ${NEW}\n`)
        expect(strays(m.root)).toEqual([])
        // the machine's own journal, in its state directory, marks the fleet transaction
        const txs = readdirSync(join(m.root, 'var/lib/cutover/tx'))
        expect(txs).toHaveLength(1)
        const j = JSON.parse(
          readFileSync(join(m.root, 'var/lib/cutover/tx', txs[0]!, 'journal.json'), 'utf8'),
        ) as { state: string; fleet?: { txid: string; controller: string } }
        expect(j.state).toBe('committed')
        expect(j.fleet?.controller).toMatch(/:.*\/\.cutover\/fleet\/\S+\/journal\.json$/)
      }
      const fleetTx = readdirSync(join(ctl, '.cutover/fleet'))
      expect(fleetTx).toHaveLength(1)
      const fj = JSON.parse(
        readFileSync(join(ctl, '.cutover/fleet', fleetTx[0]!, 'journal.json'), 'utf8'),
      ) as { state: string; machines: Array<{ name: string; txid: string }> }
      expect(fj.state).toBe('committed')
      expect(fj.machines.map((m) => m.name)).toEqual(['m1', 'm2', 'm3'])

      const again = await cutover(['plan', '--detailed-exitcode'], ctl, env())
      expect(again.err).toBe('')
      expect(again.code).toBe(0)
      const verify = await cutover(['verify'], ctl, env())
      expect(verify.code).toBe(0)
      const state = await cutover(['state'], ctl, env())
      expect(state.code).toBe(0)
      expect(state.out).toMatch(
        new RegExp(`^${fleetTx[0]} {2}apply {4}committed {3}\\S+ {2}m1, m2, m3\\n$`),
      )
    },
    SSH_TEST_MS,
  )

  it(
    'changes nothing anywhere when visudo rejects the sudoers file on one machine, naming it',
    async () => {
      // m2's sudoers has a Defaults entry its visudo does not know: the staged file fails there
      const ctl = fresh((i, files) => {
        if (i === 2) files['etc/sudoers.d/app']!.text = 'Defaults bogus_option\n'
      })
      const plan = await cutover(['plan', '--out', 'plan.json'], ctl, env())
      expect(plan.code).toBe(0)
      const before = fleetSnapshot(kit.fleet)
      const applied = await cutover(['apply', 'plan.json'], ctl, env())
      expect(applied.code).toBe(1)
      expect(applied.err).toMatch(/not applied, nothing was changed on any machine/)
      expect(applied.err).toMatch(/m2: [\s\S]*etc\/sudoers\.d\/app[\s\S]*unknown defaults entry/)
      expect(applied.err).not.toMatch(/m[13]: /)
      expect(applied.err).not.toMatch(/\n\s+at /)
      expect(fleetSnapshot(kit.fleet)).toEqual(before)
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
    },
    SSH_TEST_MS,
  )

  it(
    'changes nothing anywhere when a file on one machine changed since the plan',
    async () => {
      const ctl = fresh()
      expect((await cutover(['plan', '--out', 'plan.json'], ctl, env())).code).toBe(0)
      writeFileSync(join(kit.fleet.machines[2]!.root, 'etc/app.conf'), `# edited\ndb = ${OLD}\n`)
      const before = fleetSnapshot(kit.fleet)
      const applied = await cutover(['apply', 'plan.json'], ctl, env())
      expect(applied.code).toBe(1)
      expect(applied.err).toMatch(/m3: [\s\S]*etc\/app\.conf: changed since the plan/)
      expect(fleetSnapshot(kit.fleet)).toEqual(before)
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
    },
    SSH_TEST_MS,
  )

  it(
    'changes nothing anywhere when one machine cannot be reached, naming it',
    async () => {
      const ctl = fresh()
      expect((await cutover(['plan', '--out', 'plan.json'], ctl, env())).code).toBe(0)
      const before = fleetSnapshot(kit.fleet)
      await kit.fleet.machines[0]!.stop()
      try {
        const applied = await cutover(['apply', 'plan.json'], ctl, env())
        expect(applied.code).toBe(1)
        expect(applied.err).toMatch(/not applied, nothing was changed on any machine:\n\s+m1: /)
        expect(fleetSnapshot(kit.fleet)).toEqual(before)
      } finally {
        await kit.fleet.machines[0]!.start()
      }
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
    },
    SSH_TEST_MS,
  )
})
