import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import {
  CutoverError,
  InputError,
  SpecError,
  appliedOnce,
  editStepsAt,
  markedSensitive,
  createEngine,
  parseSpecDocument,
  defaultStateDir,
  fleetSpecNotes,
  listTransactions,
  resolveMachineRoots,
  toFleetPlanDocument,
  wholeSummary,
  type Engine,
  type FileChange,
  type FleetPlanDocument,
  type Plan,
  type PlanDocChange,
  type PlanDocMachine,
  type Spec,
  type StepKind,
  type WholeStep,
} from '@cutover/rewrite'
import type { Machine, WholePlan } from '@cutover/fleet'
import { CliError } from './errors.js'
import type { Opts } from './command.js'
import type { Io } from './io.js'
import { specInventory } from './inventory.js'
import { allStepKinds, namedKinds, stepKindsFor } from './kinds.js'
import { STATE_DIR, fleetMachines, noMachines, paths, parseSize, str } from './options.js'
import { describeWhole } from './output/format.js'
import { counted, progressLine } from './output/progress.js'

/** An engine for `kinds`, by default every step kind (a saved plan, recovery). */
export async function engine(kinds?: readonly StepKind<any>[]): Promise<Engine> {
  return createEngine({ steps: kinds ?? (await allStepKinds()) })
}

/** A fleet's plan: the fleet plan document, and the label of each entry of the review plan. */
export interface FleetPlanned {
  doc: FleetPlanDocument
  /** `finance:` for each change, leftover and note of a machine in the review plan. */
  labelOf: (entry: object) => string
}

/**
 * Plans the spec of `opts`, with an engine for the step kinds it names. A spec with machines is
 * planned on each machine (or those of `--machine`) and given as one review plan (its entries
 * labelled by `fleet.labelOf`) and the fleet plan document.
 */
export async function makePlan(
  opts: Opts,
  io: Io,
): Promise<{ plan: Plan; engine: Engine; fleet?: FleetPlanned }> {
  const { spec, engine: e } = await loadSpec(opts, io)
  if (spec.machines) return { engine: e, ...(await planFleet(spec, e, opts, io)) }
  noMachines(opts, spec.path)
  const { root, ignore, stateDir } = paths(opts, io)
  const progress = progressLine(io, opts)
  try {
    const plan = await planRoot(e, spec, { root, ignore, stateDir }, opts, io, progress)
    return { plan, engine: e }
  } finally {
    progress.done()
  }
}

/**
 * Starts what the plan-time checks of a changed file need (the PHP linter's process): called at
 * the plan's first changed file each validator checks, so that it starts while the plan still
 * reads and plans the others, and never for a plan without such a change. `warmed`: the
 * validators started already.
 */
function warmChecks(e: Engine, names: readonly string[], warmed: Set<string>): void {
  for (const name of names) {
    if (warmed.has(name)) continue
    warmed.add(name)
    for (const k of e.steps)
      for (const v of k.validators ?? []) if (v.name === name && v.plan) v.warm?.()
  }
}

/**
 * Reads and parses the spec of `opts` (missing secrets are spec errors too, unless `secrets` is
 * false: a command that reads none), with its engine.
 */
export async function loadSpec(
  opts: Opts,
  io: Io,
  o: { secrets?: boolean } = {},
): Promise<{ spec: Spec; engine: Engine }> {
  const specPath = resolve(io.cwd, str(opts.spec) ?? 'cutover.yaml')
  let source: string
  try {
    source = await readFile(specPath, 'utf8')
  } catch (err) {
    throw new CliError(
      'SPEC_MISSING',
      `cannot read the spec ${specPath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (use --spec FILE)' : (err as Error).message}`,
    )
  }
  // parsed once: the kinds it names, its inventory and the spec itself are read from one document
  const doc = parseSpecDocument(source)
  const e = await engine(await stepKindsFor(namedKinds(doc)))
  const inventory = await specInventory(opts, io, specPath, source, doc)
  // missing secrets are spec errors too, reported with the others in one run
  const parsed = e.parseSpec(
    source,
    relative(io.cwd, specPath) || specPath,
    {
      ...(o.secrets === false ? {} : { env: io.env }),
      ...(inventory ? { inventory } : {}),
      ...(str(opts.profile) !== undefined ? { profile: str(opts.profile)! } : {}),
    },
    doc,
  )
  // a local directory's relative root is the spec's, wherever the command runs
  return { spec: resolveMachineRoots(parsed, dirname(specPath)), engine: e }
}

