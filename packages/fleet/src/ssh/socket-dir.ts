import { spawnSync } from 'node:child_process'
import { lstatSync, readdirSync, rmSync, type Dirent } from 'node:fs'
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { MAX_CONTROL_PATH } from './connection.js'

/** The name of the fallback directories under the system's temp directory, before `PID-XXXXXX`. */
const FALLBACK = 'cutover-ssh-'

/**
 * A new directory for one command's control sockets, which the caller removes
 * ({@link removeSocketDirSync} ends what a master left in it): `ssh/PID-XXXXXX` (mode 0700) in the
 * state directory `stateDir`, or, when that path is too long for a unix socket's (about 104 bytes
 * with the socket's own name), `cutover-ssh-PID-XXXXXX` under the system's temp directory. PID is
 * this process's: the directories of a command that was killed before it removed its own (whose
 * process is gone) are removed first, in the same place, their masters told to exit.
 */
export async function socketDir(stateDir: string): Promise<string> {
  const base = join(resolve(stateDir), 'ssh')
  const own = `${process.pid}-`
  // mkdtemp's six characters, then the socket's `/` and twelve
  if (Buffer.byteLength(join(base, `${own}XXXXXX`)) + 13 > MAX_CONTROL_PATH) {
    removeStale(tmpdir(), FALLBACK)
    return mkdtemp(join(tmpdir(), `${FALLBACK}${own}`))
  }
  await mkdir(base, { recursive: true, mode: 0o700 })
  removeStale(base, '')
  return mkdtemp(join(base, own))
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
 * Removes the directories `PREFIX PID-XXXXXX` in `parent` that are this user's and whose process
 * is gone (a command killed before it could remove its own): never one of a running process.
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
    if (!st?.isDirectory() || (uid !== undefined && st.uid !== uid)) continue
    removeSocketDirSync(dir)
  }
}

/** Whether process `pid` exists (another user's too). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
