import picomatch from 'picomatch'
import { lstatSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { OutsideRootError, RootResolver, type Resolved } from '../fs/confine.js'
import { discoverCache, discoverEach, type Discovered, type DiscoverProblem } from './discover.js'
import type { EncodingName } from '../edit/edit.js'
import { encoderOf, type Encoder } from '../edit/encode.js'
import { CutoverError, InputError, SpecError } from '../errors.js'
import { leftoverMatcher } from '../step/leftovers.js'
import { LineIndex } from '../text/line-index.js'
import type { AppliedOnce } from './once.js'
import { checkPlanned } from './plan-check.js'
import { tracePhase } from '../transaction/trace.js'
import { Prefilter } from '../match/prefilter.js'
import { maskSensitive } from './mask.js'
import type { FileChange, Plan, PlanEvent, PlanNote, PlannedLeftover } from './plan.js'
import { readFiles, type ReadOutcome, type ReadProfile } from './reader.js'
import {
  EMPTY,
  NOT_FILE,
  NOTHING,
  planRead,
  tooLarge,
  type ActiveStep,
  type FileResult,
  type ReadFile,
} from './plan-file.js'
import { neverMatched, ruleKeys } from './rule-keys.js'
import { SecretStore } from '../spec/secrets.js'
import {
  missingSecrets,
  parseSpec,
  type Spec,
  type SpecCheckOptions,
  type SpecDocument,
  type SpecStep,
} from '../spec/spec.js'
import type { DatabaseChange, DatabaseTarget } from '../step/database.js'
import {
  renamesOf,
  type Context,
  type RuleOptions,
  type StepKind,
  type Validator,
} from '../step/step.js'
import { commandValidator } from '../step/validate.js'

/** Options of {@link Engine.plan}. */
export interface PlanOptions {
  root: string
  profile?: string
  env?: Readonly<Record<string, string | undefined>>
  /** Globs (relative to the root) never considered, e.g. the state directory. */
  ignore?: string[]
  /** How many files that hold a needle are planned at once. */
  concurrency?: number
  /**
   * How many worker threads read and prefilter the files: 0 reads them on this thread. Default:
   * up to 2 (as many as there are cores) when there are 4,096 files or more, else 0.
   */
  threads?: number
  /** Told of each file planned and of the count so far, in that order, as each file is done. */
  onProgress?: (event: PlanEvent) => void
  /**
   * The one-time moves (swaps) applied to each target, from {@link appliedOnce}: their edits are
   * not planned again while the file holds what they wrote.
   */
  applied?: AppliedOnce
  /**
   * The largest file (in bytes) a plan reads, default {@link MAX_FILE_SIZE}: a file in scope that
   * is larger is refused (a `FILE_TOO_LARGE` CutoverError naming every such file), not read.
   */
  maxFileSize?: number
  /**
   * Show values that only look like credentials (a key named like a password, a URL's password,
   * a `.pgpass` field) in diffs; by default they show as `(sensitive)`. Secrets, what secret
   * edits write and the old values they replace are never shown.
   */
  showSensitive?: boolean
  /**
   * The machine (of the spec's `machines:`) the plan is for: only the steps and the leftover scan
   * `on` it run. Required when the spec has machines, refused without them.
   */
  machine?: string
  /** Put before each target in the diff headers (`finance:` gives `--- a/finance:etc/hosts`). */
  label?: string
  /**
   * Plan the steps that change a live database (default true). A fleet plans them once, with
   * one machine: the database is reached from here, not from any machine.
   */
  database?: boolean
  /**
   * Old values to hide from view as the plan's own are (whole words on every line of every diff,
   * in summaries, leftovers and notes): those that sensitive edits replace in the plans of a
   * fleet's other machines ({@link Plan.oldValues}). Unlike its own, they leave the hashes plain.
   */
  hidden?: readonly string[]
}

/** The planning engine for a set of step kinds. */
export interface Engine {
  readonly steps: readonly StepKind<any>[]
  /**
   * Parses and validates a spec; throws SpecError with every problem. With `check.env`, every
   * secret that a step of `check.profile` reads and the environment lacks is one of them.
   * `doc`: the source already parsed by `parseSpecDocument` (then not parsed again).
   */
  parseSpec(source: string, path: string, check?: SpecCheckOptions, doc?: SpecDocument): Spec
  plan(spec: Spec, options: PlanOptions): Promise<Plan>
  /**
   * What a plan with these options reads, without reading it: the globs of each step (of the
   * profile and machine), whether the step plans files that hold none of its needles
   * (`alwaysPlan`), the scan's globs, and every needle of the plan's prefilter (the steps' and
   * the leftovers'). A file in scope that holds none of `needles` as bytes and is in no `always`
   * step's files is never read by the plan: planned, it gives nothing. Secrets are checked as
   * for {@link plan}.
   */
  needs(spec: Spec, options: PlanOptions): PlanNeeds
  /** The validator called `name` of any step kind, or of a step's `validate:` (`validate: COMMAND`). */
  validator(name: string): Validator | undefined
  /** The encoder called `name` (`raw`, or one a step kind registers in `encodings`). */
  encoder(name: EncodingName): Encoder | undefined
  /** The database target of the step kind called `kind`. */
  database(kind: string): DatabaseTarget<any> | undefined
}

/** What a plan reads (see {@link Engine.needs}). */
export interface PlanNeeds {
  files: Array<{ files: string[]; exclude: string[]; always: boolean }>
  needles: string[]
}

/** Creates an engine for the given step kinds (`text` from this package; others from theirs). */
export function createEngine(options: { steps: readonly StepKind<any>[] }): Engine {
  const steps = options.steps
  const names = new Set<string>()
  for (const s of steps) {
    if (names.has(s.name)) throw new CutoverError('ENGINE', `step kind "${s.name}" is given twice`)
    names.add(s.name)
  }
  return {
    steps,
    parseSpec: (source, path, check, doc) => parseSpec(source, path, steps, check, doc),
    plan: (spec, o) => planSpec(steps, spec, o),
    needs: (spec, o) => planNeeds(steps, spec, o),
    database: (kind) => steps.find((s) => s.name === kind)?.database,
    validator: (name) => {
      for (const s of steps) for (const v of s.validators ?? []) if (v.name === name) return v
      return commandValidator(name)
    },
    encoder: (name) => encoderOf(steps, name),
  }
}

const NO_STEPS: ActiveStep[] = []

/**
 * The files an apply stages beside its targets (`.NAME.cutover-TXID-RANDOM`, and `….restore`
 * for a rollback): left by a crash until `cutover recover`, never a target nor a leftover.
 */
const STAGED_TEMPS = '**/.*.cutover-*'

/**
 * A symbolic link and the file it points to, both in scope, are one file: only the path that is
 * the file itself is planned (with the steps of every path of it, in spec order), and a note
 * names the links. Two changes of one file would make `apply` refuse the plan. Only the paths
 * that change or hold leftovers are resolved, so a large tree pays nothing for this. Returns
 * the changes made again (a file whose paths had different steps), not yet validated.
 */
async function planLinksOnce(
  resolver: RootResolver,
  where: ReadonlyMap<string, Resolved>,
  byFile: ReadonlyMap<string, ActiveStep[]>,
  result: { changes: FileChange[]; leftovers: PlannedLeftover[]; notes: PlanNote[] },
  plan: (target: string, real: string, steps: ActiveStep[]) => Promise<FileResult>,
): Promise<FileChange[]> {
  const again: FileChange[] = []
  const touched = [
    ...new Set([...result.changes.map((c) => c.target), ...result.leftovers.map((l) => l.target)]),
  ]
  if (touched.length < 2) return again
  const byReal = new Map<string, string[]>()
  for (const t of touched) {
    // where it is in the root (resolved as a chroot would, before any file was read)
    const w = where.get(t)
    if (!w?.exists) continue
    byReal.set(w.real, [...(byReal.get(w.real) ?? []), t])
  }
  for (const [real, paths] of byReal) {
    if (paths.length < 2) continue
    const own = resolver.relOf(real)
    const kept = paths.includes(own) ? own : [...paths].sort()[0]!
    const links = paths.filter((t) => t !== kept).sort()
    const steps = [...new Set(paths.flatMap((t) => byFile.get(t) ?? []))].sort(
      (a, b) => a.group - b.group,
    )
    const drop = new Set(steps.length === (byFile.get(kept) ?? []).length ? links : paths)
    result.changes.splice(0, Infinity, ...result.changes.filter((c) => !drop.has(c.target)))
    result.leftovers.splice(0, Infinity, ...result.leftovers.filter((l) => !drop.has(l.target)))
    result.notes.splice(0, Infinity, ...result.notes.filter((n) => !drop.has(n.target)))
    if (drop.has(kept)) {
      // the paths had different steps: the file is planned again with all of them
      // `real` has no link in it: one put on it since is not followed
      const r = await plan(kept, real, steps)
      if (r.error) throw r.error
      if (r.change) {
        result.changes.push(r.change)
        again.push(r.change)
      }
      result.leftovers.push(...r.leftovers)
      result.notes.push(...r.notes)
    }
    const what = links.length > 1 ? 'symbolic links' : 'a symbolic link'
    result.notes.push({
      target: kept,
      code: 'LINKED',
      message: `also in scope as ${links.join(', ')} (${what} to it): planned once, here`,
      severity: 'note',
    })
  }
  return again
}

/**
 * Marks the leftovers that an `accept:` entry of the profile allows (same text, path matching its
 * glob) with the entry's reason; warns (`ACCEPT_UNMATCHED`, at the entry) of an entry that
 * matches no leftover, so that a stale acceptance does not outlive what it was for.
 */
function acceptLeftovers(
  spec: Spec,
  profile: string | undefined,
  leftovers: PlannedLeftover[],
): PlanNote[] {
  const entries = (spec.accept ?? []).filter(
    (a) => !a.profiles || (profile !== undefined && a.profiles.includes(profile)),
  )
  if (entries.length === 0) return []
  const matches = entries.map((a) => picomatch(a.path.replace(/^(?:\.?\/+)+/, ''), { dot: true }))
  const used = new Set<number>()
  for (const l of leftovers) {
    const k = entries.findIndex((a, i) => a.text === l.text && matches[i]!(l.target))
    if (k === -1) continue
    l.accepted = entries[k]!.reason
    used.add(k)
  }
  const index = new LineIndex(spec.source)
  return entries.flatMap((a, k) => {
    if (used.has(k)) return []
    const pos = index.position(a.range.start)
    return [
      {
        target: spec.path,
        line: pos.line,
        col: pos.col,
        code: 'ACCEPT_UNMATCHED',
        message: `accepted leftover "${a.text}" in ${a.path} matches no leftover${profile ? ` of profile ${profile}` : ''}: remove the entry if it is done`,
        severity: 'warning' as const,
      },
    ]
  })
}

/**
 * Plans a spec in named stages: {@link begin} (profile, secrets, root, the active steps),
 * {@link scope} (the files of each step, the database changes), {@link readAndPlan} (read,
 * prefilter, run the steps on each file), {@link refuseInput} (size limit, errors), then the
 * planned text validated ({@link checkPlanned}) beside {@link planLinksOnce} (one file reached by
 * several paths), {@link placeLinks} (links, hard links) and {@link finish} (notes, order,
 * masking); a validation error is thrown before any error of those.
 */
async function planSpec(
  kinds: readonly StepKind<any>[],
  spec: Spec,
  o: PlanOptions,
): Promise<Plan> {
  tracePhase('plan:start')
  const run = begin(kinds, spec, o)
  const files = await scope(run)
  tracePhase('plan:scope')
  const found = await readAndPlan(run, files)
  tracePhase('plan:read')
  refuseInput(run, found)
  // the planned text is validated (`php -l`) while the diffs are made: its processes run on
  // another core while this thread masks, yielding to their answers now and then
  const validator = (name: string) =>
    run.kinds.flatMap((k) => k.validators ?? []).find((v) => v.name === name)
  const first = [...found.changes]
  const checks = [checkPlanned(first, validator)]
  // awaited below (its error first, as when it ran alone): never an unhandled rejection before
  checks[0]!.catch(() => {})
  // the errors of the texts the plan holds: a change that a file's links replaced is not in it
  const invalid = async () => {
    const [early = [], again = []] = await Promise.all(checks)
    const kept = new Set(found.changes)
    const still = new Set(first.filter((c) => kept.has(c)).map((c) => c.target))
    return [...early.filter((e) => still.has(e.path)), ...again]
  }
  let plan: Plan
  try {
    const again = await planLinksOnce(
      run.resolver,
      files.where,
      files.byFile,
      found,
      (target, real, steps) => planAgain(run, target, real, steps),
    )
    // a file planned again with the steps of all its paths is validated as planned now
    if (again.length) {
      checks.push(checkPlanned(again, validator))
      checks[1]!.catch(() => {})
    }
    placeLinks(files.where, found)
    plan = await finish(run, files, found)
  } catch (e) {
    refuseInvalid(await invalid())
    throw e
  }
  tracePhase('plan:finish')
  refuseInvalid(await invalid())
  tracePhase('plan:check')
  return plan
}

function planNeeds(kinds: readonly StepKind<any>[], spec: Spec, o: PlanOptions): PlanNeeds {
  const run = begin(kinds, spec, o)
  const files: PlanNeeds['files'] = []
  for (const a of run.active) {
    if (a.kind.database?.uses(a.step.options)) continue
    files.push({
      files: a.step.options.files,
      exclude: [...(a.step.options.exclude ?? []), ...(o.ignore ?? [])],
      always: a.always,
    })
  }
  if (spec.scan && onMachine(spec.scan.on, o.machine))
    files.push({
      files: spec.scan.files,
      exclude: [...(spec.scan.exclude ?? []), ...(o.ignore ?? [])],
      always: false,
    })
  const needles = new Set<string>()
  for (const g of planPrefilterGroups(run)) for (const n of g) needles.add(n)
  return { files, needles: [...needles] }
}

/** What every stage of one plan reads: the spec, its options, and what {@link begin} made of them. */
interface Planning {
  kinds: readonly StepKind<any>[]
  spec: Spec
  o: PlanOptions
  root: string
  profile: string | undefined
  secrets: SecretStore
  resolver: RootResolver
  ctx: Context
  active: ActiveStep[]
  /** The needles of the steps and the leftover literals, made when the first file is read. */
  prefilter?: Prefilter
}

/** The files in scope: which steps run on each, the files to create, where each is in the root. */
interface Scope {
  byFile: Map<string, ActiveStep[]>
  creates: Map<string, number>
  /** The existing targets, sorted. */
  targets: string[]
  where: Map<string, Resolved>
  database: DatabaseChange[]
  dbLeftovers: PlannedLeftover[]
  /** The notes of discovery and of the database steps, first in the plan's notes. */
  notes: PlanNote[]
}

/** What reading and planning the files gave. */
interface Planned {
  changes: FileChange[]
  leftovers: PlannedLeftover[]
  notes: PlanNote[]
  inputErrors: InputError[]
  oversized: Array<[string, number]>
  stats: Plan['stats']
}

/** Checks the profile and the secrets, resolves the root, makes the context and the active steps. */
function begin(kinds: readonly StepKind<any>[], spec: Spec, o: PlanOptions): Planning {
  const root = resolve(o.root)
  const profile = checkProfile(spec, o.profile)
  const env = o.env ?? process.env
  const missing = missingSecrets(spec, env, profile)
  if (missing.length) throw new SpecError(spec.path, spec.source, missing)
  const secrets = new SecretStore(spec.secrets, env)
  const resolver = rootResolver(root)
  const ctx: Context = {
    root,
    profile,
    profiles: spec.profiles,
    inventory: spec.hosts,
    networks: spec.networks ?? [],
    renames: renamesOf(
      spec.steps.filter((s) => stepIsActive(s, profile, o.machine)) as Array<
        SpecStep & { options: RuleOptions }
      >,
    ),
    variants: spec.variants,
    secret: (n) => secrets.get(n),
    inRoot: (path) => {
      try {
        const r = resolver.resolve(path)
        return r?.exists ? r.real : undefined
      } catch (e) {
        // out of the root, or a loop: nothing there to read
        if (e instanceof CutoverError) return undefined
        throw e
      }
    },
    env,
  }
  checkMachine(spec, o.machine)
  const active = activeSteps(kinds, spec, profile, ctx, o.machine)
  return { kinds, spec, o, root, profile, secrets, resolver, ctx, active }
}

/** The steps of the spec that apply to `profile`, with their needles and rule keys. */
function activeSteps(
  kinds: readonly StepKind<any>[],
  spec: Spec,
  profile: string | undefined,
  ctx: Context,
  machine: string | undefined,
): ActiveStep[] {
  return spec.steps
    .filter((s) => stepIsActive(s, profile, machine))
    .map((step, i) => {
      const kind = kinds.find((k) => k.name === step.kind)!
      const keys = ruleKeys(step.options as RuleOptions)
      // a file that holds only a replacement is read too: its key has matched (it was applied)
      const needles = [...kind.needles(step.options, ctx), ...(keys?.targets ?? [])]
      return {
        step,
        kind,
        needles,
        always: kind.alwaysPlan?.(step.options) ?? false,
        group: i + 1,
        ...(keys ? { keys } : {}),
      }
    })
}

/**
 * Finds the files of every step (a database step plans its changes instead), the files to
 * create and the scan-only files, and resolves each in the root; refuses at once every
 * directory that cannot be read and every path that leads out of the root.
 */
async function scope(run: Planning): Promise<Scope> {
  const { spec, o, root, resolver, ctx } = run
  const s: Scope = {
    byFile: new Map(),
    creates: new Map(),
    targets: [],
    where: new Map(),
    database: [],
    dbLeftovers: [],
    notes: [],
  }
  const withStep = stepLists()
  const cache = discoverCache()
  cache.resolver = resolver
  const refused = new Map<string, string>()
  const onProblem = (p: DiscoverProblem) => refused.set(p.path, p.message)
  // the files of every step and of the scan, found by one walk of the tree
  const walked = run.active.filter((a) => !a.kind.database?.uses(a.step.options))
  const scan = spec.scan && onMachine(spec.scan.on, o.machine) ? spec.scan : undefined
  const discovered = discoverEach(
    root,
    [
      ...walked.map((a) => ({
        files: a.step.options.files,
        exclude: [...(a.step.options.exclude ?? []), ...(o.ignore ?? []), STAGED_TEMPS],
      })),
      ...(scan
        ? [
            {
              files: scan.files,
              exclude: [...(scan.exclude ?? []), ...(o.ignore ?? []), STAGED_TEMPS],
            },
          ]
        : []),
    ],
    cache,
  )
  for (const a of run.active) {
    if (a.kind.database?.uses(a.step.options)) {
      // a database is not scanned as text: its keys are not checked for NEVER_MATCHED
      delete a.keys
      if (o.database === false) continue
      const dp = await a.kind.database.plan(a.step.options, ctx)
      s.database.push(...dp.changes.map((c) => ({ ...c, kind: a.kind.name })))
      s.dbLeftovers.push(...dp.leftovers)
      s.notes.push(...dp.notes)
      continue
    }
    const { files: found, problems, error } = discovered[walked.indexOf(a)]!
    // thrown in the step's turn: after the database plans and creates of the steps before it
    if (error !== undefined) throw error
    for (const p of problems) onProblem(p)
    if (found.length === 0 && !a.step.options.create) {
      s.notes.push({
        target: a.step.options.files.join(', '),
        code: 'NO_FILES',
        message: `step ${a.step.index + 1} (${a.kind.name}) matches no file`,
        severity: 'warning',
      })
      delete a.keys
    }
    for (const f of found) s.byFile.set(f, withStep(s.byFile.get(f) ?? NO_STEPS, a))
    planCreates(run, a, found, s, refused)
  }
  const scanned: Discovered = scan ? discovered[walked.length]! : { files: [], problems: [] }
  if (scanned.error !== undefined) throw scanned.error
  for (const p of scanned.problems) onProblem(p)
  const scanOnly = scanned.files
  for (const f of scanOnly) if (!s.byFile.has(f)) s.byFile.set(f, [])
  cache.listings.clear()
  s.targets = [...s.byFile.keys()].filter((t) => !s.creates.has(t)).sort()
  for (const t of [...s.targets, ...s.creates.keys()]) {
    // a plain file the walk listed is where its directory is; a link, a literal path or a file to create is resolved
    const r =
      (s.creates.has(t) || cache.linked?.has(t) ? undefined : resolver.listed(t)) ??
      within(resolver, t, refused, s.creates.has(t))
    if (r) s.where.set(t, r)
  }
  if (refused.size) {
    const all = [...refused.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, m]) => m)
    throw new CutoverError(
      all.some((m) => / outside the root /.test(m)) ? 'OUTSIDE_ROOT' : 'DIR_UNREADABLE',
      `nothing was read:\n${all.map((m) => `  ${m}`).join('\n')}`,
    )
  }
  return s
}

