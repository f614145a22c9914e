import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { CutoverError, StalePlanError, systemErrorCode, ValidationError } from '../errors.js'
import { localFileSystem } from '../fs/local.js'
import { localStateFileSystem } from '../fs/local-state.js'
import { hashOrAbsent } from '../text/source.js'
import {
  backupAttrs,
  backupName,
  dropBackups,
  makeBackupDir,
  packPath,
  readBackup,
  syncBackups,
  writeBackup,
  writeBackupAttrs,
} from './backup.js'
import { makeDirs, removeDirs } from './dirs.js'
import { Facts } from './facts.js'
import { faultsFromEnv, type FaultHook } from './fault.js'
import type { PinnedDir, TxFileSystem, TxStat, TxXattrs } from './file-system.js'
import {
  ensureStateDir,
  newTxid,
  readJournals,
  writeJournal,
  type FleetMark,
  type Journal,
  type JournalDir,
  type JournalTarget,
  type OnceRecord,
  type TxMeta,
} from './journal.js'
import type { TxObserver } from './observer.js'
import type { ParticipantState, StagedCheck, TxParticipant } from './participant.js'
import type { StateFileSystem, StatePack } from './state-file-system.js'
import { tracePhase } from './trace.js'

export type { TxEvent, TxObserver } from './observer.js'
export type {
  NewFileMeta,
  PinnedDir,
  TxAnswer,
  TxFileSystem,
  TxOwner,
  TxQuery,
  TxStat,
  TxXattrs,
} from './file-system.js'
export { askEach } from './facts.js'
export type { PackRange, StateFileSystem, StatePack, StateStat } from './state-file-system.js'
export type { FleetMark } from './journal.js'
export type {
  ParticipantRecord,
  ParticipantState,
  StagedCheck,
  StagedItem,
  TxParticipant,
} from './participant.js'

/** One file a transaction writes. */
export interface TxTarget {
  /** Path relative to the root, for messages. */
  target: string
  /** Absolute path (a symlink is written through to the file it points to). */
  path: string
  /** `sha256:` the file must still have, or `absent` for a new file. */
  before: string
  content: Buffer
  /** Mode for a new file; an existing file keeps its own. */
  mode?: number
  /** Remove the file instead of writing `content` (a rollback of a file a transaction created, or a `copy` with `delete: true`: the file is backed up first). */
  remove?: boolean
  /**
   * A new target's owner (default: the identity the transaction writes as; given only when it
   * runs as root, otherwise a warning says so); an existing file keeps its own.
   */
  owner?: { uid: number; gid: number }
  /** A new file's extended attributes (a rollback making again a file its transaction removed). */
  xattrs?: TxXattrs
  /** Make the target a symbolic link with this text instead of writing `content` (a new target, or one that is a link already). */
  symlink?: string
  /**
   * The directories above a new target that do not exist yet, top down (absolute paths): the
   * transaction creates them with these modes and owners before staging, journals them, and
   * removes them again (when empty) when it aborts or is rolled back.
   */
  dirs?: Array<{ path: string; mode: number; uid?: number; gid?: number }>
  validators?: readonly StagedCheck[]
  /**
   * Write it even when its directory (or a parent) is writable by a user other than root and the
   * file's owner (the step's `allow-user-writable: true`); refused otherwise when running as root.
   */
  allowUserWritable?: boolean
  /** The one-time moves (swaps) the new content makes, journaled so that later plans skip them. */
  once?: OnceRecord[]
  /**
   * `path` is a real path, checked (a plan's target resolved in the root, or the path a rollback
   * restores): a symlink there or in its directory path is refused, never followed (someone else
   * may have put it there since).
   */
  exact?: boolean
}

/** What a finished transaction did. */
export interface TxResult {
  txid: string
  written: string[]
  warnings: string[]
}

/** What `recover` found and did. */
export interface RecoverReport {
  transactions: Array<{ txid: string; was: string; now: string; targets: string[] }>
  staleLock?: string
  /** Directories a transaction made that could not be removed again (not empty). */
  warnings?: string[]
}

/** Options shared by the transaction functions. */
export interface TxOptions {
  /** The state directory (journals, backups, lock); created mode 0700. */
  stateDir: string
  /** The file system the state directory is on (the local one by default). */
  stateFileSystem?: StateFileSystem
  /** Called at each named point of the protocol (see fault.ts); defaults to `CUTOVER_FAULT_INJECT`. */
  fault?: FaultHook
  /** Told of each step of a transaction as it is done (progress). */
  observer?: TxObserver
}

/**
 * The file system of the targets, for {@link commitFiles} and {@link recover}: every call on a
 * target, its directory or a temp file beside it goes through it; the local one by default. The
 * state directory has its own ({@link TxOptions.stateFileSystem}). (`apply` and `rollback`, which
 * also read targets themselves, take none yet.)
 */
export interface TxFileSystemOption {
  fileSystem?: TxFileSystem
}

/** Options of {@link recover}. */
export interface RecoverOptions extends TxOptions, TxFileSystemOption {
  /** Asks the participants (a database) of an interrupted transaction whether they committed. */
  participantState?: ParticipantState
  /**
   * Asks the controller of a fleet transaction what it decided for a prepared part of it:
   * `commit` rolls it forward, `abort` restores it; undefined (or no `decide`, as on the machine
   * by itself) leaves it prepared and refuses with `RECOVER_FLEET`, naming the controller.
   */
  decide?: (fleet: FleetMark) => Promise<'commit' | 'abort' | undefined>
}

/** Whether the participants (a database) of an interrupted transaction committed. */
async function participantsState(
  j: Journal,
  options: RecoverOptions,
): Promise<'before' | 'after' | 'none'> {
  if (!j.database?.changes.length) return 'none'
  const state = options.participantState
    ? await options.participantState(j.database)
    : { unknown: 'this cutover cannot ask it' }
  if (typeof state === 'string') return state
  throw new CutoverError(
    'RECOVER_DATABASE',
    `transaction ${j.txid} also changed a database, and ${state.unknown}: its files are left as they are until the database can tell whether it committed; run cutover recover again`,
  )
}

/**
 * The hash of a target (or of `name` beside it) as it is now in its pinned directory: `absent`;
 * for a link target the hash of its text; `symlink` when a file target became a link.
 */
async function hashOf(
  fs: TxFileSystem,
  t: JournalTarget,
  name = basename(t.path),
): Promise<string> {
  const bytes = await fs.readPinned(pinnedOf(t), name)
  if (bytes !== 'symlink') return hashOrAbsent(bytes)
  if (t.link === undefined) return bytes
  return hashOrAbsent(linkBytes(await fs.readlinkPinned(pinnedOf(t), name)))
}

/** The bytes whose hash stands for a link's text (`after` of a link target). */
function linkBytes(text: string | undefined): Buffer | undefined {
  return text === undefined ? undefined : Buffer.from(text, 'utf8')
}

/** The pinned directory of a journaled target. */
function pinnedOf(t: JournalTarget): PinnedDir {
  return { dir: dirname(t.path), pin: t.dirPin, target: t.target }
}

/** Temp files a transaction may leave beside a target: staged new content and restore copies. */
function tempsOf(t: JournalTarget, txid: string): string[] {
  return [
    t.temp,
    t.restore ?? join(dirname(t.path), `.${basename(t.path)}.cutover-${txid}.restore`),
  ]
}

/**
 * A name beside `path` that nobody can guess before it exists: `.NAME.cutover-TXID-RANDOM`
 * (`random`: 16 hex digits of 8 random bytes).
 */
function tempBeside(path: string, txid: string, random: string): string {
  return join(dirname(path), `.${basename(path)}.cutover-${txid}-${random}`)
}

/** Removes `path` (a temp file, or a target a rollback removes) from its pinned directory; absent is fine. */
function unlinkBeside(fs: TxFileSystem, path: string, t: JournalTarget): Promise<void> {
  return fs.unlinkPinned(pinnedOf(t), basename(path), { missingOk: true })
}

/** A file system error while writing beside a target, as a message naming the target (never the temp file). */
function namedError(e: unknown, target: string | undefined): unknown {
  const code = systemErrorCode(e)
  if (!target || e instanceof CutoverError || !code) return e
  return new CutoverError(
    code,
    `${target}: ${ERRNO_TEXT[code] ?? code} (writing its new content beside it)`,
    { cause: e },
  )
}

/** How the errors a write can meet read in a message. */
const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on its file system',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'its file system is read-only',
  EIO: 'i/o error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'a file of the name cutover chose exists already',
}

