import { readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { cutover, SSH_TEST_MS, useFleet } from './fleet-kit.js'
import { mentatFleet, sha, type Doc } from './whole-kit.js'

// copy and exchange planned between two machines over real sshd: sources and targets listed and
// read on each machine through its one connection, kept open until the whole-file steps are planned
describe.runIf(need('sshd') && need('ssh-keygen'))('plan of copy and exchange over ssh', () => {
  const shared = useFleet(2, 'cutover-copy-ssh-')

  it(
    'plans the same changes as on local directories, shows no byte of a key; after apply a second plan is empty',
    async () => {
      const [m1, m2] = shared.fleet.machines as [
        (typeof shared.fleet.machines)[number],
        (typeof shared.fleet.machines)[number],
      ]
      const { ctl, hub, alt, keys } = mentatFleet(shared.dir, '', {
        hub: { root: m1.root, ssh: m1.name },
        alt: { root: m2.root, ssh: m2.name },
      })
      const env = shared.env()
      const json = await cutover(['plan', '--json'], ctl, env)
      expect(json.err).toBe('')
      expect(json.code).toBe(0)
      const doc = JSON.parse(json.out) as Doc
      expect(doc.changes.map((c) => `${c.machine}:${c.target} ${c.whole?.type}`)).toEqual([
        'mentat-alt:etc/mentat/blob.bin file',
        'mentat-alt:etc/mentat/core.json file',
        'mentat-alt:etc/mentat/current.json symlink',
        'mentat-alt:etc/mentat/secret.conf file',
        'mentat-alt:etc/mentat/sub/extra.json file',
        'mentat-alt:etc/mentat/token.txt file',
        'mentat-alt:etc/mentat/stale.json absent',
        'mentat-hub:etc/motd file',
        'mentat-alt:etc/motd file',
        'mentat-hub:etc/hostname file',
        'mentat-alt:etc/hostname file',
        'mentat-hub:etc/warden_client/key.pem file',
        'mentat-alt:etc/warden_client/key.pem file',
      ])
      const key = doc.changes.find(
        (c) => c.machine === 'mentat-hub' && c.target.endsWith('key.pem'),
      )!
      const altKey = readFileSync(join(alt, 'etc/warden_client/key.pem'))
      expect(key.after).toBe(sha(altKey))
      expect(key.whole).toMatchObject({
        sensitive: true,
        from: { machine: 'mentat-alt', path: 'etc/warden_client/key.pem' },
      })
      expect(
        doc.changes.find((c) => c.target === 'etc/mentat/sub/extra.json')!.whole,
      ).toMatchObject({
        dirs: [{ path: 'etc/mentat/sub', mode: '0750' }],
      })
      const review = await cutover(['plan'], ctl, env)
      expect(review.code).toBe(0)
      for (const text of [json.out, review.out, review.err])
        for (const line of keys) expect(text).not.toContain(line)

      // applied: the copies hold their sources, the exchange is recorded on both machines
      const applied = await cutover(['apply', '--yes', '--quiet'], ctl, env)
      expect(applied.err).toBe('')
      expect(applied.code).toBe(0)
      expect(readFileSync(join(hub, 'etc/hostname'), 'utf8')).toBe('mentat-alt\n')
      expect(readFileSync(join(alt, 'etc/warden_client/key.pem')).equals(altKey)).toBe(false)
      // the exchange is recorded on both machines: the next plan does not swap the files back
      expect(readFileSync(join(alt, 'etc/mentat/sub/extra.json'), 'utf8')).toBe(
        '{ "extra": true }\n',
      )
      expect(readlinkSync(join(alt, 'etc/mentat/current.json'))).toBe('core.json')
      const again = await cutover(['plan', '--json'], ctl, env)
      expect(again.code).toBe(0)
      expect((JSON.parse(again.out) as Doc).changes).toEqual([])
    },
    SSH_TEST_MS,
  )
})
