import {
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { dirname, join, posix, relative } from 'node:path'
import {
  acquireLock,
  CutoverError,
  databaseParticipants,
  databaseRecord,
  databaseState,
  resolveRecordedSecrets,
  rollbackTargets,
  targetHashNow,
  lastToRollBack,
  listTransactions,
  machinePlan,
  maskToolMessage,
  planTargets,
  prepareFiles,
  readJournals,
  recover,
  ValidationError,
  type ApplyOptions,
  type DatabaseOptions,
  type ParticipantRecord,
  type TxParticipant,
  type FaultHook,
  type FleetMark,
  type Lock,
  type FleetPlanDocument,
  type PlanDocChange,
  type PlanDocument,
  type PreparedTx,
  type RecoverReport,
  type TxSummary,
  type TxTarget,
} from '@cutover/rewrite'
import { remoteChecks } from './checks.js'
import { FleetError } from './errors.js'
import {
  controllerOf,
  decisionOf,
  newFleetTxid,
  readFleetJournals,
  REPLAY_DIR,
  unfinished,
  withControllerLock,
  writeFleetJournal,
  type FleetJournal,
  type FleetJournalMachine,
} from './fleet-journal.js'
import type { Machine, MachineSpec } from './machine.js'

/*
 * The two-phase transaction of a fleet (docs/design.md, "Many machines"). The controller (this
 * process) prepares every machine's own transaction in parallel, each in its own state directory
 * on that machine; only when all are prepared does it write `commit` to its fleet journal, which
 * is the commit point; then every machine renames. A failure before the commit point aborts
 * every machine; a machine that fails after it is in doubt until `cutover recover` finishes it.
 */

/** What the coordinator is given besides the plan. */
export interface FleetOptions {
  /** The controller state directory (its fleet journals and lock). */
  controlDir: string
  /** Opens a machine (the CLI's `openMachine`, with its ssh config and control directory). */
  open(spec: MachineSpec): Promise<Machine>
  env?: Readonly<Record<string, string | undefined>>
  /** Test hook at the coordinator's points (`fleet:prepared`, `fleet:decided`, `fleet:committed:N`) and the machines'. */
  fault?: FaultHook
  /** Told of each machine's progress, for the CLI's lines. */
  observer?: (event: FleetEvent) => void
  /**
   * Finds the database target of a step kind: a plan's database changes are a participant of
   * the fleet's two phases, and recovery asks the database whether they committed.
   */
  database?: DatabaseOptions['database']
}

/** What the coordinator tells as it goes. */
export type FleetEvent =
  | { type: 'prepared'; machine: string }
  | { type: 'decided'; txid: string }
  | { type: 'committed'; machine: string; files: number }

/** Options of {@link applyFleet}: the coordinator's, and what each machine's replay of the plan needs. */
export type FleetApplyOptions = FleetOptions &
  Pick<ApplyOptions, 'validator' | 'encoder'> & {
    /** Only these machines of the plan (`--machine`); every one by default. */
    only?: readonly string[]
  }

/** What one machine did in a fleet transaction. */
export interface MachineOutcome {
  name: string
  txid: string
  written: string[]
  warnings: string[]
}

/** What a fleet apply (or rollback) did. */
export interface FleetResult {
  txid: string
  machines: MachineOutcome[]
  /** Machines that did not confirm the commit: `cutover recover` finishes them. */
  inDoubt: Array<{ name: string; reason: string }>
  recovered: FleetRecoverReport
}

/** What recovery found and did, per fleet transaction and machine. */
export interface FleetRecoverReport {
  transactions: Array<{
    txid: string
    was: string
    now: string
    machines: Array<{
      name: string
      recovered?: RecoverReport['transactions']
      /** What the machine's recovery left, e.g. a directory it made that is not empty now. */
      warnings?: string[]
      error?: string
    }>
  }>
}

/** The state directory of a machine: `<root>/var/lib/cutover` on it. */
export function machineStateDir(spec: MachineSpec): string {
  return posix.join(spec.root, 'var/lib/cutover')
}

/** The machines of a plan document as specs, checked against `only`. */
function planMachines(doc: FleetPlanDocument, only: readonly string[] | undefined): MachineSpec[] {
  const all = (doc.machines ?? []).map((m) => ({
    name: m.name,
    root: m.root,
    ...(m.ssh !== undefined ? { ssh: m.ssh } : {}),
    ...(m.port !== undefined ? { port: m.port } : {}),
  }))
  if (!only?.length) return all
  const unknown = only.filter((n) => !all.some((m) => m.name === n))
  if (unknown.length)
    throw new FleetError(
      'MACHINE',
      `${unknown.map((n) => `"${n}"`).join(', ')}: no such machine in the plan (it has ${all.map((m) => m.name).join(', ')})`,
    )
  return all.filter((m) => only.includes(m.name))
}

/**
 * The machines opened for one command, each once; all closed at the end. A machine is known by
 * all of its spec, not its name alone: an older fleet journal recovered first may record a name
 * the plan now gives another root or host, and each must be reached where it says.
 */
class Machines {
  private readonly opened = new Map<string, Promise<Machine>>()
  constructor(private readonly open: (spec: MachineSpec) => Promise<Machine>) {}
  get(spec: MachineSpec): Promise<Machine> {
    const key = JSON.stringify([spec.name, spec.ssh ?? null, spec.port ?? null, spec.root])
    let m = this.opened.get(key)
    if (!m) {
      m = this.open(spec)
      // an unreachable machine is reported by the caller that awaits it
      m.catch(() => undefined)
      this.opened.set(key, m)
    }
    return m
  }
  async close(): Promise<void> {
    await Promise.allSettled(
      [...this.opened.values()].map(async (m) => (await m.catch(() => undefined))?.close()),
    )
  }
}

/** A machine's message, prefixed with its name. */
function onMachine(name: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  return msg
    .split('\n')
    .map((l, i) => (i === 0 ? `${name}: ${l}` : `  ${l}`))
    .join('\n')
}

/**
 * Applies a fleet plan document on every machine (or those of `only`), all or none: see the
 * module comment. Earlier unfinished fleet transactions are recovered first.
 */
export async function applyFleet(
  doc: FleetPlanDocument,
  options: FleetApplyOptions,
): Promise<FleetResult> {
  const specs = planMachines(doc, options.only)
  const fault = options.fault ?? (() => undefined)
  const db = doc.database.length
    ? {
        record: databaseRecord(doc.database, doc.secrets),
        participants: databaseParticipants(
          doc.database,
          resolveRecordedSecrets(doc.secrets, options.env ?? process.env),
          dbOptions(options),
        ),
      }
    : undefined
  return withControllerLock(options.controlDir, 'cutover apply', async () => {
    const machines = new Machines(options.open)
    try {
      const recovered = await recoverLocked(options, machines, { strict: true })
      const planned = specs.filter((s) => (doc.changes ?? []).some((c) => c.machine === s.name))
      // the machines whole files are copied from are reached too, even when nothing changes there
      const sources = sourceMachines(doc, planned, specs)
      const opened = await openAll([...specs, ...sources.specs], machines, sources.files)
      refuseChangedKeys(doc, opened)
      if (planned.length === 0 && !db) return { txid: '', machines: [], inDoubt: [], recovered }
      const readWhole = sourceReader(doc, machines)
      return await twoPhases(
        planned,
        machines,
        options,
        fault,
        { kind: 'apply', meta: { spec: doc.spec, profile: doc.profile } },
        (m, held, mark, f) => replayOn(doc, m, held, mark, { ...options, fault: f }, readWhole),
        recovered,
        db,
      )
    } finally {
      await machines.close()
    }
  })
}

/**
 * Opens every machine at once; refuses, naming each (and the files it is the source of, `files`),
 * when one cannot be opened (nothing is staged yet).
 */
async function openAll(
  specs: readonly MachineSpec[],
  machines: Machines,
  files: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<Machine[]> {
  const got = await Promise.allSettled(specs.map((s) => machines.get(s)))
  const failed = got.flatMap((r, i) => {
    if (r.status !== 'rejected') return []
    const of = files.get(specs[i]!.name) ?? []
    const note = of.length
      ? `\n(the source of ${of.slice(0, 5).join(', ')}${of.length > 5 ? `, and ${of.length - 5} more` : ''})`
      : ''
    return [onMachine(specs[i]!.name, `${(r.reason as Error)?.message ?? String(r.reason)}${note}`)]
  })
  if (failed.length)
    throw new FleetError(
      'UNREACHABLE',
      `not applied, nothing was changed on any machine:\n${failed.map((f) => `  ${f}`).join('\n')}`,
    )
  return got.map((r) => (r as PromiseFulfilledResult<Machine>).value)
}

/** Refuses, before anything is staged, a machine whose host key is not the one the plan was made with. */
function refuseChangedKeys(doc: FleetPlanDocument, opened: readonly Machine[]): void {
  const changed: string[] = []
  for (const m of opened) {
    const planned = doc.machines?.find((x) => x.name === m.spec.name)?.hostKey
    // fails closed: a machine that verified a key is refused by a plan that records none (edited?)
    if ((planned ?? m.hostKey) !== undefined && m.hostKey !== planned)
      changed.push(
        `${m.spec.name}: its host key is ${m.hostKey ?? 'none (a local machine)'}, the plan was made with ${planned ?? 'none recorded'}`,
      )
  }
  if (changed.length)
    throw new FleetError(
      'HOST_KEY_CHANGED',
      `not applied, nothing was changed on any machine: a host key changed since the plan:\n${changed.map((c) => `  ${c}`).join('\n')}\nif the machine was reinstalled, check its new key, update known_hosts and plan again`,
    )
}

/** A machine's state directory locked for the whole transaction. */
interface Held {
  machine: Machine
  stateDir: string
  lock: Lock
}

/** What a machine's side builds once locked and recovered: its prepared transaction. */
type PrepareOn = (m: Machine, held: Held, mark: FleetMark, fault: FaultHook) => Promise<PreparedTx>

/**
 * The two phases over `specs`: journal `preparing`, prepare every machine in parallel (each
 * locked and recovered first), then either the commit record and every machine's commit, or
 * every machine's abort and the journal `aborted`.
 */
async function twoPhases(
  specs: readonly MachineSpec[],
  machines: Machines,
  options: FleetOptions,
  fault: FaultHook,
  what: Pick<FleetJournal, 'kind' | 'restores' | 'meta'>,
  prepareOn: PrepareOn,
  recovered: FleetRecoverReport,
  db?: DatabasePart,
): Promise<FleetResult> {
  const txid = newFleetTxid()
  const journal: FleetJournal = {
    txid,
    state: 'preparing',
    created: new Date().toISOString(),
    ...what,
    machines: specs.map((s) => ({ ...s, stateDir: machineStateDir(s) })),
    pending: specs.map((s) => s.name),
  }
  await writeFleetJournal(options.controlDir, journal)
  const mark: FleetMark = { txid, controller: controllerOf(options.controlDir, txid) }
  const held: (Held | undefined)[] = new Array(specs.length)
  const prepared: (PreparedTx | undefined)[] = new Array(specs.length)
  try {
    const results = await Promise.allSettled(
      specs.map(async (s, i) => {
        const m = await machines.get(s)
        m.trace?.('opened')
        held[i] = await lockAndRecover(m, options.controlDir, 'cutover apply', options.env)
        m.trace?.('locked and recovered')
        prepared[i] = await prepareOn(m, held[i]!, mark, fault)
        m.trace?.('prepared')
        options.observer?.({ type: 'prepared', machine: s.name })
      }),
    )
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ name: specs[i]!.name, error: r.reason as unknown }] : [],
    )
    if (failed.length) {
      await abortAll(journal, specs, prepared, options.controlDir, failed)
      throw new FleetError(
        'FLEET_ABORTED',
        `not applied, nothing was changed on any machine:\n${failed.map((f) => `  ${onMachine(f.name, f.error)}`).join('\n')}`,
        { cause: failed[0]!.error },
      )
    }
    if (db) await prepareDatabase(db, journal, specs, prepared, options.controlDir)
    // an error before the commit point (not a crash) undoes every machine and the database
    const undo = async (e: unknown) => {
      if (db) await Promise.allSettled(db.participants.map((p) => p.rollback()))
      await abortAll(journal, specs, prepared, options.controlDir, [
        { name: 'controller', error: e },
      ])
    }
    try {
      fault('fleet:prepared')
    } catch (e) {
      await undo(e)
      throw e
    }
    // with a database, its COMMIT is the commit point (recovery asks it, the journal recorded it)
    if (db) {
      await commitDatabase(db, journal, specs, prepared, options)
      fault('fleet:database-committed')
    }
    // THE COMMIT POINT (without a database): from this durable record on, every machine must finish
    journal.state = 'commit'
    journal.machines = journal.machines.map((m, i) => ({ ...m, txid: prepared[i]!.txid }))
    try {
      await writeFleetJournal(options.controlDir, journal)
    } catch (e) {
      // without a database nothing is decided yet: undone (the journal then says aborted); after
      // the database's commit, every machine stays prepared for recovery, which asks it
      if (!db) {
        journal.state = 'preparing'
        await undo(e)
      }
      throw e
    }
    fault('fleet:decided')
    options.observer?.({ type: 'decided', txid })
    let committed = 0
    const outcomes = await Promise.allSettled(
      specs.map(async (s, i) => {
        const r = await prepared[i]!.commit()
        ;(await machines.get(s)).trace?.('committed')
        fault(`fleet:committed:${++committed}`)
        options.observer?.({ type: 'committed', machine: s.name, files: r.written.length })
        return { name: s.name, txid: r.txid, written: r.written, warnings: r.warnings }
      }),
    )
    const inDoubt = outcomes.flatMap((r, i) =>
      r.status === 'rejected'
        ? [{ name: specs[i]!.name, reason: (r.reason as Error)?.message ?? String(r.reason) }]
        : [],
    )
    journal.pending = inDoubt.map((d) => d.name)
    if (!journal.pending.length) {
      journal.state = 'committed'
      delete journal.pending
    }
    await writeFleetJournal(options.controlDir, journal)
    return {
      txid,
      machines: outcomes.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
      inDoubt,
      recovered,
    }
  } finally {
    await Promise.allSettled(held.map((h) => h?.lock.release()))
  }
}