/**
 * The lists of steps of the files, shared: the files with the same steps share one (never
 * mutated) list, one per combination, not per file.
 */
function stepLists(): (list: ActiveStep[], a: ActiveStep) => ActiveStep[] {
  const combos = new Map<ActiveStep[], Map<ActiveStep, ActiveStep[]>>()
  return (list, a) => {
    let next = combos.get(list)
    if (!next) combos.set(list, (next = new Map()))
    let out = next.get(a)
    if (!out) next.set(a, (out = [...list, a]))
    return out
  }
}

/** `create: { mode }`: a literal path of `files` that does not exist is planned as a new, empty file. */
function planCreates(
  run: Planning,
  a: ActiveStep,
  found: readonly string[],
  s: Scope,
  refused: Map<string, string>,
): void {
  const create = a.step.options.create
  if (!create) return
  for (const f of a.step.options.files.map((g) => g.replace(/^\/+/, ''))) {
    if (
      /[*?[\]{}!]/.test(f) ||
      found.includes(f) ||
      within(run.resolver, f, refused, true)?.exists !== false
    )
      continue
    s.creates.set(f, Number.parseInt(create.mode, 8))
    s.byFile.set(f, [...(s.byFile.get(f) ?? []), a])
  }
}

/**
 * Reads every target, prefilters it and runs its steps on the files that hold a needle (on
 * reader threads for a large tree), then plans the files to create; reports progress.
 */
