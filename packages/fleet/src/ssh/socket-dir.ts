import { lstatSync, readdirSync, readFileSync, rmSync, statSync, type Dirent } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { configValue, MAX_CONTROL_PATH, running } from './connection.js'
import { muxRequest, muxRequestsSync } from './mux.js'

/** The name of the fallback directories under the system's temp directory, before `PID-XXXXXX`. */
const FALLBACK = 'cutover-ssh-'

/**
 * The file of a sockets' directory naming the machine whose process made it: a PID says nothing
 * of a process on another machine sharing the directory (a state directory on a network file
 * system), whose directory is never taken for one of a process gone.
 */
const HOST_FILE = 'host'

/**
 * How long the masters of a directory being removed have, from the request to exit on their
 * sockets, to answer and go: a master still there then (stopped, hung) is killed.
 */
const MASTER_GONE_MS = 2_000

/**
 * A new directory for one command's control sockets, which the caller removes
 * ({@link removeSocketDirSync} ends what a master left in it): `ssh/PID-XXXXXX` (mode 0700) in the
 * state directory `stateDir`, or, when that path is too long for a unix socket's (about 104 bytes
 * with the socket's own name), `cutover-ssh-PID-XXXXXX` under the system's temp directory. PID is
 * this process's: the directories of a command that was killed before it removed its own (whose
 * process is gone) are removed first, in the same place, their masters told to exit (and killed
 * when they do not go: {@link removeSocketDirSync}); a directory made on another machine (its `host` file names another host name) is left alone.
 */
export async function socketDir(stateDir: string): Promise<string> {
  const base = join(resolve(stateDir), 'ssh')
  const own = `${process.pid}-`
  let dir: string
  // mkdtemp's six characters, then the socket's `/` and twelve
  if (Buffer.byteLength(join(base, `${own}XXXXXX`)) + 13 > MAX_CONTROL_PATH) {
    await removeStale(tmpdir(), FALLBACK)
    dir = await mkdtemp(join(tmpdir(), `${FALLBACK}${own}`))
  } else {
    await mkdir(base, { recursive: true, mode: 0o700 })
    await removeStale(base, '')
    dir = await mkdtemp(join(base, own))
  }
  await writeFile(join(dir, HOST_FILE), hostname(), { mode: 0o600 })
  return dir
}

/**
 * Removes a control sockets' directory now, synchronously (also from a signal's handler, where
 * nothing asynchronous runs any more): each master whose socket is there is told to exit first,
 * on its socket (see mux.ts), else it would stay logged in until its ControlPersist ends, its
 * socket gone; one still there {@link MASTER_GONE_MS} later is killed ({@link killLeft}).
 */
export function removeSocketDirSync(dir: string): void {
  const sockets = socketsIn(dir)
  if (sockets.length) {
    const deadline = Date.now() + MASTER_GONE_MS
    const masters = mastersOf(sockets)
    muxRequestsSync(sockets, 'exit', MASTER_GONE_MS)
    const pause = new Int32Array(new SharedArrayBuffer(4))
    for (
      let ms = 2;
      Date.now() < deadline && [...masters.keys()].some(running);
      ms = Math.min(2 * ms, 20)
    )
      Atomics.wait(pause, 0, 0, ms)
    killLeft(masters)
  }
  rmSync(dir, { recursive: true, force: true })
}

/** {@link removeSocketDirSync} of each of `dirs`, its masters' requests and wait shared, asynchronously. */
async function removeSocketDirs(dirs: readonly string[]): Promise<void> {
  const sockets = dirs.flatMap(socketsIn)
  if (sockets.length) {
    const deadline = Date.now() + MASTER_GONE_MS
    const masters = mastersOf(sockets)
    await Promise.all(sockets.map((s) => muxRequest(s, 'exit', MASTER_GONE_MS)))
    for (
      let ms = 2;
      Date.now() < deadline && [...masters.keys()].some(running);
      ms = Math.min(2 * ms, 20)
    )
      await new Promise((r) => setTimeout(r, ms))
    killLeft(masters)
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}

/** The sockets in `dir` (none when it is not there). */
function socketsIn(dir: string): string[] {
  let entries: Dirent[] = []
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    // none made yet, or already removed
  }
  return entries.filter((e) => e.isSocket()).map((e) => join(dir, e.name))
}

/**
 * The processes of this user that are masters of `sockets`, by pid, as /proc says: a master's
 * command line names its socket (see {@link mastersSocket}). The pids are never taken from the
 * sockets' answers: a stopped master gives none, and a pid is not signalled on its own say-so.
 * Without /proc, none: the masters are only told to exit.
 */
function mastersOf(sockets: readonly string[]): Map<number, string> {
  const masters = new Map<number, string>()
  let pids: string[] = []
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n))
  } catch {
    return masters
  }
  for (const pid of pids) {
    const socket = mastersSocket(Number(pid), sockets)
    if (socket !== undefined) masters.set(Number(pid), socket)
  }
  return masters
}

/**
 * Which of `sockets` process `pid` is the master of, when it is one and this user's: its command
 * line is the title a master takes once it has logged in (`ssh: PATH [mux]`), or names the
 * socket as a master's options do (`ControlPath="PATH"` and `ControlMaster=yes`, see
 * connection.ts), not a session's (`ControlMaster=no`).
 */
function mastersSocket(pid: number, sockets: readonly string[]): string | undefined {
  let args: string[]
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')
    if (statSync(`/proc/${pid}`).uid !== process.getuid?.()) return undefined
  } catch {
    return undefined
  }
  return sockets.find(
    (s) =>
      args[0] === `ssh: ${s} [mux]` ||
      (args.includes(`ControlPath=${configValue(s)}`) && args.includes('ControlMaster=yes')),
  )
}

/**
 * Kills (SIGKILL: a stopped process takes it too) each of `masters` that has not gone, while its
 * command line still names its socket: a pid that another process took since is left alone.
 */
function killLeft(masters: ReadonlyMap<number, string>): void {
  for (const [pid, socket] of masters) {
    if (!running(pid) || mastersSocket(pid, [socket]) === undefined) continue
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Removes the directories `PREFIX PID-XXXXXX` in `parent` that are this user's, made on this
 * machine, and whose process is gone (a command killed before it could remove its own): never
 * one of a running process, nor one whose `host` file names another machine.
 */
async function removeStale(parent: string, prefix: string): Promise<void> {
  let names: string[]
  try {
    names = readdirSync(parent)
  } catch {
    return
  }
  const stale: string[] = []
  const pattern = new RegExp(`^${prefix}(\\d+)-[A-Za-z0-9]{6}$`)
  const uid = process.getuid?.()
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1] ?? 0)
    if (!(pid > 0) || pid === process.pid || running(pid)) continue
    const dir = join(parent, name)
    const st = lstatSync(dir, { throwIfNoEntry: false })
    if (!st?.isDirectory() || (uid !== undefined && st.uid !== uid) || madeElsewhere(dir)) continue
    stale.push(dir)
  }
  await removeSocketDirs(stale)
}

/**
 * Whether the sockets' directory `dir` was made on another machine, as its `host` file says (none:
 * a process killed before it wrote it, whose directory holds nothing yet).
 */
function madeElsewhere(dir: string): boolean {
  try {
    return readFileSync(join(dir, HOST_FILE), 'utf8') !== hostname()
  } catch {
    return false
  }
}
