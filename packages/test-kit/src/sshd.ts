// Test harness: machines reached over real OpenSSH. Each machine is an `sshd -D -e -f CONFIG`
// process on a free loopback port with its own host key (made per run), a client key the
// machines all accept, a known_hosts and an ssh_config written for the test (`Host m1 … mN`), and
// its own `root` directory for the files of the machine. In chroot mode (`{ chroot: true }`, root
// only) each sshd runs in a mount namespace of its own with the machine's root as the sessions'
// `/`: commands there read that machine's own etc/hosts, as on a separate machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { need } from './tools.js'

const SFTP_SERVER = '/usr/lib/openssh/sftp-server'
/** The PATH of a session on a test machine, after the machine's own `bin` directory. */
const SESSION_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** One test machine: a running sshd on 127.0.0.1:`port`. */
export interface TestMachine {
  /** Its Host alias in {@link TestFleet.sshConfig} (`m1`, `m2`, …). */
  name: string
  port: number
  /** Its own directory, where a test writes the machine's files. */
  root: string
  /**
   * The `root:` of its machine spec: {@link root} itself, or `/` in chroot mode (where the
   * sessions' `/` is {@link root}).
   */
  specRoot: string
  /**
   * A directory first on the PATH of the machine's sessions (sshd's `SetEnv`): a command put here
   * runs only when run on this machine.
   */
  bin: string
  /** sshd's log (`-e`: its stderr), e.g. to count logins (`Accepted publickey`). */
  log: string
  /** Path of its private host key (the public one is beside it, `.pub`). */
  hostKeyPath: string
  /** `SHA256:…` of its current host key, as `ssh-keygen -lf` gives it. */
  hostKeyFingerprint: string
  /** Stops its sshd (SIGTERM; the connections it serves end too) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts its sshd again, on the same port with the same host key. */
  start(): Promise<void>
  /** SIGKILL of its sshd and of every session process under it: a live connection is cut. */
  kill(): Promise<void>
  /**
   * Makes a new host key for the machine (known_hosts keeps the old one) and restarts its sshd:
   * the machine now presents a changed key.
   */
  rekey(): Promise<void>
}

/** Machines reached over real sshd (see {@link startFleet}). */
export interface TestFleet {
  /** The directory of everything the fleet wrote. */
  dir: string
  /** An ssh_config with `Host m1 … mN`: HostName, Port, User root, the client key, known_hosts. */
  sshConfig: string
  /** The known_hosts the ssh_config names (`[127.0.0.1]:PORT ssh-ed25519 …` per machine). */
  knownHosts: string
  /** The client's private key. */
  clientKey: string
  machines: TestMachine[]
  /** Stops every sshd and removes {@link dir}. */
  stop(): Promise<void>
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function keygen(path: string, comment: string): void {
  rmSync(path, { force: true })
  rmSync(`${path}.pub`, { force: true })
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path])
}

function fingerprint(path: string): string {
  // `256 SHA256:… comment (ED25519)`
  return run('ssh-keygen', ['-lf', `${path}.pub`]).split(' ')[1]!
}

/** A port nothing listens on now (the kernel's choice for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

/** Resolves once something on `port` answers with an SSH banner; false when nothing does in time. */
async function banner(port: number, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port })
      let data = ''
      const done = (v: boolean) => {
        socket.destroy()
        resolve(v)
      }
      socket.setTimeout(2000, () => done(false))
      socket.on('data', (d) => {
        data += d.toString('latin1')
        if (data.includes('\n')) done(data.startsWith('SSH-'))
      })
      socket.on('error', () => done(false))
      socket.on('end', () => done(false))
    })
    if (ok) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

