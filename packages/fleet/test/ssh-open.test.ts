import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { commitFiles, sha256 } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openMachine } from '../src/open.js'
import { tempDir } from '@cutover/test-kit/temp'

/** The pids of the ssh clients (`ssh`, or a path to it) whose command line names `needle` (a control socket's path). */
function sshProcesses(needle: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0')
        return /(^|\/)ssh$/.test(argv[0]!) && argv.some((a) => a.includes(needle))
      } catch {
        return false
      }
    })
    .map(Number)
}

// A machine opened over real OpenSSH: its commands, files and state directory over one connection.
describe.runIf(need('sshd'))('openMachine', () => {
  let fleet: TestFleet
  let controlDir: string
  const env = { PATH: process.env.PATH, HOME: process.env.HOME }
  beforeAll(async () => {
    fleet = await startFleet(2)
    controlDir = tempDir('co-')
  })
  afterAll(async () => {
    await fleet?.stop()
    if (controlDir) rmSync(controlDir, { recursive: true, force: true })
  })

  it('opens a local directory machine without ssh', async () => {
    const root = tempDir('cutover-local-')
    writeFileSync(join(root, 'f'), 'local\n')
    const m = await openMachine({ name: 'here', root }, { controlDir, env })
    expect(m.hostKey).toBeUndefined()
    expect(m.label).toBe('here:')
    expect((await m.readFile(join(root, 'f'))).toString()).toBe('local\n')
    expect((await m.exec('cat', { stdin: Buffer.from('x') })).stdout.toString()).toBe('x')
    await m.close()
    expect(readdirSync(controlDir)).toEqual([])
    rmSync(root, { recursive: true })
  })

  it('reads and writes files over SFTP on the connection, and closes all of it', async () => {
    const t = fleet.machines[0]!
    const m = await openMachine(
      { name: 'finance', ssh: t.name, root: t.root },
      { controlDir, env, sshConfig: fleet.sshConfig },
    )
    const socket = readdirSync(controlDir).find((f) => !f.endsWith('.log'))!
    try {
      expect(m.label).toBe('finance:')
      const keygen = execFileSync('ssh-keygen', ['-lf', `${t.hostKeyPath}.pub`], {
        encoding: 'utf8',
      })
      expect(m.hostKey).toBe(keygen.split(' ')[1])
      // reading: a link followed, a missing file an errno
      mkdirSync(join(t.root, 'etc'), { recursive: true })
      writeFileSync(join(t.root, 'etc', 'hosts'), '10.0.0.1 db\n')
      symlinkSync('hosts', join(t.root, 'etc', 'hosts.link'))
      expect((await m.readFile(join(t.root, 'etc', 'hosts.link'))).toString()).toBe('10.0.0.1 db\n')
      await expect(m.readFile(join(t.root, 'etc', 'nope'))).rejects.toMatchObject({
        code: 'ENOENT',
      })
      // a transaction over the machine's file system and state directory, both on the machine
      const path = join(t.root, 'etc', 'hosts')
      const stateDir = join(t.root, 'var', 'lib', 'cutover')
      const result = await commitFiles(
        [
          {
            target: 'etc/hosts',
            path,
            before: sha256(Buffer.from('10.0.0.1 db\n')),
            content: Buffer.from('10.0.0.2 db\n'),
          },
        ],
        { stateDir, fileSystem: m.fileSystem, stateFileSystem: m.stateFileSystem },
      )
      expect(readFileSync(path, 'utf8')).toBe('10.0.0.2 db\n')
      expect(readdirSync(join(stateDir, 'tx'))).toContain(result.txid)
      expect(sshProcesses(socket).length).toBeGreaterThan(0)
    } finally {
      await m.close()
    }
    // the master, the SFTP channel and its socket are gone
    expect(sshProcesses(socket)).toEqual([])
    expect(readdirSync(controlDir)).toEqual([])
  })

  it('returns from close once the master has exited, not once it was asked to', async () => {
    // ssh as it is, except that the master asked to exit is stopped for a second first: it
    // answers and exits only after a close that did not wait for it would have returned
    const t = fleet.machines[0]!
    const bin = tempDir('cutover-slow-master-')
    const realSsh = execFileSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim()
    const pidFile = join(bin, 'master.pid')
    writeFileSync(
      join(bin, 'ssh'),
      [
        '#!/bin/sh',
        'case " $* " in',
        '*" -O exit "*)',
        `  pid=$(cat '${pidFile}')`,
        '  kill -STOP "$pid"',
        `  ( '${realSsh}' "$@" & sleep 1; kill -CONT "$pid" ) </dev/null >/dev/null 2>&1 &`,
        '  exit 0 ;;',
        'esac',
        `exec '${realSsh}' "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    )
    try {
      const m = await openMachine(
        { name: 'finance', ssh: t.name, root: t.root },
        { controlDir, env: { ...env, PATH: `${bin}:${env.PATH}` }, sshConfig: fleet.sshConfig },
      )
      const socket = readdirSync(controlDir).find((f) => !f.endsWith('.log'))!
      const master = sshProcesses(socket).find((p) =>
        readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('ControlMaster=yes'),
      )!
      expect(master).toBeGreaterThan(0)
      writeFileSync(pidFile, `${master}\n`)
      await m.close()
      expect(sshProcesses(socket)).not.toContain(master)
      expect(readdirSync(controlDir)).toEqual([])
    } finally {
      rmSync(bin, { recursive: true, force: true })
    }
  })

  it('takes a destination and port of its own (ssh -p)', async () => {
    const t = fleet.machines[1]!
    // the test's client settings for every host; the port comes from the spec
    const cfg = join(fleet.dir, 'ssh_config_any_host')
    writeFileSync(
      cfg,
      [
        'Host *',
        `  IdentityFile ${fleet.clientKey}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${fleet.knownHosts}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
    )
    const m = await openMachine(
      { name: 'hrdb', ssh: 'root@127.0.0.1', port: t.port, root: t.root },
      { controlDir, env, sshConfig: cfg },
    )
    try {
      expect(m.hostKey).toBe(t.hostKeyFingerprint)
      expect((await m.exec('echo "$PATH"')).stdout.toString()).toContain(t.bin)
    } finally {
      await m.close()
    }
  })

  it('names the machine of the spec when it cannot be reached', async () => {
    const t = fleet.machines[1]!
    await t.stop()
    try {
      await expect(
        openMachine(
          { name: 'tenders', ssh: t.name, root: '/' },
          { controlDir, env, sshConfig: fleet.sshConfig },
        ),
      ).rejects.toMatchObject({
        code: 'UNREACHABLE',
        message: expect.stringMatching(/^machine tenders \(m2\): cannot connect: /),
      })
    } finally {
      await t.start()
    }
  })
})