/** Writes a file beside its target with the given content and the target's metadata, fsynced. */
async function writeBeside(
  fs: TxFileSystem,
  temp: string,
  data: Buffer,
  e: JournalTarget,
  xattrs: TxXattrs | undefined,
  dropAcl: boolean,
  opening?: () => void,
): Promise<void> {
  try {
    await fs.createPinned(pinnedOf(e), basename(temp), data, {
      uid: e.uid,
      gid: e.gid,
      mode: e.mode,
      xattrs,
      dropAcl,
      ...(opening ? { opening } : {}),
    })
  } catch (err) {
    throw namedError(err, e.target)
  }
}

/**
 * Returns every target of an interrupted transaction to all-before (or, when every target is
 * already all-after, records it as committed; `rollBack` names a transaction to return to
 * all-before even then, and the only one to look at), and removes its temp files. Restoring a
 * file is itself a temp-and-rename, so a crash during recovery is recovered by running it again.
 * A prepared part of a fleet transaction (`fleet` in its journal) is decided by its controller
 * (`decide`): rolled forward (each staged temp still there renamed over its target) or restored;
 * undecided, it stays prepared and recover throws `RECOVER_FLEET` naming the controller, after
 * recovering the others. Nothing is read, written or removed through a directory that is not the
 * one journaled: a transaction with such a target stays unfinished, and recover throws naming it.
 */
export async function recover(
  options: RecoverOptions & { rollBack?: string },
): Promise<RecoverReport> {
  return recoverWith(options)
}

/** {@link recover}; `renamed`: how many targets of `options.rollBack` this process renamed (the others are untouched). */
async function recoverWith(
  options: RecoverOptions & { rollBack?: string },
  renamed?: number,
): Promise<RecoverReport> {
  const fault = options.fault ?? faultsFromEnv()
  const fs = options.fileSystem ?? localFileSystem
  const state = options.stateFileSystem ?? localStateFileSystem
  const report: RecoverReport = { transactions: [] }
  const blocked: string[] = []
  const fleetLeft: string[] = []
  const warnings: string[] = []
  for (const j of await readJournals(options.stateDir, state)) {
    if (j.state === 'committed' && j.removeDirs?.length && options.rollBack === undefined) {
      // a rollback that committed before it removed the directories its apply made
      warnings.push(...(await dropDirsOf(j, fs, state, options.stateDir, fault)))
      continue
    }
    if (j.state !== 'staging' && j.state !== 'prepared') continue
    if (options.rollBack !== undefined && j.txid !== options.rollBack) continue
    const was = j.state
    const moved: (string | undefined)[] = []
    // a directory the transaction made, removed again by an earlier recovery: its targets are gone
    const made = new Set((j.dirs ?? []).map((d) => `${d.path} no longer exists`))
    const gone = new Set<number>()
    const pins = await pinsChanged(fs, j.targets)
    for (const [i, t] of j.targets.entries()) {
      const why = pins.get(dirname(t.path))
      if (why && made.has(why) && !t.existed) gone.add(i)
      moved.push(gone.has(i) ? undefined : why)
    }
    const movedLines = (ts: readonly JournalTarget[]) =>
      ts.map((t) => `transaction ${j.txid}: ${t.target}: ${moved[j.targets.indexOf(t)]}`)
    // a prepared part of a fleet transaction: its controller alone knows whether it committed
    let decision: 'commit' | 'abort' | undefined
    if (j.fleet && j.state === 'prepared' && j.txid !== options.rollBack) {
      decision = await options.decide?.(j.fleet)
      if (decision === undefined) {
        fleetLeft.push(
          `transaction ${j.txid} is this machine's part of fleet transaction ${j.fleet.txid}, prepared and not decided here: its controller decides it (${j.fleet.controller}); run cutover recover there, with the fleet's spec`,
        )
        continue
      }
    }
    if (decision === 'commit') {
      const { left, stuck } = await rollForward(fs, j, moved, fault)
      blocked.push(...movedLines(left))
      fleetLeft.push(...stuck.map((s) => `transaction ${j.txid}: ${s}`))
      if (left.length === 0 && stuck.length === 0) j.state = 'committed'
    } else {
      const untouched = (i: number) =>
        gone.has(i) || (j.txid === options.rollBack && renamed !== undefined && i >= renamed)
      // a transaction rolled back, or a fleet part its controller aborted, goes back in any case
      const back = j.txid === options.rollBack || decision === 'abort'
      blocked.push(
        ...movedLines(
          await settle(j, moved, { fs, state, fault, options, untouched, back, warnings, gone }),
        ),
      )
    }
    if (j.state === was) continue
    await writeJournal(options.stateDir, j, state)
    if (j.state === 'committed' && j.removeDirs?.length)
      warnings.push(...(await dropDirsOf(j, fs, state, options.stateDir, fault)))
    report.transactions.push({
      txid: j.txid,
      was,
      now: j.state,
      targets: j.targets.map((t) => t.target),
    })
  }
  if (blocked.length) {
    throw new CutoverError(
      'RECOVER_MOVED',
      `not recovered: the directory of a target was replaced since it was checked, and recovery writes nowhere else:\n${blocked.map((b) => `  ${b}`).join('\n')}\nput the directory back and run cutover recover again`,
    )
  }
  if (fleetLeft.length) {
    throw new CutoverError(
      'RECOVER_FLEET',
      `not recovered:\n${fleetLeft.map((b) => `  ${b}`).join('\n')}${report.transactions.length ? `\n(recovered: ${report.transactions.map((t) => `${t.txid} ${t.now}`).join(', ')})` : ''}`,
    )
  }
  if (warnings.length) report.warnings = warnings
  return report
}

/**
 * Removes (when empty) the directories a committed rollback is to remove, those its apply made,
 * and records that in its journal; returns a warning for each left.
 */
async function dropDirsOf(
  j: Journal,
  fs: TxFileSystem,
  state: StateFileSystem,
  stateDir: string,
  fault: FaultHook,
): Promise<string[]> {
  const warnings = await removeDirs(fs, j.removeDirs ?? [], fault)
  delete j.removeDirs
  await writeJournal(stateDir, j, state)
  return warnings
}

/**
 * Ends an unfinished transaction without rolling it forward: its temps removed; `staging`
 * becomes aborted; `prepared` becomes committed when its participants committed (or, without
 * any and unless `back`, when every target already holds its new content), else rolled-back
 * with every target not holding its `before` restored (`untouched`: targets known to hold it).
 * Returns the targets it could not reach (their directory replaced), the journal then unchanged.
 */
async function settle(
  j: Journal,
  moved: readonly (string | undefined)[],
  at: {
    fs: TxFileSystem
    state: StateFileSystem
    fault: FaultHook
    options: RecoverOptions
    untouched: (i: number) => boolean
    back: boolean
    /** Where directories left (not empty) are told. */
    warnings: string[]
    /** New targets whose directory, made by the transaction, an earlier recovery removed. */
    gone: ReadonlySet<number>
  },
): Promise<JournalTarget[]> {
  const { fs } = at
  for (const [i, t] of j.targets.entries())
    if (!moved[i] && !at.gone.has(i))
      for (const p of tempsOf(t, j.txid)) await unlinkBeside(fs, p, t)
  if (j.state === 'staging') {
    at.warnings.push(...(await removeDirs(fs, j.dirs ?? [], at.fault)))
    j.state = 'aborted'
    return []
  }
  const hashes: (string | undefined)[] = []
  for (const [i, t] of j.targets.entries())
    hashes.push(at.untouched(i) ? t.before : moved[i] ? undefined : await hashOf(fs, t))
  // a database commits after every rename: its state decides; without one, all-after rolls forward
  const db = at.back ? 'before' : await participantsState(j, at.options)
  if (
    db === 'after' ||
    (db === 'none' && !at.back && hashes.every((h, i) => h === j.targets[i]!.after))
  ) {
    j.state = 'committed'
    return []
  }
  const left = await restoreTargets(fs, at.state, j, hashes, at.fault)
  if (left.length === 0) {
    // its new targets are gone: the directories made for them go too, when empty
    at.warnings.push(...(await removeDirs(fs, j.dirs ?? [], at.fault)))
    j.state = 'rolled-back'
  }
  return left
}

/**
 * Finishes a prepared transaction its fleet's controller decided to commit: each target not
 * holding its new content yet gets it by renaming its staged temp (checked to hold that content)
 * over it in its pinned directory, or is removed when the transaction removes it; then every
 * directory is fsynced and the temps left go. `left`: the targets whose directory was replaced
 * (nothing done there); `stuck`: targets that hold neither their new content nor a staged copy of
 * it (nothing removed then, so that a later run still finds what is there).
 */