async function readAndPlan(run: Planning, s: Scope): Promise<Planned> {
  const { o, ctx } = run
  const { targets, creates, byFile, where } = s
  const out: Planned = {
    changes: [],
    leftovers: [],
    notes: s.notes,
    inputErrors: [],
    oversized: [],
    stats: { considered: targets.length + creates.size, read: 0, skipped: 0 },
  }
  let done = 0
  const finish = (target: string, r: FileResult) => {
    done++
    collect(out, target, r)
    o.onProgress?.({
      type: 'file',
      target,
      what: r.why,
      ...(r.change ? { validators: r.change.validators } : {}),
    })
    o.onProgress?.({
      type: 'read',
      considered: done,
      total: targets.length,
      changed: out.changes.length,
    })
  }
  // a target that is a dangling link (in the root), or gone since discovery, is not a file
  const present = targets.filter((t) => where.get(t)?.exists)
  if (present.length < targets.length)
    for (const t of targets) if (!where.get(t)?.exists) finish(t, NOT_FILE)
  await readTargets(run, s, present, finish)
  for (const [target, mode] of creates) {
    const steps = byFile.get(target)!
    const read = { mode, bytes: EMPTY, steps, run: steps, created: true }
    finish(target, await planRead(target, read, ctx, undefined))
  }
  return out
}

