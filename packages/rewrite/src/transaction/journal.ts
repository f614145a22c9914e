import { randomBytes } from 'node:crypto'
import { join, resolve, sep } from 'node:path'
import { CutoverError } from '../errors.js'
import { localStateFileSystem } from '../fs/local-state.js'
import type { ParticipantRecord } from './participant.js'
import type { StateFileSystem } from './state-file-system.js'

/**
 * What a transaction wrote to one file for one one-time move ({@link Edit.once}), as its
 * journal records it: the texts its edits wrote and the texts they replaced, in file order.
 */
export interface OnceRecord {
  id: string
  wrote: string[]
  was: string[]
}

/** One target as the journal records it. */
export interface JournalTarget {
  target: string
  /** The real path written (symlinks resolved). */
  path: string
  /** The staged new content beside the target (a random name). */
  temp: string
  /** The name a restore writes beside the target before renaming it over (random; older journals lack it: `.NAME.cutover-TXID.restore` then). */
  restore?: string
  /** `dev:ino` of every directory from `/` down to the target's (absent in older journals). */
  dirPin?: string[]
  /**
   * Where its original is kept: the backup pack of the transaction (`<txdir>/backup/pack`) with
   * {@link backupAt}, or, in journals of an older cutover, a file of its own (`backup/N`).
   */
  backup: string
  /** Its original's slice of the pack `backup` (`[offset, length]`); absent with a file of its own, or nothing backed up. */
  backupAt?: [offset: number, length: number]
  existed: boolean
  before: string
  after: string
  mode: number
  uid: number
  gid: number
  /** The one-time moves (swaps) this transaction made in the file (absent when none). */
  once?: OnceRecord[]
  /** Written with `allow-user-writable: true` (a directory other users can change): its rollback may write there too. */
  allowUserWritable?: true
  /**
   * The target is a symbolic link with this text: the one the transaction makes (`after` is the
   * `sha256:` of the text), or, removed (`after` is `absent`), the one it removes (`before`).
   */
  link?: string
}

/**
 * A directory a transaction creates above a new target, journaled before it is made: removed
 * again, when empty, if the transaction aborts, is recovered to before or is rolled back.
 */
export interface JournalDir {
  /** Its real path. */
  path: string
  /** The target (the first) it is made for, naming it in messages. */
  target: string
  mode: number
  uid: number
  gid: number
  /** The pin of its parent directory (absent until its parent is made, when that is new too). */
  parentPin?: string[]
  /** Its own pin, once made. */
  pin?: string[]
}

/** Where a transaction stands: `staging` → `prepared` → `committed`, or `aborted` / `rolled-back`. */
export type JournalState = 'staging' | 'prepared' | 'committed' | 'aborted' | 'rolled-back'

/** What a transaction was made from, so that later plans know what it applied. */
export interface TxMeta {
  spec?: string
  profile?: string | null
  /** Set by applies that journal their one-time moves (targets' `once`); older journals lack it. */
  once?: true
}

/**
 * Marks a transaction as one machine's part of a fleet transaction, whose outcome its controller
 * decides: `txid` is the fleet transaction's, `controller` names the controller's journal of it
 * (`HOST:PATH`). Recovery never decides a prepared one by itself (docs/design.md §10).
 */
export interface FleetMark {
  txid: string
  controller: string
}

/** The journal of one transaction: `<state>/tx/<txid>/journal.json`. */
export interface Journal {
  txid: string
  state: JournalState
  created: string
  kind: 'apply' | 'rollback'
  meta?: TxMeta
  /** For a rollback: the transaction it restored. */
  restores?: string
  /** What the participants (a database) change in the same transaction, for recovery to ask whether they committed. */
  database?: ParticipantRecord
  /** One machine's part of a fleet transaction: its controller decides a prepared one. */
  fleet?: FleetMark
  targets: JournalTarget[]
  /** The directories it creates above its new targets, top down (absent when none). */
  dirs?: JournalDir[]
  /**
   * For a rollback: the directories the transaction it restores created, removed (when empty)
   * once it has committed; absent once that is done.
   */
  removeDirs?: JournalDir[]
}

/** A transaction id: sortable by time, unique. */
export function newTxid(): string {
  // YYYYMMDD-HHMMSSmmm-random: sorts by time to the millisecond
  return `${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 18)}-${randomBytes(4).toString('hex')}`
}

/**
 * Creates the state directory (and `tx/`) mode 0700 when absent. Refuses one inside an include
 * directory (any `*.d` component such as `sudoers.d`, `conf.d`, `cron.d`): a backup there would
 * be read as configuration. An existing one is used as it is (never chmodded), unless it is a
 * symlink, is not owned by the user running cutover, or other users can write it: then refused.
 */
export async function ensureStateDir(
  stateDir: string,
  fs: StateFileSystem = localStateFileSystem,
): Promise<void> {
  const parts = resolve(stateDir).split(sep)
  const include = parts.find((p) => /\.d$/.test(p))
  if (include) {
    throw new CutoverError(
      'STATE_DIR',
      `state directory ${stateDir} is inside the include directory "${include}": backups there would be read as configuration; use --state-dir`,
    )
  }
  const { uid } = await fs.identity()
  for (const dir of [stateDir, join(stateDir, 'tx')]) {
    // not created: something was there (a dangling symlink too), checked (and refused) here
    if (!(await fs.mkdir(dir))) await checkStateDir(fs, dir, uid)
  }
  // as root: a path other users can change (a parent they own, or can write without the sticky
  // bit) lets them swap in journals that recovery trusts; refused, as for targets
  if (uid === 0) {
    const why = await fs.userWritableDir(await fs.realpath(stateDir))
    if (why)
      throw new CutoverError(
        'STATE_DIR',
        `state directory ${stateDir}: ${why}, who could swap it for one holding other journals, which recovery trusts: refused; use another --state-dir`,
      )
  }
}

