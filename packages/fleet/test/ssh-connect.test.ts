import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { basename, join } from 'node:path'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FleetError } from '../src/errors.js'
import { SshConnection } from '../src/ssh/connection.js'
import { removeSocketDirSync, socketDir } from '../src/ssh/socket-dir.js'
import { tempDir } from '@cutover/test-kit/temp'

// The connection to a machine over the system's ssh client, against real sshd processes.
describe.runIf(need('sshd'))('ssh connection', () => {
  let fleet: TestFleet
  let controlDir: string
  const env = { PATH: process.env.PATH, HOME: process.env.HOME }
  beforeAll(async () => {
    fleet = await startFleet(3)
    controlDir = tempDir('cs-')
  })
  afterAll(async () => {
    await fleet?.stop()
    if (controlDir) rmSync(controlDir, { recursive: true, force: true })
  })

  const open = (name: string, sshConfig = fleet.sshConfig) =>
    SshConnection.open({ name, dest: name, sshConfig }, { controlDir, env })

  it('runs a script with its stdin on the machine and reports the host key it verified', async () => {
    const m = fleet.machines[0]!
    const c = await open(m.name)
    try {
      const keygen = execFileSync('ssh-keygen', ['-lf', `${m.hostKeyPath}.pub`], {
        encoding: 'utf8',
      })
      expect(keygen.split(' ')[1]).toMatch(/^SHA256:/)
      expect(c.hostKey).toBe(keygen.split(' ')[1])
      const r = await c.exec('printf "%s|" "$PATH"; tr a-z A-Z; echo err >&2; exit 3', {
        stdin: Buffer.from('hello\n'),
      })
      expect(r).toMatchObject({ code: 3, stderr: 'err\n' })
      const [path, rest] = r.stdout.toString().split('|')
      expect(path!.split(':')).toContain(m.bin)
      expect(rest).toBe('HELLO\n')
      // a script's own exit code 255 is not a lost connection
      expect((await c.exec('exit 255')).code).toBe(255)
      // quotes, newlines and binary stdin pass unchanged
      const bytes = Buffer.from([0, 1, 2, 255, 10, 13])
      const q = await c.exec(`x='it'"'"'s'\necho "$x"; od -An -tx1 | tr -d ' \\n'`, {
        stdin: bytes,
      })
      expect(q.stdout.toString()).toBe(`it's\n${bytes.toString('hex')}`)
    } finally {
      await c.close()
    }
    // nothing left in the control directory, and the master is gone
    expect(readdirSync(controlDir)).toEqual([])
  })

  it('compresses the connection (the master log names zlib for both directions)', async () => {
    const c = await open(fleet.machines[0]!.name)
    try {
      const log = readFileSync(`${c.controlPath}.log`, 'utf8')
      expect(log).toMatch(/kex: server->client cipher: \S+ MAC: \S+ compression: zlib@openssh\.com/)
      expect(log).toMatch(/kex: client->server cipher: \S+ MAC: \S+ compression: zlib@openssh\.com/)
    } finally {
      await c.close()
    }
  })

  it('gives the master a keepalive unless the ssh config sets one', async () => {
    const m = fleet.machines[1]!
    /** The command line of the master of connection `c` (the process holding its socket's name). */
    const masterArgv = (c: SshConnection) => {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        let argv: string[]
        try {
          argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
        } catch {
          continue
        }
        if (argv.includes('ControlMaster=yes') && argv.some((a) => a.includes(c.controlPath)))
          return argv
      }
      throw new Error('no master process found')
    }
    const plain = await open(m.name)
    try {
      expect(masterArgv(plain)).toEqual(
        expect.arrayContaining(['ServerAliveInterval=15', 'ServerAliveCountMax=4']),
      )
    } finally {
      await plain.close()
    }
    const config = join(controlDir, 'alive_config')
    writeFileSync(config, `ServerAliveInterval 7\n${readFileSync(fleet.sshConfig, 'utf8')}`)
    const own = await open(m.name, config)
    try {
      expect(masterArgv(own).some((a) => a.startsWith('ServerAlive'))).toBe(false)
    } finally {
      await own.close()
    }
  })

  it("runs many commands at once over the one connection, within sshd's MaxSessions", async () => {
    const m = fleet.machines[0]!
    const logins = () => readFileSync(m.log, 'utf8').split('Accepted publickey').length - 1
    const c = await open(m.name)
    const before = logins()
    try {
      const runs = await Promise.all(
        Array.from({ length: 30 }, (_, i) => c.exec(`sleep 0.2; echo ${i}`)),
      )
      expect(runs.map((r) => r.code)).toEqual(runs.map(() => 0))
      expect(runs.map((r) => r.stdout.toString())).toEqual(runs.map((_, i) => `${i}\n`))
      // every one went through the master: ssh logged in no second time
      expect(before).toBeGreaterThan(0)
      expect(logins()).toBe(before)
    } finally {
      await c.close()
    }
  })

  it('makes the control socket directory 0700 and refuses one others can enter', async () => {
    rmSync(controlDir, { recursive: true })
    const c = await open(fleet.machines[0]!.name)
    await c.close()
    expect(statSync(controlDir).mode & 0o777).toBe(0o700)
    chmodSync(controlDir, 0o755)
    try {
      await expect(open(fleet.machines[0]!.name)).rejects.toMatchObject({ code: 'MACHINE' })
    } finally {
      chmodSync(controlDir, 0o700)
    }
  })

  it('takes a control socket directory whose path has a space, a % and a quote', async () => {
    const m = fleet.machines[0]!
    const dir = tempDir(`c s%h"-`)
    try {
      const c = await SshConnection.open(
        { name: m.name, dest: m.name, sshConfig: fleet.sshConfig },
        { controlDir: dir, env },
      )
      try {
        expect(c.controlPath.startsWith(dir)).toBe(true)
        expect(statSync(c.controlPath).isSocket()).toBe(true)
        expect((await c.exec('echo up')).stdout.toString()).toBe('up\n')
      } finally {
        await c.close()
      }
      expect(readdirSync(dir)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('never puts a secret of stdin or of the environment in any process argv or environment', async () => {
    const secret = `s3cr3t-${process.pid}-${Date.now()}`
    const m = fleet.machines[0]!
    const c = await SshConnection.open(
      { name: m.name, dest: m.name, sshConfig: fleet.sshConfig },
      { controlDir, env: { ...env, CUTOVER_SECRET_DB: secret, PGPASSWORD: secret } },
    )
    try {
      const target = join(m.root, 'secret.txt')
      const running = c.exec(`cat > ${target}; echo written; sleep 2`, {
        stdin: Buffer.from(secret),
      })
      await new Promise((r) => setTimeout(r, 1000))
      // every process of this host: the ssh clients, the master, sshd's sessions, the shell
      const seen: string[] = []
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        if (Number(pid) === process.pid) continue
        for (const file of ['cmdline', 'environ']) {
          try {
            if (readFileSync(`/proc/${pid}/${file}`).includes(secret)) seen.push(`${pid}/${file}`)
          } catch {
            // gone, or not ours to read
          }
        }
      }
      expect((await running).stdout.toString()).toBe('written\n')
      expect(seen).toEqual([])
      expect(readFileSync(target, 'utf8')).toBe(secret)
    } finally {
      await c.close()
    }
  })

  it('refuses an unknown host key under StrictHostKeyChecking yes, naming the machine, without a prompt', async () => {
    const kh = join(fleet.dir, 'known_hosts_without_m2')
    const m2 = fleet.machines[1]!
    writeFileSync(
      kh,
      readFileSync(fleet.knownHosts, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith(`[127.0.0.1]:${m2.port} `))
        .join('\n'),
    )
    const cfg = join(fleet.dir, 'ssh_config_unknown')
    writeFileSync(cfg, readFileSync(fleet.sshConfig, 'utf8').replaceAll(fleet.knownHosts, kh))
    // a prompt could not be answered (BatchMode): the connection would hang until its timeout and
    // be called unreachable instead
    const e = await open(m2.name, cfg).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(FleetError)
    expect(e).toMatchObject({ code: 'HOST_KEY_UNKNOWN' })
    expect((e as Error).message).toMatch(/^machine m2 \(m2\): .*known_hosts/)
    expect(readdirSync(controlDir)).toEqual([])
  })

  it('refuses a changed host key', async () => {
    const m3 = fleet.machines[2]!
    const before = m3.hostKeyFingerprint
    await m3.rekey()
    const e = await open(m3.name).catch((err: unknown) => err)
    expect(e).toMatchObject({ code: 'HOST_KEY_CHANGED' })
    expect((e as Error).message).toContain('machine m3 (m3): its host key changed')
    expect((e as Error).message).toContain(m3.hostKeyFingerprint)
    expect(m3.hostKeyFingerprint).not.toBe(before)
  })

  it('calls a machine whose sshd is stopped unreachable', async () => {
    const m = fleet.machines[1]!
    await m.stop()
    try {
      const e = await open(m.name).catch((err: unknown) => err)
      expect(e).toMatchObject({ code: 'UNREACHABLE' })
      expect((e as Error).message).toMatch(
        /^machine m2 \(m2\): cannot connect: .*Connection refused/,
      )
    } finally {
      await m.start()
    }
  })

  it('refuses a key the machine does not accept (SSH_AUTH), without asking anything', async () => {
    const other = join(fleet.dir, 'other_key')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other])
    const cfg = join(fleet.dir, 'ssh_config_other_key')
    writeFileSync(cfg, readFileSync(fleet.sshConfig, 'utf8').replaceAll(fleet.clientKey, other))
    const e = await open(fleet.machines[0]!.name, cfg).catch((err: unknown) => err)
    expect(e).toMatchObject({ code: 'SSH_AUTH' })
    expect((e as Error).message).toContain('machine m1 (m1): ssh could not log in')
  })

  it('never logs in again past the master: once it is gone, commands and SFTP fail (UNREACHABLE)', async () => {
    const m = fleet.machines[0]!
    const logins = () => readFileSync(m.log, 'utf8').split('Accepted publickey').length - 1
    const c = await open(m.name)
    try {
      expect((await c.exec('echo up')).stdout.toString()).toBe('up\n')
      const before = logins()
      // the master ends (as when it is killed or its connection drops); sshd still answers
      execFileSync('ssh', [
        '-F',
        fleet.sshConfig,
        '-o',
        `ControlPath=${c.controlPath}`,
        '-O',
        'exit',
        '--',
        m.name,
      ])
      await new Promise((r) => setTimeout(r, 300))
      await expect(c.exec('echo again')).rejects.toMatchObject({
        code: 'UNREACHABLE',
        message: `machine ${m.name} (${m.name}): the connection was lost`,
      })
      const sftp = c.sftp()
      sftp.stdin.end()
      const code = await new Promise((r) => sftp.on('close', r))
      expect(code).toBe(255)
      expect(logins()).toBe(before)
    } finally {
      await c.close()
    }
  })

  /** The pid of the master of connection `c` (the process whose command line names its socket). */
  const masterPid = (c: SshConnection): number => {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
        if (argv.includes('ControlMaster=yes') && argv.some((a) => a.includes(c.controlPath)))
          return Number(pid)
      } catch {
        // gone
      }
    }
    throw new Error('no master process found')
  }
  const gone = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.startsWith('Z')
    } catch {
      return true
    }
  }
  /**
   * An environment whose PATH holds `ssh` through a link that `drop()` removes: no ssh client
   * starts after it (the directory is the kit's, removed when the file ends).
   */
  const droppableSsh = () => {
    const dir = tempDir('ssh-bin-')
    const real = execFileSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim()
    symlinkSync(real, join(dir, 'ssh'))
    return {
      env: { ...env, PATH: `${dir}:/nonexistent` },
      drop: () => rmSync(join(dir, 'ssh')),
    }
  }

  it('ends the master on its socket, starting no ssh client to do it', async () => {
    const m = fleet.machines[0]!
    const bin = droppableSsh()
    const c = await SshConnection.open(
      { name: m.name, dest: m.name, sshConfig: fleet.sshConfig },
      { controlDir, env: bin.env },
    )
    const pid = masterPid(c)
    // no ssh client can start now: `ssh -O check` and `ssh -O exit` would fail
    bin.drop()
    await c.close()
    expect(gone(pid)).toBe(true)
    expect(readdirSync(controlDir)).toEqual([])
  })

  it('asks the master whether it runs on its socket: a command whose connection died is UNREACHABLE without an ssh client', async () => {
    const m = fleet.machines[0]!
    const bin = droppableSsh()
    const c = await SshConnection.open(
      { name: m.name, dest: m.name, sshConfig: fleet.sshConfig },
      { controlDir, env: bin.env },
    )
    try {
      // the shell starts while ssh is there
      expect((await c.exec('echo up')).stdout.toString()).toBe('up\n')
      const running = c.exec('echo started; sleep 30')
      await new Promise((r) => setTimeout(r, 300))
      bin.drop()
      process.kill(masterPid(c), 'SIGKILL')
      await expect(running).rejects.toMatchObject({ code: 'UNREACHABLE' })
    } finally {
      await c.close()
    }
    expect(readdirSync(controlDir)).toEqual([])
  })

  it('kills a master that does not answer on its socket when the connection closes', async () => {
    const m = fleet.machines[0]!
    const c = await open(m.name)
    const pid = masterPid(c)
    process.kill(pid, 'SIGSTOP')
    try {
      await c.close()
      expect(gone(pid)).toBe(true)
      expect(readdirSync(controlDir)).toEqual([])
    } finally {
      if (!gone(pid)) process.kill(pid, 'SIGKILL')
    }
  })

  it('rejects a command when the machine went away during it (UNREACHABLE)', async () => {
    const m = fleet.machines[0]!
    const c = await open(m.name)
    try {
      const running = c.exec('echo started; sleep 60')
      await new Promise((r) => setTimeout(r, 500))
      await m.kill()
      await expect(running).rejects.toMatchObject({ code: 'UNREACHABLE' })
    } finally {
      await m.start()
      await c.close()
    }
  })

  /** Waits until every pid of `pids` has gone (at most 10 s); those still there. */
  const allGone = async (pids: number[]) => {
    for (let i = 0; i < 100 && pids.some((p) => !gone(p)); i++)
      await new Promise((r) => setTimeout(r, 100))
    return pids.filter((p) => !gone(p))
  }
  /** The clean ends of connections sshd of `m` has logged (a master told to exit says goodbye). */
  const goodbyes = (m: { log: string }) =>
    readFileSync(m.log, 'utf8').split('disconnected by user').length - 1

  it('removing a sockets directory ends its masters on their sockets, without an ssh client, and kills one that is stopped', async () => {
    const m = fleet.machines[1]!
    const dir = tempDir('sk-')
    const target = { name: m.name, dest: m.name, sshConfig: fleet.sshConfig }
    const [answers, stopped] = [
      await SshConnection.open(target, { controlDir: dir, env }),
      await SshConnection.open(target, { controlDir: dir, env }),
    ]
    const [pid, hung] = [masterPid(answers), masterPid(stopped)]
    const before = goodbyes(m)
    process.kill(hung, 'SIGSTOP')
    const path = process.env.PATH
    try {
      // no ssh client can start
      process.env.PATH = '/nonexistent'
      removeSocketDirSync(dir)
      process.env.PATH = path
      expect(await allGone([pid, hung])).toEqual([])
      expect(existsSync(dir)).toBe(false)
      // the master that answered was told to exit: it said goodbye to sshd; the stopped one did not
      for (let i = 0; i < 50 && goodbyes(m) === before; i++)
        await new Promise((r) => setTimeout(r, 100))
      expect(goodbyes(m) - before).toBe(1)
    } finally {
      process.env.PATH = path
      for (const p of [pid, hung]) if (!gone(p)) process.kill(p, 'SIGKILL')
      await Promise.all([answers.close(), stopped.close()])
    }
  })

  it("the next command's sockets directory ends a dead command's masters and kills one that is stopped", async () => {
    const m = fleet.machines[1]!
    const state = tempDir('st-')
    // a process that has ended: its pid names the directory a killed command left
    const dead = execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim()
    const dir = join(state, 'ssh', `${dead}-abcdef`)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    writeFileSync(join(dir, 'host'), hostname())
    const target = { name: m.name, dest: m.name, sshConfig: fleet.sshConfig }
    const [answers, stopped] = [
      await SshConnection.open(target, { controlDir: dir, env }),
      await SshConnection.open(target, { controlDir: dir, env }),
    ]
    const [pid, hung] = [masterPid(answers), masterPid(stopped)]
    process.kill(hung, 'SIGSTOP')
    const path = process.env.PATH
    try {
      process.env.PATH = '/nonexistent'
      const made = await socketDir(state)
      process.env.PATH = path
      expect(readdirSync(join(state, 'ssh'))).toEqual([basename(made)])
      expect(await allGone([pid, hung])).toEqual([])
    } finally {
      process.env.PATH = path
      for (const p of [pid, hung]) if (!gone(p)) process.kill(p, 'SIGKILL')
      await Promise.all([answers.close(), stopped.close()])
    }
  })
})