/** Adds what planning one file gave to the plan's lists and counts. */
function collect(out: Planned, target: string, r: FileResult): void {
  if (r.read) out.stats.read++
  else out.stats.skipped++
  if (r.error) out.inputErrors.push(r.error)
  if (r.tooLarge !== undefined) out.oversized.push([target, r.tooLarge])
  if (r.change) out.changes.push(r.change)
  out.leftovers.push(...r.leftovers)
  out.notes.push(...r.notes)
}

/**
 * Refuses the plan when a file is over the size limit (naming every such file) or a step found
 * an error in its input (the first by path).
 */
function refuseInput(run: Planning, p: Planned): void {
  const maxSize = run.o.maxFileSize ?? MAX_FILE_SIZE
  if (p.oversized.length) {
    const list = p.oversized
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, size]) => `  ${t}: ${size} bytes`)
    throw new CutoverError(
      'FILE_TOO_LARGE',
      `${p.oversized.length} file(s) in scope exceed the size limit of ${maxSize} bytes (${sizeText(maxSize)}), nothing was planned:\n${list.join('\n')}\nexclude them from the steps' files, or raise the limit with --max-file-size`,
    )
  }
  refuseInvalid(p.inputErrors)
}

/** Refuses the plan when the validation of the planned text (`php -l`) failed: the first error by path. */
function refuseInvalid(errors: InputError[]): void {
  if (errors.length) throw errors.sort((a, b) => a.path.localeCompare(b.path))[0]!
}

