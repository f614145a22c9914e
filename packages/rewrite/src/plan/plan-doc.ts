import type { DatabaseChange } from '../step/database.js'
import type { EncodingName } from '../edit/edit.js'
import type { Plan } from './plan.js'
import { rootPathProblem } from '../fs/confine.js'
import { commandProblem } from '../step/command.js'
import { VALIDATE_PREFIX } from '../step/validate.js'
import { CutoverError } from '../errors.js'
import { quotePath } from '../diff/diff.js'
import { positionsOf } from '../text/big-text.js'
import { applyEdits } from '../edit/edit.js'
import type { Encoder } from '../edit/encode.js'
import type { SecretRecord } from '../spec/secrets.js'
import type { TextEncoding } from '../text/source.js'

/** One edit as a plan document records it: enough to replay it, never a secret value. */
export interface PlanDocEdit {
  line: number
  col: number
  rule: string
  summary: string
  /** Which step pass of the file it belongs to (edits of a pass index that pass's input). */
  pass: number
  start: number
  end: number
  /** The new text; absent when `secret` is set. */
  text?: string
  secret?: { name: string; encoding: EncodingName[] }
  /** Set when the replaced text is sensitive (an old password): apply masks it when hashing. */
  sensitive?: true
  /** The one-time move (a swap) the edit belongs to, e.g. `text: swap [db-a, db-b]`: apply journals it. */
  once?: string
}

/** One changed file in a plan document (docs/design.md §7). */
export interface PlanDocChange {
  target: string
  /**
   * Where the target is in the root when a link leads elsewhere (root-relative): apply refuses
   * the plan when the target no longer resolves there.
   */
  link?: string
  kind: string
  /** `sha256:` of the file, `absent`, or `masked-sha256:` (salted, sensitive values masked) when `salt` is set. */
  before: string
  after: string
  /** The salt of `masked-sha256:` hashes (hex), for a file holding a sensitive value. */
  salt?: string
  mode: string
  encoding: TextEncoding
  validators: string[]
  /** The steps editing it allow a directory other users can write (`allow-user-writable: true`). */
  allowUserWritable?: true
  edits: PlanDocEdit[]
  diff: string
  /**
   * A whole-file change of a `copy` or `exchange` step (then `edits` is empty and `encoding` is
   * the source's): the new bytes are not in the plan, they are read again from `whole.from` at
   * apply and must hash to `after`.
   */
  whole?: PlanDocWhole
}

/**
 * What a whole-file change writes (docs/design.md §7): a file with the bytes of its source, a
 * symbolic link, or nothing (`delete: true` removes a target its source does not have).
 */
export interface PlanDocWhole {
  /** `file`: the source's bytes (`after` is their `sha256:`); `symlink`: a link with the text `symlink`; `absent`: the target is removed (`after` is `absent`). */
  type: 'file' | 'symlink' | 'absent'
  /** Where the bytes come from: a file of a machine of the plan (root-relative `path`, links followed in that root) or a local path of the controller (absolute). Absent for `absent`. */
  from?: { machine: string; path: string } | { local: string }
  /** The text of the link, for `symlink`. */
  symlink?: string
  /** A new target's owner, the source's (`mode` of the change is the source's mode then). */
  owner?: { uid: number; gid: number }
  /** The directories above a new target that do not exist yet, top down, root-relative: created with the source's mode (octal) and owner. */
  dirs?: Array<{ path: string; mode: string; uid: number; gid: number }>
  /** Never shown, only summarised: key material, a source of mode 0600 or stricter, or a path the step marks `sensitive: true`. */
  sensitive?: true
  /** Not text (a NUL byte, or not decodable): shown as its size and hash. */
  binary?: true
  /** The one-time move it belongs to (`exchange [a:p, b:q]`): apply journals it, so that a later plan does not swap the files back. */
  once?: string
}

/** A leftover in a plan document. */
export interface PlanDocLeftover {
  target: string
  line: number
  col: number
  text: string
  reason: string
  onDisk?: { line: number; col: number }
  accepted?: string
}

/** A note in a plan document. */
export interface PlanDocNote {
  target: string
  line?: number
  col?: number
  code: string
  message: string
  severity: string
}

