import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process'
import type { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { constants } from 'node:os'
import { join } from 'node:path'
import { describeTimeout, toolTimeoutMs } from '@cutover/rewrite'
import { FleetError } from '../errors.js'
import type { ExecResult } from '../machine.js'
import { shellQuote } from '../remote-shell.js'
import { connectError, serverHostKey } from './classify.js'
import { muxRequest } from './mux.js'
import { REPORTER, RemoteShell, SHELL_COMMAND } from './shell.js'

/**
 * Longest control socket path this accepts: a unix socket's path has 108 bytes on Linux (104 on
 * the BSDs), and ssh binds a temporary name 17 bytes longer before it renames it into place.
 */
export const MAX_CONTROL_PATH = 86

/** How long the master outlives its last session when nobody ends it (the controller killed). */
const PERSIST_SECONDS = 300

/**
 * The master's keepalive when the user's ssh config sets none: a machine that stops answering
 * (frozen, or a network that drops packets silently) ends the connection within a minute, so a
 * command reports it unreachable (in doubt, during a commit) instead of hanging for the 15
 * minutes of BatchMode's default (300 s × 3) or as long as TCP keeps trying.
 */
const ALIVE_INTERVAL_SECONDS = 15
const ALIVE_COUNT_MAX = 4

/** How long a master asked to exit may take before it is killed. */
const MASTER_EXIT_MS = 5_000

/** How long connecting may take before the machine is called unreachable. */
const CONNECT_TIMEOUT_MS = 60_000

/**
 * Commands run at once over one connection: sshd refuses sessions past its `MaxSessions` (10 by
 * default), and the SFTP channel holds one.
 */
const MAX_EXECS = 8

/** Where and how to reach one machine over the system's `ssh`. */
export interface SshTarget {
  /** The machine's name, for messages. */
  name: string
  /** A destination as `ssh` takes it: `[user@]host` or a Host alias of the ssh config. */
  dest: string
  port?: number
  /** An ssh_config file given to `ssh -F` instead of the user's. */
  sshConfig?: string
}

/**
 * The environment of every ssh child: what the client needs to find its configuration, its keys
 * and an agent holding them (a passphrase cannot be asked: BatchMode), and a Kerberos ticket
 * cache; nothing else of the controller's environment (its secrets) reaches it. The agent is
 * used to log in only: forwarding is off.
 */
export function sshEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C' }
  for (const name of ['HOME', 'USER', 'LOGNAME', 'SSH_AUTH_SOCK', 'KRB5CCNAME'] as const) {
    if (env[name] !== undefined) out[name] = env[name]
  }
  return out
}

/**
 * The options every ssh invocation of a machine carries: the config file, the port, no prompt
 * ever (BatchMode; the children have no terminal either), no forwarding of any kind, no escape
 * character, and the fingerprints in SHA256. StrictHostKeyChecking is left as the user set it.
 */
/** The user's part of every ssh command line: the config file and the port. */
function configArgs(t: SshTarget): string[] {
  return [
    ...(t.sshConfig !== undefined ? ['-F', t.sshConfig] : []),
    ...(t.port !== undefined ? ['-p', String(t.port)] : []),
  ]
}

function baseArgs(t: SshTarget, controlPath: string): string[] {
  return [
    ...configArgs(t),
    '-o',
    `ControlPath=${configValue(controlPath)}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'ForwardAgent=no',
    '-o',
    'ForwardX11=no',
    '-o',
    'ClearAllForwardings=yes',
    '-o',
    'FingerprintHash=sha256',
    // the commands are cutover's own: none of the config's runs instead or beside them
    '-o',
    'RemoteCommand=none',
    '-o',
    'PermitLocalCommand=no',
    '-T',
    '-e',
    'none',
  ]
}

/**
 * Whether the user's ssh config gives `target` a keepalive (`ServerAliveInterval` other than 0),
 * as `ssh -G` resolves it; then cutover adds none of its own.
 */
async function configuredAlive(target: SshTarget, env: NodeJS.ProcessEnv): Promise<boolean> {
  // without cutover's own options: BatchMode alone makes ssh's default keepalive 300 s (×3)
  const child = spawn('ssh', [...configArgs(target), '-G', '--', target.dest], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = collect(child)
  if ((await exitOf(child)) !== 0) return false
  const m = /^serveraliveinterval (\d+)$/m.exec(output().stdout.toString('utf8'))
  return m !== null && Number(m[1]) > 0
}

/**
 * A path as the value of an `-o` option, which ssh reads as a line of its config: in double
 * quotes (a space would end the value), `%` doubled (ssh expands `%h` and the like in
 * ControlPath), a quote or backslash escaped.
 */
export function configValue(path: string): string {
  return `"${path.replace(/[\\"]/g, '\\$&').replace(/%/g, '%%')}"`
}

