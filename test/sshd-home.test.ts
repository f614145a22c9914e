import { spawnSync } from 'node:child_process'
import { need } from '@cutover/test-kit'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// A test machine's sessions run with HOME the machine's own directory: the shell sshd starts
// reads that directory's rc file, never the login user's own (root's may start pyenv, which costs
// every session of every ssh test a hundred processes).
describe.runIf(need('sshd'))('test-kit sshd: the sessions’ HOME', () => {
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

  it('is the machine’s own directory, one per machine', () => {
    const homes = fleet.machines.map((m) => {
      const r = ssh(m.name, 'printf %s "$HOME"')
      expect(r.status).toBe(0)
      expect(r.stdout).toBe(dirname(m.root))
      return r.stdout
    })
    expect(new Set(homes).size).toBe(2)
  })

  it('the session shell reads the rc file of that directory, not the login user’s', () => {
    const [m1, m2] = fleet.machines as [(typeof fleet.machines)[0], (typeof fleet.machines)[0]]
    writeFileSync(join(dirname(m1.root), '.bashrc'), 'export CUTOVER_RC=m1-home\n')
    try {
      expect(ssh(m1.name, 'printf %s "${CUTOVER_RC-unset}"').stdout).toBe('m1-home')
      // the other machine has no rc file of its own: nothing of m1's (nor root's) reaches it
      const r = ssh(m2.name, 'printf "%s|%s" "${CUTOVER_RC-unset}" "${PYENV_SHELL-unset}"')
      expect(r.status).toBe(0)
      expect(r.stdout).toBe('unset|unset')
    } finally {
      writeFileSync(join(dirname(m1.root), '.bashrc'), '')
    }
  })
})
