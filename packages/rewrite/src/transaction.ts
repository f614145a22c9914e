import { randomBytes } from 'node:crypto'
import { constants, type Stats } from 'node:fs'
import { chmod, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, stat, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { CutoverError, LockError, ValidationError } from './errors.js'
import { sha256 } from './source.js'
import type { Validator } from './step.js'

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
  validators?: readonly Validator[]
}

/** A non-file participant (a database): prepared before the renames, committed after them. */
export interface TxParticipant {
  name: string
  prepare(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
}

interface JournalTarget {
  target: string
  path: string
  temp: string
  backup: string
  existed: boolean
  before: string
  after: string
  mode: number
  uid: number
  gid: number
}

type JournalState = 'staging' | 'prepared' | 'committed' | 'aborted' | 'rolled-back'

/** What a transaction was made from, so that later plans know what it applied. */
export interface TxMeta { spec?: string; profile?: string | null }

interface Journal { txid: string; state: JournalState; created: string; kind: 'apply' | 'rollback'; meta?: TxMeta; targets: JournalTarget[] }

/** What a finished transaction did. */
export interface TxResult { txid: string; written: string[]; warnings: string[] }

/** What `recover` found and did. */
export interface RecoverReport { transactions: Array<{ txid: string; was: JournalState; now: JournalState; targets: string[] }>; staleLock?: string }

/** Options shared by the transaction functions. */
export interface TxOptions {
  /** The state directory (journal, backups, lock); created mode 0700. */
  stateDir: string
  /** Called at each named point of the protocol: tests use it to inject faults. */
  fault?: (point: string) => void
}

const defaultFault = (point: string) => {
  const want = process.env.CUTOVER_FAULT
  if (want && want === point) process.kill(process.pid, 'SIGKILL')
}

/** A transaction id: sortable by time, unique. */
function newTxid(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(4).toString('hex')}`
}

async function fsyncPath(path: string, flags = constants.O_RDONLY): Promise<void> {
  const fh = await open(path, flags)
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Writes a file durably (temp beside it, fsync, rename, fsync the directory), mode 0600. */
async function writeDurable(path: string, data: string | Buffer): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  const fh = await open(temp, 'wx', 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(temp, path)
  await fsyncPath(dirname(path))
}

async function ensureStateDir(stateDir: string): Promise<void> {
  await mkdir(join(stateDir, 'tx'), { recursive: true, mode: 0o700 })
  await chmod(stateDir, 0o700)
  await chmod(join(stateDir, 'tx'), 0o700)
}

async function hashOf(path: string): Promise<string> {
  try {
    return sha256(await readFile(path))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent'
    throw e
  }
}

/** A held lock; `release` removes it. */
export interface Lock { release(): Promise<void>; staleTakenOver?: string }

/**
 * Takes the state directory's lock, refusing with a {@link LockError} naming the holder (pid,
 * host, start time) while its process lives; a lock whose process is gone is taken over and
 * reported in `staleTakenOver`.
 */
export async function acquireLock(stateDir: string, command: string): Promise<Lock> {
  await ensureStateDir(stateDir)
  const path = join(stateDir, 'lock')
  const me = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command }
  let staleTakenOver: string | undefined
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600)
      try {
        await fh.writeFile(JSON.stringify(me) + '\n')
        await fh.sync()
      } finally {
        await fh.close()
      }
      return {
        staleTakenOver,
        release: async () => {
          await rm(path, { force: true })
        },
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const holder = await readLock(path)
      const alive = holder && (holder.host !== me.host || isAlive(holder.pid))
      if (alive) {
        throw new LockError(`${stateDir} is locked by ${holder.command ?? 'cutover'} (pid ${holder.pid} on ${holder.host}, since ${holder.started}); wait for it to finish`)
      }
      staleTakenOver = holder
        ? `a stale lock of pid ${holder.pid} (started ${holder.started}) was taken over: that process is gone`
        : 'an unreadable lock file was taken over'
      await rm(path, { force: true })
    }
  }
  throw new LockError(`${stateDir}: could not take the lock`)
}

async function readLock(path: string): Promise<{ pid: number; host: string; started: string; command?: string } | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8'))
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

async function writeJournal(stateDir: string, j: Journal): Promise<void> {
  await writeDurable(join(stateDir, 'tx', j.txid, 'journal.json'), JSON.stringify(j, null, 2) + '\n')
}

async function readJournals(stateDir: string): Promise<Journal[]> {
  let names: string[]
  try {
    names = (await readdir(join(stateDir, 'tx'))).sort()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const out: Journal[] = []
  for (const n of names) {
    try {
      out.push(JSON.parse(await readFile(join(stateDir, 'tx', n, 'journal.json'), 'utf8')) as Journal)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw new CutoverError('STATE', `${join(stateDir, 'tx', n, 'journal.json')} is unreadable: ${(e as Error).message}`)
    }
  }
  return out
}

/** Copies `from` over `to` atomically (temp beside `to`, fsync, rename) with the given metadata. */
async function restoreFile(from: string, to: string, mode: number, uid: number, gid: number): Promise<void> {
  const data = await readFile(from)
  const temp = join(dirname(to), `.${basename(to)}.cutover-restore-${randomBytes(4).toString('hex')}`)
  const fh = await open(temp, 'wx', 0o600)
  try {
    await fh.writeFile(data)
    await fh.chmod(mode)
    await chownIfNeeded(fh, uid, gid, to)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(temp, to)
  await fsyncPath(dirname(to))
}

async function chownIfNeeded(fh: import('node:fs/promises').FileHandle, uid: number, gid: number, target: string): Promise<void> {
  const st = await fh.stat()
  if (st.uid === uid && st.gid === gid) return
  try {
    await fh.chown(uid, gid)
  } catch (e) {
    throw new CutoverError('METADATA', `cannot keep owner ${uid}:${gid} of ${target}: ${(e as Error).message} (run as root)`, { cause: e })
  }
}

/**
 * Returns every target of an interrupted transaction to all-before (or, when every target is
 * already all-after, records it as committed), and removes its temp files. Safe to run again
 * after a crash during itself.
 */
export async function recover(options: TxOptions): Promise<RecoverReport> {
  const fault = options.fault ?? defaultFault
  const report: RecoverReport = { transactions: [] }
  for (const j of await readJournals(options.stateDir)) {
    if (j.state === 'committed' || j.state === 'aborted' || j.state === 'rolled-back') continue
    const was = j.state
    for (const t of j.targets) await rm(t.temp, { force: true })
    if (j.state === 'staging') {
      j.state = 'aborted'
    } else {
      const hashes = await Promise.all(j.targets.map((t) => hashOf(t.path)))
      if (hashes.every((h, i) => h === j.targets[i]!.after)) {
        j.state = 'committed'
      } else {
        let k = 0
        for (const [i, t] of j.targets.entries()) {
          if (hashes[i] === t.before) continue
          if (t.existed) await restoreFile(t.backup, t.path, t.mode, t.uid, t.gid)
          else await rm(t.path, { force: true })
          fault(`recover:${++k}`)
        }
        j.state = 'rolled-back'
      }
    }
    await writeJournal(options.stateDir, j)
    report.transactions.push({ txid: j.txid, was, now: j.state, targets: j.targets.map((t) => t.target) })
  }
  return report
}

/**
 * Writes every target or none (DESIGN.md §7): re-checks each target's hash, stages the new
 * contents beside their targets with the targets' mode and owner, runs every validator on the
 * staged set, backs the originals up, journals, renames, and commits. The caller holds the lock
 * and has run {@link recover}. Throws StalePlanError-free: hashes are checked by the caller's
 * `check`, here only re-verified, and a difference aborts with a {@link CutoverError}.
 */
export async function commitFiles(
  targets: readonly TxTarget[],
  options: TxOptions & { participants?: readonly TxParticipant[]; kind?: 'apply' | 'rollback'; meta?: TxMeta },
): Promise<TxResult> {
  const fault = options.fault ?? defaultFault
  const txid = newTxid()
  const txDir = join(options.stateDir, 'tx', txid)
  await mkdir(join(txDir, 'backup'), { recursive: true, mode: 0o700 })
  const warnings: string[] = []
  const entries: JournalTarget[] = []
  const infos: Array<Stats | undefined> = []
  for (const [i, t] of targets.entries()) {
    const real = await realTarget(t.path)
    const info = await stat(real).catch((e) => ((e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : Promise.reject(e)))
    infos.push(info)
    if (info) await checkWritable(real, t.target)
    entries.push({
      target: t.target,
      path: real,
      temp: join(dirname(real), `.${basename(real)}.cutover-${txid}`),
      backup: join(txDir, 'backup', String(i)),
      existed: info !== undefined,
      before: t.before,
      after: sha256(t.content),
      mode: info ? info.mode & 0o7777 : (t.mode ?? 0o644),
      uid: info?.uid ?? process.getuid?.() ?? 0,
      gid: info?.gid ?? process.getgid?.() ?? 0,
    })
  }
  const journal: Journal = { txid, state: 'staging', created: new Date().toISOString(), kind: options.kind ?? 'apply', ...(options.meta ? { meta: options.meta } : {}), targets: entries }
  await writeJournal(options.stateDir, journal)
  let prepared = false
  try {
    // 1. stage: temp beside the target, its mode and owner, fsync
    for (const [i, e] of entries.entries()) {
      const fh = await open(e.temp, 'wx', 0o600)
      try {
        await fh.writeFile(targets[i]!.content)
        await fh.chmod(e.mode)
        await chownIfNeeded(fh, e.uid, e.gid, e.target)
        await fh.sync()
      } finally {
        await fh.close()
      }
      fault(`staged:${i + 1}`)
    }
    // 2. validate the whole staged set before anything is installed
    const failures: string[] = []
    for (const [i, t] of targets.entries()) {
      for (const v of t.validators ?? []) {
        if (v.available && !(await v.available())) {
          warnings.push(`${t.target}: validator ${v.name} is not installed here; the file was not checked by it`)
          continue
        }
        const problem = await v.run(entries[i]!.temp, t.target)
        if (problem) failures.push(`${t.target}: ${v.name}: ${problem}`)
      }
    }
    if (failures.length) throw new ValidationError(`validation failed, nothing was written:\n${failures.join('\n')}`)
    // 3. back the originals up, and re-check that none changed since the plan
    for (const [i, e] of entries.entries()) {
      const now = await hashOf(e.path)
      if (now !== e.before) throw new CutoverError('STALE_PLAN', `${e.target} changed while applying (expected ${e.before}, found ${now}); nothing was written`)
      if (e.existed) {
        const fh = await open(e.backup, 'wx', 0o600)
        try {
          await fh.writeFile(await readFile(e.path))
          await fh.sync()
        } finally {
          await fh.close()
        }
      }
      void infos[i]
    }
    await fsyncPath(join(txDir, 'backup'))
    journal.state = 'prepared'
    await writeJournal(options.stateDir, journal)
    prepared = true
    fault('prepared')
    for (const p of options.participants ?? []) await p.prepare()
    // 4. install: rename every staged file over its target, fsync the directories
    const dirs = new Set<string>()
    for (const [k, e] of entries.entries()) {
      await rename(e.temp, e.path)
      dirs.add(dirname(e.path))
      fault(`renamed:${k + 1}`)
    }
    for (const d of dirs) await fsyncPath(d)
    fault('before-commit')
    for (const p of options.participants ?? []) await p.commit()
    journal.state = 'committed'
    await writeJournal(options.stateDir, journal)
    return { txid, written: entries.map((e) => e.target), warnings }
  } catch (err) {
    for (const p of options.participants ?? []) await p.rollback().catch(() => undefined)
    if (prepared) {
      await recover({ stateDir: options.stateDir, fault: () => undefined })
    } else {
      for (const e of entries) await unlink(e.temp).catch(() => undefined)
      journal.state = 'aborted'
      await writeJournal(options.stateDir, journal)
    }
    throw err
  }
}

async function realTarget(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    // a new file, or a dangling link: write where the link points
    const l = await lstat(path).catch(() => undefined)
    if (l?.isSymbolicLink()) throw new CutoverError('TARGET', `${path} is a dangling symlink`)
    return join(await realpath(dirname(path)), basename(path))
  }
}

async function checkWritable(path: string, target: string): Promise<void> {
  try {
    const fh = await open(dirname(path), constants.O_RDONLY)
    await fh.close()
  } catch (e) {
    throw new CutoverError('TARGET', `${target}: its directory cannot be opened: ${(e as Error).message}`)
  }
}

/** The transactions recorded in a state directory, newest last. */
export async function listTransactions(stateDir: string): Promise<Array<{ txid: string; state: string; created: string; kind: string; targets: string[] }>> {
  return (await readJournals(stateDir)).map((j) => ({ txid: j.txid, state: j.state, created: j.created, kind: j.kind, targets: j.targets.map((t) => t.target) }))
}

/** The backups of a committed transaction: where each target is and what it held before. */
export async function transactionBackups(stateDir: string, txid: string): Promise<Array<{ target: string; path: string; backup: string; existed: boolean; after: string; before: string }>> {
  const j = (await readJournals(stateDir)).find((x) => x.txid === txid)
  if (!j) throw new CutoverError('STATE', `no transaction ${txid} in ${stateDir}`)
  return j.targets.map((t) => ({ target: t.target, path: t.path, backup: t.backup, existed: t.existed, after: t.after, before: t.before }))
}

/**
 * The contents (`sha256:` per target) that committed apply transactions of `spec` wrote, under
 * any profile. The engine uses it to keep swaps from undoing themselves on the next plan: a file
 * still holding what this spec wrote has had its swaps applied.
 */
export async function appliedContents(stateDir: string, spec: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>()
  for (const j of await readJournals(stateDir)) {
    if (j.state !== 'committed' || j.kind !== 'apply' || j.meta?.spec !== spec) continue
    for (const t of j.targets) {
      const set = out.get(t.target) ?? new Set<string>()
      set.add(t.after)
      out.set(t.target, set)
    }
  }
  return out
}