/** The pids of every process descending from `pid` (read from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue // gone meanwhile
    }
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last `)`
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    const list = children.get(ppid) ?? []
    list.push(Number(entry))
    children.set(ppid, list)
  }
  const out: number[] = []
  const queue = [pid]
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child)
      queue.push(child)
    }
  }
  return out
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

function sshdConfig(o: {
  port: number
  hostKey: string
  pidFile: string
  authorizedKeys: string
  /** The PATH directory of the machine's own commands, as its sessions see it. */
  bin: string
  /** The sessions' HOME, as they see it. */
  home: string
  /**
   * The sessions' TMPDIR (`mktemp`'s directory), as they see it: the machine's own, as a real
   * machine has its /tmp, so a scratch directory a killed session leaves goes with the machine.
   */
  tmp?: string
  /** The directory sessions are confined to (chroot mode). */
  chroot?: string
}): string {
  return [
    `Port ${o.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${o.hostKey}`,
    `PidFile ${o.pidFile}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // the test directories are under a world-writable tmp
    'StrictModes no',
    'UsePAM no',
    'PrintMotd no',
    'AcceptEnv none',
    // every session in the log (`Starting session: command …`, `subsystem request for sftp`);
    // not in a chroot, where sshd's messages after the chroot reach the session's stderr
    ...(o.chroot ? [] : ['LogLevel VERBOSE']),
    // HOME: the session's shell reads `$HOME/.bashrc`, and root's own (pyenv's init on some
    // machines: a hundred processes, ≈ 0.1 s per session) has nothing to do with the machine;
    // the machine's own directory holds none. PYENV_REHASH_TIMEOUT: should an rc file still
    // rehash pyenv's shims, it waits up to a minute on the lock a killed session left behind; a
    // test session gives up at once instead (pyenv warns, the command runs)
    `SetEnv PATH=${o.bin}:${SESSION_PATH} HOME=${o.home} PYENV_REHASH_TIMEOUT=0${o.tmp ? ` TMPDIR=${o.tmp}` : ''}`,
    // sshd's default MaxSessions (10 sessions over one connection), as on a real machine
    'MaxStartups 100',
    // in a chroot the server's own sftp-server cannot be run: the in-process one is the same code
    ...(o.chroot
      ? [`ChrootDirectory ${o.chroot}`, 'Subsystem sftp internal-sftp']
      : [`Subsystem sftp ${SFTP_SERVER}`]),
    '',
  ].join('\n')
}

/** The system directories a chroot machine sees read-only (a link of the host, such as `bin -> usr/bin`, is made a link). */
const SYSTEM_DIRS = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']
const MOUNTED_DIRS = ['dev', 'proc']

/**
 * Whether this process can start chroot machines ({@link startFleet} with `chroot: true`): it
 * runs as root and has `unshare` and `mount`. A test skips when it cannot; under CI=true, as
 * root, a missing tool is an error (CI must install it).
 */
export function canChroot(): boolean {
  if (process.getuid?.() !== 0) return false
  return need('unshare') && need('mount')
}

/**
 * Makes `root` ready to be a chroot machine's `/`: the mount points of the system directories
 * (an empty directory each, or the host's link such as `bin -> usr/bin`), never over what the
 * machine already has there.
 */
function chrootSkeleton(root: string): void {
  for (const d of [...SYSTEM_DIRS, ...MOUNTED_DIRS]) {
    let host: ReturnType<typeof lstatSync>
    try {
      host = lstatSync(`/${d}`)
    } catch {
      continue
    }
    const at = join(root, d)
    if (existsSync(at) || isLink(at)) continue
    mkdirSync(join(at, '..'), { recursive: true, mode: 0o755 })
    if (host.isSymbolicLink()) symlinkSync(readlinkSync(`/${d}`), at)
    else mkdirSync(at, { mode: 0o755 })
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/**
 * The shell script that mounts the system directories into `root` (read-only; /dev and /proc
 * as they are) in the mount namespace it runs in, then becomes sshd.
 */
function chrootLaunch(root: string, configPath: string): string {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
  const lines = ['set -e']
  for (const d of [...SYSTEM_DIRS, ...MOUNTED_DIRS]) {
    let host: ReturnType<typeof lstatSync>
    try {
      host = lstatSync(`/${d}`)
    } catch {
      continue
    }
    if (host.isSymbolicLink() || !host.isDirectory()) continue
    const at = q(join(root, d))
    // a directory the machine holds itself (a link there leads elsewhere) is left as it is
    lines.push(`if [ -d ${at} ] && [ ! -L ${at} ]; then mount --bind /${d} ${at}`)
    if (SYSTEM_DIRS.includes(d)) lines.push(`  mount -o remount,bind,ro ${at}`)
    lines.push('fi')
  }
  lines.push(`exec /usr/sbin/sshd -D -e -f ${q(configPath)}`)
  return lines.join('\n')
}

/** How {@link startFleet} makes its machines. */
export interface FleetOptions {
  /** The directory of everything the fleet writes (the caller's to remove); a new one by default. */
  dir?: string
  /**
   * Chroot machines (root only: see {@link canChroot}): each sshd runs in a mount namespace of
   * its own (`unshare -m`) with `ChrootDirectory` its machine's root, into which /usr (and the
   * host's links to it: /bin, /lib…), /dev and /proc are bind-mounted (the
   * system ones read-only), and the in-process `internal-sftp`. A session's `/` is then the
   * machine's root ({@link TestMachine.specRoot} is `/`): `getent hosts` there reads that
   * machine's own etc/hosts. sshd wants every component of a chroot's path root-owned and not
   * writable by group or others, so the fleet's directory is a 0700 one under /var/lib (not the
   * world-writable temp directory); `dir` must be such a place too.
   */
  chroot?: boolean
}

/** Starts `n` machines over real sshd (see the file comment); `stop()` them at the end of the test. */
export async function startFleet(n: number, o: FleetOptions = {}): Promise<TestFleet> {
  need('sshd')
  need('ssh')
  need('ssh-keygen')
  if (o.chroot && !canChroot())
    throw new Error('chroot machines need root, unshare and mount: check canChroot() first')
  // sshd's privilege separation directory
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const dir =
    o.dir ?? mkdtempSync(o.chroot ? '/var/lib/cutover-sshd-' : join(tmpdir(), 'cutover-sshd-'))
  mkdirSync(dir, { recursive: true })
  const clientKey = join(dir, 'client_ed25519')
  keygen(clientKey, 'cutover-test-client')
  const authorizedKeys = join(dir, 'authorized_keys')
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`))
  chmodSync(authorizedKeys, 0o600)
  const knownHosts = join(dir, 'known_hosts')
  const sshConfig = join(dir, 'ssh_config')

  const machines: (TestMachine & { daemon?: ChildProcess })[] = []
  try {
    for (let i = 1; i <= n; i++) machines.push(await startMachine(`m${i}`))
  } catch (e) {
    // the caller gets no fleet to stop: the machines already started (and, in chroot mode,
    // their namespaces) end here, with the directory the fleet made
    await Promise.all(machines.map((m) => m.kill()))
    if (!o.dir) rmSync(dir, { recursive: true, force: true })
    throw e
  }

  writeFileSync(
    knownHosts,
    machines
      .map((m) => `[127.0.0.1]:${m.port} ${readFileSync(`${m.hostKeyPath}.pub`, 'utf8').trim()}\n`)
      .join(''),
  )
  writeFileSync(
    sshConfig,
    machines
      .map((m) =>
        [
          `Host ${m.name}`,
          '  HostName 127.0.0.1',
          `  Port ${m.port}`,
          '  User root',
          `  IdentityFile ${clientKey}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${knownHosts}`,
          '  GlobalKnownHostsFile /dev/null',
          '  StrictHostKeyChecking yes',
          '  UpdateHostKeys no',
          '  ConnectTimeout 10',
          '',
        ].join('\n'),
      )
      .join(''),
  )

  async function startMachine(name: string): Promise<TestMachine & { daemon?: ChildProcess }> {
    const home = join(dir, name)
    const root = join(home, 'root')
    // in a chroot, the machine's own commands must be inside it: in its /opt/test-bin
    const bin = o.chroot ? join(root, 'opt/test-bin') : join(home, 'bin')
    mkdirSync(root, { recursive: true })
    mkdirSync(bin, { recursive: true })
    if (!o.chroot) mkdirSync(join(home, 'tmp'), { mode: 0o1777 })
    if (o.chroot) {
      // umask aside: sshd refuses a chroot path with a group- or other-writable component
      for (const d of [home, root, join(root, 'opt'), bin]) chmodSync(d, 0o755)
      chrootSkeleton(root)
    }
    const hostKeyPath = join(home, 'host_ed25519')
    keygen(hostKeyPath, `cutover-test-${name}`)
    const configPath = join(home, 'sshd_config')
    const log = join(home, 'sshd.log')
    let port = 0

    const machine: TestMachine & { daemon?: ChildProcess } = {
      name,
      get port() {
        return port
      },
      root,
      specRoot: o.chroot ? '/' : root,
      bin,
      log,
      hostKeyPath,
      hostKeyFingerprint: fingerprint(hostKeyPath),
      stop: async () => {
        const daemon = machine.daemon
        if (!daemon) return
        machine.daemon = undefined
        daemon.kill('SIGTERM')
        await exited(daemon)
      },
      start: async () => {
        if (machine.daemon) return
        if (!(await launch()))
          throw new Error(`${name}: sshd did not start on port ${port}: see ${log}`)
      },
      kill: async () => {
        const daemon = machine.daemon
        if (!daemon) return
        machine.daemon = undefined
        // the session processes first: killed after the daemon they would be re-parented away
        for (const pid of [daemon.pid!, ...descendants(daemon.pid!)]) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // gone already
          }
        }
        await exited(daemon)
      },
      rekey: async () => {
        await machine.stop()
        keygen(hostKeyPath, `cutover-test-${name}-new`)
        machine.hostKeyFingerprint = fingerprint(hostKeyPath)
        await machine.start()
      },
    }

    /** Starts sshd on `port` (picking one when 0); false when it could not bind it. */
    async function launch(): Promise<boolean> {
      writeFileSync(
        configPath,
        sshdConfig({
          port,
          hostKey: hostKeyPath,
          pidFile: join(home, 'sshd.pid'),
          authorizedKeys,
          bin: o.chroot ? '/opt/test-bin' : bin,
          home: o.chroot ? '/' : home,
          ...(o.chroot ? { chroot: root } : { tmp: join(home, 'tmp') }),
        }),
      )
      // unshare execs the shell, which execs sshd: the child is sshd itself, as without chroot,
      // and its mounts go with the namespace when it ends
      const daemon = o.chroot
        ? spawn(
            'unshare',
            ['-m', '--propagation', 'private', '/bin/sh', '-c', chrootLaunch(root, configPath)],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          )
        : spawn('/usr/sbin/sshd', ['-D', '-e', '-f', configPath], {
            stdio: ['ignore', 'ignore', 'pipe'],
          })
      // Listening is what sshd says once it bound the port (another's sshd may answer on a port
      // this one failed to bind); the banner then shows it serves.
      const listening = new Promise<boolean>((resolve) => {
        let text = ''
        daemon.stderr!.on('data', (d: Buffer) => {
          appendFileSync(log, d)
          text += d.toString('latin1')
          if (text.includes('Server listening on')) resolve(true)
        })
        void exited(daemon).then(() => resolve(false))
        setTimeout(() => resolve(false), 15_000).unref()
      })
      const ready = (await listening) && (await banner(port, Date.now() + 15_000))
      if (ready && daemon.exitCode === null) {
        machine.daemon = daemon
        return true
      }
      daemon.kill('SIGKILL')
      await exited(daemon)
      return false
    }

    // A port free a moment ago may be taken by the time sshd binds it: pick another then.
    for (let attempt = 0; attempt < 10; attempt++) {
      port = await freePort()
      if (await launch()) return machine
    }
    throw new Error(`${name}: sshd did not start: see ${log}`)
  }

  return {
    dir,
    sshConfig,
    knownHosts,
    clientKey,
    machines,
    stop: async () => {
      await Promise.all(machines.map((m) => m.kill()))
      // a directory the caller gave is the caller's to remove
      if (!o.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