/** A plan's database changes as a participant of the fleet transaction. */
interface DatabasePart {
  record: ParticipantRecord
  participants: TxParticipant[]
}

/**
 * Records the database changes in the fleet journal (so that recovery can ask the database),
 * then prepares them (BEGIN, re-check, the statements); a failure aborts every machine.
 */
async function prepareDatabase(
  db: DatabasePart,
  journal: FleetJournal,
  specs: readonly MachineSpec[],
  prepared: readonly (PreparedTx | undefined)[],
  ctl: string,
): Promise<void> {
  journal.database = db.record
  await writeFleetJournal(ctl, journal)
  try {
    for (const p of db.participants) await p.prepare()
  } catch (e) {
    await Promise.allSettled(db.participants.map((p) => p.rollback()))
    await abortAll(journal, specs, prepared, ctl, [{ name: 'database', error: e }])
    throw new FleetError(
      'FLEET_ABORTED',
      `not applied, nothing was changed on any machine:\n  ${onMachine('database', e)}`,
      { cause: e },
    )
  }
}

/**
 * Commits the database: the commit point of a fleet transaction that has one. When its COMMIT
 * fails, the database is asked whether it committed: no aborts every machine; unknown leaves
 * every machine prepared for recovery to finish once the database answers.
 */
async function commitDatabase(
  db: DatabasePart,
  journal: FleetJournal,
  specs: readonly MachineSpec[],
  prepared: readonly (PreparedTx | undefined)[],
  options: FleetOptions,
): Promise<void> {
  try {
    for (const p of db.participants) await p.commit()
  } catch (e) {
    const state = await databaseState(dbOptions(options))(db.record).catch((err: Error) => ({
      unknown: err.message,
    }))
    if (state === 'after') return
    if (state === 'before') {
      await abortAll(journal, specs, prepared, options.controlDir, [{ name: 'database', error: e }])
      throw new FleetError(
        'FLEET_ABORTED',
        `not applied, nothing was changed on any machine:\n  ${onMachine('database', e)}`,
        { cause: e },
      )
    }
    throw new FleetError(
      'IN_DOUBT',
      `fleet transaction ${journal.txid}: the database did not confirm its commit (${(e as Error).message}) and cannot tell whether it committed (${state.unknown}): every machine stays prepared; run cutover recover once the database can be reached`,
      { cause: e },
    )
  }
}

