import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cutover, fleetSnapshot, fleetSpec, writeTrees } from './fleet-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

// The host key of every machine: verified by ssh as the user's config says, recorded in the plan,
// and checked again by apply before anything is staged.
describe.runIf(need('sshd') && need('php') && need('visudo'))('host keys of a fleet', () => {
  let fleet: TestFleet
  let ctl: string
  let knownHosts: string
  let env: Record<string, string>
  beforeAll(async () => {
    fleet = await startFleet(2)
    knownHosts = readFileSync(fleet.knownHosts, 'utf8')
  })
  afterAll(() => fleet?.stop())
  beforeEach(() => {
    writeFileSync(fleet.knownHosts, knownHosts)
    writeTrees(fleet)
    ctl = tempDir('cutover-hostkey-')
    writeFileSync(join(ctl, 'cutover.yaml'), fleetSpec(fleet))
    env = { CUTOVER_SSH_CONFIG: fleet.sshConfig }
    return () => rmSync(ctl, { recursive: true, force: true })
  })

  /** known_hosts without the line of `name`, or with its line holding the machine's current key. */
  function knownHostsOf(name: string, how: 'forget' | 'trust-new'): void {
    const m = fleet.machines.find((x) => x.name === name)!
    const lines = knownHosts.split('\n').filter((l) => !l.startsWith(`[127.0.0.1]:${m.port} `))
    if (how === 'trust-new')
      lines.push(`[127.0.0.1]:${m.port} ${readFileSync(`${m.hostKeyPath}.pub`, 'utf8').trim()}`)
    writeFileSync(fleet.knownHosts, lines.filter(Boolean).join('\n') + '\n')
  }

  /** Nothing staged on any machine: no transaction in any machine's state directory. */
  function nothingStaged(): void {
    for (const m of fleet.machines)
      expect(existsSync(join(m.root, 'var/lib/cutover/tx'))).toBe(false)
  }

  it('plan records the fingerprint of each host key ssh verified', async () => {
    const r = await cutover(['plan', '--out', 'plan.json', '--quiet'], ctl, env)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(readFileSync(join(ctl, 'plan.json'), 'utf8')) as {
      machines: { name: string; hostKey?: string }[]
    }
    expect(doc.machines.map((m) => [m.name, m.hostKey])).toEqual(
      fleet.machines.map((m) => [m.name, m.hostKeyFingerprint]),
    )
    expect(fleet.machines[0]!.hostKeyFingerprint).toMatch(/^SHA256:/)
  })

  it('apply refuses a machine whose host key changed since the plan, before anything is staged', async () => {
    expect((await cutover(['plan', '--out', 'plan.json', '--quiet'], ctl, env)).code).toBe(0)
    const m2 = fleet.machines[1]!
    const planned = m2.hostKeyFingerprint
    await m2.rekey()
    const before = fleetSnapshot(fleet)

    // ssh itself refuses the new key: known_hosts still holds the old one
    const refused = await cutover(['apply', 'plan.json', '--yes', '--quiet'], ctl, env)
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(/^cutover: not applied, nothing was changed on any machine:\n/)
    expect(refused.err).toContain('machine m2 (m2): its host key changed')
    expect(refused.err).toContain(m2.hostKeyFingerprint)
    expect(refused.err).not.toMatch(/\n\s+at /)
    expect(fleetSnapshot(fleet)).toEqual(before)
    nothingStaged()

    // known_hosts now trusts the new key: the plan still names the old one
    knownHostsOf('m2', 'trust-new')
    const stale = await cutover(['apply', 'plan.json', '--yes', '--quiet'], ctl, env)
    expect(stale.code).toBe(1)
    expect(stale.err).toContain('m2')
    expect(stale.err).toContain(planned)
    expect(stale.err).toContain(m2.hostKeyFingerprint)
    expect(stale.err).not.toMatch(/\n\s+at /)
    expect(fleetSnapshot(fleet)).toEqual(before)
    nothingStaged()
  })

  it('an unknown host under StrictHostKeyChecking yes: a clear error naming the machine, exit 1, no prompt', async () => {
    knownHostsOf('m1', 'forget')
    const before = fleetSnapshot(fleet)
    // a prompt could not be answered (BatchMode): the connection would hang until its timeout and
    // be called unreachable instead
    const r = await cutover(['plan', '--quiet'], ctl, env)
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/^cutover: machine m1 \(m1\): its host key is not known/)
    expect(r.err).toContain('known_hosts')
    expect(r.err.trim().split('\n')).toHaveLength(1)
    const applied = await cutover(['apply', '--yes', '--quiet'], ctl, env)
    expect(applied.code).toBe(1)
    expect(applied.err).toMatch(/^cutover: machine m1 \(m1\): its host key is not known/)
    expect(fleetSnapshot(fleet)).toEqual(before)
    nothingStaged()
  })
})