/** Where one root is planned: the directory, what is never in scope, its state directory. */
interface RootPlace {
  root: string
  ignore: string[]
  stateDir: string
  /** For a machine of a fleet: its name (steps by `on`), and whether it plans the database steps. */
  machine?: { name: string; database: boolean }
  /** Old values the fleet's other machines replace with secrets, hidden here too. */
  hidden?: readonly string[]
}

/** Plans `spec` on one root, with the swaps its state directory records and its interrupted transactions noted. */
async function planRoot(
  e: Engine,
  spec: Spec,
  place: RootPlace,
  opts: Opts,
  io: Io,
  progress: ReturnType<typeof progressLine>,
): Promise<Plan> {
  const { root, ignore, stateDir, machine, hidden } = place
  const applied = await appliedOnce(stateDir)
  const broken = await interrupted(stateDir, root, opts, io, machine?.name)
  const warmed = new Set<string>()
  const plan = await e.plan(spec, {
    root,
    ...(str(opts.profile) !== undefined ? { profile: str(opts.profile)! } : {}),
    env: io.env,
    // the files an interrupted apply staged, as its journal records them, are never in scope
    ignore: [...ignore, ...broken.temps],
    applied,
    ...(machine
      ? { machine: machine.name, label: `${machine.name}:`, database: machine.database }
      : {}),
    ...(str(opts.maxFileSize) !== undefined
      ? { maxFileSize: parseSize(str(opts.maxFileSize)!) }
      : {}),
    ...(opts.showSensitive ? { showSensitive: true } : {}),
    ...(hidden?.length ? { hidden } : {}),
    onProgress: (p) => {
      const who = machine ? `${machine.name}: ` : ''
      if (p.type === 'read')
        progress.update(
          counted(`${who}scanning`, p, `${p.changed} to change`),
          p.considered === p.total,
        )
      else {
        if (p.validators) warmChecks(e, p.validators, warmed)
        if (opts.verbose) progress.note(`${who}${p.target}: ${p.what}`)
      }
    },
  })
  plan.notes.unshift(...broken.notes)
  return plan
}

/**
 * Plans a spec with machines: each machine (of `--machine`, in the spec's order) with the steps
 * `on` it, a local-directory machine on its root, an ssh machine on a mirror of the files its plan
 * needs. The database steps are planned once, with the first machine that runs one.
 */