/** The database options of the coordinator's options. */
function dbOptions(options: FleetOptions): DatabaseOptions {
  return {
    ...(options.env ? { env: options.env } : {}),
    ...(options.database ? { database: options.database } : {}),
  }
}

/**
 * Aborts every prepared machine and records the fleet transaction `aborted`. A machine whose
 * own abort cannot be confirmed (it failed on the way, or cannot be reached) stays `pending`:
 * recovery aborts it when it is reached again.
 */
async function abortAll(
  journal: FleetJournal,
  specs: readonly MachineSpec[],
  prepared: readonly (PreparedTx | undefined)[],
  ctl: string,
  failed: ReadonlyArray<{ name: string; error: unknown }>,
): Promise<void> {
  // the decision first: from here, a machine's recovery is told to abort
  journal.state = 'aborted'
  await writeFleetJournal(ctl, journal)
  const aborted = await Promise.allSettled(
    specs.map(async (_s, i) => prepared[i]?.abort(failed[0]?.error)),
  )
  // a machine that refused cleanly aborted its own transaction; one whose link broke may not have
  const unsure = new Set(
    failed
      .filter((f) => specs.some((x) => x.name === f.name))
      .filter((f) => !(f.error instanceof CutoverError) || isTransport(f.error))
      .map((f) => f.name),
  )
  aborted.forEach((r, i) => {
    if (r.status === 'rejected') unsure.add(specs[i]!.name)
  })
  journal.pending = [...unsure]
  if (!journal.pending.length) delete journal.pending
  await writeFleetJournal(ctl, journal)
}