/** Refuses an existing state directory that someone else could change, or read through. */
async function checkStateDir(
  fs: StateFileSystem,
  dir: string,
  user: number | undefined,
): Promise<void> {
  const st = await fs.lstat(dir)
  if (!st)
    throw new CutoverError('STATE_DIR', `state directory ${dir} vanished while it was checked`)
  const uid = user ?? st.uid
  const why =
    st.type === 'symlink'
      ? 'is a symlink'
      : st.type !== 'directory'
        ? 'is not a directory'
        : st.uid !== uid
          ? `is owned by uid ${st.uid}, not by the user running cutover (uid ${uid})`
          : st.mode & 0o022
            ? `is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`
            : undefined
  if (why)
    throw new CutoverError(
      'STATE_DIR',
      `state directory ${dir} ${why}: refused (journals and backups there must be cutover's alone); use another --state-dir`,
    )
}

/** Writes the journal of a transaction durably (temp beside it, fsync, rename, fsync of its directory). */
export async function writeJournal(
  stateDir: string,
  j: Journal,
  fs: StateFileSystem = localStateFileSystem,
): Promise<void> {
  await fs.writeDurable(
    join(stateDir, 'tx', j.txid, 'journal.json'),
    JSON.stringify(j, null, 2) + '\n',
  )
}

/** Every journal in the state directory, oldest first. */
export async function readJournals(
  stateDir: string,
  fs: StateFileSystem = localStateFileSystem,
): Promise<Journal[]> {
  let names: string[]
  try {
    names = (await fs.readdir(join(stateDir, 'tx'))).sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const out: Journal[] = []
  for (const n of names) {
    const path = join(stateDir, 'tx', n, 'journal.json')
    let raw: string
    try {
      raw = (await fs.readFile(path)).toString('utf8')
    } catch (e) {
      // a transaction directory whose first journal write never completed touched no target
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw e
    }
    try {
      out.push(JSON.parse(raw) as Journal)
    } catch (e) {
      throw new CutoverError('STATE', `${path} is unreadable: ${(e as Error).message}`)
    }
  }
  return out.sort((a, b) => a.created.localeCompare(b.created) || a.txid.localeCompare(b.txid))
}

/** A transaction as `cutover state` lists it. */
export interface TxSummary {
  txid: string
  state: JournalState
  created: string
  kind: string
  targets: string[]
  backupBytes: number
  restores?: string
  /** Temp files its targets may have beside them (staged and restore copies), until it finishes or is recovered. */
  temps: string[]
}

/** The transactions recorded in a state directory, oldest first, with the size of their backups. */
export async function listTransactions(
  stateDir: string,
  fs: StateFileSystem = localStateFileSystem,
): Promise<TxSummary[]> {
  const out: TxSummary[] = []
  for (const j of await readJournals(stateDir, fs)) {
    let backupBytes = 0
    // a pack holds the backups of every target: counted once
    for (const backup of new Set(j.targets.map((t) => t.backup)))
      backupBytes += await fs.lstat(backup).then(
        (s) => s?.size ?? 0,
        () => 0,
      )
    out.push({
      txid: j.txid,
      state: j.state,
      created: j.created,
      kind: j.kind,
      targets: j.targets.map((t) => t.target),
      backupBytes,
      temps: j.targets.flatMap((t) => (t.restore ? [t.temp, t.restore] : [t.temp])),
      ...(j.restores ? { restores: j.restores } : {}),
    })
  }
  return out
}

/**
 * Deletes the backups and journals of finished transactions, keeping the newest `keep` finished
 * ones (and never an unfinished one, which `recover` needs, nor one whose journal is the record
 * of a swap still in effect: without it the swap would be planned again, undoing it). Returns
 * the txids removed.
 */
export async function pruneTransactions(
  stateDir: string,
  keep: number,
  fs: StateFileSystem = localStateFileSystem,
): Promise<string[]> {
  const journals = await readJournals(stateDir, fs)
  const finished = journals.filter((j) => j.state !== 'staging' && j.state !== 'prepared')
  const records = onceRecords(journals)
  const drop = finished
    .slice(0, Math.max(0, finished.length - keep))
    .filter((j) => !records.has(j.txid))
  for (const j of drop) await fs.removeTree(join(stateDir, 'tx', j.txid))
  if (drop.length) await fs.fsync(join(stateDir, 'tx'))
  return drop.map((j) => j.txid)
}

/**
 * The committed applies (not rolled back) whose journals hold the latest record of a one-time
 * move on some target, or that wrote a target without recording moves (an older cutover): what
 * `appliedOnce` reads.
 */
function onceRecords(journals: readonly Journal[]): Set<string> {
  const undone = new Set(
    journals.filter((j) => j.kind === 'rollback' && j.state === 'committed').map((j) => j.restores),
  )
  const latest = new Map<string, string>()
  for (const j of journals) {
    if (j.kind !== 'apply' || j.state !== 'committed' || undone.has(j.txid)) continue
    for (const t of j.targets) {
      if (!j.meta?.once) latest.set(`${t.target}\0`, j.txid)
      for (const r of t.once ?? []) latest.set(`${t.target}\0${r.id}`, j.txid)
    }
  }
  return new Set(latest.values())
}