async function planFleet(
  spec: Spec,
  e: Engine,
  opts: Opts,
  io: Io,
): Promise<{ plan: Plan; fleet: FleetPlanned }> {
  const machines = fleetMachines(spec.machines!, opts, spec.path)
  const wholeSteps = activeWhole(spec, machines, str(opts.profile))
  const dbSteps = spec.steps.filter((s) => e.database(s.kind)?.uses(s.options))
  const dbMachine = machines.find((m) =>
    dbSteps.some((s) => !s.options.on || s.options.on.includes(m.name)),
  )
  const progress = progressLine(io, opts)
  // the fleet's code is loaded by a spec of machines only: a plan of one root never needs it
  const { FleetError, localMachine, planWhole } = await import('@cutover/fleet')
  const remote = machines.some((m) => m.ssh !== undefined)
    ? await (await import('./remote-plan.js')).remotePlanning(opts, io)
    : undefined
  const planMachine = async (m: (typeof machines)[number], hidden: readonly string[]) => {
    const machine = { name: m.name, database: m === dbMachine }
    const place = (root: string) => ({ ...localPlace(root), machine, hidden })
    if (m.ssh === undefined) {
      const plan = await onMachine(m, m.root, () =>
        planRoot(e, spec, place(m.root), opts, io, progress),
      )
      return { machine: { ...m } as PlanDocMachine, plan }
    }
    const r = await remote!.plan(m, spec, e, (dir, stateDir) =>
      onMachine(m, dir, () => planRoot(e, spec, { ...place(dir), stateDir }, opts, io, progress)),
    )
    return {
      machine: { ...m, ...(r.hostKey !== undefined ? { hostKey: r.hostKey } : {}) },
      plan: r.plan,
    }
  }
  const planned: Array<{ machine: PlanDocMachine; plan: Plan }> = []
  let whole: WholePlan = { changes: [], notes: [], files: [] }
  try {
    // the machines over ssh are connected to and mirrored ahead of their turn, several at once
    for (const m of machines) if (m.ssh !== undefined) remote!.prepare(m, spec, e)
    for (const m of machines) planned.push(await planMachine(m, []))
    // an old value a secret replaces on one machine is hidden in every machine's review: a
    // machine whose plan does not hide all of them is planned again, told the others'
    const hidden = [...new Set(planned.flatMap((p) => p.plan.oldValues ?? []))]
    for (const [i, m] of machines.entries()) {
      const own = new Set(planned[i]!.plan.oldValues ?? [])
      const others = hidden.filter((v) => !own.has(v))
      if (others.some((v) => mentions(planned[i]!.plan, v)))
        planned[i] = await planMachine(m, hidden)
    }
    // the whole-file steps read and compare files on the machines, still open
    if (wholeSteps.length) {
      const open = new Map<string, Machine>()
      for (const m of machines)
        open.set(m.name, m.ssh === undefined ? localMachine(m) : remote!.machine(m.name)!)
      whole = await planWhole({
        steps: wholeSteps,
        machines: open,
        specDir: dirname(resolve(io.cwd, spec.path)),
        sensitive: markedSensitive,
        ...(str(opts.maxFileSize) !== undefined
          ? { maxFileSize: parseSize(str(opts.maxFileSize)!) }
          : {}),
      })
      conflicts(spec, planned, whole, str(opts.profile), FleetError)
    }
  } finally {
    progress.done()
    await remote?.close()
  }
  const notes = fleetSpecNotes(
    spec,
    planned.map(({ machine, plan }) => ({ name: machine.name, plan })),
  )
  const doc = toFleetPlanDocument(planned, notes)
  doc.changes.push(...whole.changes)
  doc.notes.push(...whole.notes)
  const review = reviewPlan(spec, planned, notes, whole)
  return { plan: review.plan, fleet: { doc, labelOf: review.labelOf } }
}

/**
 * The whole-file steps of the profile that write to a machine planned. A step that does needs
 * every machine it names planned too (its source is read from one, the others are written).
 */
function activeWhole(
  spec: Spec,
  machines: ReadonlyArray<{ name: string }>,
  profile: string | undefined,
): WholeStep[] {
  const planned = new Set(machines.map((m) => m.name))
  const out: WholeStep[] = []
  for (const step of spec.whole) {
    const p = step.options.profiles
    if (p && (profile === undefined || !p.includes(profile))) continue
    const named =
      step.kind === 'copy'
        ? [
            ...('machine' in step.options.from ? [step.options.from.machine] : []),
            ...step.options.to.map((t) => t.machine),
          ]
        : step.options.pairs.flat().map((l) => l.machine)
    if (!named.some((n) => planned.has(n))) continue
    const missing = [...new Set(named.filter((n) => !planned.has(n)))]
    if (missing.length)
      throw new CliError(
        'USAGE',
        `step ${step.index + 1} (${step.kind}) also needs machine${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: plan ${missing.length > 1 ? 'them' : 'it'} too (--machine)`,
      )
    out.push(step)
  }
  return out
}