/** Records where a change is written when a link leads elsewhere; warns of hard links. */
function placeLinks(where: ReadonlyMap<string, Resolved>, p: Planned): void {
  for (const c of p.changes) {
    const w = where.get(c.target)
    if (w && w.rel !== c.target) c.link = w.rel
    const links =
      c.before === 'absent' || !w ? 0 : (lstatSync(w.real, { throwIfNoEntry: false })?.nlink ?? 0)
    if (links > 1) {
      const message = `has ${links} hard links: apply writes a new file, so the other ${links - 1} keep the old content (and rollback does not join them again)`
      p.notes.push({ target: c.target, code: 'HARD_LINK', message, severity: 'warning' })
    }
  }
}

/**
 * The plan: the keys that never matched and the accepted leftovers noted, every list in its
 * order, the diffs made with what must not be shown hidden.
 */
async function finish(run: Planning, s: Scope, p: Planned): Promise<Plan> {
  const { spec, profile, secrets } = run
  const { changes, leftovers, notes } = p
  notes.push(...neverMatched(spec, run.active))
  leftovers.push(...s.dbLeftovers)
  changes.sort((a, b) => a.target.localeCompare(b.target))
  leftovers.sort((a, b) => a.target.localeCompare(b.target) || a.line - b.line || a.col - b.col)
  notes.push(...acceptLeftovers(spec, profile, leftovers))
  notes.sort((a, b) => a.target.localeCompare(b.target) || (a.line ?? 0) - (b.line ?? 0))
  const { never: sensitive, old: oldValues } = await maskSensitive(
    changes,
    leftovers,
    notes,
    s.database,
    secrets.values(),
    run.o.showSensitive ?? false,
    run.o.label ?? '',
    run.o.hidden ?? [],
  )
  return {
    version: 1,
    profile,
    root: run.root,
    spec: spec.hash,
    specPath: spec.path,
    changes,
    leftovers,
    notes,
    database: s.database,
    secrets: secrets.records(),
    sensitive,
    oldValues,
    stats: p.stats,
  }
}

