import { randomBytes } from 'node:crypto'
import { readdir, readFile, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import {
  CutoverError,
  localStateFileSystem,
  withLock,
  type ParticipantRecord,
  type StateFileSystem,
} from '@cutover/rewrite'
import type { MachineSpec } from './machine.js'

/*
 * The controller's record of fleet transactions: `<ctl>/fleet/<txid>/journal.json`, one per
 * transaction run across machines, in the controller state directory (`--state-dir`, default
 * `.cutover/` beside the spec). Its `commit` record, written durably before any machine renames
 * anything, is the commit point of the whole fleet: recovery on every side asks it.
 */

/**
 * Where a fleet transaction stands: `preparing` (machines are staging; no decision: recovery
 * aborts every machine), `commit` (the decision: every machine must finish), `committed` (every
 * machine confirmed), `aborted` (every machine must return to before).
 */
export type FleetState = 'preparing' | 'commit' | 'committed' | 'aborted'

/** One machine of a fleet transaction: how it is reached (as the spec said), and its part. */
export interface FleetJournalMachine extends MachineSpec {
  /** The machine's own transaction (its journal in its state directory), once it prepared. */
  txid?: string
  /** Its state directory, on the machine. */
  stateDir: string
}

/** The controller's journal of one fleet transaction. */
export interface FleetJournal {
  txid: string
  state: FleetState
  created: string
  kind: 'apply' | 'rollback'
  machines: FleetJournalMachine[]
  /**
   * Machines not yet known to hold the decision (`commit` or `aborted`): recovery visits them.
   * Absent once every machine confirmed.
   */
  pending?: string[]
  /** For a rollback: the fleet transaction it restores. */
  restores?: string
  /** What a database participant changes, recorded before it prepares (recovery asks it). */
  database?: ParticipantRecord
  /** What the plan was made from. */
  meta?: { spec?: string; profile?: string | null }
}

/** A fleet transaction id: sortable by time, unique (as the machines' own). */
export function newFleetTxid(): string {
  return `${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 18)}-${randomBytes(4).toString('hex')}`
}

/** The path of a fleet transaction's journal in the controller state directory. */
export function fleetJournalPath(ctl: string, txid: string): string {
  return join(resolve(ctl), 'fleet', txid, 'journal.json')
}

/**
 * How a machine's journal names the controller that decides it: `<host>:<absolute path of the
 * fleet journal>`, so that `cutover recover` on the machine alone can say where to look.
 */
export function controllerOf(ctl: string, txid: string): string {
  return `${hostname()}:${fleetJournalPath(ctl, txid)}`
}

/**
 * Writes a fleet journal durably (a new 0600 file renamed over it, fsynced, its directory
 * fsynced); a transaction's new directory is a new name in `fleet/` (and `fleet/` the first time
 * one in the controller state directory): both are fsynced before the journal is relied on, so
 * that a power loss cannot take a commit record away with the directory holding it. `fs`: the
 * local file system, or a test's view of it.
 */
export async function writeFleetJournal(
  ctl: string,
  j: FleetJournal,
  fs: StateFileSystem = localStateFileSystem,
): Promise<void> {
  const path = fleetJournalPath(ctl, j.txid)
  if (await fs.mkdir(join(resolve(ctl), 'fleet', j.txid))) {
    await fs.fsync(join(resolve(ctl), 'fleet'))
    await fs.fsync(resolve(ctl))
  }
  await fs.writeDurable(path, JSON.stringify(j, null, 2) + '\n')
}

/** Every fleet journal of the controller state directory, oldest first. */
export async function readFleetJournals(ctl: string): Promise<FleetJournal[]> {
  let names: string[]
  try {
    names = await readdir(join(resolve(ctl), 'fleet'))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const out: FleetJournal[] = []
  for (const n of names.sort()) {
    const path = fleetJournalPath(ctl, n)
    let raw: string
    try {
      raw = await readFile(path, 'utf8')
    } catch (e) {
      // a fleet transaction whose first journal write never completed touched no machine
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw e
    }
    try {
      out.push(JSON.parse(raw) as FleetJournal)
    } catch (e) {
      throw new CutoverError('STATE', `${path} is unreadable: ${(e as Error).message}`)
    }
  }
  return out.sort((a, b) => a.created.localeCompare(b.created) || a.txid.localeCompare(b.txid))
}

/** Whether recovery has work in a fleet transaction: no decision yet, or machines that have not confirmed one. */
export function unfinished(j: FleetJournal): boolean {
  return j.state === 'preparing' || j.state === 'commit' || (j.pending?.length ?? 0) > 0
}

/**
 * What the controller answers a machine's recovery about a fleet transaction it marks: `commit`
 * once the commit record is written, `abort` when it was aborted or never decided (the caller
 * holds the controller's lock, so no coordinator is preparing it any more), undefined when this
 * controller has no journal of it (another controller decides it).
 */
export function decisionOf(
  journals: readonly FleetJournal[],
  ctl: string,
  mark: { txid: string; controller: string },
): 'commit' | 'abort' | undefined {
  if (mark.controller !== controllerOf(ctl, mark.txid)) return undefined
  const j = journals.find((x) => x.txid === mark.txid)
  // without a commit record, a database that took part decides: the caller asks it first
  if (!j || (j.state === 'preparing' && j.database)) return undefined
  return j.state === 'commit' || j.state === 'committed' ? 'commit' : 'abort'
}

/** The folder of the controller state directory that holds the local copies an apply replays. */
export const REPLAY_DIR = 'replay'

/**
 * Runs `fn` holding the lock of the controller state directory (created mode 0700 when absent).
 * The local copies of targets an apply replays (`replay/`) are made only under this lock: what
 * a killed controller left there is removed first.
 */
export function withControllerLock<T>(
  ctl: string,
  command: string,
  fn: () => Promise<T>,
): Promise<T> {
  return withLock(resolve(ctl), command, async () => {
    await rm(join(resolve(ctl), REPLAY_DIR), { recursive: true, force: true })
    return fn()
  })
}