/** The plan document (`--json`, `--out`): the contract of docs/design.md §7. */
export interface PlanDocument {
  version: 1
  profile: string | null
  root: string
  spec: string
  changes: PlanDocChange[]
  database: DatabaseChange[]
  leftovers: PlanDocLeftover[]
  notes: PlanDocNote[]
  secrets: SecretRecord[]
}

/** One machine of a fleet plan: as the spec declares it, and the host key its plan was made with. */
export interface PlanDocMachine {
  name: string
  ssh?: string
  port?: number
  /** The absolute path on the machine that the targets of its changes are relative to. */
  root: string
  /** `SHA256:…` of the host key the connection verified when planning (ssh machines only). */
  hostKey?: string
}

/**
 * The plan document of a spec with `machines:` (docs/design.md §7): no `root`; the machines,
 * and the machine of every change, of every leftover and note of a machine's files. Notes of
 * the spec itself (a key that matched nothing on any machine) and the database have none.
 */
export interface FleetPlanDocument {
  version: 1
  profile: string | null
  machines: PlanDocMachine[]
  spec: string
  changes: Array<{ machine: string } & PlanDocChange>
  database: DatabaseChange[]
  leftovers: Array<{ machine?: string } & PlanDocLeftover>
  notes: Array<{ machine?: string } & PlanDocNote>
  secrets: SecretRecord[]
}

/** A plan document of either form. */
export type AnyPlanDocument = PlanDocument | FleetPlanDocument

/** Whether `doc` is the plan of a fleet (it has `machines`, no `root`). */
export function isFleetPlan(doc: AnyPlanDocument): doc is FleetPlanDocument {
  return 'machines' in doc
}

/**
 * What a review (the terminal's and every format of `@cutover/review`) says of a whole-file change (a `copy` or `exchange` step) instead of its
 * rules: `from mentat-hub:etc/x`, `exchanged with b:etc/y`, `link to ../z (as a:etc/z)`,
 * `removed: not in the source (delete: true)`; `, sensitive` or `, binary` when the file is
 * shown only as its size and hash, ` (new)` for a new target. Names are quoted as paths are.
 */
export function wholeSummary(c: PlanDocChange): string {
  const w = c.whole!
  // quoted as paths are in the review: a name with a newline forges no line
  const from = quotePath(
    w.from === undefined
      ? ''
      : 'local' in w.from
        ? w.from.local
        : `${w.from.machine}:${w.from.path}`,
  )
  const what =
    w.type === 'absent'
      ? 'removed: not in the source (delete: true)'
      : w.type === 'symlink'
        ? `link to ${quotePath(w.symlink!)} (as ${from})`
        : `${c.kind === 'exchange' ? 'exchanged with' : 'from'} ${from}`
  const shownAs = w.sensitive ? ', sensitive' : w.binary ? ', binary' : ''
  return `${what}${shownAs}${c.before === 'absent' ? ' (new)' : ''}`
}

/**
 * The fleet plan document of the plans of each machine (in the order given), with `notes`, the
 * notes of the spec itself, instead of each machine's own notes on the spec. Every other entry of
 * a machine's plan gets its `machine`. A machine's database changes (planned with one machine
 * only) are the fleet's.
 */
export function toFleetPlanDocument(
  plans: ReadonlyArray<{ machine: PlanDocMachine; plan: Plan }>,
  notes: readonly PlanDocNote[],
): FleetPlanDocument {
  const docs = plans.map(({ machine, plan }) => ({
    name: machine.name,
    specPath: plan.specPath,
    doc: toPlanDocument(plan),
  }))
  const first = docs[0]?.doc
  const secrets = new Map<string, SecretRecord>()
  for (const { doc } of docs)
    for (const r of doc.secrets) if (!secrets.has(r.name)) secrets.set(r.name, r)
  return {
    version: 1,
    profile: first?.profile ?? null,
    machines: plans.map(({ machine }) => ({
      name: machine.name,
      ...(machine.ssh !== undefined ? { ssh: machine.ssh } : {}),
      ...(machine.port !== undefined ? { port: machine.port } : {}),
      root: machine.root,
      ...(machine.hostKey !== undefined ? { hostKey: machine.hostKey } : {}),
    })),
    spec: first?.spec ?? '',
    changes: docs.flatMap(({ name, doc }) => doc.changes.map((c) => ({ machine: name, ...c }))),
    database: docs.flatMap(({ doc }) => doc.database),
    leftovers: docs.flatMap(({ name, doc }) =>
      doc.leftovers.map((l) =>
        doc.database.some((d) => d.target === l.target) ? l : { machine: name, ...l },
      ),
    ),
    notes: [
      ...notes,
      ...docs.flatMap(({ name, specPath, doc }) =>
        doc.notes.filter((n) => n.target !== specPath).map((n) => ({ machine: name, ...n })),
      ),
    ],
    secrets: [...secrets.values()],
  }
}