/**
 * Reads and prefilters the present targets and plans those that hold a needle, each given to
 * `finish`: on reader threads for a large tree (or as `threads` says), else on this thread.
 */
async function readTargets(
  run: Planning,
  s: Scope,
  present: readonly string[],
  finish: (target: string, r: FileResult) => void,
): Promise<void> {
  const { o } = run
  const threads =
    o.threads ?? (s.targets.length >= THREADS_FROM ? Math.min(2, availableParallelism()) : 0)
  // the files with the same steps share a profile: the groups of their needles
  const profiles: ReadProfile[] = []
  const profileOf = new Map<string, number>()
  const files = present.map((path) => {
    const steps = s.byFile.get(path)!
    const key = steps.map((a) => a.group).join(',')
    let profile = profileOf.get(key)
    if (profile === undefined) {
      profileOf.set(key, (profile = profiles.length))
      profiles.push({ groups: steps.map((a) => a.group), always: steps.some((a) => a.always) })
    }
    return { path: s.where.get(path)!.real, profile }
  })
  await read(run, files, profiles, threads, (i, outcome) => {
    const target = present[i]!
    const r = readResult(outcome, s.byFile.get(target)!)
    if ('why' in r) return finish(target, r)
    return planRead(target, r, run.ctx, o.applied?.get(target)).then((p) => finish(target, p))
  })
}

