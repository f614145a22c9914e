import { createHash, randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { LockError } from '../errors.js'
import { localStateFileSystem } from '../fs/local-state.js'
import { ensureStateDir } from './journal.js'
import type { StateFileSystem } from './state-file-system.js'

/** Who holds a lock. */
export interface LockHolder {
  pid: number
  host: string
  started: string
  command?: string
}

/** A held lock; `release` removes it. `staleTakenOver` says whose dead lock was taken over. */
export interface Lock {
  release(): Promise<void>
  staleTakenOver?: string
}

/**
 * Takes the state directory's lock (a file created with O_EXCL holding pid, host, start time and
 * command). While the holder lives, refuses with a {@link LockError} naming it; a lock of this
 * host whose process is gone is taken over and reported in `staleTakenOver`. A lock of another
 * host is never taken over: its process cannot be checked from here. The lock names this host
 * and process wherever the state directory is (`fs`): a controller's lock on another machine
 * names the controller, and only the controller judges whether it is stale.
 */
export async function acquireLock(
  stateDir: string,
  command: string,
  fs: StateFileSystem = localStateFileSystem,
): Promise<Lock> {
  await ensureStateDir(stateDir, fs)
  const path = join(stateDir, 'lock')
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    command,
  }
  const mine = JSON.stringify({ ...me, nonce: randomBytes(8).toString('hex') }) + '\n'
  const held = (staleTakenOver?: string): Lock => ({
    ...(staleTakenOver ? { staleTakenOver } : {}),
    release: () => releaseLock(fs, path, mine),
  })
  for (let attempt = 0; attempt < 20; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 10 * Math.min(attempt, 5)))
    if (await createLock(fs, path, mine)) return held()
    const raw = await readRaw(fs, path)
    if (raw === undefined) continue
    const holder = parseHolder(raw)
    if (holder && (holder.host !== me.host || isAlive(holder.pid))) {
      throw new LockError(
        `${stateDir} is locked by ${holder.command ?? 'cutover'} (pid ${holder.pid} on ${holder.host}, since ${holder.started}); wait for it to finish` +
          (holder.host !== me.host ? ', or remove the lock file if that host is gone' : ''),
      )
    }
    // a lock being written right now has no content yet: look again before taking it
    if (!holder && raw.trim() === '' && attempt < 3) continue
    if (await takeOver(fs, path, raw, mine)) {
      await removeTakeoverMarks(fs, stateDir)
      return held(
        holder
          ? `a stale lock of pid ${holder.pid} on ${holder.host} (${holder.command ?? 'cutover'}, started ${holder.started}) was taken over: that process is gone`
          : 'an unreadable lock file was taken over',
      )
    }
  }
  throw new LockError(
    `${stateDir}: could not take the lock: another process is taking over a stale lock, or one died doing so (remove ${path}.takeover-* if no cutover runs)`,
  )
}

/** Creates the lock file with `content` (O_EXCL, fsynced); false when one exists. */
async function createLock(fs: StateFileSystem, path: string, content: string): Promise<boolean> {
  try {
    await fs.createExclusive(path, content)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  }
}

/**
 * Replaces the lock `seen` (judged stale by the caller, or unreadable) with `mine`, atomically and
 * by one taker only: the takers of one stale lock first race for a mark named after its content
 * (O_EXCL); the winner checks the lock still is that content, renames its own lock over it, and
 * reads it back. A lock taken over never holds `seen` again, so a late taker backs off.
 */
async function takeOver(
  fs: StateFileSystem,
  path: string,
  seen: string,
  mine: string,
): Promise<boolean> {
  const mark = `${path}.takeover-${createHash('sha256').update(seen).digest('hex').slice(0, 16)}`
  if (!(await createLock(fs, mark, mine))) return false
  if ((await readRaw(fs, path)) !== seen) {
    // taken over (or released) already: the mark guards a lock that is gone, it can go too
    await fs.unlink(mark)
    return false
  }
  await fs.writeDurable(path, mine)
  return (await readRaw(fs, path)) === mine
}

/** Removes the marks of finished takeovers (called holding the lock: none is in use then). */
async function removeTakeoverMarks(fs: StateFileSystem, stateDir: string): Promise<void> {
  for (const n of await fs.readdir(stateDir))
    if (n.startsWith('lock.takeover-')) await fs.unlink(join(stateDir, n))
}

async function releaseLock(fs: StateFileSystem, path: string, mine: string): Promise<void> {
  // never another process's lock
  if ((await readRaw(fs, path)) === mine) await fs.unlink(path)
}

async function readRaw(fs: StateFileSystem, path: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path)).toString('utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as LockHolder
    return typeof v?.pid === 'number' ? v : undefined
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Runs `fn` holding the lock of the state directory (on `fs`, the local one by default). */
export async function withLock<T>(
  stateDir: string,
  command: string,
  fn: (lock: Lock) => Promise<T>,
  fs: StateFileSystem = localStateFileSystem,
): Promise<T> {
  const lock = await acquireLock(stateDir, command, fs)
  try {
    return await fn(lock)
  } finally {
    await lock.release()
  }
}