/** Waits for a child to exit: its code, or 128 + the number of the signal that ended it. */
function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve(
        code ??
          128 + ((constants.signals as Record<string, number | undefined>)[signal ?? ''] ?? 0),
      ),
    )
  })
}

/** Resolves once `child` has exited (at once when it already has), whatever its pipes do. */
function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(-1)
    else child.once('exit', () => resolve(-1))
  })
}

/**
 * The remote command line of a script: the login shell only starts `/bin/sh` in the C locale,
 * which runs the script under the machine's `timeout -s KILL` when it has one. Ending the ssh
 * client ends the session but not what it started (sshd hangs up nothing without a terminal):
 * the machine kills the script and every process of its group itself after `seconds`, as the
 * controller gives up on it. When it does, it prints `mark` on a line of stderr (the script's
 * parent, shell.ts's REPORTER, tells that from the script's own death of SIGKILL): the
 * controller may read that exit before its own timer fires. The shell that waits for `timeout`
 * has /dev/null as its stderr (it would say `Killed` on the script's). Only a `timeout` of
 * coreutils (by its `--version`; GNU's) kills its process group: busybox's and toybox's kill
 * the one process they run, which would be the reporter, the script left running (and
 * busybox's watcher, which holds the reporter's pipe, looks once a second whether it has
 * ended): with them the script runs under `timeout` itself, as before the reporter, a fired
 * timeout then the script's 137.
 */
export function remoteCommand(script: string, seconds: number, mark: string): string {
  const wrapper = [
    'if command -v timeout >/dev/null 2>&1; then',
    `  case $(timeout --version 2>/dev/null) in *coreutils*)`,
    `    exec 5>&1 6>&2; r=$(exec 2>/dev/null; (timeout -s KILL "$1" /bin/sh -c ${shellQuote(REPORTER)} sh "$2" 3>&1 >&5 2>&6 5>&- 6>&-); exit "$?"); c=$?`,
    '    if [ -n "$r" ]; then exit "$r"; fi',
    `    if [ "$c" -eq 137 ]; then printf '\n%s\n' "$3" >&2; fi`,
    '    exit "$c"',
    '  esac',
    '  exec timeout -s KILL "$1" /bin/sh -c "$2"',
    'fi',
    'exec /bin/sh -c "$2"',
  ].join('\n')
  return `exec env LC_ALL=C LANG=C /bin/sh -c ${shellQuote(wrapper)} sh ${seconds} ${shellQuote(script)} ${mark}`
}