/** Reads a file planned again for the links to it, whole, and plans it with `steps`. */
async function planAgain(
  run: Planning,
  target: string,
  real: string,
  steps: ActiveStep[],
): Promise<FileResult> {
  let result: FileResult = NOT_FILE
  await read(run, [{ path: real, profile: 0 }], [{ groups: [], always: true }], 0, (_, outcome) => {
    // read once already: a file that is now too large or no longer a file changed while it was
    // planned, and its changes are refused with it rather than dropped without a word
    if (outcome.kind === 'too-large' || outcome.kind === 'not-file')
      throw new CutoverError(
        'TARGET',
        `${target}: changed while it was planned (${outcome.kind === 'too-large' ? `now ${outcome.size} bytes, over the size limit` : 'no longer a regular file'}); plan again`,
      )
    if (outcome.kind !== 'read') return void (result = readResult(outcome, steps) as FileResult)
    const { mode, bytes, text, large } = outcome
    const file: ReadFile = {
      mode,
      bytes,
      steps,
      run: steps,
      ...(text === undefined ? {} : { text }),
      ...(large === undefined ? {} : { large }),
    }
    return planRead(target, file, run.ctx, run.o.applied?.get(target)).then(
      (p) => void (result = p),
    )
  })
  return result
}

/** Reads files with the plan's prefilter and limits; a reader thread's refusal as this thread gives it. */
async function read(
  run: Planning,
  files: ReadonlyArray<{ path: string; profile: number }>,
  profiles: readonly ReadProfile[],
  threads: number,
  each: (i: number, outcome: ReadOutcome) => void | Promise<void>,
): Promise<void> {
  const limit = run.o.concurrency ?? 16
  const maxSize = run.o.maxFileSize ?? MAX_FILE_SIZE
  run.prefilter ??= planPrefilter(run)
  await readFiles(files, profiles, run.prefilter, { threads, limit, maxSize }, each).catch(
    (e: NodeJS.ErrnoException) => {
      throw (e.code === 'TARGET_MOVED' || e.code === 'FILE_TOO_LARGE') &&
        !(e instanceof CutoverError)
        ? new CutoverError(e.code, e.message)
        : e
    },
  )
}

