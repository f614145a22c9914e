import { CutoverError } from '../errors.js'

/**
 * Fault injection for tests of the transaction, off unless `CUTOVER_FAULT_INJECT` is set
 * explicitly. Its value is a comma-separated list of `POINT` or `POINT=ACTION`, where ACTION is
 * `kill` (SIGKILL this process: a crash; the default), `stop` (SIGSTOP this process: it
 * waits there until a SIGCONT, so that a test can act at that point, e.g. cut a connection) or one of `EIO`, `ENOSPC`, `EACCES`,
 * `EROFS` (throw that error there). Points: `staged:N` (after the N-th temp file is written and
 * fsynced), `validated`, `backed-up:N` (after the N-th original is appended to the backup pack,
 * or written to a file of its own), `backups-synced` (the pack and the backup directory fsynced),
 * `prepared` (journal says prepared), `renamed:K` (after
 * the K-th rename), `before-commit`, `participants-committed` (a database committed, the journal
 * not yet), `committed`, `recover:K` (after recovery restored its K-th
 * file), `stage-write:N` (before the N-th temp file is written), `stage-open:N` (its directory
 * checked, the temp file not created yet), `mkdir:K` (the K-th directory made above a new target,
 * its parent fsynced), `dirs-made` (every such directory made, the journal holding their pins)
 * and `rmdir:K` (the K-th such directory removed again, by an abort, a recovery or a rollback).
 */
export type FaultHook = (point: string) => void

/** The hook for an environment: a no-op unless `CUTOVER_FAULT_INJECT` is set. */
export function faultsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): FaultHook {
  const spec = env.CUTOVER_FAULT_INJECT
  if (!spec) return () => undefined
  const actions = new Map<string, string>()
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = item.lastIndexOf('=')
    actions.set(eq === -1 ? item : item.slice(0, eq), eq === -1 ? 'kill' : item.slice(eq + 1))
  }
  return (point) => {
    const action = actions.get(point)
    if (action === undefined) return
    if (action === 'kill') process.kill(process.pid, 'SIGKILL')
    if (action === 'stop') {
      // delivered at once: the process sleeps here until the test continues it
      process.kill(process.pid, 'SIGSTOP')
      return
    }
    throw injectedError(point, action)
  }
}

/** An error as the file system would raise it, tagged as injected. */
export function injectedError(point: string, code: string): NodeJS.ErrnoException {
  const known: Record<string, string> = {
    EIO: 'i/o error',
    ENOSPC: 'no space left on device',
    EACCES: 'permission denied',
    EROFS: 'read-only file system',
  }
  if (!(code in known))
    throw new CutoverError('FAULT', `unknown fault action "${code}" for ${point}`)
  const e = new Error(`${code}: ${known[code]} (injected at ${point})`) as NodeJS.ErrnoException
  e.code = code
  e.syscall = 'write'
  return e
}