function collect(child: {
  stdout: Readable
  stderr: Readable
}): () => { stdout: Buffer; stderr: string } {
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  return () => ({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') })
}

/**
 * One machine's multiplexed OpenSSH connection: a control master started by {@link open} (it
 * verifies the host key as the user's ssh config says and logs in), then every command and the
 * SFTP channel as sessions over its control socket.
 */
export class SshConnection {
  private closed = false
  private running = 0
  private readonly waiting: (() => void)[] = []
  /** The long-lived shells that wait for a command (see shell.ts), and every one not yet ended. */
  private readonly idle: RemoteShell[] = []
  private readonly shells = new Set<RemoteShell>()
  /** False once the machine said its shell cannot frame commands: each runs in a session then. */
  private framing = true
  /** The shell {@link warm} started, until a command takes it. */
  private warming: Promise<RemoteShell | undefined> | undefined

  private constructor(
    private readonly target: SshTarget,
    private readonly env: NodeJS.ProcessEnv,
    /** The master's control socket. */
    readonly controlPath: string,
    /** The master's log (its debug output, where the host key is named). */
    private readonly logPath: string,
    /** `SHA256:…` of the host key the master verified. */
    readonly hostKey: string | undefined,
    /** The master's process id as it answered once it had logged in (0: it did not). */
    private readonly masterPid: number,
  ) {}

  /**
   * Connects: starts a control master for `target` with its socket in `controlDir` (made 0700
   * when absent; it must be nobody else's) and waits until it has logged in. Rejects with a
   * {@link FleetError} naming the machine when it cannot: HOST_KEY_UNKNOWN, HOST_KEY_CHANGED,
   * UNREACHABLE, SSH_AUTH, SSH.
   */
  static async open(
    target: SshTarget,
    o: { controlDir: string; env: NodeJS.ProcessEnv },
  ): Promise<SshConnection> {
    privateDir(o.controlDir)
    const id = randomBytes(6).toString('hex')
    const controlPath = join(o.controlDir, id)
    if (Buffer.byteLength(controlPath) > MAX_CONTROL_PATH) {
      throw new FleetError(
        'MACHINE',
        `machine ${target.name}: the control socket directory ${o.controlDir} is too long for a unix socket path (at most ${MAX_CONTROL_PATH - 13} bytes)`,
      )
    }
    const logPath = join(o.controlDir, `${id}.log`)
    const env = sshEnv(o.env)
    const alive = (await configuredAlive(target, env))
      ? []
      : [
          '-o',
          `ServerAliveInterval=${ALIVE_INTERVAL_SECONDS}`,
          '-o',
          `ServerAliveCountMax=${ALIVE_COUNT_MAX}`,
        ]
    const master = spawn(
      'ssh',
      [
        ...baseArgs(target, controlPath),
        ...alive,
        '-o',
        'ControlMaster=yes',
        '-o',
        `ControlPersist=${PERSIST_SECONDS}`,
        // what cutover sends and reads (file listings, configuration files, command lines)
        // compresses 3× and more; zlib's cost is small beside a round trip
        '-o',
        'Compression=yes',
        // the log names the host key the master verified; a file, as the master outlives its stderr
        '-o',
        'LogLevel=DEBUG1',
        '-E',
        logPath,
        '-N',
        '--',
        target.dest,
      ],
      // detached: a session of its own, without a terminal to prompt on
      { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    )
    const output = collect(master)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      master.kill('SIGKILL')
    }, CONNECT_TIMEOUT_MS)
    // With ControlPersist the client forks the master into the background once it has logged
    // in and exits 0: that exit is the sign the connection is up.
    const code = await exitOf(master).finally(() => clearTimeout(timer))
    // the host key is read from the log alone: what the server sends before it logs in (a
    // banner) reaches the client's stderr, never the log's debug lines
    const debugLog = readLog(logPath)
    const log = debugLog + output().stderr
    if (code !== 0 || timedOut) {
      rmSync(logPath, { force: true })
      rmSync(controlPath, { force: true })
      if (timedOut) {
        throw new FleetError(
          'UNREACHABLE',
          `machine ${target.name} (${target.dest}): cannot connect: no answer in ${describeTimeout(CONNECT_TIMEOUT_MS)}`,
        )
      }
      throw connectError(target.name, target.dest, log)
    }
    // the master's pid, for close() to see it gone (it is not this process's child: ssh forked it away)
    const pid = await pidOf(controlPath, () => control(target, env, controlPath, 'check'))
    return new SshConnection(target, env, controlPath, logPath, serverHostKey(debugLog), pid)
  }

  /**
   * The arguments of a session over the master (never a master itself). Without a master to
   * answer on the socket, ssh would log in again on its own, past the host key the master
   * verified (the one the plan records): its connection command fails instead, so that a
   * session goes through the master or not at all.
   */
  private sessionArgs(): string[] {
    return [
      ...baseArgs(this.target, this.controlPath),
      '-o',
      'ControlMaster=no',
      '-o',
      'ProxyCommand=false',
    ]
  }

  /**
   * Runs `script` with the machine's `/bin/sh` (in the C locale), through the master, with
   * `stdin` fed to it. The script is the remote command line: nothing secret may be in it. Never
   * rejects for a non-zero exit; rejects when the machine cannot be reached (UNREACHABLE) or the
   * script runs longer than the tool timeout (`ETIMEDOUT`).
   */
  async exec(script: string, options: { stdin?: Buffer } = {}): Promise<ExecResult> {
    this.assertOpen()
    // a finished command hands its place to the next waiting one
    if (this.running >= MAX_EXECS) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    try {
      // a command that waited for its turn while the connection closed starts nothing
      this.assertOpen()
      return (await this.execInShell(script, options)) ?? (await this.execNow(script, options))
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }

  /**
   * Runs `script` in one of the connection's long-lived shells (shell.ts), started when none is
   * idle (one at most per command running: {@link MAX_EXECS}). Undefined when no shell could take
   * it, before anything was sent: the command then runs in a session of its own. Fails as a
   * session would: `ETIMEDOUT` (the shell is killed), UNREACHABLE when the shell ended with the
   * master, else the shell's end as the script's exit code.
   */
  private async execInShell(
    script: string,
    options: { stdin?: Buffer },
  ): Promise<ExecResult | undefined> {
    if (!this.framing) return undefined
    const ms = toolTimeoutMs()
    let shell: RemoteShell | undefined
    while ((shell = this.idle.pop()) && !shell.idle);
    if (!shell && this.warming) {
      const warm = this.warming
      this.warming = undefined
      shell = await warm
      if (shell && !shell.idle) shell = undefined
      if (!this.framing) return undefined
    }
    if (!shell) {
      // close() ran while the warm shell started: nothing is sent, nothing more started
      this.assertOpen()
      shell = this.startShell(ms)
      const ready = await shell.ready
      // close() ended it while it started: nothing was sent, nor will be
      this.assertOpen()
      if (!ready) {
        if (shell.unframed) this.framing = false
        return undefined
      }
      if (!shell.idle) return undefined
    }
    const outcome = await shell.run(
      script,
      options.stdin ?? Buffer.alloc(0),
      Math.ceil(ms / 1000),
      ms,
    )
    // the shell took the whole command (its script ended, or the machine's timeout ended it): it
    // takes the next one, unless close() ran meanwhile
    if (outcome.kind === 'done' || outcome.kind === 'expired') {
      if (this.closed) void shell.end(MASTER_EXIT_MS)
      else this.idle.push(shell)
      if (outcome.kind === 'expired') throw this.timedOut(ms)
      return outcome.result
    }
    if (outcome.kind === 'timeout') throw this.timedOut(ms)
    if (!(await this.alive())) throw this.lost(outcome.stderr)
    return {
      code: outcome.code === 0 ? 255 : outcome.code,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
    }
  }

  /**
   * Starts the connection's first shell without waiting for it, so that it is ready by the first
   * command (the caller starts its SFTP channel meanwhile).
   */
  warm(): void {
    if (this.closed || !this.framing || this.warming || this.shells.size) return
    const shell = this.startShell(toolTimeoutMs())
    this.warming = shell.ready.then((ok) => {
      if (!ok && shell.unframed) this.framing = false
      return ok ? shell : undefined
    })
  }

  /** A new long-lived shell in a session over the master. */
  private startShell(ms: number): RemoteShell {
    const child = spawn('ssh', [...this.sessionArgs(), '--', this.target.dest, SHELL_COMMAND], {
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    })
    const shell = new RemoteShell(child, ms)
    this.shells.add(shell)
    void shell.ended.then(() => this.shells.delete(shell))
    return shell
  }

  /** The error of a command that ran longer than `ms`. */
  private timedOut(ms: number): Error {
    const e = new Error(
      `machine ${this.target.name}: a command ran longer than ${describeTimeout(ms)} and was killed (CUTOVER_TOOL_TIMEOUT_MS sets the limit, in milliseconds)`,
    )
    // an errno-like error of the system call that timed out: the CLI prints it as it is
    return Object.assign(e, { code: 'ETIMEDOUT', syscall: 'ssh' })
  }

  private async execNow(script: string, options: { stdin?: Buffer }): Promise<ExecResult> {
    const ms = toolTimeoutMs()
    const mark = `cutover-timeout-${randomBytes(16).toString('hex')}`
    const child = spawn(
      'ssh',
      [
        ...this.sessionArgs(),
        '--',
        this.target.dest,
        remoteCommand(script, Math.ceil(ms / 1000), mark),
      ],
      {
        env: this.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      },
    )
    const output = collect(child)
    let timedOut = false
    let kill: () => void = () => {}
    const killed = new Promise<void>((resolve) => (kill = resolve))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
      kill()
    }, ms)
    // A script that exits without reading its input closes the pipe: that is its business.
    child.stdin.on('error', () => {})
    child.stdin.end(options.stdin ?? Buffer.alloc(0))
    // Killed, the client is waited for until it exits, not until its pipes close: through the
    // master, the session's end (and so the pipes') waits for the remote command, which the
    // machine's own timeout ends.
    const code = await Promise.race([exitOf(child), killed.then(() => exited(child))]).finally(() =>
      clearTimeout(timer),
    )
    const { stdout, stderr } = output()
    if (timedOut) {
      child.stdin.destroy()
      child.stdout.destroy()
      child.stderr.destroy()
      throw this.timedOut(ms)
    }
    // the machine's timeout fired before the controller's timer
    if (code === 137 && stderr.includes(`\n${mark}\n`)) throw this.timedOut(ms)
    // 255 is ssh's own failure, or the script's exit code: the master tells which.
    if (code === 255 && !(await this.alive())) throw this.lost(stderr)
    return { code, stdout, stderr }
  }

  /**
   * Starts the SFTP subsystem over the master: the child's stdin and stdout carry the SFTP
   * protocol. The caller ends it (closing its stdin ends the channel).
   */
  sftp(): ChildProcessWithoutNullStreams {
    this.assertOpen()
    return spawn('ssh', [...this.sessionArgs(), '-s', '--', this.target.dest, 'sftp'], {
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    })
  }

  /** Whether the master still runs (it answers `ssh -O check`'s request on its socket). */
  async alive(): Promise<boolean> {
    return (await pidOf(this.controlPath, () => this.control('check'))) > 0
  }

  /**
   * Ends the master and removes its log: returns once the master's process is gone, not only
   * asked to go (`ssh -O exit` answers before the master has closed its connection and exited).
   * A master that has not exited after {@link MASTER_EXIT_MS} is killed.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // the shells end with their stdin (a command running finishes first), before the master
    this.idle.length = 0
    await Promise.all([...this.shells].map((s) => s.end(MASTER_EXIT_MS)))
    // the pid the master gave when it had logged in, else the one it gives now
    const pid = this.masterPid || (await pidOf(this.controlPath, () => this.control('check')))
    if (pid > 0) {
      // told to exit on its socket as `ssh -O exit` does; its own client asks a master that
      // speaks another version of the protocol
      const exit = await muxRequest(this.controlPath, 'exit', MASTER_EXIT_MS)
      if (exit.kind === 'unsupported' || exit.kind === 'refused') await this.control('exit')
      // still there (a master whose socket did not answer is not waited for): killed when it is
      // this master (the pid taken at the start may be another process's by now, were the
      // master gone since), as its command line or its socket says
      if (
        !(await processGone(pid, exit.kind === 'none' ? 0 : MASTER_EXIT_MS)) &&
        (masterOf(pid, this.controlPath) ||
          (await pidOf(this.controlPath, () => this.control('check'))) === pid)
      ) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
        await processGone(pid, MASTER_EXIT_MS)
      }
    }
    rmSync(this.controlPath, { force: true })
    rmSync(this.logPath, { force: true })
  }

  private control(command: 'check' | 'exit'): Promise<{ code: number; stderr: string }> {
    return control(this.target, this.env, this.controlPath, command)
  }

  /** The error of a session that failed because the master is gone: the connection was lost. */
  private lost(stderr: string): FleetError {
    const e = connectError(this.target.name, this.target.dest, stderr + readLog(this.logPath))
    return new FleetError(
      'UNREACHABLE',
      `machine ${this.target.name} (${this.target.dest}): the connection was lost`,
      { cause: e },
    )
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`machine ${this.target.name}: the connection is closed`)
  }
}

