import { closeSync, constants, openSync, readFileSync, readlinkSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { pinChanged } from '../fs/dir-pin.js'
import { CutoverError } from '../errors.js'
import { localStateFileSystem } from '../fs/local-state.js'
import { readJournals, type Journal, type JournalTarget } from '../transaction/journal.js'
import { withLock } from '../transaction/lock.js'
import { backupAttrs, backupName, readBackupOf, sliceOf } from '../transaction/backup.js'
import { sha256 } from '../text/source.js'
import type { DatabaseChange } from '../step/database.js'
import {
  commitFiles,
  recover,
  type RecoverReport,
  type TxFileSystem,
  type TxFileSystemOption,
  type TxOptions,
  type TxResult,
  type TxTarget,
  type TxXattrs,
} from '../transaction/transaction.js'
import { databaseState, type DatabaseOptions } from './participants.js'

/** Options of {@link rollbackLast}. */
export interface RollbackOptions extends TxOptions, TxFileSystemOption, DatabaseOptions {
  /** Restore targets that changed since that transaction too. */
  force?: boolean
  /** Asked with the list of files before anything is written; `false` cancels. */
  confirm?: (txid: string, targets: string[]) => Promise<boolean>
}

/** What a rollback did. */
export interface RollbackResult extends TxResult {
  restored: string
  recovered: RecoverReport
  cancelled?: boolean
}

/**
 * The last committed apply of `journals` (oldest first) that no committed rollback restored: what
 * a rollback restores (of one state directory, or of a fleet's journals).
 */
export function lastToRollBack<
  J extends { txid: string; kind: string; state: string; restores?: string },
>(journals: readonly J[]): J | undefined {
  const undone = new Set(
    journals.filter((j) => j.kind === 'rollback' && j.state === 'committed').map((j) => j.restores),
  )
  return journals
    .filter((j) => j.kind === 'apply' && j.state === 'committed' && !undone.has(j.txid))
    .pop()
}

/**
 * Restores the last committed apply transaction that was not rolled back yet from its backups,
 * as a new transaction (itself all-or-nothing, and journaled); files it created are removed (one
 * removed by hand since is left so). Targets that changed since that transaction are refused,
 * naming each, unless `force`.
 */
export async function rollbackLast(options: RollbackOptions): Promise<RollbackResult> {
  const state = options.stateFileSystem ?? localStateFileSystem
  return withLock(
    options.stateDir,
    'cutover rollback',
    async () => {
      const recovered = await recover({ ...options, participantState: databaseState(options) })
      const journals = await readJournals(options.stateDir, state)
      const last = lastToRollBack(journals)
      if (!last)
        throw new CutoverError(
          'NOTHING_TO_ROLL_BACK',
          `no applied transaction to roll back in ${options.stateDir}`,
        )
      if (last.database?.changes.length) {
        throw new CutoverError(
          'ROLLBACK_DATABASE',
          `transaction ${last.txid} also changed a database (${(last.database.changes as DatabaseChange[]).map((c) => c.target).join(', ')}): rollback restores files only; apply the other profile instead`,
        )
      }
      const { targets, changed } = await rollbackTargets(last, {
        now: (t) =>
          options.fileSystem ? targetHashNow(options.fileSystem, t) : Promise.resolve(hashNow(t)),
        backup: (path) => state.readFile(path),
        ...(state.readRange ? { range: state.readRange.bind(state) } : {}),
        attrs: async (path) => (await backupAttrs(state, [path])).get(path),
        ...(options.force ? { force: true } : {}),
      })
      if (changed.length && !options.force) {
        throw new CutoverError(
          'ROLLBACK_STALE',
          `not rolled back, nothing was written:\n${changed.map((c) => `  ${c}`).join('\n')}\nuse --force to restore them anyway`,
        )
      }
      if (
        options.confirm &&
        !(await options.confirm(
          last.txid,
          targets.map((t) => t.target),
        ))
      ) {
        return {
          txid: '',
          written: [],
          warnings: [],
          restored: last.txid,
          recovered,
          cancelled: true,
        }
      }
      const result = await commitFiles(targets, {
        ...options,
        kind: 'rollback',
        restores: last.txid,
      })
      return { ...result, restored: last.txid, recovered }
    },
    state,
  )
}

/**
 * What restores the files of transaction `j`: each target written back from its backup (a file
 * or link it created removed; a file it removed made again with its mode, owner and, with
 * `attrs`, the attributes of its backup; a link it removed made again), at the exact path it
 * wrote (never a link someone put there since, and in a directory other users can change only
 * where its steps allowed it); and the targets changed since it (`changed`, naming each), which a
 * rollback refuses unless `force` (without it, their backups are not read). `now` is a target's
 * hash as it is now ({@link targetHashNow}), `backup` the bytes of a backup file, `range` a slice
 * of one (a target's slice of the pack, `backupAt`; without it the pack is read whole, once);
 * each original is checked against its journaled hash before it is used. `attrs` is given the
 * name of a target's backup (`backup/N`), whose attributes are on `NAME.meta`. A file it created and
 * someone removed since is already as it was before: left out. The directories it made are
 * removed by the rollback's transaction itself (`restores` of its options), once committed.
 */
export async function rollbackTargets(
  j: Journal,
  o: {
    now: (t: JournalTarget) => Promise<string>
    backup: (path: string) => Promise<Buffer>
    range?: (path: string, offset: number, length: number) => Promise<Buffer>
    attrs?: (path: string) => Promise<TxXattrs | undefined>
    force?: boolean
  },
): Promise<{ targets: TxTarget[]; changed: string[] }> {
  const targets: TxTarget[] = []
  const changed: string[] = []
  const whole = new Map<string, Promise<Buffer>>()
  const range =
    o.range ??
    ((path: string, offset: number, length: number) => {
      let bytes = whole.get(path)
      if (!bytes) whole.set(path, (bytes = o.backup(path)))
      return sliceOf(bytes, offset, length)
    })
  const original = (t: JournalTarget) => readBackupOf(t, o.backup, range)
  for (const [i, t] of j.targets.entries()) {
    const hash = await o.now(t)
    if (!t.existed && hash === 'absent') continue
    if (hash !== t.after) {
      changed.push(
        `${t.target}: changed since transaction ${j.txid} (then ${t.after}, now ${hash})`,
      )
      if (!o.force) continue
    }
    const allow = t.allowUserWritable ? { allowUserWritable: true } : {}
    const at = { target: t.target, path: t.path, exact: true, before: hash, ...allow }
    const link = t.link !== undefined ? { symlink: t.link } : {}
    const owner = { uid: t.uid, gid: t.gid }
    if (!t.existed) targets.push({ ...at, ...link, content: Buffer.alloc(0), remove: true })
    else if (t.after !== 'absent') targets.push({ ...at, content: await original(t) })
    else if (t.link !== undefined) targets.push({ ...at, ...link, content: Buffer.alloc(0), owner })
    else {
      // a file it removed: made again as it was
      const xattrs = await o.attrs?.(backupName(t, i))
      targets.push({
        ...at,
        content: await original(t),
        mode: t.mode,
        owner,
        ...(xattrs ? { xattrs } : {}),
      })
    }
  }
  return { targets, changed }
}

/**
 * The hash of a target of journal entry `t` as it is now on `fs`, read at its journaled real
 * path (checked to have no link on its directory path): `absent`; for a link the transaction made or removed,
 * the hash of its text; `a symlink` when a file target became one; `unreachable (…)` when its
 * directory was replaced or cannot be read.
 */
export async function targetHashNow(fs: TxFileSystem, t: JournalTarget): Promise<string> {
  const dir = dirname(t.path)
  const moved = await fs.pinChanged(dir, undefined)
  if (moved) return moved.endsWith('no longer exists') ? 'absent' : `unreachable (${moved})`
  const at = { dir, pin: undefined, target: t.target }
  try {
    const bytes = await fs.readPinned(at, basename(t.path))
    if (bytes === undefined) return 'absent'
    if (bytes !== 'symlink') return sha256(bytes)
    if (t.link === undefined) return 'a symlink'
    return sha256(Buffer.from((await fs.readlinkPinned(at, basename(t.path))) ?? '', 'utf8'))
  } catch (e) {
    return `unreachable (${(e as Error).message})`
  }
}

/**
 * {@link targetHashNow} on this machine's file system, by the synchronous calls: a link at the
 * path of a file target or on its directory path is not followed (`a symlink`, `unreachable (…)`).
 */
function hashNow(t: JournalTarget): string {
  const path = t.path
  const moved = pinChanged(dirname(path), undefined)
  if (moved) return moved.endsWith('no longer exists') ? 'absent' : `unreachable (${moved})`
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOOP') return 'absent'
    // a link the transaction made or removed: its text is its content
    return t.link === undefined ? 'a symlink' : sha256(Buffer.from(readlinkSync(path), 'utf8'))
  }
  try {
    return sha256(readFileSync(fd))
  } finally {
    closeSync(fd)
  }
}
