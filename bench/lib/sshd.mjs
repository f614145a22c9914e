// Machines for the across-machines section: one real sshd per machine on a free 127.0.0.1 port,
// each with its own host key and directory, logging at VERBOSE (logins and sessions are counted
// from it). sshd's own "Transferred: sent N, received M bytes" line is not logged when the client
// disconnects as OpenSSH's client does (sshd exits on the disconnect message before it), so bytes
// over ssh are counted by a ProxyCommand in the ssh config every tool reads. A session's
// HOME is its machine's directory (SetEnv), so a login shell never reads the controller user's
// ~/.bashrc (which may run slow init scripts): the bench checks it before measuring.
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stopSshd } from './procs.mjs'

const SFTP_SERVER = '/usr/lib/openssh/sftp-server'
const SESSION_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

function keygen(path, comment) {
  if (existsSync(path)) return
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path])
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`)
}

/** A port nobody listens on now (the kernel picks it). */
function freePort() {
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})",
    ],
    { encoding: 'utf8' },
  )
  return Number(r.stdout)
}

function sshdConfig({ port, home, hostKey, authorizedKeys }) {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(home, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'StrictModes no',
    'UsePAM no',
    'PrintMotd no',
    'AcceptEnv none',
    // the admin's environment comes after the login's own: HOME is replaced
    `SetEnv HOME=${home} PATH=${SESSION_PATH}`,
    'LogLevel VERBOSE',
    'MaxStartups 100',
    `Subsystem sftp ${SFTP_SERVER}`,
    '',
  ].join('\n')
}

/**
 * Starts `n` machines `m1`…`mN` below `dir` (reusing keys made before); each machine's
 * directory is `dir/mI` (its `root` below it is the caller's to fill). Returns the machines,
 * an ssh config with a Host entry per machine (and one per `127.0.0.1` port, for tools that
 * connect by address), and `stop()`.
 */
export function startMachines(dir, n, { log = () => {}, proxyLog } = {}) {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  mkdirSync(dir, { recursive: true })
  const clientKey = join(dir, 'client_ed25519')
  keygen(clientKey, 'cutover-bench-client')
  const authorizedKeys = join(dir, 'authorized_keys')
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`))
  chmodSync(authorizedKeys, 0o600)
  const knownHosts = join(dir, 'known_hosts')
  const sshConfig = join(dir, 'ssh_config')
  const machines = []
  const daemons = []
  let reaper
  const stop = () => {
    for (const d of daemons.splice(0)) if (d.exitCode === null) stopSshd(d.pid)
    reaper?.kill('SIGTERM')
    reaper = undefined
  }
  process.once('exit', stop)
  try {
    for (let i = 1; i <= n; i++) {
      const name = `m${i}`
      const home = join(dir, name)
      mkdirSync(home, { recursive: true })
      const hostKey = join(home, 'host_ed25519')
      keygen(hostKey, `cutover-bench-${name}`)
      const log = join(home, 'sshd.log')
      let started
      for (let attempt = 0; attempt < 5 && !started; attempt++) {
        const port = freePort()
        const config = join(home, 'sshd_config')
        writeFileSync(config, sshdConfig({ port, home, hostKey, authorizedKeys }))
        const at = existsSync(log) ? statSync(log).size : 0
        // a process group of its own: a Ctrl-C that reaches the daemon and not the connections
        // it serves would leave these (and the ControlMasters connected to them) to nobody
        const daemon = spawn('/usr/sbin/sshd', ['-D', '-E', log, '-f', config], {
          stdio: 'ignore',
          detached: true,
        })
        daemons.push(daemon)
        for (let t = 0; t < 300; t++) {
          sleep(50)
          const text = existsSync(log) ? readFileSync(log, 'latin1').slice(at) : ''
          if (text.includes('Server listening on')) {
            started = { name, port, home, root: join(home, 'root'), log, pid: daemon.pid }
            break
          }
          if (daemon.exitCode !== null || /Bind to port|Cannot bind/.test(text)) break
        }
        if (!started) daemon.kill('SIGKILL')
      }
      if (!started) throw new Error(`${name}: sshd did not start: see ${log}`)
      machines.push(started)
    }
  } catch (e) {
    stop()
    throw e
  }
  // the daemons never outlive the bench, even one ended by a signal
  reaper = spawn(
    process.execPath,
    [
      new URL('./reaper.mjs', import.meta.url).pathname,
      String(process.pid),
      ...machines.map((m) => String(m.pid)),
    ],
    { detached: true, stdio: 'ignore' },
  )
  reaper.unref()
  const pub = (m) => readFileSync(join(m.home, 'host_ed25519.pub'), 'utf8').trim()
  writeFileSync(knownHosts, machines.map((m) => `[127.0.0.1]:${m.port} ${pub(m)}\n`).join(''))
  const common = [
    '  User root',
    `  IdentityFile ${clientKey}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    '  ConnectTimeout 10',
    ...(proxyLog
      ? [
          `  ProxyCommand /usr/bin/perl ${new URL('./count-proxy.pl', import.meta.url).pathname} %h %p ${proxyLog}`,
        ]
      : []),
  ]
  writeFileSync(
    sshConfig,
    [
      ...machines.flatMap((m) => [
        `Host ${m.name}`,
        '  HostName 127.0.0.1',
        `  Port ${m.port}`,
        ...common,
      ]),
      'Host 127.0.0.1',
      ...common,
      '',
    ].join('\n'),
  )
  log(`started ${n} sshd on 127.0.0.1 ports ${machines.map((m) => m.port).join(', ')}`)
  return { dir, machines, sshConfig, knownHosts, clientKey, stop }
}

/** The log offsets of every machine now (before a run). */
export const logMarks = (machines) =>
  machines.map((m) => (existsSync(m.log) ? statSync(m.log).size : 0))

/** Logins and sessions (exec, sftp) the machines' sshd accepted since `marks`. */
export function sessions(machines, marks) {
  let logins = 0
  let opened = 0
  machines.forEach((m, i) => {
    const text = readFileSync(m.log, 'latin1').slice(marks[i])
    logins += (text.match(/Accepted publickey/g) ?? []).length
    opened += (text.match(/Starting session|subsystem request/g) ?? []).length
  })
  return { logins, sessions: opened }
}

/** The length of the proxy's log now (before a run). */
export const proxyMark = (proxyLog) => (existsSync(proxyLog) ? statSync(proxyLog).size : 0)

/**
 * The wire bytes of the connections made since `mark`, both directions, once every one of them
 * has ended (a ControlMaster still open has not: close it first); `open` counts those that had
 * not ended within `ms`.
 */
export function proxyBytes(proxyLog, mark, ms = 15_000) {
  const until = Date.now() + ms
  for (;;) {
    const text = existsSync(proxyLog) ? readFileSync(proxyLog, 'latin1').slice(mark) : ''
    const opened = (text.match(/^open$/gm) ?? []).length
    const closed = [...text.matchAll(/^close (\d+) (\d+)$/gm)]
    if (closed.length >= opened || Date.now() > until) {
      const toMachine = closed.reduce((a, x) => a + Number(x[1]), 0)
      const fromMachine = closed.reduce((a, x) => a + Number(x[2]), 0)
      return { toMachine, fromMachine, connections: closed.length, open: opened - closed.length }
    }
    sleep(50)
  }
}
