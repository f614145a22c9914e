import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { need } from '@cutover/test-kit'
import { snapshot } from '../tree.js'
import {
  cutover,
  fleetSnapshot,
  fleetSpec,
  NEW,
  OLD,
  SSH_TEST_MS,
  useFleet,
  writeTrees,
} from '../fleet/fleet-kit.js'
import { hashOf, savedHash } from './kit.js'

// `apply PLAN --expect` of a fleet over real sshd: a wrong hash is refused before any machine is
// reached (no connection, no lock, no state directory on a machine or the controller).
describe.runIf(need('sshd'))('apply a fleet plan --expect over real sshd', () => {
  const kit = useFleet(2, 'cutover-review-expect-')

  it(
    'refuses a wrong hash with every machine untouched, then applies the plan of the right one',
    async () => {
      const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
      writeTrees(kit.fleet)
      writeFileSync(join(ctl, 'cutover.yaml'), fleetSpec(kit.fleet))
      const plan = await cutover(['plan', '--out', 'plan.json'], ctl, kit.env())
      expect(plan.err).toBe('')
      expect(plan.code).toBe(0)
      const hash = savedHash(plan.out)
      expect(hash).toBe(hashOf(join(ctl, 'plan.json')))

      const machines = fleetSnapshot(kit.fleet)
      const controller = snapshot(ctl)
      const wrong = `sha256:${'e'.repeat(64)}`
      const refused = await cutover(['apply', 'plan.json', '--expect', wrong], ctl, kit.env())
      expect(refused.code).toBe(1)
      expect(refused.out).toBe('')
      expect(refused.err).toBe(
        `cutover: plan.json is ${hash}, not ${wrong} that --expect names: nothing was applied\n`,
      )
      expect(fleetSnapshot(kit.fleet)).toEqual(machines)
      expect(snapshot(ctl)).toEqual(controller)
      for (const m of kit.fleet.machines)
        expect(existsSync(join(m.root, 'var/lib/cutover')), m.name).toBe(false)

      const applied = await cutover(['apply', 'plan.json', '--expect', hash], ctl, kit.env())
      expect(applied.err).toBe('')
      expect(applied.code).toBe(0)
      expect(applied.out).toMatch(/^Applied 8 file\(s\) on 2 machine\(s\) in fleet transaction /)
      for (const m of kit.fleet.machines) {
        const conf = readFileSync(join(m.root, 'etc/app.conf'), 'utf8')
        expect(conf).toContain(`db = ${NEW}`)
        expect(conf).not.toContain(OLD)
      }
    },
    SSH_TEST_MS,
  )
})