async function rollForward(
  fs: TxFileSystem,
  j: Journal,
  moved: readonly (string | undefined)[],
  fault: FaultHook,
): Promise<{ left: JournalTarget[]; stuck: string[] }> {
  const left = j.targets.filter((_, i) => moved[i])
  const reachable = j.targets.filter((_, i) => !moved[i])
  const stuck: string[] = []
  let k = 0
  for (const t of reachable) {
    const now = await hashOf(fs, t)
    if (now === t.after) continue
    if (t.after === 'absent') {
      await unlinkBeside(fs, t.path, t)
    } else {
      const has = await hashOf(fs, t, basename(t.temp))
      if (has !== t.after) {
        stuck.push(
          `${t.target} holds ${now}, not its new content ${t.after}, and its staged copy ${has === 'absent' ? 'is gone' : `holds ${has}`}: it cannot be rolled forward`,
        )
        continue
      }
      await fs.renamePinned(pinnedOf(t), basename(t.temp), basename(t.path))
    }
    fault(`recover:${++k}`)
  }
  await fsyncDirs(fs, [...new Set(reachable.map((t) => dirname(t.path)))])
  if (left.length === 0 && stuck.length === 0)
    for (const t of reachable) for (const p of tempsOf(t, j.txid)) await unlinkBeside(fs, p, t)
  return { left, stuck }
}

/**
 * Restores the backups of the targets of `j` whose hash is not the one before (`undefined`: its
 * directory was replaced), each in its pinned directory; returns the targets it could not reach.
 */
async function restoreTargets(
  fs: TxFileSystem,
  state: StateFileSystem,
  j: Journal,
  hashes: readonly (string | undefined)[],
  fault: FaultHook,
): Promise<JournalTarget[]> {
  let k = 0
  const left: JournalTarget[] = []
  const todo = j.targets.filter((t, i) => hashes[i] !== t.before)
  const names = new Map(j.targets.map((t, i) => [t, backupName(t, i)]))
  const attrs = await backupAttrs(
    state,
    todo.filter((t) => t.existed).map((t) => names.get(t)!),
  )
  const acl = await dirsWithDefaultAcl(fs, [...new Set(todo.map((t) => dirname(t.path)))])
  // every original is read and checked against its hash before anything is written (as the
  // transaction holds every new content): a backup that does not hold its original (a torn or
  // changed pack) leaves every target as it is, none half restored
  const originals = new Map<JournalTarget, Buffer>()
  for (const t of todo)
    if (hashes[j.targets.indexOf(t)] !== undefined && t.existed && t.link === undefined)
      originals.set(t, await readBackup(state, t))
  for (const t of todo) {
    if (hashes[j.targets.indexOf(t)] === undefined) {
      left.push(t)
      continue
    }
    if (t.existed && t.link !== undefined) {
      // a link it removed: made again beside it, renamed over
      const temp = tempsOf(t, j.txid)[1]!
      await fs.symlinkPinned(pinnedOf(t), basename(temp), t.link, { uid: t.uid, gid: t.gid })
      await fs.renamePinned(pinnedOf(t), basename(temp), basename(t.path))
    } else if (t.existed) {
      const temp = tempsOf(t, j.txid)[1]!
      await writeBeside(
        fs,
        temp,
        originals.get(t)!,
        t,
        attrs.get(names.get(t)!),
        acl.has(dirname(t.path)),
      )
      await fs.renamePinned(pinnedOf(t), basename(temp), basename(t.path))
    } else {
      await unlinkBeside(fs, t.path, t)
    }
    await fs.fsyncDir(dirname(t.path))
    fault(`recover:${++k}`)
  }
  return left
}

/**
 * Writes every target or none (docs/design.md §10). The caller holds the lock and has run
 * {@link recover}. Order, with what is durable at each point:
 *  1. journal `staging` (lists the temp paths), fsynced;
 *  2. each new content in a temp file beside its target, with the target's owner, mode and
 *     extended attributes, fsynced (`staged:N`);
 *  3. every validator of every target on the staged set (`validated`); a failure aborts; a
 *     fleet part (`fleet` in its journal) fsyncs the directories of its staged files meanwhile
 *     (a roll forward renames them after a crash; a local transaction never does, and skips it);
 *  4. each target re-checked against its planned hash and copied to `backup/` (0600), fsynced,
 *     with the backup directory (`backed-up:N`); this runs beside 2 and 3, and a failure of
 *     either side stops the other;
 *  5. journal `prepared` (with the new hashes), fsynced (`prepared`); participants prepare;
 *  6. each temp renamed over its target (`renamed:K`), then every parent directory fsynced
 *     (`before-commit`); participants commit (`participants-committed`, when there are any);
 *  7. journal `committed`, fsynced (`committed`).
 * A crash before 5 leaves every target untouched (recover removes the temps); from 5 on,
 * recover restores the backups unless every target already holds its new content. The stages
 * are functions: {@link begin} (1), {@link stageAndBackUp} (2–4), {@link prepare} (5),
 * {@link install} and {@link commit} (6–7); an error in any of them goes to {@link abort}.
 */
export async function commitFiles(
  targets: readonly TxTarget[],
  options: CommitOptions,
): Promise<TxResult> {
  return (await prepareFiles(targets, options)).commit()
}

/**
 * A transaction prepared by {@link prepareFiles}: every new content staged and validated beside
 * its target, every original backed up, the journal `prepared`. Nothing is written to a target
 * until `commit`. Exactly one of `commit` and `abort` is called, once.
 */
export interface PreparedTx {
  txid: string
  warnings: string[]
  /**
   * Renames every staged file over its target, fsyncs their directories, and journals
   * `committed` (the participants commit between). On an error it undoes the transaction as
   * {@link commitFiles} does, except in a fleet transaction: its controller has decided to
   * commit, so the journal stays `prepared` and the error is thrown; `recover` with the
   * controller's decision rolls it forward.
   */
  commit(): Promise<TxResult>
  /**
   * Undoes the transaction: the participants roll back, the temp files go (every target as
   * before), the journal says `rolled-back`; its backups stay until pruned, as any transaction's.
   */
  abort(err?: unknown): Promise<void>
}

/** Options of {@link prepareFiles}. */
export interface PrepareOptions extends CommitOptions {
  /**
   * This transaction is one machine's part of a fleet transaction: journaled with it, so that
   * recovery leaves its outcome to the controller. Its participants (a database) are the
   * controller's to run: `participants` and `journalDatabase` are refused with it.
   */
  fleet?: FleetMark
}

/**
 * The first phase of {@link commitFiles} (steps 1–5): begins the transaction, stages, validates
 * and backs up, and journals it `prepared` (with `fleet` when given), fsynced; the participants
 * prepare. On an error everything it did is undone and the error thrown. The second phase is the
 * returned {@link PreparedTx.commit} (6–7), or {@link PreparedTx.abort}. The caller holds the
 * lock and has run {@link recover}.
 */
export async function prepareFiles(
  targets: readonly TxTarget[],
  options: PrepareOptions,
): Promise<PreparedTx> {
  if (options.fleet && (options.participants?.length || options.journalDatabase))
    throw new Error(
      "prepareFiles: a fleet transaction's participants (a database) are its controller's, not a machine's",
    )
  const tx = await begin(targets, options)
  try {
    await makeTargetDirs(tx)
    await stageAndBackUp(tx)
    await prepare(tx)
  } catch (err) {
    await abort(tx, err)
    throw err
  }
  let finished = false
  const once = () => {
    if (finished) throw new Error(`transaction ${tx.txid} was already committed or aborted`)
    finished = true
  }
  return {
    txid: tx.txid,
    warnings: tx.warnings,
    commit: async () => {
      once()
      try {
        await install(tx)
        await commit(tx)
      } catch (err) {
        // after a fleet's decision to commit, only rolling forward keeps the machines as one
        if (!options.fleet) await abort(tx, err)
        throw err
      }
      return { txid: tx.txid, written: tx.entries.map((e) => e.target), warnings: tx.warnings }
    },
    abort: async (err?: unknown) => {
      once()
      await abort(tx, err)
    },
  }
}

/** Options of {@link commitFiles}. */
export interface CommitOptions extends TxOptions, TxFileSystemOption {
  participants?: readonly TxParticipant[]
  kind?: 'apply' | 'rollback'
  meta?: TxMeta
  restores?: string
  /** What the participants change, journaled for recovery. */
  journalDatabase?: Journal['database']
}

/** A transaction under way: what {@link begin} found, and how far it got. */
interface Tx {
  txid: string
  txDir: string
  targets: readonly TxTarget[]
  /** The targets as the journal records them, in the order of `targets`. */
  entries: JournalTarget[]
  journal: Journal
  options: PrepareOptions
  fs: TxFileSystem
  /** The state directory's file system. */
  state: StateFileSystem
  fault: FaultHook
  observe: TxObserver
  warnings: string[]
  /** The extended attributes of each existing target, by real path. */
  xattrs: Map<string, TxXattrs>
  /** The directories whose default ACL a new file would inherit. */
  defaultAcl: Set<string>
  /** The journal says prepared: an error from here on returns the renamed targets. */
  prepared: boolean
  /** How many targets are renamed (or removed) so far. */
  renamed: number
  /** The targets whose directory is one the transaction makes: pinned once it is made. */
  unpinned: Set<number>
}