/**
 * The single-root plan document of one machine of a fleet plan: its root, its changes, leftovers
 * and notes, the secrets its edits write; no database (the fleet's, not a machine's). `apply`
 * replays it on that machine as it replays any plan.
 */
export function machinePlan(doc: FleetPlanDocument, name: string): PlanDocument {
  const machine = doc.machines.find((m) => m.name === name)
  if (!machine)
    throw new CutoverError(
      'MACHINE',
      `the plan has no machine "${name}"; its machines: ${doc.machines.map((m) => m.name).join(', ')}`,
    )
  const strip = <T extends { machine?: string }>({ machine: _m, ...rest }: T) => rest
  const changes = doc.changes.filter((c) => c.machine === name).map(strip)
  const used = new Set(
    changes.flatMap((c) => c.edits.flatMap((e) => (e.secret ? [e.secret.name] : []))),
  )
  return {
    version: 1,
    profile: doc.profile,
    root: machine.root,
    spec: doc.spec,
    changes,
    database: [],
    leftovers: doc.leftovers.filter((l) => l.machine === name).map(strip),
    notes: doc.notes.filter((n) => n.machine === name).map(strip),
    secrets: doc.secrets.filter((r) => used.has(r.name)),
  }
}

/** Builds the plan document of a plan. Secret values are never part of it. */
export function toPlanDocument(plan: Plan): PlanDocument {
  return {
    version: 1,
    profile: plan.profile ?? null,
    root: plan.root,
    spec: plan.spec,
    changes: plan.changes.map((c) => {
      let input = c.beforeText
      const edits: PlanDocEdit[] = []
      c.passes.forEach((pass, i) => {
        // one sweep to the edits' lines (no index of every line of a large file)
        const at = positionsOf(
          input,
          pass.map((e) => e.start),
        )
        for (const e of pass) {
          const p = at.get(e.start)!
          edits.push({
            line: p.line,
            col: p.col,
            rule: e.rule,
            summary: e.secret || e.sensitive ? '(sensitive)' : (e.summary ?? ''),
            pass: i,
            start: e.start,
            end: e.end,
            ...(e.secret ? { secret: e.secret } : { text: e.text }),
            ...(e.sensitive ? { sensitive: true as const } : {}),
            ...(e.once ? { once: e.once } : {}),
          })
        }
        // the next pass's offsets index this pass's output; after the last pass nothing does
        if (i + 1 < c.passes.length) input = applyEdits(input, pass)
      })
      return {
        target: c.target,
        ...(c.link !== undefined ? { link: c.link } : {}),
        kind: c.kinds.join('+'),
        before: c.before,
        after: c.after,
        ...(c.salt ? { salt: c.salt } : {}),
        mode: '0' + c.mode.toString(8).padStart(3, '0'),
        encoding: c.encoding,
        validators: c.validators,
        ...(c.allowUserWritable ? { allowUserWritable: true as const } : {}),
        edits,
        diff: c.diff,
      }
    }),
    database: plan.database,
    leftovers: plan.leftovers,
    notes: plan.notes,
    secrets: plan.secrets,
  }
}

const HASH = /^(?:sha256|masked-sha256):[0-9a-f]{64}$|^absent$/
const ENCODINGS: readonly unknown[] = ['utf8', 'utf8-bom', 'latin1'] satisfies TextEncoding[]
const isIndex = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

