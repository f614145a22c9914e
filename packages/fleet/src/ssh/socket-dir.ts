import { spawnSync } from 'node:child_process'
import { lstatSync, readdirSync, readFileSync, rmSync, type Dirent } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { MAX_CONTROL_PATH, running } from './connection.js'

/** The name of the fallback directories under the system's temp directory, before `PID-XXXXXX`. */
const FALLBACK = 'cutover-ssh-'

/**
 * The file of a sockets' directory naming the machine whose process made it: a PID says nothing
 * of a process on another machine sharing the directory (a state directory on a network file
 * system), whose directory is never taken for one of a process gone.
 */
const HOST_FILE = 'host'

/**
 * A new directory for one command's control sockets, which the caller removes
 * ({@link removeSocketDirSync} ends what a master left in it): `ssh/PID-XXXXXX` (mode 0700) in the
 * state directory `stateDir`, or, when that path is too long for a unix socket's (about 104 bytes
 * with the socket's own name), `cutover-ssh-PID-XXXXXX` under the system's temp directory. PID is
 * this process's: the directories of a command that was killed before it removed its own (whose
 * process is gone) are removed first, in the same place, their masters told to exit; a
 * directory made on another machine (its `host` file names another host name) is left alone.
 */
export async function socketDir(stateDir: string): Promise<string> {
  const base = join(resolve(stateDir), 'ssh')
  const own = `${process.pid}-`
  let dir: string
  // mkdtemp's six characters, then the socket's `/` and twelve
  if (Buffer.byteLength(join(base, `${own}XXXXXX`)) + 13 > MAX_CONTROL_PATH) {
    removeStale(tmpdir(), FALLBACK)
    dir = await mkdtemp(join(tmpdir(), `${FALLBACK}${own}`))
  } else {
    await mkdir(base, { recursive: true, mode: 0o700 })
    removeStale(base, '')
    dir = await mkdtemp(join(base, own))
  }
  await writeFile(join(dir, HOST_FILE), hostname(), { mode: 0o600 })
  return dir
}

/**
 * Removes a control sockets' directory now, synchronously (also from a signal's handler, where
 * nothing asynchronous runs any more): each master whose socket is there is told to exit first
 * (`ssh -O exit`), else it would stay logged in until its ControlPersist ends, its socket gone.
 */
export function removeSocketDirSync(dir: string): void {
  let entries: Dirent[] = []
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    // none made yet, or already removed
  }
  for (const e of entries)
    if (e.isSocket())
      spawnSync(
        'ssh',
        [
          '-F',
          '/dev/null',
          '-o',
          // quoted as in the ssh config: a `%` would be a token
          `ControlPath="${join(dir, e.name).replace(/[\\"]/g, '\\$&').replace(/%/g, '%%')}"`,
          '-O',
          'exit',
          '--',
          'machine',
        ],
        { stdio: 'ignore', timeout: 5_000 },
      )
  rmSync(dir, { recursive: true, force: true })
}

/**
 * Removes the directories `PREFIX PID-XXXXXX` in `parent` that are this user's, made on this
 * machine, and whose process is gone (a command killed before it could remove its own): never
 * one of a running process, nor one whose `host` file names another machine.
 */
function removeStale(parent: string, prefix: string): void {
  let names: string[]
  try {
    names = readdirSync(parent)
  } catch {
    return
  }
  const pattern = new RegExp(`^${prefix}(\\d+)-[A-Za-z0-9]{6}$`)
  const uid = process.getuid?.()
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1] ?? 0)
    if (!(pid > 0) || pid === process.pid || running(pid)) continue
    const dir = join(parent, name)
    const st = lstatSync(dir, { throwIfNoEntry: false })
    if (!st?.isDirectory() || (uid !== undefined && st.uid !== uid) || madeElsewhere(dir)) continue
    removeSocketDirSync(dir)
  }
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