/**
 * Begins a transaction: checks every target (a real path, writable, not a mount point, not in a
 * directory other users can change), pins its directory, reads its metadata, and journals it
 * `staging` (with the temp paths), fsynced. Its reads of the targets' directories are read
 * together ({@link TxFileSystem.readTogether}).
 */
function begin(targets: readonly TxTarget[], options: PrepareOptions): Promise<Tx> {
  const fs = options.fileSystem ?? localFileSystem
  const checks = (reads: TxFileSystem) => beginChecked(targets, options, reads)
  return fs.readTogether ? fs.readTogether(checks) : checks(fs)
}

/** {@link begin}; `reads`: the view of its file system that it reads the targets through. */
async function beginChecked(
  targets: readonly TxTarget[],
  options: PrepareOptions,
  reads: TxFileSystem,
): Promise<Tx> {
  const fault = options.fault ?? faultsFromEnv()
  const observe = options.observer ?? (() => undefined)
  const fs = options.fileSystem ?? localFileSystem
  const state = options.stateFileSystem ?? localStateFileSystem
  await ensureStateDir(options.stateDir, state)
  const txid = newTxid()
  const txDir = join(options.stateDir, 'tx', txid)
  await makeBackupDir(state, txDir)
  // the transaction's directory is a new name in tx/: durable before its journal is relied on
  await state.fsync(join(options.stateDir, 'tx'))
  const user = await fs.identity()
  const warnings: string[] = []
  const entries: JournalTarget[] = []
  const seen = new Set<string>()
  const pins = new Map<string, string[]>()
  const pin = async (dir: string) => {
    let p = pins.get(dir)
    if (!p) pins.set(dir, (p = await view.pinDir(dir)))
    return p
  }
  const dirs = new Map<string, JournalDir>()
  const unpinned = new Set<number>()
  const notOwned: string[] = []
  const ownerOf = (given: { uid?: number; gid?: number } | undefined, what: string) => {
    const uid = user.uid ?? 0
    const gid = user.gid ?? 0
    if (given?.uid === undefined || given.gid === undefined) return { uid, gid }
    if (uid === 0 || (given.uid === uid && given.gid === gid))
      return { uid: given.uid, gid: given.gid }
    notOwned.push(`${what} (${given.uid}:${given.gid})`)
    return { uid, gid }
  }
  const userCheck: Array<{ dir: string; target: string; info: TxStat | undefined }> = []
  // the random part of every temp name (two a target), drawn at once: a call each was ≈ 4,000
  // calls into the system's random source for 2,000 targets
  const random = randomBytes(16 * targets.length).toString('hex')
  // what the checks below read of every target, read first in a few batches (facts.ts)
  const facts = new Facts(reads)
  const view = facts.view
  await facts.gather(targets, async (v, t) => {
    // asked with the first round: the path given is most often the real one (reads only)
    void v.lstat(t.path).catch(() => undefined)
    void v.pinDir(dirname(t.path)).catch(() => undefined)
    const at = await locate(v, t)
    await Promise.all([v.pinDir(at.make.length ? at.dir : dirname(at.real)), inspect(v, t, at)])
  })
  tracePhase('begin:gathered')
  for (const [i, t] of targets.entries()) {
    const link = t.symlink !== undefined
    if (link && !t.remove && t.before !== 'absent')
      throw new CutoverError(
        'TARGET',
        `${t.target}: a symbolic link is made only where nothing is (planned ${t.before}); nothing was written`,
      )
    const at = await locate(view, t)
    const { real, make, dir } = at
    if (seen.has(real))
      throw new CutoverError('TARGET', `${t.target} is the same file as another target (${real})`)
    seen.add(real)
    const info = await inspect(view, t, at)
    if (!t.allowUserWritable) userCheck.push({ dir, target: t.target, info })
    if (make.length) {
      unpinned.add(i)
      for (const [k, d] of make.entries()) {
        if (dirs.has(d.path)) continue
        dirs.set(d.path, {
          path: d.path,
          target: t.target,
          mode: d.mode & 0o7777,
          ...ownerOf(d, `directory ${d.path}`),
          ...(k === 0 ? { parentPin: await pin(dir) } : {}),
        })
      }
    }
    const owner = info ? { uid: info.uid, gid: info.gid } : ownerOf(t.owner, t.target)
    entries.push({
      target: t.target,
      path: real,
      temp: tempBeside(real, txid, random.slice(32 * i, 32 * i + 16)),
      restore: tempBeside(real, txid, random.slice(32 * i + 16, 32 * i + 32)) + '.restore',
      ...(make.length ? {} : { dirPin: await pin(dirname(real)) }),
      // one pack for every original, where the state directory's file system has packs
      backup: state.openPack ? packPath(txDir) : join(txDir, 'backup', String(i)),
      existed: info !== undefined,
      before: t.before,
      after: hashOrAbsent(t.remove ? undefined : link ? linkBytes(t.symlink) : t.content),
      mode: info ? info.mode & 0o7777 : (t.mode ?? 0o644),
      ...owner,
      ...(t.once?.length ? { once: t.once } : {}),
      ...(t.allowUserWritable ? { allowUserWritable: true as const } : {}),
      ...(link ? { link: t.symlink } : {}),
    })
  }
  tracePhase('begin:checked')
  if (notOwned.length)
    warnings.push(
      `not running as root: ${notOwned.length} new file(s) and directories are owned by uid ${user.uid ?? 0}, not as planned: ${notOwned.slice(0, 5).join(', ')}${notOwned.length > 5 ? ', …' : ''}`,
    )
  // read (a getfattr process) while the directories are checked below; a refusal there leaves it unread
  const xattrsRead = collectXattrs(fs, entries, [...pins.keys()], warnings)
  xattrsRead.catch(() => undefined)
  if (user.uid === 0 && userCheck.length) {
    // the ACLs of the directories on the way that may grant write to other users
    const candidates = await reads.aclCandidates(new Set(userCheck.map((u) => u.dir)))
    const acls = new Map<string, string>()
    if (candidates.length && (await fs.xattrsAvailable())) {
      for (const [dir, a] of await fs.readXattrs(candidates))
        if (a.has('system.posix_acl_access')) acls.set(dir, a.get('system.posix_acl_access')!)
    }
    await facts.gather(userCheck, (v, u) => checkNotUserWritable(v, u.dir, u.target, u.info, acls))
    for (const u of userCheck) await checkNotUserWritable(view, u.dir, u.target, u.info, acls)
  }
  tracePhase('begin:user-writable')
  const { xattrs, defaultAcl } = await xattrsRead
  tracePhase('begin:xattrs')
  // a new file given its attributes (a rollback making again a file its apply removed)
  for (const [i, t] of targets.entries())
    if (t.xattrs && !entries[i]!.existed) xattrs.set(entries[i]!.path, t.xattrs)
  const journal: Journal = {
    txid,
    state: 'staging',
    created: new Date().toISOString(),
    kind: options.kind ?? 'apply',
    ...(options.meta ? { meta: options.meta } : {}),
    ...(options.fleet ? { fleet: options.fleet } : {}),
    ...(options.restores ? { restores: options.restores } : {}),
    ...(options.journalDatabase ? { database: options.journalDatabase } : {}),
    targets: entries,
    ...(dirs.size ? { dirs: [...dirs.values()] } : {}),
  }
  if (options.kind === 'rollback' && options.restores) {
    // the directories its apply made go once the files in them are removed
    const restored = (await readJournals(options.stateDir, state)).find(
      (j) => j.txid === options.restores,
    )
    if (restored?.dirs?.length) journal.removeDirs = restored.dirs
  }
  await writeJournal(options.stateDir, journal, state)
  tracePhase('begin:journaled')
  return {
    txid,
    txDir,
    targets,
    entries,
    journal,
    options,
    fs,
    state,
    fault,
    observe,
    warnings,
    xattrs,
    defaultAcl,
    prepared: false,
    renamed: 0,
    unpinned,
  }
}

/**
 * Stages (then validates) the new contents and backs up the targets. The two sides touch
 * different files and wait on different things (the disk, the validators' processes): they run
 * at once, and a failure of either stops the other before its next file. Where the targets' file
 * system can ({@link TxFileSystem.readAndCreatePinned}) and the pack is written here (not copied
 * on the targets' machine), the staging reads each existing file's original for its backup in
 * the same visit of its directory as it creates the staged file beside it (one check of the pin
 * for both), and the backup side backs up only the others (links, removals).
 */