/** An error of the connection rather than of the transaction. */
function isTransport(e: unknown): boolean {
  return e instanceof FleetError && ['UNREACHABLE', 'SSH', 'SSH_AUTH'].includes(e.code)
}

/**
 * Locks a machine's state directory (through its state file system) and recovers what an earlier
 * transaction left there, asking this controller's fleet journals about the fleet transactions
 * it marks.
 */
async function lockAndRecover(
  m: Machine,
  ctl: string,
  command: string,
  env: FleetOptions['env'],
): Promise<Held> {
  const stateDir = machineStateDir(m.spec)
  const lock = await acquireLock(stateDir, command, m.stateFileSystem)
  try {
    const journals = await readFleetJournals(ctl)
    await recover({
      stateDir,
      stateFileSystem: m.stateFileSystem,
      fileSystem: m.fileSystem,
      ...(env ? { env } : {}),
      decide: async (mark) => decisionOf(journals, ctl, mark),
    })
    return { machine: m, stateDir, lock }
  } catch (e) {
    await lock.release().catch(() => undefined)
    throw e
  }
}

/**
 * A machine's part of a fleet apply: its plan replayed on its files as they are now (stale
 * targets refused), validators run on the machine, and its transaction prepared.
 */
async function replayOn(
  doc: FleetPlanDocument,
  m: Machine,
  held: Held,
  mark: FleetMark,
  options: FleetApplyOptions,
  readWhole: (c: PlanDocChange) => Promise<Buffer>,
): Promise<PreparedTx> {
  const one = machinePlan(doc, m.spec.name)
  const view =
    m.spec.ssh === undefined ? undefined : await mirrorTargets(m, one, options.controlDir)
  m.trace?.('mirrored')
  try {
    const replay = view ? view.doc : one
    const { targets, mask } = await planTargets(replay, {
      stateDir: held.stateDir,
      stateFileSystem: m.stateFileSystem,
      ...(options.env ? { env: options.env } : {}),
      validator: options.validator,
      ...(options.encoder ? { encoder: options.encoder } : {}),
      ...(options.database ? { database: options.database } : {}),
      readWhole,
    })
    // over ssh, validators check the staged file on the machine (with its own tools); a local
    // directory's are this machine's already
    m.trace?.('replayed')
    const onMachine = targets.map((t) => (view ? remoteChecks(m, view.back(t)) : t))
    // whether each tool is on the machine is asked now, beside begin's reads, rather than once
    // its files are staged (the answer is kept: the transaction's own call gets it)
    if (view)
      for (const v of new Set(onMachine.flatMap((t) => t.validators ?? [])))
        v.available?.().catch(() => undefined)
    // the backup's copy on the machine is checked against the originals the mirror read
    const stateFileSystem =
      view && m.stateExpecting ? m.stateExpecting(view.originals) : m.stateFileSystem
    try {
      return await prepareFiles(onMachine, {
        stateDir: held.stateDir,
        stateFileSystem,
        fileSystem: m.fileSystem,
        fleet: mark,
        meta: { spec: doc.spec, profile: doc.profile, once: true },
        ...(options.fault ? { fault: options.fault } : {}),
      })
    } catch (e) {
      if (e instanceof ValidationError) throw new ValidationError(maskToolMessage(e.message, mask))
      throw e
    }
  } finally {
    if (view) await rm(view.dir, { recursive: true, force: true })
  }
}

