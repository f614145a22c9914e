import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutover, snapshot, SSH_TEST_MS, useFleet } from './fleet-kit.js'
import { controller, EXAMPLES, holds, keyLines } from './examples-kit.js'

/*
 * The acceptance of the Mentat migration over real sshd (mentat-hub is m1, mentat-alt m2): the
 * live profile exchanges what goes with the name and the address, or nothing on either server.
 */

const kit = useFleet(2, 'cutover-example-mentat-live-')
const HUB = join(EXAMPLES, 'mentat/machines/mentat-hub')
const ALT = join(EXAMPLES, 'mentat/machines/mentat-alt')
const hub = () => kit.fleet.machines[0]!.root
const alt = () => kit.fleet.machines[1]!.root
const read = (root: string, path: string) => readFileSync(join(root, path))

/** The files of a tree (path → bytes, base64), for comparing two directories. */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snapshot(dir))
      .filter(([, v]) => v.startsWith('file '))
      .map(([p, v]) => [p, v.split(' ').at(-1)!]),
  )
}

const EXCHANGED = [
  'etc/hostname',
  'etc/warden_client/cert.pem',
  'etc/warden_client/key.pem',
  'etc/warden_client/warden_client.json',
  'etc/shibboleth/shibboleth2.xml',
  'etc/shibboleth/sp-cert.pem',
  'etc/shibboleth/sp-key.pem',
]

describe('examples/mentat live over real sshd', () => {
  it(
    'exchanges hostnames, addresses, Warden certificates and Shibboleth configs, makes /etc/mentat equal, and a second plan is empty; no review shows a byte of a private key',
    async () => {
      const ctl = controller(kit, 'mentat')
      const env = kit.env()
      const plan = await cutover(['plan', '--profile', 'live', '--out', 'live.json'], ctl, env)
      expect(plan.err).toBe('')
      expect(plan.code).toBe(0)
      const json = await cutover(['plan', '--profile', 'live', '--json'], ctl, env)
      expect(json.code).toBe(0)
      const reviews = [plan.out, json.out, readFileSync(join(ctl, 'live.json'), 'utf8')]
      // the keys are shown as what they are, never as what they hold
      expect(plan.out).toMatch(/\(sensitive file, \d+ bytes, sha256:[0-9a-f]+/)
      for (const line of keyLines()) for (const r of reviews) expect(r).not.toContain(line)

      const apply = await cutover(['apply', 'live.json'], ctl, env)
      expect(apply.err).toBe('')
      expect(apply.code).toBe(0)
      for (const r of [apply.out]) for (const line of keyLines()) expect(r).not.toContain(line)
      // each server holds what the other held
      for (const p of EXCHANGED) {
        expect(read(hub(), p), `mentat-hub:${p}`).toEqual(read(ALT, p))
        expect(read(alt(), p), `mentat-alt:${p}`).toEqual(read(HUB, p))
      }
      expect(read(alt(), 'etc/hostname').toString()).toBe('mentat-hub\n')
      expect(read(alt(), 'etc/network/interfaces').toString()).toContain(
        '\taddress 192.0.2.10/24\n',
      )
      expect(read(hub(), 'etc/network/interfaces').toString()).toContain(
        '\taddress 192.0.2.11/24\n',
      )
      expect(read(alt(), 'etc/hosts').toString()).toContain(
        '127.0.1.1\tmentat-hub.cesnet.cz mentat-hub\n',
      )
      // /etc/mentat on mentat-alt is mentat-hub's, the trial's own file gone
      expect(tree(join(alt(), 'etc/mentat'))).toEqual(tree(join(hub(), 'etc/mentat')))
      expect(tree(join(hub(), 'etc/mentat'))).toEqual(tree(join(HUB, 'etc/mentat')))
      expect(readdirSync(join(alt(), 'etc/mentat'))).not.toContain('mentat-dev.py.json')

      const again = await cutover(['plan', '--profile', 'live', '--detailed-exitcode'], ctl, env)
      expect(again.err).toBe('')
      expect(again.out).toMatch(/^No (file )?changes for profile live/)
      expect(again.code).toBe(0)
    },
    2 * SSH_TEST_MS,
  )

  it(
    'a stale file on one server, a changed source, or an unreachable server: neither server changes, certificates included',
    async () => {
      const env = kit.env()
      const failures: Array<{
        what: string
        spoil: () => Promise<void> | void
        undo?: () => Promise<void>
      }> = [
        {
          what: 'a target edited on mentat-hub after the plan',
          spoil: () =>
            writeFileSync(join(hub(), 'etc/hosts'), `${read(hub(), 'etc/hosts')}# by hand\n`),
        },
        {
          what: 'a copied file changed at its source after the plan',
          // mentat-hawat.py.json differs between the servers: the plan copies it
          spoil: () =>
            writeFileSync(
              join(hub(), 'etc/mentat/mentat-hawat.py.json'),
              `${read(hub(), 'etc/mentat/mentat-hawat.py.json')}\n`,
            ),
        },
        {
          what: 'mentat-alt unreachable',
          spoil: () => kit.fleet.machines[1]!.stop(),
          undo: () => kit.fleet.machines[1]!.start(),
        },
      ]
      for (const f of failures) {
        const ctl = controller(kit, 'mentat')
        const plan = await cutover(['plan', '--profile', 'live', '--out', 'live.json'], ctl, env)
        expect(plan.code, f.what).toBe(0)
        await f.spoil()
        const before = holds('mentat', kit.fleet)
        const apply = await cutover(['apply', 'live.json'], ctl, env)
        expect(apply.code, f.what).toBe(1)
        expect(apply.err, f.what).toMatch(/mentat-(hub|alt)/)
        await f.undo?.()
        expect(holds('mentat', kit.fleet), f.what).toEqual(before)
        // the certificates are where they were
        for (const p of EXCHANGED) {
          expect(read(hub(), p), `${f.what}: mentat-hub:${p}`).toEqual(read(HUB, p))
          expect(read(alt(), p), `${f.what}: mentat-alt:${p}`).toEqual(read(ALT, p))
        }
      }
    },
    3 * SSH_TEST_MS,
  )
})