/**
 * Checks the shape of a parsed plan document; throws a `PLAN_INVALID` CutoverError saying what is
 * wrong. With `encoder` (an engine's), a secret's encoding that no step kind registers is wrong
 * too; without it, apply refuses such a plan before writing anything.
 */
export function checkPlanDocument(
  value: unknown,
  path: string,
  encoder?: (name: string) => Encoder | undefined,
): PlanDocument {
  const doc = checkAnyPlanDocument(value, path, encoder)
  if (isFleetPlan(doc))
    throw new CutoverError(
      'PLAN_INVALID',
      `${path}: the plan of a fleet (machines ${doc.machines.map((m) => m.name).join(', ')}), not of one root: apply it with the spec of the fleet`,
    )
  return doc
}

/** A machine name as the spec allows it (no leading `-` or `.`, no whitespace, `:` or `/`). */
const MACHINE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/
/** Whether `v` has a control character (C0 or DEL): the spec refuses them in a root or destination. */
const hasControl = (v: string) => [...v].some((c) => c < ' ' || c === '\u007f')

const isId = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0
const OCTAL_MODE = /^0?[0-7]{3}$/

/**
 * The `whole` of a change as a plan writes it: a type, where the bytes come from (a machine of
 * the plan and a path in its root, or an absolute local path), no edits, hashes that fit the
 * type, owners and directories above the target that a new file may have.
 */
function checkWhole(
  c: PlanDocChange,
  machines: ReadonlySet<string>,
  bad: (what: string) => never,
): void {
  const w = c.whole as Partial<PlanDocWhole> | null
  const at = `${c.target}: "whole"`
  if (typeof w !== 'object' || w === null) bad(`${at} must be an object`)
  if (!['file', 'symlink', 'absent'].includes(w!.type as string))
    bad(`${at}.type must be file, symlink or absent, got ${JSON.stringify(w!.type)}`)
  if (c.edits.length) bad(`${at}: a whole-file change has no edits`)
  if (w!.type === 'absent') {
    if (c.after !== 'absent' || c.before === 'absent' || w!.from !== undefined)
      bad(`${at}: a removal has "after": "absent", an existing "before" and no "from"`)
  } else {
    if (!/^sha256:[0-9a-f]{64}$/.test(c.after))
      bad(`${at}: "after" must be the sha256 of the new bytes`)
    const f = w!.from as { machine?: unknown; path?: unknown; local?: unknown } | undefined
    if (typeof f !== 'object' || f === null) bad(`${at}.from is needed for a ${w!.type}`)
    if (f!.local !== undefined) {
      if (
        typeof f!.local !== 'string' ||
        !f!.local.startsWith('/') ||
        hasControl(f!.local) ||
        f!.machine !== undefined
      )
        bad(`${at}.from.local must be an absolute path of the controller`)
    } else if (
      typeof f!.machine !== 'string' ||
      !MACHINE_NAME.test(f!.machine) ||
      (machines.size > 0 && !machines.has(f!.machine)) ||
      typeof f!.path !== 'string' ||
      rootPathProblem(f!.path) !== undefined
    )
      bad(`${at}.from must name a machine of the plan and a path in its root (no "..")`)
  }
  if (
    w!.type === 'symlink' &&
    (typeof w!.symlink !== 'string' || w!.symlink === '' || w!.symlink.includes('\0'))
  )
    bad(`${at}.symlink must be the text of the link`)
  if (w!.type !== 'symlink' && w!.symlink !== undefined) bad(`${at}.symlink is only for a link`)
  if (w!.owner !== undefined && (!isId(w!.owner?.uid) || !isId(w!.owner?.gid)))
    bad(`${at}.owner must be { uid, gid }`)
  if (w!.dirs !== undefined) {
    if (!Array.isArray(w!.dirs) || c.before !== 'absent') bad(`${at}.dirs is only for a new target`)
    let above = ''
    for (const d of w!.dirs!) {
      if (
        typeof d?.path !== 'string' ||
        rootPathProblem(d.path) !== undefined ||
        !(c.target.startsWith(`${d.path}/`) && (above === '' || d.path.startsWith(`${above}/`))) ||
        typeof d.mode !== 'string' ||
        !OCTAL_MODE.test(d.mode) ||
        !isId(d.uid) ||
        !isId(d.gid)
      )
        bad(
          `${at}.dirs must be the directories above the target, top down, each { path, mode, uid, gid }`,
        )
      above = d.path
    }
  }
  for (const k of ['sensitive', 'binary'] as const)
    if (w![k] !== undefined && w![k] !== true) bad(`${at}.${k} can only be true`)
  if (w!.once !== undefined && typeof w!.once !== 'string') bad(`${at}.once must be a string`)
}

