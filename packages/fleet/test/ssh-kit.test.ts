import { spawn, spawnSync } from 'node:child_process'
import { need } from '@cutover/test-kit'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { dirname, join } from 'node:path'
import { canChroot, startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

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

  // A session's HOME is the machine's own directory: the shell sshd starts reads that directory's
  // rc file, never the login user's own (root's may start pyenv, which costs every session of every
  // ssh test a hundred processes). Before the tests that restart and rekey a machine.
  it('runs sessions with HOME the machine’s own directory, one per machine', () => {
    const homes = fleet.machines.map((m) => {
      const r = ssh(m.name, 'printf %s "$HOME"')
      expect(r.status).toBe(0)
      expect(r.stdout).toBe(dirname(m.root))
      return r.stdout
    })
    expect(new Set(homes).size).toBe(2)
  })

  it('has the session shell read the rc file of that directory, not the login user’s', () => {
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
    // the session ended with its server, not with its command's sleep
    expect(Date.now() - t).toBeLessThan(60_000)
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

describe.runIf(need('sshd'))('test-kit sshd, a fleet that cannot start', () => {
  it('stops the machines it had started (no sshd left running) and says why', async () => {
    const dir = tempDir('cutover-sshd-fail-')
    try {
      // m2's directory cannot be made: a file is in its place
      writeFileSync(join(dir, 'm2'), '')
      const e = await startFleet(2, { dir }).catch((x: Error) => x)
      expect(e).toBeInstanceOf(Error)
      const port = Number(
        /^Port (\d+)$/m.exec(readFileSync(join(dir, 'm1/sshd_config'), 'utf8'))![1],
      )
      const refused = await new Promise<boolean>((done) => {
        const s = createConnection({ host: '127.0.0.1', port })
        s.on('connect', () => (s.destroy(), done(false)))
        s.on('error', () => done(true))
      })
      expect(refused).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// Chroot machines: each session's `/` is its machine's root, so a command reads that machine's
// own files (its etc/hosts), and SFTP paths are in it too.
describe.runIf(need('sshd'))('test-kit sshd, chroot machines', () => {
  let fleet: TestFleet | undefined
  afterAll(() => fleet?.stop())

  const ssh = (name: string, command: string) =>
    spawnSync('ssh', ['-F', fleet!.sshConfig, '-o', 'BatchMode=yes', '--', name, command], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })

  it('each machine sees its own root as /: getent reads its etc/hosts; sftp is confined to it', async (ctx) => {
    if (!canChroot()) ctx.skip()
    fleet = await startFleet(2, { chroot: true })
    for (const [i, m] of fleet.machines.entries()) {
      expect(m.specRoot).toBe('/')
      mkdirSync(join(m.root, 'etc'), { recursive: true })
      writeFileSync(join(m.root, 'etc/hosts'), `10.0.0.${i + 1} db.example.net\n`)
      writeFileSync(join(m.root, 'etc/nsswitch.conf'), 'hosts: files\n')
      writeFileSync(join(m.bin, 'whoami-machine'), `#!/bin/sh\necho ${m.name}\n`, { mode: 0o755 })
    }
    for (const [i, m] of fleet.machines.entries()) {
      const r = ssh(m.name, 'getent hosts db.example.net; whoami-machine; ls /')
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
      const [hosts, who, ...root] = r.stdout.trim().split('\n')
      expect(hosts!.split(/\s+/)).toEqual([`10.0.0.${i + 1}`, 'db.example.net'])
      expect(who).toBe(m.name)
      expect(root.sort()).toEqual(readdirSync(m.root).sort())
      // a file written over SFTP lands in the machine's root
      const local = join(fleet.dir, 'put.txt')
      writeFileSync(local, m.name)
      const put = spawnSync(
        'sftp',
        ['-F', fleet.sshConfig, '-o', 'BatchMode=yes', '-b', '-', m.name],
        { input: `put ${local} /etc/from-sftp\n`, encoding: 'utf8' },
      )
      expect(put.status).toBe(0)
      expect(readFileSync(join(m.root, 'etc/from-sftp'), 'utf8')).toBe(m.name)
    }
    // the system directories are read-only inside
    const w = ssh(fleet.machines[0]!.name, 'touch /usr/cutover-test 2>&1; echo $?')
    expect(w.stdout).toMatch(/Read-only file system\n1\n$/)
    // stopping a machine ends its mounts with its namespace: nothing of them on the host
    await fleet.stop()
    expect(existsSync(fleet.dir)).toBe(false)
    fleet = undefined
  })
})