/**
 * Refuses a plan in which a file is both written by a whole-file step and edited by another step,
 * or is the source of a copy that another step edits: one plan either copies a file or edits it
 * (`WHOLE_FILE_CONFLICT`, naming both steps and the file).
 */
function conflicts(
  spec: Spec,
  planned: ReadonlyArray<{ machine: PlanDocMachine; plan: Plan }>,
  whole: WholePlan,
  profile: string | undefined,
  FleetError: typeof import('@cutover/fleet').FleetError,
): void {
  for (const f of whole.files) {
    const plan = planned.find((p) => p.machine.name === f.machine)?.plan
    const edited = plan?.changes.find((c) => c.target === f.path || c.link === f.path)
    if (!edited) continue
    const steps = editStepsAt(spec.steps, f.path, f.machine, profile)
    const by = steps.length
      ? steps.map((s) => `step ${s.index + 1} (${s.kind})`).join(', ')
      : `a step of kind ${edited.kinds.join('+')}`
    throw new FleetError(
      'WHOLE_FILE_CONFLICT',
      `${f.machine}:${f.path} is ${f.step.kind === 'copy' ? 'copied' : 'exchanged'} by step ${f.step.index + 1} (${f.step.kind}) and edited by ${by}: one plan either copies a file or edits it`,
    )
  }
}

/** Whether a plan may show `value`: in a changed file, a leftover or a note. */
function mentions(plan: Plan, value: string): boolean {
  return (
    plan.changes.some((c) => c.beforeText.includes(value) || c.afterText.includes(value)) ||
    plan.leftovers.some((l) => l.text.includes(value) || l.reason.includes(value)) ||
    plan.notes.some((n) => n.message.includes(value))
  )
}

/** The places of a local machine's root: its own state directory, never in scope. */
function localPlace(root: string): Omit<RootPlace, 'machine'> {
  return { root, ignore: [`${STATE_DIR}/**`], stateDir: defaultStateDir(root) }
}

/**
 * Runs the plan of one machine; an error names the machine (and the machine's root instead of a
 * mirror's directory).
 */
async function onMachine<T>(
  m: { name: string; root: string },
  dir: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run()
  } catch (e) {
    throw machineError(m, dir, e)
  }
}

/** An error of a machine's plan, naming the machine: `finance: …`, input errors at `finance:path`. */
function machineError(m: { name: string; root: string }, dir: string, e: unknown): unknown {
  if (e instanceof SpecError) return e
  if (e instanceof InputError)
    return new InputError(`${m.name}:${e.path}`, e.source, e.diagnostics, e.hide)
  if (e instanceof CutoverError) {
    // a mirror's directory is the machine's root to the user
    const message =
      dir === m.root ? e.message : e.message.replaceAll(dir, m.root.replace(/\/$/, ''))
    return new CutoverError(e.code, `${m.name}: ${message}`, { cause: e })
  }
  return e
}

/**
 * The review of a fleet plan: one plan whose entries come from every machine, in the machines'
 * order, labelled with their machine; the notes of the spec once.
 */