/**
 * {@link checkPlanDocument} for a plan of either form: a fleet plan's machines are checked too
 * (names, absolute roots without `..`, ssh destinations that are no option, ports), and each of
 * its changes names one of them.
 */
export function checkAnyPlanDocument(
  value: unknown,
  path: string,
  encoder?: (name: string) => Encoder | undefined,
): AnyPlanDocument {
  const bad = (what: string): never => {
    throw new CutoverError('PLAN_INVALID', `${path}: not a cutover plan: ${what}`)
  }
  if (typeof value !== 'object' || value === null) bad('expected a JSON object')
  const doc = value as Partial<PlanDocument> & Partial<Omit<FleetPlanDocument, 'changes'>>
  if (doc.version !== 1) bad(`expected "version": 1, got ${JSON.stringify(doc.version)}`)
  const names = new Set<string>()
  if (doc.machines !== undefined) {
    if (doc.root !== undefined) bad('a plan has either "root" or "machines", not both')
    if (!Array.isArray(doc.machines) || doc.machines.length === 0)
      bad('expected "machines" to be a list of machines')
    for (const m of doc.machines!) {
      if (typeof m?.name !== 'string' || !MACHINE_NAME.test(m.name))
        bad(`a machine needs a name (letters, digits, _ . -), got ${JSON.stringify(m?.name)}`)
      if (names.has(m.name)) bad(`machine "${m.name}" is listed twice`)
      names.add(m.name)
      if (
        typeof m.root !== 'string' ||
        !m.root.startsWith('/') ||
        m.root.split('/').includes('..') ||
        hasControl(m.root)
      )
        bad(
          `machine ${m.name}: "root" must be an absolute path without ".." or control characters, got ${JSON.stringify(m.root)}`,
        )
      if (
        m.ssh !== undefined &&
        (typeof m.ssh !== 'string' || !/^[^\s-][^\s]*$/.test(m.ssh) || hasControl(m.ssh))
      )
        bad(
          `machine ${m.name}: "ssh" must be a destination (not starting with -), got ${JSON.stringify(m.ssh)}`,
        )
      if (m.port !== undefined && (!Number.isInteger(m.port) || m.port < 1 || m.port > 65535))
        bad(`machine ${m.name}: "port" must be a TCP port, got ${JSON.stringify(m.port)}`)
      if (m.hostKey !== undefined && typeof m.hostKey !== 'string')
        bad(`machine ${m.name}: "hostKey" must be a string`)
    }
  } else if (typeof doc.root !== 'string') bad('expected "root" to be a string')
  if (typeof doc.spec !== 'string') bad('expected "spec" to be a string')
  if (!Array.isArray(doc.changes)) bad('expected "changes" to be a list')
  for (const [i, c] of (doc.changes as Array<PlanDocChange & { machine?: unknown }>).entries()) {
    if (names.size && (typeof c?.machine !== 'string' || !names.has(c.machine)))
      bad(`change ${i + 1} needs "machine", one of ${[...names].join(', ')}`)
    if (!names.size && c?.machine !== undefined)
      bad(`change ${i + 1} has a "machine" but the plan has no machines`)
    if (
      typeof c?.target !== 'string' ||
      typeof c.before !== 'string' ||
      typeof c.after !== 'string' ||
      !Array.isArray(c.edits)
    ) {
      bad(`change ${i + 1} needs target, before, after and edits`)
    }
    // a target is a path in the root, as in a spec: never absolute, never with a `..` part
    const problem =
      rootPathProblem(c.target) ??
      (c.target.replace(/^(?:\.?\/)+/, '') === '' ? `"${c.target}" is not a file path` : undefined)
    if (problem) bad(`change ${i + 1}: target ${problem}`)
    if (c.link !== undefined && (typeof c.link !== 'string' || rootPathProblem(c.link)))
      bad(
        `change ${i + 1}: link ${typeof c.link === 'string' ? rootPathProblem(c.link) : 'must be a string'}`,
      )
    // every field apply uses, as a plan writes it: a file it creates gets at most mode 0777 (never setuid)
    for (const k of ['before', 'after'] as const)
      if (!HASH.test(c[k]))
        bad(`${c.target}: "${k}" must be "absent" or a sha256 hash, got ${JSON.stringify(c[k])}`)
    if (typeof c.mode !== 'string' || !/^0?[0-7]{3,4}$/.test(c.mode))
      bad(`${c.target}: "mode" must be an octal mode such as "0644", got ${JSON.stringify(c.mode)}`)
    if (c.before === 'absent' && Number.parseInt(c.mode, 8) > 0o777)
      bad(
        `${c.target}: a file the plan creates gets a mode of at most 0777 (no setuid, setgid or sticky bit), got "${c.mode}"`,
      )
    if (!ENCODINGS.includes(c.encoding))
      bad(
        `${c.target}: "encoding" must be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(c.encoding)}`,
      )
    if (!Array.isArray(c.validators) || c.validators.some((v) => typeof v !== 'string'))
      bad(`${c.target}: "validators" must be a list of names`)
    else
      for (const v of c.validators) {
        // a step's validate: command, run by apply: it must be one the spec could have given
        const problem = v.startsWith(VALIDATE_PREFIX)
          ? commandProblem(v.slice(VALIDATE_PREFIX.length))
          : undefined
        if (problem) bad(`${c.target}: validator ${JSON.stringify(v)}: ${problem}`)
      }
    if (c.salt !== undefined && (typeof c.salt !== 'string' || !/^[0-9a-f]+$/.test(c.salt)))
      bad(`${c.target}: "salt" must be hex`)
    if (c.allowUserWritable !== undefined && c.allowUserWritable !== true)
      bad(`${c.target}: "allowUserWritable" can only be true`)
    if (c.whole !== undefined) checkWhole(c, names, bad)
    for (const e of c.edits) {
      if (
        !isIndex(e.start) ||
        !isIndex(e.end) ||
        e.end < e.start ||
        !isIndex(e.pass) ||
        (typeof e.text !== 'string' && !e.secret)
      ) {
        bad(
          `an edit of ${c.target} needs pass, start, end (whole numbers, start ≤ end) and text or secret`,
        )
      }
      if (
        e.secret &&
        (typeof e.secret.name !== 'string' ||
          !Array.isArray(e.secret.encoding) ||
          e.secret.encoding.some((n) => typeof n !== 'string' || (encoder && !encoder(n))))
      )
        bad(`an edit of ${c.target} has a malformed "secret" (unknown encoding?)`)
      if (e.once !== undefined && typeof e.once !== 'string')
        bad(`an edit of ${c.target} has a "once" that is not a string`)
    }
  }
  if (!Array.isArray(doc.secrets)) bad('expected "secrets" to be a list')
  for (const r of doc.secrets!) {
    if (
      typeof r?.name !== 'string' ||
      typeof r.env !== 'string' ||
      typeof r.salt !== 'string' ||
      typeof r.fingerprint !== 'string'
    )
      bad('a secret needs name, env, salt and fingerprint')
  }
  if (doc.database !== undefined && !Array.isArray(doc.database))
    bad('expected "database" to be a list')
  for (const d of doc.database ?? []) {
    if (
      typeof d?.target !== 'string' ||
      typeof d.kind !== 'string' ||
      typeof d.before !== 'string' ||
      typeof d.after !== 'string'
    ) {
      bad('a database change needs target, kind, before and after')
    }
  }
  for (const l of [...((doc.leftovers as unknown[]) ?? []), ...((doc.notes as unknown[]) ?? [])]) {
    const m = (l as { machine?: unknown } | null)?.machine
    if (m !== undefined && (typeof m !== 'string' || !names.has(m)))
      bad(`a leftover or note names machine ${JSON.stringify(m)}, which the plan does not have`)
  }
  return doc as AnyPlanDocument
}