/**
 * The machines of the plan that whole files are copied from (`whole.from.machine`) for the
 * changes of `planned`, besides `opened` (which are opened anyway), and the files each is the
 * source of (`machine:target`, for messages).
 */
function sourceMachines(
  doc: FleetPlanDocument,
  planned: readonly MachineSpec[],
  opened: readonly MachineSpec[],
): { specs: MachineSpec[]; files: Map<string, string[]> } {
  const files = new Map<string, string[]>()
  for (const c of doc.changes) {
    const from = c.whole?.from
    if (!from || !('machine' in from) || !planned.some((s) => s.name === c.machine)) continue
    files.set(from.machine, [...(files.get(from.machine) ?? []), `${c.machine}:${c.target}`])
  }
  const specs = [...files.keys()]
    .filter((n) => !opened.some((s) => s.name === n))
    .map((n) => planSpec(doc, n, files.get(n)![0]!))
  return { specs, files }
}

/** The spec of the machine `name` of a plan; a plan naming a source machine it lacks is refused. */
function planSpec(doc: FleetPlanDocument, name: string, of: string): MachineSpec {
  const m = doc.machines.find((x) => x.name === name)
  if (!m)
    throw new CutoverError(
      'PLAN_INVALID',
      `${of}: its source is on machine "${name}", which the plan does not have`,
    )
  return {
    name: m.name,
    root: m.root,
    ...(m.ssh !== undefined ? { ssh: m.ssh } : {}),
    ...(m.port !== undefined ? { port: m.port } : {}),
  }
}

/**
 * Reads the new bytes of a whole-file change where they come from, once per source for the whole
 * apply: a file of a machine of the plan (its root-relative path, which must lead to a file in
 * that root), the text of a link there (for a `symlink`), or a file of this controller. An error
 * names the source and the change; a source that does not exist rejects with `ENOENT` (the
 * plan is stale).
 */
