import { open, readFile, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { LockError } from './errors.js'
import { ensureStateDir } from './journal.js'

/** Who holds a lock. */
export interface LockHolder { pid: number; host: string; started: string; command?: string }

/** A held lock; `release` removes it. `staleTakenOver` says whose dead lock was taken over. */
export interface Lock { release(): Promise<void>; staleTakenOver?: string }

/**
 * Takes the state directory's lock (a file created with O_EXCL holding pid, host, start time and
 * command). While the holder lives, refuses with a {@link LockError} naming it; a lock of this
 * host whose process is gone is taken over and reported in `staleTakenOver`. A lock of another
 * host is never taken over: its process cannot be checked from here.
 */
export async function acquireLock(stateDir: string, command: string): Promise<Lock> {
  await ensureStateDir(stateDir)
  const path = join(stateDir, 'lock')
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command }
  let staleTakenOver: string | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600)
      try {
        await fh.writeFile(JSON.stringify(me) + '\n')
        await fh.sync()
      } finally {
        await fh.close()
      }
      return { ...(staleTakenOver ? { staleTakenOver } : {}), release: () => rm(path, { force: true }) }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const holder = await readLock(path)
      if (holder && (holder.host !== me.host || isAlive(holder.pid))) {
        throw new LockError(
          `${stateDir} is locked by ${holder.command ?? 'cutover'} (pid ${holder.pid} on ${holder.host}, since ${holder.started}); wait for it to finish` +
            (holder.host !== me.host ? ', or remove the lock file if that host is gone' : ''),
        )
      }
      if (!holder && attempt === 0) {
        // a lock being written right now has no content yet: look again before taking it
        await new Promise((r) => setTimeout(r, 50))
        continue
      }
      staleTakenOver = holder
        ? `a stale lock of pid ${holder.pid} on ${holder.host} (${holder.command ?? 'cutover'}, started ${holder.started}) was taken over: that process is gone`
        : 'an unreadable lock file was taken over'
      await rm(path, { force: true })
    }
  }
  throw new LockError(`${stateDir}: could not take the lock`)
}

async function readLock(path: string): Promise<LockHolder | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as LockHolder
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

/** Runs `fn` holding the lock. */
export async function withLock<T>(stateDir: string, command: string, fn: (lock: Lock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(stateDir, command)
  try {
    return await fn(lock)
  } finally {
    await lock.release()
  }
}