async function stageAndBackUp(tx: Tx): Promise<void> {
  const halt = { stopped: false }
  const stop = () => {
    halt.stopped = true
  }
  const stopping = (e: unknown) => {
    stop()
    throw e
  }
  const pack = tx.state.openPack ? await openPackOf(tx) : undefined
  try {
    const backups: Backups = { pack, count: 0 }
    const together =
      tx.fs.readAndCreatePinned !== undefined && !pack?.copyFrom ? backups : undefined
    const failed = (
      await Promise.allSettled([
        stage(tx, halt, stop, together).catch(stopping),
        backUpAll(tx, backups, halt, stop, together !== undefined).catch(stopping),
      ])
    ).flatMap((r) => (r.status === 'rejected' && r.reason !== HALTED ? [r.reason as unknown] : []))
    if (failed.length) throw failed[0]
    if (together) {
      // every slice durable with one fsync, once both sides appended theirs
      if (pack) await pack.sync()
      tracePhase('backup:synced')
    }
  } finally {
    await pack?.close().catch(() => undefined)
  }
  // the pack is fsynced by its side; this makes its name (and the .meta files') durable
  await syncBackups(tx.state, tx.txDir)
  tracePhase('backups-synced')
  tx.fault('backups-synced')
}

/** The backups of a transaction under way: its pack (none: a file each), how many are made. */
interface Backups {
  pack: StatePack | undefined
  count: number
}

/** Whether a target's original is read by its staging ({@link stageAndBackUp}): an existing file, written anew. */
const readWhenStaged = (t: TxTarget, e: JournalTarget) =>
  e.existed && !t.remove && e.link === undefined

/**
 * Writes each new content in a temp file beside its target, fsynced; then validates the staged
 * set. A validator that checks many files in one go starts as soon as every file it checks is
 * staged, while the others are still being written (the targets it checks are staged first).
 * `backups`: back up each existing file's original too, read in the same visit of its directory.
 */
async function stage(
  tx: Tx,
  halt: { stopped: boolean },
  stop: () => void,
  backups?: Backups,
): Promise<void> {
  const { entries, targets, fault, observe } = tx
  let staged = 0
  await assertPins(
    tx.fs,
    entries.filter((_, i) => !targets[i]!.remove),
  )
  const validation = new Validation(targets, entries)
  try {
    await eachLimit(
      validation.order,
      IO_PARALLEL,
      async (i) => {
        if (halt.stopped) throw HALTED
        const e = entries[i]!
        const t = targets[i]!
        fault(`stage-write:${i + 1}`)
        let original: Buffer | undefined | 'symlink'
        if (t.remove) {
          // removed at install: nothing to stage
        } else if (e.link !== undefined) {
          await tx.fs
            .symlinkPinned(pinnedOf(e), basename(e.temp), e.link, { uid: e.uid, gid: e.gid })
            .catch((err: unknown) => {
              throw namedError(err, e.target)
            })
        } else if (backups && readWhenStaged(t, e))
          original = await readAndWriteBeside(tx, e, t.content, () => fault(`stage-open:${i + 1}`))
        else
          await writeBeside(
            tx.fs,
            e.temp,
            t.content,
            e,
            tx.xattrs.get(e.path),
            tx.defaultAcl.has(dirname(e.path)),
            () => fault(`stage-open:${i + 1}`),
          )
        fault(`staged:${++staged}`)
        observe({ type: 'staged', target: e.target, done: staged, total: entries.length })
        validation.staged(i)
        if (backups && readWhenStaged(t, e)) await backUpRead(tx, backups, e, original)
      },
      stop,
    )
    if (halt.stopped) throw HALTED
    tracePhase('stage:written')
  } catch (err) {
    // the checks under way finish before the temps they read are removed
    await validation.settled()
    throw err
  }
  // beside the checks: a fleet part's temps made durable by name (a roll forward renames them)
  const [checked, synced] = await Promise.allSettled([
    validation.finish(tx.warnings),
    syncStagedDirs(tx),
  ])
  if (checked.status === 'rejected') throw checked.reason
  if (synced.status === 'rejected') throw synced.reason
  tracePhase('stage:validated')
  fault('validated')
  observe({ type: 'validated', files: entries.length })
}

/**
 * fsyncs the directories of a fleet part's staged files (links too), every file staged: from
 * `prepared` on, its controller may decide to commit, and recovery then rolls it forward by
 * renaming each staged file over its target, so each must still be there after a power cut (the
 * file's own fsync does not make its name durable). A transaction without a fleet mark never rolls
 * forward from `prepared` (recovery restores the backups and removes the temps), so it skips this.
 */
function syncStagedDirs(tx: Tx): Promise<void> {
  if (!tx.journal.fleet) return Promise.resolve()
  const staged = tx.entries.filter((_, i) => !tx.targets[i]!.remove)
  return fsyncDirs(tx.fs, [...new Set(staged.map((e) => dirname(e.path)))])
}

/**
 * {@link writeBeside} of a target's new content, its original read first in the same visit of
 * its directory ({@link TxFileSystem.readAndCreatePinned}); resolves to the original. An error
 * of the read is thrown as the read's, one of the write names the target.
 */
async function readAndWriteBeside(
  tx: Tx,
  e: JournalTarget,
  data: Buffer,
  opening: () => void,
): Promise<Buffer | undefined | 'symlink'> {
  let read = false
  try {
    return await tx.fs.readAndCreatePinned!(pinnedOf(e), basename(e.path), basename(e.temp), data, {
      uid: e.uid,
      gid: e.gid,
      mode: e.mode,
      xattrs: tx.xattrs.get(e.path),
      dropAcl: tx.defaultAcl.has(dirname(e.path)),
      opening: () => {
        read = true
        opening()
      },
    })
  } catch (err) {
    throw read ? namedError(err, e.target) : err
  }
}

/**
 * Re-checks each target against its planned hash and copies it to the backups: appended to the
 * transaction's pack (or copied into it on the machine, when its file system can: the hash of
 * each slice is then checked as it is in the pack), fsynced once at the end; or, where the state
 * directory's file system has no packs, a file each, fsynced. `staging`: the staging backs up
 * the originals it reads ({@link readWhenStaged}); this side the others, and the pack is fsynced
 * by the caller.
 */
async function backUpAll(
  tx: Tx,
  backups: Backups,
  halt: { stopped: boolean },
  stop: () => void,
  staging: boolean,
): Promise<void> {
  const { entries } = tx
  const { pack } = backups
  const mine = staging ? entries.filter((e, i) => !readWhenStaged(tx.targets[i]!, e)) : entries
  await assertPins(
    tx.fs,
    mine.filter((e) => e.existed),
  )
  if (halt.stopped) throw HALTED
  let rest: readonly JournalTarget[] = mine
  if (pack?.copyFrom) {
    // the originals of the files copied into the pack on their machine, in one go
    const files = mine.filter((e) => e.existed && e.link === undefined)
    const copied = await pack.copyFrom(files.map((e) => e.path)).catch((err: unknown) => {
      throw backupError(err, files[0]!, tx.options.stateDir)
    })
    for (const [k, e] of files.entries()) {
      if (halt.stopped) throw HALTED
      const got = copied[k]
      const now = got ? got.hash : await hashOf(tx.fs, e)
      if (!got || now !== e.before)
        throw new StalePlanError(
          `${e.target} changed while applying (planned ${e.before}, now ${now === 'symlink' ? 'a symlink' : now}); nothing was written`,
        )
      e.backupAt = got.at
      await writeMeta(tx, e)
      backedUp(tx, backups, e)
    }
    const copiedSet = new Set(files)
    rest = mine.filter((e) => !copiedSet.has(e))
  }
  await eachLimit(
    rest,
    IO_PARALLEL,
    async (e) => {
      if (halt.stopped) throw HALTED
      const bytes = e.existed ? await tx.fs.readPinned(pinnedOf(e), basename(e.path)) : undefined
      await backUpRead(tx, backups, e, bytes)
    },
    stop,
  )
  if (halt.stopped) throw HALTED
  tracePhase('backup:copied')
  if (staging) return
  // every slice durable with one fsync (the pack's name: with the backup directory's, after)
  if (pack) await pack.sync()
  tracePhase('backup:synced')
}

/**
 * Backs up a target from what was read of it just now (`bytes`; a link's text is read here):
 * refused as stale when its hash is not the planned one.
 */