/** What a read gives planning: a result without planning, or the file and the steps to run on it. */
function readResult(outcome: ReadOutcome, steps: ActiveStep[]): FileResult | ReadFile {
  if (outcome.kind === 'not-file') return NOT_FILE
  if (outcome.kind === 'too-large') return tooLarge(outcome.size)
  if (outcome.kind === 'skip') return NOTHING
  const { bytes, mode, found, text, large } = outcome
  const hasLeftoverNeedle = found[0]!
  const run = steps.filter((s) => s.always || hasLeftoverNeedle || found[s.group])
  if (run.length === 0 && !hasLeftoverNeedle) return NOTHING
  return {
    mode,
    bytes,
    steps,
    run,
    ...(text === undefined ? {} : { text }),
    ...(large === undefined ? {} : { large }),
  }
}

/** The prefilter of a plan: group 0, the leftover literals; group i, the needles of active[i - 1]. */
function planPrefilter(run: Planning): Prefilter {
  return new Prefilter(planPrefilterGroups(run))
}

/** The needle groups of a plan's prefilter: the leftover literals, then each active step's. */
function planPrefilterGroups(run: Planning): string[][] {
  return [
    leftoverMatcher(run.ctx).needles((p) => p.rule === 'leftover'),
    ...run.active.map((a) => a.needles),
  ]
}

/** Whether a step runs in this plan: in `profile`, on `machine`. */
function stepIsActive(
  s: SpecStep,
  profile: string | undefined,
  machine: string | undefined,
): boolean {
  return (
    (!s.options.profiles || (profile !== undefined && s.options.profiles.includes(profile))) &&
    onMachine(s.options.on, machine)
  )
}

/** Whether a step (or the scan) with `on` runs on `machine`; without `on`, on every machine. */
function onMachine(on: readonly string[] | undefined, machine: string | undefined): boolean {
  return !on || (machine !== undefined && on.includes(machine))
}

/** A spec with machines is planned for one of them; a spec without, for none. */
function checkMachine(spec: Spec, machine: string | undefined): void {
  const names = spec.machines?.map((m) => m.name)
  if (!names) {
    if (machine !== undefined)
      throw new CutoverError(
        'MACHINE',
        `the spec declares no machines, but the plan was asked for machine ${machine}`,
      )
    return
  }
  if (machine === undefined || !names.includes(machine))
    throw new CutoverError(
      'MACHINE',
      `${machine === undefined ? 'a spec with machines is planned for one machine at a time' : `unknown machine "${machine}"`}; the spec declares ${names.join(', ')}`,
    )
}

function checkProfile(spec: Spec, profile: string | undefined): string | undefined {
  if (spec.profiles.length === 0) {
    if (profile !== undefined)
      throw new CutoverError(
        'PROFILE',
        `the spec declares no profiles, but --profile ${profile} was given`,
      )
    return undefined
  }
  if (profile === undefined)
    throw new CutoverError(
      'PROFILE',
      `--profile is required: the spec declares ${spec.profiles.join(', ')}`,
    )
  if (!spec.profiles.includes(profile))
    throw new CutoverError(
      'PROFILE',
      `unknown profile "${profile}"; the spec declares ${spec.profiles.join(', ')}`,
    )
  return profile
}

/**
 * The default largest file a plan reads: 64 MiB. A plan holds a file's text, its new text and a
 * diff of both; far larger files (a 200 MB one-line dump) take gigabytes and make a plan
 * document longer than a JavaScript string can be.
 */
export const MAX_FILE_SIZE = 64 * 1024 * 1024

/** `64 MiB`, `1 GiB`, `512 KiB` or `100 bytes`. */
function sizeText(n: number): string {
  for (const [unit, k] of [
    ['GiB', 30],
    ['MiB', 20],
    ['KiB', 10],
  ] as const)
    if (n >= 2 ** k && n % 2 ** k === 0) return `${n / 2 ** k} ${unit}`
  return `${n} bytes`
}

/** From how many files on, a plan reads them on worker threads. */
const THREADS_FROM = 4096

/** A root-relative path resolved within the root; a path out of it is added to `refused`. */
function within(
  resolver: RootResolver,
  path: string,
  refused: Map<string, string>,
  missingTail = false,
): Resolved | undefined {
  try {
    return resolver.resolve(path, { missingTail })
  } catch (e) {
    if (!(e instanceof OutsideRootError)) throw e
    refused.set(path, e.message)
    return undefined
  }
}

/** The resolver of a plan's root; a clear error when the root is not a directory. */
function rootResolver(root: string): RootResolver {
  try {
    return new RootResolver(root)
  } catch (e) {
    throw new CutoverError(
      'ROOT',
      `cannot use the root ${root}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`,
      { cause: e },
    )
  }
}