/** `ssh -O check` or `ssh -O exit` of the master on `controlPath`, run as an ssh client. */
async function control(
  target: SshTarget,
  env: NodeJS.ProcessEnv,
  controlPath: string,
  command: 'check' | 'exit',
): Promise<{ code: number; stderr: string }> {
  const child = spawn('ssh', [...baseArgs(target, controlPath), '-O', command, '--', target.dest], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const output = collect(child)
  const code = await exitOf(child)
  return { code, stderr: output().stderr }
}

/**
 * The pid of the master on `controlPath` when it runs, else 0: asked on its socket (see mux.ts);
 * a master that speaks another version of the protocol is asked by an ssh client (`check`).
 */
async function pidOf(
  controlPath: string,
  check: () => Promise<{ code: number; stderr: string }>,
): Promise<number> {
  const answer = await muxRequest(controlPath, 'check', MASTER_EXIT_MS)
  if (answer.kind === 'alive') return answer.pid
  if (answer.kind === 'none') return 0
  const r = await check()
  return r.code === 0 ? Number(/pid=(\d+)/.exec(r.stderr)?.[1]) || 0 : 0
}

/**
 * Whether process `pid` is still the master of `controlPath`, so that a pid a new process took
 * since is never killed: its command line names the socket (as given in its `-o ControlPath`, or
 * in the title some builds give a master, `ssh: PATH [mux]`). Without /proc it cannot tell: no.
 */
function masterOf(pid: number, controlPath: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1')
    return argv.includes(controlPath) || argv.includes(configValue(controlPath))
  } catch {
    return false
  }
}

/**
 * Waits until process `pid` has exited (a zombie left for its parent to reap counts as exited),
 * at most `ms`; whether it did.
 */
async function processGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    if (!running(pid)) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

/** Whether process `pid` exists (another user's too) and has not exited (a zombie has). */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // the state after the command's name, which may hold ')' itself
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    // no /proc (not Linux): kill(0) said it is there
    return true
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/**
 * Makes `dir` (and its parents) when absent, mode 0700, and checks that it is a directory of this
 * user that nobody else can enter: a socket there is a logged-in session on a machine.
 */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = statSync(dir)
  const uid = process.getuid?.()
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new FleetError(
      'MACHINE',
      `the control socket directory ${dir} must be a directory of this user with mode 0700`,
    )
  }
}