async function backUpRead(
  tx: Tx,
  backups: Backups,
  e: JournalTarget,
  bytes: Buffer | undefined | 'symlink',
): Promise<void> {
  const now =
    bytes !== 'symlink'
      ? hashOrAbsent(bytes)
      : e.link !== undefined
        ? // a link the transaction removes: its text is what was planned
          hashOrAbsent(linkBytes(await tx.fs.readlinkPinned(pinnedOf(e), basename(e.path))))
        : 'a symlink'
  if (now !== e.before)
    throw new StalePlanError(
      `${e.target} changed while applying (planned ${e.before}, now ${now}); nothing was written`,
    )
  if (bytes && bytes !== 'symlink') await backUp(tx, backups.pack, e, bytes)
  backedUp(tx, backups, e)
}

/** One more target backed up: its fault point and event. */
function backedUp(tx: Tx, backups: Backups, e: JournalTarget): void {
  tx.fault(`backed-up:${++backups.count}`)
  tx.observe({ type: 'backed-up', target: e.target, done: backups.count, total: tx.entries.length })
}

/** Creates the transaction's backup pack; an error names the state directory. */
async function openPackOf(tx: Tx): Promise<StatePack> {
  try {
    return await tx.state.openPack!(packPath(tx.txDir))
  } catch (err) {
    const code = systemErrorCode(err)
    if (!code || err instanceof CutoverError) throw err
    throw new CutoverError(
      code,
      `cannot make the backup pack in the state directory ${tx.options.stateDir}: ${ERRNO_TEXT[code] ?? code}`,
      { cause: err },
    )
  }
}

/** Journals the transaction `prepared`, fsynced (recovery restores the backups from here on); the participants prepare. */
async function prepare(tx: Tx): Promise<void> {
  tx.journal.state = 'prepared'
  await writeJournal(tx.options.stateDir, tx.journal, tx.state)
  tx.prepared = true
  tracePhase('prepared')
  tx.fault('prepared')
  tx.observe({ type: 'prepared' })
  for (const p of tx.options.participants ?? []) await p.prepare()
}

/** Renames each staged file over its target (or removes the target), then fsyncs their directories. */
async function install(tx: Tx): Promise<void> {
  await assertPins(tx.fs, tx.entries)
  const dirs = new Set<string>()
  for (const e of tx.entries) {
    await replace(tx.fs, e)
    dirs.add(dirname(e.path))
    tx.fault(`renamed:${++tx.renamed}`)
    tx.observe({ type: 'renamed', target: e.target, done: tx.renamed, total: tx.entries.length })
  }
  tracePhase('install:renamed')
  await fsyncDirs(tx.fs, [...dirs])
  tracePhase('install:dirs-synced')
  tx.fault('before-commit')
}

/** The participants commit; then the journal says committed, fsynced. */
async function commit(tx: Tx): Promise<void> {
  const participants = tx.options.participants ?? []
  for (const p of participants) await p.commit()
  if (participants.length) tx.fault('participants-committed')
  tx.journal.state = 'committed'
  await writeJournal(tx.options.stateDir, tx.journal, tx.state)
  tracePhase('committed')
  tx.fault('committed')
  tx.observe({ type: 'committed', txid: tx.txid })
  if (tx.journal.removeDirs?.length) {
    // a rollback: the directories its apply made, now that the files in them are gone
    const left = await dropDirsOf(tx.journal, tx.fs, tx.state, tx.options.stateDir, tx.fault).catch(
      (e: Error) => [`the directories the apply made were not all removed: ${e.message}`],
    )
    tx.warnings.push(...left)
  }
}

/**
 * Makes the directories of the new targets that are not there (journaled `staging` already),
 * pins the targets' directories among them, and journals those pins (`dirs-made`).
 */
async function makeTargetDirs(tx: Tx): Promise<void> {
  const dirs = tx.journal.dirs
  if (!dirs?.length) return
  await makeDirs(tx.fs, dirs, tx.fault)
  // a new directory inherits its parent's default ACL, which its new files would inherit in turn
  for (const d of await dirsWithDefaultAcl(
    tx.fs,
    dirs.map((d) => d.path),
  ))
    tx.defaultAcl.add(d)
  for (const i of tx.unpinned) {
    const e = tx.entries[i]!
    e.dirPin =
      dirs.find((d) => d.path === dirname(e.path))?.pin ?? (await tx.fs.pinDir(dirname(e.path)))
  }
  await writeJournal(tx.options.stateDir, tx.journal, tx.state)
  tx.fault('dirs-made')
}

/**
 * Undoes a transaction that failed (an error, not a crash): the participants roll back; once
 * prepared, the renamed targets are restored as recovery would; before that, the temp files and
 * the backups made so far go, and the journal says aborted.
 */
async function abort(tx: Tx, err: unknown): Promise<void> {
  for (const p of tx.options.participants ?? []) await p.rollback().catch(() => undefined)
  if (tx.prepared) {
    const report = await recoverWith(
      {
        stateDir: tx.options.stateDir,
        stateFileSystem: tx.state,
        fileSystem: tx.fs,
        fault: () => undefined,
        rollBack: tx.txid,
      },
      tx.renamed,
    ).catch((r: Error) => {
      const why = err instanceof Error ? `${err.message}\n` : ''
      throw new CutoverError('RECOVER_MOVED', `${why}${r.message}`, { cause: err ?? r })
    })
    tx.warnings.push(...(report.warnings ?? []))
    return
  }
  for (const e of tx.entries) {
    try {
      if (!(await tx.fs.pinChanged(dirname(e.path), e.dirPin))) await unlinkBeside(tx.fs, e.temp, e)
    } catch {
      // left for `cutover state` to show; the targets are untouched
    }
  }
  // the directories made for new targets, now empty again
  tx.warnings.push(
    ...(await removeDirs(
      tx.fs,
      // only those it made (one there already when it came to make it is someone else's)
      (tx.journal.dirs ?? []).filter((d) => d.pin),
      () => undefined,
    ).catch((e: Error) => [
      `the directories made for new targets were not all removed: ${e.message}`,
    ])),
  )
  // the copies of the originals made so far: nothing was written, they are not needed
  await dropBackups(tx.state, tx.txDir)
  tx.journal.state = 'aborted'
  await writeJournal(tx.options.stateDir, tx.journal, tx.state).catch(() => undefined)
}

/** Installs one staged target (or removes it), with an error that names the target, never the temp file. */
async function replace(fs: TxFileSystem, e: JournalTarget): Promise<void> {
  try {
    if (e.after === 'absent') await fs.unlinkPinned(pinnedOf(e), basename(e.path))
    else await fs.renamePinned(pinnedOf(e), basename(e.temp), basename(e.path))
  } catch (err) {
    if (err instanceof CutoverError) throw err
    const code = systemErrorCode(err) ?? 'EIO'
    const why: Record<string, string> = {
      EBUSY: 'it is busy or a mount point',
      EXDEV: 'it is on another file system than its directory',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EROFS: 'its file system is read-only',
    }
    throw new CutoverError(code, `${e.target} cannot be replaced: ${why[code] ?? code}`, {
      cause: err,
    })
  }
}

/**
 * Why the directory of each of `targets` is not its pinned one any more (undefined: it still is),
 * by directory: one batch call for them all when the file system has one.
 */
async function pinsChanged(
  fs: TxFileSystem,
  targets: readonly JournalTarget[],
): Promise<Map<string, string | undefined>> {
  const dirs = new Map<string, PinnedDir>()
  for (const t of targets) if (!dirs.has(dirname(t.path))) dirs.set(dirname(t.path), pinnedOf(t))
  if (fs.pinsChanged) return fs.pinsChanged([...dirs.values()])
  const out = new Map<string, string | undefined>()
  for (const d of dirs.values()) out.set(d.dir, await fs.pinChanged(d.dir, d.pin))
  return out
}

/**
 * The check at the start of a phase (stage, backup, rename), on a file system that has the batch
 * form (one without it checks before each operation only): throws `TARGET_MOVED`, naming the
 * first target whose directory is not the pinned one any more. Each operation of the phase still
 * acts in its pinned directory; a remote file system may check pins here rather than per call.
 */
async function assertPins(fs: TxFileSystem, targets: readonly JournalTarget[]): Promise<void> {
  if (targets.length === 0 || !fs.pinsChanged) return
  const pins = await pinsChanged(fs, targets)
  for (const t of targets) {
    const why = pins.get(dirname(t.path))
    if (why)
      throw new CutoverError(
        'TARGET_MOVED',
        `${t.target}: its directory changed while applying (${why}); nothing is written there`,
      )
  }
}

/** fsyncs every directory of `dirs` (distinct): one batch call when the file system has one. */
function fsyncDirs(fs: TxFileSystem, dirs: readonly string[]): Promise<void> {
  if (dirs.length === 0) return Promise.resolve()
  if (fs.fsyncDirs) return fs.fsyncDirs(dirs)
  return eachLimit(dirs, IO_PARALLEL, (d) => fs.fsyncDir(d))
}