function reviewPlan(
  spec: Spec,
  planned: ReadonlyArray<{ machine: PlanDocMachine; plan: Plan }>,
  notes: Plan['notes'],
  whole: WholePlan,
): { plan: Plan; labelOf: (entry: object) => string } {
  const labels = new WeakMap<object, string>()
  const label = <T extends object>(name: string, list: readonly T[]) =>
    list.map((x) => (labels.set(x, `${name}:`), x))
  const plans = planned.map((p) => p.plan)
  const plan: Plan = {
    version: 1,
    profile: plans[0]?.profile,
    root: '',
    spec: spec.hash,
    specPath: spec.path,
    changes: planned.flatMap(({ machine, plan }) =>
      label(machine.name, [
        ...plan.changes,
        ...whole.changes.filter((c) => c.machine === machine.name).map(wholeReviewed),
      ]),
    ),
    leftovers: planned.flatMap(({ machine, plan }) =>
      label(
        machine.name,
        plan.leftovers.filter((l) => !plan.database.some((d) => d.target === l.target)),
      ).concat(plan.leftovers.filter((l) => plan.database.some((d) => d.target === l.target))),
    ),
    notes: [
      ...notes,
      ...planned.flatMap(({ machine, plan }) =>
        label(machine.name, [
          ...plan.notes.filter((n) => n.target !== plan.specPath),
          ...whole.notes
            .filter((n) => n.machine === machine.name)
            .map(({ machine: _m, ...n }) => ({
              ...n,
              severity: n.severity === 'warning' ? ('warning' as const) : ('note' as const),
            })),
        ]),
      ),
    ],
    database: plans.flatMap((p) => p.database),
    secrets: [...new Map(plans.flatMap((p) => p.secrets).map((r) => [r.name, r])).values()],
    sensitive: [...new Set(plans.flatMap((p) => p.sensitive))],
    stats: {
      considered: plans.reduce((n, p) => n + p.stats.considered, 0),
      read: plans.reduce((n, p) => n + p.stats.read, 0),
      skipped: plans.reduce((n, p) => n + p.stats.skipped, 0),
    },
  }
  return { plan, labelOf: (entry) => labels.get(entry) ?? '' }
}

/**
 * A whole-file change as the review shows it: its diff (a summary for a sensitive or binary
 * file), its counts of lines and what it does (`wholeSummary`, as every review format says it);
 * never its bytes (the texts are empty).
 */
function wholeReviewed(c: { machine: string } & PlanDocChange): FileChange {
  const lines = c.diff.split('\n')
  return describeWhole(
    {
      target: c.target,
      kinds: [c.kind],
      encoding: c.encoding,
      ...(c.link !== undefined ? { link: c.link } : {}),
      before: c.before,
      after: c.after,
      mode: Number.parseInt(c.mode, 8),
      passes: [],
      beforeText: '',
      afterText: '',
      diff: c.diff,
      added: lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length,
      removed: lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).length,
      validators: [],
    },
    wholeSummary(c),
  )
}

/**
 * A warning for each transaction that a crash left unfinished (journal `staging` or `prepared`):
 * its targets may be half written and its staged files lie beside them until `cutover recover`.
 */
async function interrupted(
  stateDir: string,
  root: string,
  opts: Opts,
  io: Io,
  machine?: string,
): Promise<{ notes: Plan['notes']; temps: string[] }> {
  const temps: string[] = []
  let txs: Awaited<ReturnType<typeof listTransactions>>
  try {
    txs = (await listTransactions(stateDir)).filter(
      (t) => t.state === 'staging' || t.state === 'prepared',
    )
    for (const t of txs) {
      for (const temp of t.temps) {
        const rel = relative(root, temp)
        // a literal path as a glob: every glob character escaped
        if (rel && !rel.startsWith('..') && !isAbsolute(rel))
          temps.push(
            rel
              .split(sep)
              .join('/')
              .replace(/[\\*?[\]{}()!+@]/g, '\\$&'),
          )
      }
    }
  } catch {
    return { notes: [], temps } // an unreadable state directory is apply's to report
  }
  const flags =
    machine !== undefined
      ? ` --spec ${str(opts.spec) ?? 'cutover.yaml'} --machine ${machine}`
      : [
          str(opts.root) !== undefined ? ` --root ${str(opts.root)}` : '',
          str(opts.stateDir) !== undefined ? ` --state-dir ${str(opts.stateDir)}` : '',
        ].join('')
  const notes = txs.map((t) => ({
    // a machine's state directory is named in its root (`finance:var/lib/cutover`)
    target: machine !== undefined ? STATE_DIR : relative(io.cwd, stateDir) || stateDir,
    code: 'INTERRUPTED',
    message: `transaction ${t.txid} (${t.kind}, ${t.targets.length} file(s)) was interrupted (${t.state}): its files may be half applied; run \`cutover recover${flags}\` before trusting this plan`,
    severity: 'warning' as const,
  }))
  return { notes, temps }
}
