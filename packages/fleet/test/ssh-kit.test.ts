import { spawn, spawnSync } from 'node:child_process'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The machines of the ssh tests: real sshd processes, each reached through the test's ssh_config.
describe.runIf(need('sshd'))('test-kit sshd', () => {
  let fleet: TestFleet
  beforeAll(async () => {
    fleet = await startFleet(2)
  })
  afterAll(() => fleet?.stop())

  const ssh = (name: string, command: string) =>
    spawnSync('ssh', ['-F', fleet.sshConfig, '-o', 'BatchMode=yes', '--', name, command], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })

  it('serves each machine on its own port, its bin first on the session PATH', () => {
    expect(new Set(fleet.machines.map((m) => m.port)).size).toBe(2)
    for (const m of fleet.machines) {
      const r = ssh(m.name, 'echo "$PATH"')
      expect(r.status).toBe(0)
      expect(r.stdout.trim().split(':')).toContain(m.bin)
    }
  })

  it('kill() cuts a live connection; start() serves again on the same port with the same key', async () => {
    const m = fleet.machines[0]!
    const port = m.port
    const live = spawn('ssh', [
      '-F',
      fleet.sshConfig,
      '-o',
      'BatchMode=yes',
      '--',
      m.name,
      'echo up; sleep 60',
    ])
    const code = new Promise<number | null>((resolve) => live.on('exit', (c) => resolve(c)))
    await new Promise<void>((resolve) => live.stdout.once('data', () => resolve()))
    const t = Date.now()
    await m.kill()
    expect(await code).toBe(255)
    expect(Date.now() - t).toBeLessThan(10_000)
    expect(ssh(m.name, 'true').status).toBe(255)
    await m.start()
    expect(m.port).toBe(port)
    expect(ssh(m.name, 'echo again').stdout).toBe('again\n')
  })

  it('rekey() presents a new host key, which known_hosts refuses', async () => {
    const m = fleet.machines[1]!
    const before = m.hostKeyFingerprint
    await m.rekey()
    expect(m.hostKeyFingerprint).toMatch(/^SHA256:/)
    expect(m.hostKeyFingerprint).not.toBe(before)
    const r = ssh(m.name, 'true')
    expect(r.status).toBe(255)
    expect(r.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED')
  })
})