/** Thrown by the side of a transaction that stops because the other side failed. */
const HALTED = new Error('halted: the other side of the transaction failed')

/** How many files are staged, backed up or fsynced at once. */
const IO_PARALLEL = 32

/**
 * Runs `fn` on every item, at most `limit` at once. After the first failure no new item starts
 * (and `onFailure` is called at once); the ones under way finish, then the first error is thrown
 * (so cleanup sees a quiet tree).
 */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  onFailure?: () => void,
): Promise<void> {
  let next = 0
  let failed: { error: unknown } | undefined
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        await fn(items[i]!, i)
      } catch (error) {
        if (!failed) onFailure?.()
        failed ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failed) throw failed.error
}

/**
 * The validation of a staged set: every validator of every target on its staged file. One that
 * checks many files in one go (`runBatch`: php -l through one process per core) runs once every
 * file it checks is staged ({@link staged}), beside the staging of the others; each other one
 * runs on its file as soon as that file is staged, beside the staging of the rest (checks in the
 * process as many at once as files are staged, the others one per core at once).
 * {@link finish} waits for them all. The
 * verdicts, their order and the warnings are those of all validators run after the staging: a
 * validator reads only the staged file it is given.
 */
class Validation {
  /** The order to stage the targets in: those a batch validator checks first. */
  readonly order: number[]
  /** One result list per target, in the order of its validators. */
  private readonly results: (string | undefined)[][]
  /** Each validator's targets (`i`) and its place among their validators (`k`), in target order. */
  private readonly byValidator = new Map<StagedCheck, Array<{ i: number; k: number }>>()
  /** How many of each batch validator's targets are not staged yet. */
  private readonly waiting = new Map<StagedCheck, number>()
  private readonly available = new Map<StagedCheck, Promise<boolean>>()
  /** The batch runs started, each settled with its error (undefined when it ran). */
  private readonly running: Array<Promise<{ error: unknown } | undefined>> = []
  /**
   * The single runs of staged files not started yet, in the order their files were staged, and
   * how many are under way: checks in the process (`inProcess`: json-parse, whose wait is its
   * read of the file) as many at once as files are staged, the others (commands: visudo, a step's
   * `validate:`) one per core at once.
   */
  private readonly queues = {
    others: {
      waiting: [] as Array<{ v: StagedCheck; i: number; k: number }>,
      active: 0,
      limit: Math.max(2, availableParallelism()),
    },
    inProcess: {
      waiting: [] as Array<{ v: StagedCheck; i: number; k: number }>,
      active: 0,
      limit: IO_PARALLEL,
    },
  }
  /** The first error a single run threw (not a verdict: the check itself failed). */
  private singleError: { error: unknown } | undefined
  /** No single run starts any more (the staging failed, or a run threw). */
  private stopped = false
  private readonly idleWaiters: Array<() => void> = []

  constructor(
    private readonly targets: readonly TxTarget[],
    private readonly entries: readonly JournalTarget[],
  ) {
    this.results = targets.map((t) => new Array((t.validators ?? []).length))
    targets.forEach((t, i) =>
      (t.validators ?? []).forEach((v, k) => {
        let list = this.byValidator.get(v)
        if (!list) this.byValidator.set(v, (list = []))
        list.push({ i, k })
      }),
    )
    const first = new Set<number>()
    for (const [v, list] of this.byValidator) {
      if (!v.runBatch) continue
      this.waiting.set(v, new Set(list.map(({ i }) => i)).size)
      for (const { i } of list) first.add(i)
    }
    this.order = [...first, ...[...targets.keys()].filter((i) => !first.has(i))]
  }

  /**
   * Target `i` is staged: its single validators are queued to run on it, and each batch
   * validator whose every file is staged now starts.
   */
  staged(i: number): void {
    const validators = this.targets[i]!.validators ?? []
    for (const [k, v] of validators.entries())
      if (!v.runBatch) this.queues[v.inProcess ? 'inProcess' : 'others'].waiting.push({ v, i, k })
    this.pump()
    for (const v of new Set(validators)) {
      const left = this.waiting.get(v)
      if (left === undefined) continue
      this.waiting.set(v, left - 1)
      if (left === 1)
        this.running.push(
          this.runBatch(v).then(
            () => undefined,
            (error: unknown) => ({ error }),
          ),
        )
    }
  }

  /**
   * Starts no more checks and resolves once every one started has ended (their verdicts not
   * read): the staged files they read may then be removed.
   */
  async settled(): Promise<void> {
    this.stopped = true
    await Promise.all([this.idle(), ...this.running])
  }

  /**
   * Waits for every check (each staged file's, the batch runs), and throws a
   * {@link ValidationError} naming every failure (nothing is written then); adds a warning for
   * each validator whose tool is not here.
   */
  async finish(warnings: string[]): Promise<void> {
    await Promise.all([this.idle(), ...this.running])
    const failed = (await Promise.all(this.running)).find((r) => r !== undefined)
    if (this.singleError) throw this.singleError.error
    if (failed) throw failed.error
    const missing = new Set<string>()
    for (const v of this.byValidator.keys()) if (!(await this.isAvailable(v))) missing.add(v.name)
    for (const name of missing)
      warnings.push(
        `validator ${name} is not installed here: files of its kind were not checked by it`,
      )
    const all = this.targets.flatMap((t, i) =>
      this.results[i]!.flatMap((problem, k) =>
        problem ? [`${t.target}: ${t.validators![k]!.name}: ${problem}`] : [],
      ),
    )
    if (all.length)
      throw new ValidationError(`validation failed, nothing was written:\n${all.join('\n')}`)
  }

  /** Starts queued single runs while fewer than their queue's limit are under way. */
  private pump(): void {
    for (const q of Object.values(this.queues))
      while (!this.stopped && q.active < q.limit && q.waiting.length) {
        const { v, i, k } = q.waiting.shift()!
        q.active++
        void this.runSingle(v, i, k).finally(() => {
          q.active--
          this.pump()
          if (this.active() === 0) for (const w of this.idleWaiters.splice(0)) w()
        })
      }
  }

  /** How many single runs are under way. */
  private active(): number {
    return this.queues.others.active + this.queues.inProcess.active
  }