function sourceReader(
  doc: FleetPlanDocument,
  machines: Machines,
): (c: PlanDocChange) => Promise<Buffer> {
  const read = new Map<string, Promise<Buffer>>()
  return (c) => {
    const w = c.whole!
    const from = w.from
    if (!from)
      return Promise.reject(
        new CutoverError('PLAN_INVALID', `${c.target}: a whole-file change without its source`),
      )
    const key = JSON.stringify([w.type, from])
    let got = read.get(key)
    if (!got) {
      got = 'local' in from ? readLocal(from.local, w.type) : readOn(doc, machines, from, w.type)
      read.set(key, got)
    }
    const name = 'local' in from ? from.local : `${from.machine}:${from.path}`
    return got.catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') throw e
      throw new FleetError(
        'SOURCE',
        `${c.target}: cannot read its source ${name}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      )
    })
  }
}

/** A file (or a link's text) of the controller. */
async function readLocal(path: string, type: string): Promise<Buffer> {
  if (!posix.isAbsolute(path))
    throw new CutoverError('PLAN_INVALID', `the local source ${path} is not an absolute path`)
  return type === 'symlink' ? Buffer.from(await readlink(path)) : readFile(path)
}

/** A file (or a link's text) of a machine of the plan, by its path in the machine's root. */
async function readOn(
  doc: FleetPlanDocument,
  machines: Machines,
  from: { machine: string; path: string },
  type: string,
): Promise<Buffer> {
  const parts = from.path.split('/')
  if (from.path.startsWith('/') || parts.some((p) => p === '..'))
    throw new CutoverError('PLAN_INVALID', `the source path ${from.path} is not inside a root`)
  const m = await machines.get(planSpec(doc, from.machine, from.path))
  const at = posix.join(m.spec.root, from.path)
  if (type === 'symlink') return Buffer.from(await readLinkOn(m, at))
  const root = await m.fileSystem.realpath(m.spec.root)
  const real = await m.fileSystem.realpath(at)
  if (real !== root && !real.startsWith(root === '/' ? '/' : `${root}/`))
    throw new CutoverError('OUTSIDE_ROOT', `it leads to ${real}, outside the root ${root}`)
  const st = await m.fileSystem.lstat(real)
  if (st?.type !== 'file') throw new CutoverError('TARGET', `${real} is not a regular file`)
  return m.readFile(real)
}

/** The text of a link on a machine, read in its directory (never followed); `ENOENT` when nothing is there. */
async function readLinkOn(m: Machine, path: string): Promise<string> {
  const dir = posix.dirname(path)
  const at = { dir, pin: await m.fileSystem.pinDir(dir), target: path }
  const text = await m.fileSystem.readlinkPinned(at, posix.basename(path))
  if (text === undefined)
    throw Object.assign(new Error(`${path}: no such link`), { code: 'ENOENT' })
  return text
}

/** Targets a mirror reads at once (each holds an SFTP handle while it is read). */
const MIRROR_WINDOW = 32

/**
 * `fn` of every item, at most `limit` at once, the results in the order of `items`; once every
 * call has settled, the first failure (in that order) is thrown.
 */
async function inOrder<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!).then(
        (value) => ({ status: 'fulfilled' as const, value }),
        (reason: unknown) => ({ status: 'rejected' as const, reason }),
      )
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  const failed = out.find((r) => r.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  return out.map((r) => (r as PromiseFulfilledResult<R>).value)
}

/**
 * A local copy of a remote machine's planned targets, for the replay of its plan: each target's
 * bytes at its place in the root (where it resolved when planned, `link`), after checking that
 * it still resolves there on the machine. The replayed targets are mapped back to their real
 * paths on the machine, and the transaction re-reads each there before it renames anything.
 */
async function mirrorTargets(
  m: Machine,
  doc: PlanDocument,
  controlDir: string,
): Promise<{
  dir: string
  doc: PlanDocument
  back(t: TxTarget): TxTarget
  /** The bytes read of each target, by its real path on the machine. */
  originals: Map<string, Buffer>
}> {
  // in the controller state directory (0700), whose lock the apply holds: a copy a killed
  // controller leaves (the targets' bytes) is removed by the next command that takes the lock
  const replays = join(controlDir, REPLAY_DIR)
  await mkdir(replays, { mode: 0o700, recursive: true })
  const dir = await realpath(await mkdtemp(join(replays, `${m.spec.name}-`)))
  const root = await m.fileSystem.realpath(m.spec.root)
  const names = new Map<string, string>()
  const originals = new Map<string, Buffer>()
  const stale: string[] = []
  try {
    // every change at once (a window of MIRROR_WINDOW): its requests share the round trips
    const mirrored = await inOrder(doc.changes, MIRROR_WINDOW, async (c) => {
      const rel = (c.link ?? c.target)
        .split('/')
        .filter((p) => p !== '' && p !== '.')
        .join('/')
      const planned = posix.join(root, rel)
      const at = posix.join(m.spec.root, c.target)
      if (c.whole?.type === 'absent' && c.link === undefined) {
        // a link a removal is of: copied as a link (its text), never followed
        const dirReal = await m.fileSystem.realpath(posix.dirname(at)).catch(() => undefined)
        if (
          dirReal === posix.dirname(planned) &&
          (await m.fileSystem.lstat(at))?.type === 'symlink'
        ) {
          const local = join(dir, rel)
          await mkdir(dirname(local), { recursive: true, mode: 0o700 })
          await symlink(await readLinkOn(m, at), local)
          return { rel, change: { ...c, target: rel, link: undefined } }
        }
      }
      let real: string
      try {
        real = await m.fileSystem.realpath(at)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
        real = posix.join(
          await m.fileSystem.realpath(posix.dirname(at)).catch(() => posix.dirname(at)),
          posix.basename(at),
        )
      }
      if (real !== planned)
        return {
          rel,
          stale: `${c.target}: now leads to ${posix.relative(root, real)} in the root, planned ${rel}`,
        }
      const local = join(dir, rel)
      await mkdir(dirname(local), { recursive: true, mode: 0o700 })
      const bytes = await m.readFile(planned).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined
        throw e
      })
      if (bytes) await writeFile(local, bytes, { mode: 0o600 })
      return { rel, change: { ...c, target: rel, link: undefined }, planned, bytes }
    })
    const changes = []
    for (const [i, r] of mirrored.entries()) {
      names.set(r.rel, doc.changes[i]!.target)
      if (r.stale !== undefined) stale.push(r.stale)
      if (r.change) changes.push(r.change)
      if (r.bytes && r.planned) originals.set(r.planned, r.bytes)
    }
    if (stale.length)
      throw new CutoverError(
        'STALE_PLAN',
        `the plan is stale, nothing was written:\n${stale.map((s) => `  ${s}`).join('\n')}\nplan again and review the new diff`,
      )
    return {
      dir,
      originals,
      doc: { ...doc, root: dir, changes: changes.map(({ link: _, ...c }) => c) },
      back: (t) => {
        const onMachine = (p: string) => posix.join(root, relative(dir, p).split('\\').join('/'))
        const rel = relative(dir, t.path).split('\\').join('/')
        return {
          ...t,
          path: onMachine(t.path),
          target: names.get(rel) ?? t.target,
          ...(t.dirs ? { dirs: t.dirs.map((d) => ({ ...d, path: onMachine(d.path) })) } : {}),
        }
      },
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true })
    throw e
  }
}

/**
 * Finishes every unfinished fleet transaction of the controller state directory: with a commit
 * record, every machine rolls forward; without one, every machine returns to before. A machine
 * that cannot be reached stays pending (reported; run it again).
 */
export async function recoverFleet(options: FleetOptions): Promise<FleetRecoverReport> {
  return withControllerLock(options.controlDir, 'cutover recover', async () => {
    const machines = new Machines(options.open)
    try {
      return await recoverLocked(options, machines, { strict: false })
    } finally {
      await machines.close()
    }
  })
}

/** {@link recoverFleet} under the controller's lock; `strict`: throw when a machine cannot be finished. */
async function recoverLocked(
  options: FleetOptions,
  machines: Machines,
  { strict }: { strict: boolean },
): Promise<FleetRecoverReport> {
  const ctl = options.controlDir
  const report: FleetRecoverReport = { transactions: [] }
  const journals = await readFleetJournals(ctl)
  for (const j of journals.filter(unfinished)) {
    const was = j.state
    if (j.state === 'preparing') {
      // no commit record, and nobody is preparing it now (we hold the lock): abort, unless its
      // database committed (its COMMIT is then the commit point)
      const db = j.database ? await databaseState(dbOptions(options))(j.database) : 'before'
      if (typeof db !== 'string') {
        const why = `fleet transaction ${j.txid} also changed a database, and ${db.unknown}: its machines are left prepared until the database can tell whether it committed; run cutover recover again`
        if (strict) throw new FleetError('RECOVER_FLEET', why)
        report.transactions.push({
          txid: j.txid,
          was,
          now: was,
          machines: [{ name: 'database', error: why }],
        })
        continue
      }
      j.state = db === 'after' ? 'commit' : 'aborted'
      await writeFleetJournal(ctl, j)
    }
    const todo = j.machines.filter((m) =>
      (j.pending ?? j.machines.map((x) => x.name)).includes(m.name),
    )
    const done = await Promise.allSettled(
      todo.map((m) => recoverMachine(m, machines, ctl, journals, options.env)),
    )
    const lines: FleetRecoverReport['transactions'][number]['machines'] = []
    const left: string[] = []
    done.forEach((r, i) => {
      const name = todo[i]!.name
      if (r.status === 'fulfilled')
        lines.push({
          name,
          recovered: r.value.transactions,
          ...(r.value.warnings?.length ? { warnings: r.value.warnings } : {}),
        })
      else {
        left.push(name)
        lines.push({ name, error: (r.reason as Error)?.message ?? String(r.reason) })
      }
    })
    j.pending = left
    if (!left.length) {
      delete j.pending
      if (j.state === 'commit') j.state = 'committed'
    }
    await writeFleetJournal(ctl, j)
    report.transactions.push({
      txid: j.txid,
      was,
      now: left.length ? `${j.state} (${left.length} machine(s) pending)` : j.state,
      machines: lines,
    })
    if (strict && left.length)
      throw new FleetError(
        'RECOVER_FLEET',
        `fleet transaction ${j.txid} is not finished on ${left.join(', ')}:\n${lines.flatMap((l) => (l.error ? [`  ${onMachine(l.name, l.error)}`] : [])).join('\n')}\nrun cutover recover once they can be reached`,
      )
  }
  return report
}

/** Recovers one machine of a fleet transaction: its state directory locked, its journals decided by ours. */
async function recoverMachine(
  m: FleetJournalMachine,
  machines: Machines,
  ctl: string,
  journals: readonly FleetJournal[],
  env: FleetOptions['env'],
): Promise<RecoverReport> {
  const spec = specOf(m)
  const machine = await machines.get(spec)
  const lock = await acquireLock(m.stateDir, 'cutover recover', machine.stateFileSystem)
  try {
    const r = await recover({
      stateDir: m.stateDir,
      stateFileSystem: machine.stateFileSystem,
      fileSystem: machine.fileSystem,
      ...(env ? { env } : {}),
      decide: async (mark) => decisionOf(journals, ctl, mark),
    })
    return r
  } finally {
    await lock.release()
  }
}

/** The machine spec a fleet journal recorded. */
function specOf(m: FleetJournalMachine): MachineSpec {
  const { stateDir: _s, txid: _t, ...spec } = m
  return spec
}

/** The fleet transactions of the controller state directory, oldest first. */
export async function listFleet(ctl: string): Promise<FleetJournal[]> {
  return readFleetJournals(ctl)
}

/** The transactions in one machine's state directory (`cutover state --machine NAME`). */
export async function listMachine(m: Machine): Promise<TxSummary[]> {
  return listTransactions(machineStateDir(m.spec), m.stateFileSystem)
}

/** Options of {@link rollbackFleet}. */
export interface FleetRollbackOptions extends FleetOptions {
  /** Restore targets that changed since that transaction too. */
  force?: boolean
  /** Asked with the files (machine and target) before anything is written; `false` cancels. */
  confirm?: (txid: string, files: Array<{ machine: string; target: string }>) => Promise<boolean>
}

/** What a fleet rollback did. */
export interface FleetRollbackResult extends FleetResult {
  /** The fleet transaction restored. */
  restored: string
  cancelled?: boolean
}

/**
 * Restores the last committed fleet apply not rolled back yet on every one of its machines, from
 * each machine's backups, as a new fleet transaction with the same two phases. Targets changed
 * since are refused (every machine's listed) unless `force`; files it created are removed.
 */
export async function rollbackFleet(options: FleetRollbackOptions): Promise<FleetRollbackResult> {
  const fault = options.fault ?? (() => undefined)
  return withControllerLock(options.controlDir, 'cutover rollback', async () => {
    const machines = new Machines(options.open)
    try {
      const recovered = await recoverLocked(options, machines, { strict: true })
      const journals = await readFleetJournals(options.controlDir)
      const last = lastToRollBack(journals)
      if (!last)
        throw new CutoverError(
          'NOTHING_TO_ROLL_BACK',
          `no applied fleet transaction to roll back in ${options.controlDir}`,
        )
      if (last.database?.changes.length)
        throw new CutoverError(
          'ROLLBACK_DATABASE',
          `fleet transaction ${last.txid} also changed a database: rollback restores files only; apply the other profile instead`,
        )
      const parts = last.machines.filter((m) => m.txid !== undefined)
      const specs = parts.map(specOf)
      await openAll(specs, machines)
      const built = await Promise.all(
        parts.map(async (p) =>
          machineRollback(await machines.get(specOf(p)), p, options.force ?? false),
        ),
      )
      const changed = built.flatMap((b, i) => b.changed.map((c) => `${parts[i]!.name}: ${c}`))
      if (changed.length && !options.force)
        throw new CutoverError(
          'ROLLBACK_STALE',
          `not rolled back, nothing was written on any machine:\n${changed.map((c) => `  ${c}`).join('\n')}\nuse --force to restore them anyway`,
        )
      const files = built.flatMap((b, i) =>
        b.targets.map((t) => ({ machine: parts[i]!.name, target: t.target })),
      )
      if (options.confirm && !(await options.confirm(last.txid, files)))
        return {
          txid: '',
          machines: [],
          inDoubt: [],
          recovered,
          restored: last.txid,
          cancelled: true,
        }
      const result = await twoPhases(
        specs,
        machines,
        options,
        fault,
        { kind: 'rollback', restores: last.txid },
        (m, held, mark, f) => {
          const i = parts.findIndex((p) => p.name === m.spec.name)
          return prepareFiles(built[i]!.targets, {
            stateDir: held.stateDir,
            stateFileSystem: m.stateFileSystem,
            fileSystem: m.fileSystem,
            kind: 'rollback',
            restores: parts[i]!.txid!,
            fleet: mark,
            fault: f,
          })
        },
        recovered,
      )
      return { ...result, restored: last.txid }
    } finally {
      await machines.close()
    }
  })
}

/**
 * A machine's targets restoring its transaction of a fleet apply from its backups, and the
 * targets changed since (read on the machine, in the journaled directory: a link put there since
 * is not followed).
 */
async function machineRollback(
  m: Machine,
  part: FleetJournalMachine,
  force: boolean,
): Promise<{ targets: TxTarget[]; changed: string[] }> {
  const journal = (await readJournals(part.stateDir, m.stateFileSystem)).find(
    (j) => j.txid === part.txid,
  )
  if (!journal)
    throw new CutoverError(
      'STATE',
      `${part.name}: no transaction ${part.txid} in its state directory ${part.stateDir}`,
    )
  return rollbackTargets(journal, {
    // a link the transaction made or removed is read by its text
    now: (t) => targetHashNow(m.fileSystem, t),
    backup: (path) => m.stateFileSystem.readFile(path),
    // a file it removed is made again with the attributes saved with its backup
    attrs: async (path) =>
      (await m.stateFileSystem.xattrsAvailable())
        ? (await m.stateFileSystem.readXattrs([`${path}.meta`])).get(`${path}.meta`)
        : undefined,
    force,
  })
}