  /** Resolves once no single run is under way and none will start (queues empty, or stopped). */
  private idle(): Promise<void> {
    if (this.active() === 0) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  private async runSingle(v: StagedCheck, i: number, k: number): Promise<void> {
    try {
      if (await this.isAvailable(v))
        this.results[i]![k] = await v.run(this.entries[i]!.temp, this.targets[i]!.target)
    } catch (error) {
      // the first such error is the one thrown; no other run starts
      this.singleError ??= { error }
      this.stopped = true
    }
  }

  private isAvailable(v: StagedCheck): Promise<boolean> {
    let a = this.available.get(v)
    if (!a) this.available.set(v, (a = v.available ? v.available() : Promise.resolve(true)))
    return a
  }

  /** A batch validator on its staged files (skipped when its tool is not here). */
  private async runBatch(v: StagedCheck): Promise<void> {
    if (!(await this.isAvailable(v))) return
    const list = this.byValidator.get(v)!
    const got = await v.runBatch!(
      list.map(({ i }) => ({ stagedPath: this.entries[i]!.temp, target: this.targets[i]!.target })),
    )
    list.forEach(({ i, k }, n) => (this.results[i]![k] = got[n]))
  }
}

/**
 * The extended attributes of each existing target, and the directories among `dirs` that have a
 * default ACL (new files there inherit an access ACL from it): both read in one go.
 */
async function collectXattrs(
  fs: TxFileSystem,
  entries: readonly JournalTarget[],
  dirs: readonly string[],
  warnings: string[],
): Promise<{ xattrs: Map<string, TxXattrs>; defaultAcl: Set<string> }> {
  const existing = entries.filter((e) => e.existed).map((e) => e.path)
  if (existing.length === 0 && dirs.length === 0)
    return { xattrs: new Map(), defaultAcl: new Set() }
  if (!(await fs.xattrsAvailable())) {
    if (existing.length)
      warnings.push(
        'getfattr/setfattr (Debian package attr) are not installed: extended attributes and ACLs of the targets were not carried over',
      )
    return { xattrs: new Map(), defaultAcl: new Set() }
  }
  const attrs = await fs.readXattrs([...new Set([...existing, ...dirs])])
  const xattrs = new Map<string, TxXattrs>()
  for (const path of existing) {
    const a = attrs.get(path)
    if (a) xattrs.set(path, a)
  }
  const defaultAcl = new Set(dirs.filter((d) => attrs.get(d)?.has('system.posix_acl_default')))
  return { xattrs, defaultAcl }
}

/** The directories among `dirs` that have a default ACL (new files there inherit an access ACL from it). */
async function dirsWithDefaultAcl(fs: TxFileSystem, dirs: readonly string[]): Promise<Set<string>> {
  if (dirs.length === 0 || !(await fs.xattrsAvailable())) return new Set()
  const attrs = await fs.readXattrs(dirs)
  return new Set([...attrs].filter(([, a]) => a.has('system.posix_acl_default')).map(([d]) => d))
}

/**
 * Copies a target's bytes to the pack (or to a file of its own, without one) and its attributes
 * beside; an error names the target and the state directory.
 */
async function backUp(
  tx: Tx,
  pack: StatePack | undefined,
  e: JournalTarget,
  bytes: Buffer,
): Promise<void> {
  try {
    if (!pack) await writeBackup(tx.state, e.backup, bytes, tx.xattrs.get(e.path))
    else {
      e.backupAt = await pack.append(bytes)
      await writeMeta(tx, e)
    }
  } catch (err) {
    throw backupError(err, e, tx.options.stateDir)
  }
}

/** Saves a packed target's attributes on its own `.meta` beside the pack (none: nothing written). */
async function writeMeta(tx: Tx, e: JournalTarget): Promise<void> {
  const attrs = tx.xattrs.get(e.path)
  if (!attrs) return
  try {
    await writeBackupAttrs(tx.state, backupName(e, tx.entries.indexOf(e)), attrs)
  } catch (err) {
    throw backupError(err, e, tx.options.stateDir)
  }
}

/** A system error while backing up, as a message naming the target and the state directory. */
function backupError(err: unknown, e: JournalTarget, stateDir: string): unknown {
  const code = systemErrorCode(err)
  if (!code || err instanceof CutoverError) return err
  return new CutoverError(
    code,
    `${e.target}: cannot back it up in the state directory ${stateDir}: ${ERRNO_TEXT[code] ?? code}`,
    { cause: err },
  )
}

/**
 * Where a target is: its real path (a link target's own directory resolved, the link itself
 * never followed), the directories to make above it (top down, real paths: those of `dirs` not
 * there now), and the deepest of its directories there now.
 */
async function locate(
  fs: TxFileSystem,
  t: TxTarget,
): Promise<{ real: string; make: NonNullable<TxTarget['dirs']>; dir: string }> {
  if (t.dirs?.length) {
    const chain = [...t.dirs.map((d) => d.path), t.path]
    for (let k = 1; k < chain.length; k++)
      if (dirname(chain[k]!) !== chain[k - 1])
        throw new CutoverError(
          'TARGET',
          `${t.target}: the directories to make do not lead to it (${chain[k - 1]} is not the directory of ${chain[k]})`,
        )
    const base = dirname(t.dirs[0]!.path)
    const realBase = t.exact ? await exactTarget(fs, base, t.target) : await fs.realpath(base)
    const at = (p: string) => join(realBase, relative(base, p))
    const make: NonNullable<TxTarget['dirs']> = []
    let dir = realBase
    for (const d of t.dirs) {
      const real = at(d.path)
      if (make.length === 0) {
        const st = await fs.lstat(real)
        if (st?.type === 'directory') {
          // made since the plan (by someone else): used, never removed
          dir = real
          continue
        }
        if (st)
          throw new CutoverError(
            'TARGET',
            `${t.target}: ${real} is in the way of its directory (not a directory); nothing was written`,
          )
      }
      make.push({ ...d, path: real })
    }
    if (make.length) return { real: at(t.path), make, dir }
  }
  let real: string
  if (t.symlink !== undefined) {
    const dir = dirname(t.path)
    real = join(
      t.exact ? await exactTarget(fs, dir, t.target) : await fs.realpath(dir),
      basename(t.path),
    )
  } else {
    real = t.exact
      ? await exactTarget(fs, t.path, t.target)
      : await realTarget(fs, t.path, t.target)
  }
  return { real, make: [], dir: dirname(real) }
}

/**
 * Checks a located target before anything is written (a regular file or nothing, writable, not
 * a mount point); returns its lstat, undefined when it is new.
 */
async function inspect(
  fs: TxFileSystem,
  t: TxTarget,
  { real, make, dir }: Awaited<ReturnType<typeof locate>>,
): Promise<TxStat | undefined> {
  const link = t.symlink !== undefined
  // `real` has no link in it (but a link target's own): one put there since is not followed
  const info = make.length ? undefined : await fs.lstat(real)
  await checkWritable(fs, real, t.target, info, { dir, link })
  const mounts = (await fs.mountPoints()) ?? null
  if (!link) await checkNotMountPoint(fs, real, t.target, info, mounts)
  return info
}

/** The real path of a target: links resolved (a dangling one refused); a new file's directory resolved. */
async function realTarget(fs: TxFileSystem, path: string, target: string): Promise<string> {
  try {
    return await fs.realpath(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    if ((await fs.lstat(path))?.type === 'symlink')
      throw new CutoverError('TARGET', `${target} is a dangling symlink`)
    return join(await fs.realpath(dirname(path)), basename(path))
  }
}

/** The journaled real path of a target, refused when a link is now at it or on its directory path. */
async function exactTarget(fs: TxFileSystem, path: string, target: string): Promise<string> {
  // both read at once; what they say is taken in this order, as if read one after the other
  const [moved, st] = await Promise.allSettled([
    fs.pinChanged(dirname(path), undefined),
    fs.lstat(path),
  ])
  if (moved.status === 'rejected') throw moved.reason
  if (!moved.value && st.status === 'rejected') throw st.reason
  const why =
    moved.value ??
    (st.status === 'fulfilled' && st.value?.type === 'symlink'
      ? `${path} is now a symlink`
      : undefined)
  if (why)
    throw new CutoverError(
      'TARGET_MOVED',
      `${target}: ${why}: cutover writes only where it checked, never through a link put there since; nothing was written`,
    )
  return path
}

/**
 * Refuses, before anything is written, a target that cannot be replaced (immutable, read-only
 * file system, no permission). `dir`: the deepest of its directories there now (where a target
 * in directories still to make is probed); `link`: a link target (only its directory probed).
 */
async function checkWritable(
  fs: TxFileSystem,
  path: string,
  target: string,
  info: TxStat | undefined,
  at: { dir: string; link: boolean },
): Promise<void> {
  if (info && info.type !== 'file' && !(at.link && info.type === 'symlink'))
    throw new CutoverError('TARGET', `${target} is not a regular file`)
  try {
    if (at.link || !info) await fs.probeWritable(join(at.dir, basename(path)), false)
    else await fs.probeWritable(path, true)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why =
      code === 'EPERM'
        ? 'it is immutable or append-only (chattr -i)'
        : code === 'EROFS'
          ? 'its file system is read-only'
          : code === 'EACCES'
            ? 'permission denied'
            : (e as Error).message
    throw new CutoverError('TARGET', `${target} cannot be replaced: ${why}; nothing was written`, {
      cause: e,
    })
  }
}

/**
 * Refuses, before anything is written, a target that is a mount point (a file bind-mounted over,
 * as Docker does with /etc/hosts): renaming over it fails, and only after other targets changed.
 */
async function checkNotMountPoint(
  fs: TxFileSystem,
  path: string,
  target: string,
  info: TxStat | undefined,
  mounts: ReadonlySet<string> | null,
): Promise<void> {
  if (!info) return
  // without a mount table, a device other than its directory's (overlayfs can report that of plain files: the table first)
  if (mounts ? !mounts.has(path) : (await fs.lstat(dirname(path)))?.dev === info.dev) return
  throw new CutoverError(
    'TARGET',
    `${target} is a mount point (a file mounted over it, as Docker does with /etc/hosts): it cannot be replaced by renaming; nothing was written`,
  )
}

/**
 * Refuses, when writing as root, a target whose directory path a user other than root and the
 * file's owner can change (sshd's StrictModes): that user could swap it while root writes.
 */
async function checkNotUserWritable(
  fs: TxFileSystem,
  dir: string,
  target: string,
  info: TxStat | undefined,
  acls: ReadonlyMap<string, string>,
): Promise<void> {
  const why = await fs.userWritableDir(dir, info?.uid ?? 0, acls)
  if (why) {
    throw new CutoverError(
      'USER_WRITABLE',
      `${target}: refused as root: ${why}, who could swap it for a symlink while root writes; nothing was written (allow-user-writable: true on the step writes there anyway)`,
    )
  }
}

/** The journal of a transaction. */
export async function readTransaction(
  stateDir: string,
  txid: string,
  fs: StateFileSystem = localStateFileSystem,
): Promise<Journal> {
  const j = (await readJournals(stateDir, fs)).find((x) => x.txid === txid)
  if (!j) throw new CutoverError('STATE', `no transaction ${txid} in ${stateDir}`)
  return j
}
