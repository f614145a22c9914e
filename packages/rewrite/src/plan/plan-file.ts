import type { Diagnostic } from '../diff/diagnostic.js'
import {
  continuedOnLine,
  credentialSpans,
  isSensitive,
  maskSpans,
  sensitiveSpans,
  tokenSpans,
  type SensitiveSpans,
} from '../diff/sensitive.js'
import { applyEdits, checkEdits, sortEdits, type Edit } from '../edit/edit.js'
import { InputError } from '../errors.js'
import type { SpecStep } from '../spec/spec.js'
import { networkMisfits, scanLeftovers } from '../step/leftovers.js'
import { VALIDATE_PREFIX } from '../step/validate.js'
import type { Context, RuleOptions, StepKind } from '../step/step.js'
import { EditedText, editedPositionsOf, hashText, positionsOf } from '../text/big-text.js'
import { decodeText, hashOrAbsent, isBinary, type TextEncoding } from '../text/source.js'
import { plannedOnce, type OnceNote, type TargetOnce } from './once.js'
import type { LargeRead } from './reader.js'
import type { FileChange, PlanNote, PlannedLeftover } from './plan.js'
import { markEditedKeys, markKeys, type RuleKeys } from './rule-keys.js'

/**
 * A step that applies to this profile; `group` is its needles' group in the plan's prefilter;
 * `keys` its `replace` keys and `swap` pairs, to warn of those that match nothing.
 */
export interface ActiveStep {
  step: SpecStep
  kind: StepKind<any>
  needles: string[]
  always: boolean
  group: number
  keys?: RuleKeys
}

/** What planning one file gave: why (`changed`, `no change`, `skipped: binary`…) and what it found. */
export interface FileResult {
  read: boolean
  why: string
  change?: FileChange
  leftovers: PlannedLeftover[]
  notes: PlanNote[]
  error?: InputError
  tooLarge?: number
}

/**
 * A file that passed the prefilter: its bytes, permission bits and the steps to run on it; a
 * large file, read in chunks, has no bytes but its `text` (unless binary) and `large`.
 */
export interface ReadFile {
  mode: number
  bytes: Buffer
  steps: ActiveStep[]
  run: ActiveStep[]
  created?: boolean
  text?: string
  large?: LargeRead
}

export const EMPTY = Buffer.alloc(0)
export const NOT_FILE: FileResult = {
  read: false,
  why: 'not a regular file',
  leftovers: [],
  notes: [],
}
export const NOTHING: FileResult = {
  read: false,
  why: 'skipped: holds nothing the steps look for',
  leftovers: [],
  notes: [],
}
export const tooLarge = (size: number): FileResult => ({
  read: false,
  why: `refused: ${size} bytes, over the size limit`,
  leftovers: [],
  notes: [],
  tooLarge: size,
})

/** A leftover located in some pass's input, mapped forward through every later pass. */
interface Pending {
  start: number
  end: number
  text: string
  reason: string
  pass: number
}

/** What the steps of a file made of it so far: one pass of edits per step, in order. */
interface Passes {
  target: string
  encoding: TextEncoding
  /** The file's text as it is. */
  text: string
  /** The text after the passes so far, but {@link Passes.last}: the input of the next step. */
  current: string
  /**
   * The last pass's text, while no later step needs it whole: the text it edits and its edits
   * (a large file planned by one step is never held twice).
   */
  last?: EditedText
  passes: Edit[][]
  kinds: string[]
  validators: Set<string>
  allowUserWritable: boolean
  notes: PlanNote[]
  pending: Pending[]
  /** The one-time moves an earlier step of this file planned. */
  movesHere: Set<string>
}

/**
 * Plans one file that was read: decodes it, runs its steps in order (each pass's edits index the
 * previous pass's output), places what they left in the planned text, and gives the change.
 */
export async function planRead(
  target: string,
  read: ReadFile,
  ctx: Context,
  applied: TargetOnce | undefined,
): Promise<FileResult> {
  if (read.large ? read.large.binary : isBinary(read.bytes)) {
    const message = 'binary file (NUL bytes) skipped'
    const notes: PlanNote[] = [{ target, code: 'BINARY', message, severity: 'note' }]
    return { read: false, why: 'skipped: binary', leftovers: [], notes }
  }
  // a large file was decoded and hashed as it was read
  const { text, encoding } =
    read.large && read.text !== undefined
      ? { text: read.text, encoding: read.large.encoding }
      : decodeText(read.bytes)
  const before = read.created
    ? hashOrAbsent(undefined)
    : (read.large?.hash ?? hashOrAbsent(read.bytes))
  // the bytes are not needed any more: a large file is held once, as text
  read.bytes = EMPTY
  const f: Passes = {
    target,
    encoding,
    text,
    current: text,
    passes: [],
    kinds: [],
    validators: new Set(),
    allowUserWritable: true,
    notes: [],
    pending: [],
    movesHere: new Set(),
  }
  for (const a of read.run) {
    const error = await runStep(f, a, ctx, applied)
    if (error) return { read: true, why: 'error', leftovers: [], notes: [], error }
  }
  if (read.steps.length === 0) {
    for (const l of scanLeftovers(text, ctx, [], { fallback: 'in a file no step rewrites' }))
      f.pending.push({ ...l, pass: 0 })
  }
  // a step's validate: checks every file of its scope the plan changes, whichever step changed it
  for (const a of read.steps) {
    const command = (a.step.options as { validate?: string }).validate
    if (command !== undefined) f.validators.add(VALIDATE_PREFIX + command)
  }
  const leftovers = placeLeftovers(f, read.created === true)
  return fileResult(f, read.mode, before, leftovers)
}

/**
 * Runs one step on the file's current text and adds its pass: its warnings (what an earlier step
 * wrote from a secret masked), its leftovers, its edits but those inside a secret and the
 * one-time moves already made. An error in its input is returned, not added.
 */
async function runStep(
  f: Passes,
  a: ActiveStep,
  ctx: Context,
  applied: TargetOnce | undefined,
): Promise<InputError | undefined> {
  if (f.last) {
    f.current = f.last.toString()
    f.last = undefined
  }
  if (a.keys) markKeys(a.keys, f.current)
  const file = { path: f.target, encoding: f.encoding, text: f.current }
  const result = await a.kind.plan(file, a.step.options, ctx)
  if (a.keys) markEditedKeys(a.keys, result.edits)
  const errors = result.diagnostics.filter((d) => (d.severity ?? 'error') === 'error')
  // an address of a network that moves whose host part the new network cannot hold
  const addresses = (a.step.options as RuleOptions).addresses ?? 'none'
  if (addresses !== 'none') errors.push(...networkMisfits(f.current, ctx))
  // what earlier steps wrote from a secret is in this step's input: its diagnostics must not show it
  const sensitive = f.passes.some((p) => p.some(isSensitive))
    ? sensitiveSpans(f.text, f.passes)
    : undefined
  if (errors.length) {
    // the old values of the keys set from a secret are not known yet: the keys are
    const keys = secretKeys(a.step.options)
    const hide =
      sensitive || keys.length
        ? { spans: sensitive?.after ?? [], values: sensitive?.old ?? [], keys }
        : undefined
    return new InputError(f.target, f.current, errors, hide)
  }
  warnings(f, result.diagnostics, sensitive)
  // a later step never rewrites inside what a secret wrote (an old address in the new password
  // would change the password, silently behind its mask), nor reports it as a leftover
  const inSecret = (start: number, end: number) =>
    sensitive !== undefined &&
    sensitive.after.some((x) =>
      end > start ? start < x.end && x.start < end : x.start < start && start < x.end,
    )
  const edits = result.edits.filter((e) => !inSecret(e.start, e.end))
  if (edits.length < result.edits.length) inSecretNote(f, a, result.edits, inSecret, sensitive!)
  for (const l of result.leftovers)
    if (!inSecret(l.start, l.end)) f.pending.push({ ...l, pass: f.passes.length })
  const sorted = onceOnly(f, a, edits, applied)
  f.passes.push(sorted)
  if (sorted.length) {
    f.last = new EditedText(f.current, checkEdits(f.current, sorted))
    f.kinds.push(a.kind.name)
    if ((a.step.options as { 'allow-user-writable'?: boolean })['allow-user-writable'] !== true)
      f.allowUserWritable = false
    for (const v of a.kind.validators ?? []) f.validators.add(v.name)
  }
  return undefined
}

/** The warnings of a step, located; one about a value written from a secret does not quote it. */
function warnings(
  f: Passes,
  diagnostics: readonly Diagnostic[],
  sensitive: SensitiveSpans | undefined,
): void {
  if (diagnostics.length === 0) return
  const at = positionsOf(
    f.current,
    diagnostics.map((d) => d.range.start),
  )
  for (const d of diagnostics) {
    const p = at.get(d.range.start)!
    let message = d.message
    if (
      sensitive &&
      sensitive.after.some(
        (x) => x.start < Math.max(d.range.end, d.range.start + 1) && d.range.start < x.end,
      )
    ) {
      // a warning about a written secret quotes it, or a part of it ("argument "./x" of "/bin/y"")
      const words = [
        ...sensitive.after.map((x) => f.current.slice(x.start, x.end)),
        ...sensitive.written,
      ]
      const quoted = [...message.matchAll(/"([^"]+)"/g)]
        .filter((m) => words.some((w) => w.includes(m[1]!)))
        .map((m) => ({ start: m.index + 1, end: m.index + 1 + m[1]!.length }))
      message = maskSpans(message, [...tokenSpans(message, words), ...quoted], '(sensitive)')
    }
    const note = { line: p.line, col: p.col, code: d.code, message }
    f.notes.push({ target: f.target, ...note, severity: 'warning' })
  }
}

/** `IN_SECRET`: edits of a step not made, at the first secret they fall in. */
function inSecretNote(
  f: Passes,
  a: ActiveStep,
  all: readonly Edit[],
  inSecret: (start: number, end: number) => boolean,
  sensitive: SensitiveSpans,
): void {
  const first = all.find((e) => inSecret(e.start, e.end))!
  const span = sensitive.after.find(
    (x) => first.start < Math.max(x.end, first.start + 1) && x.start <= first.start,
  )!
  const p = positionsOf(f.current, [span.start]).get(span.start)!
  const n = all.filter((e) => inSecret(e.start, e.end)).length
  f.notes.push({
    target: f.target,
    line: p.line,
    col: p.col,
    code: 'IN_SECRET',
    message: `${n} edit(s) of the ${a.kind.name} step fall inside a value written from a secret by an earlier step: not made, the secret is written as it is`,
    severity: 'warning',
  })
}

/**
 * A step's edits, sorted, without the one-time moves (a swap, its own inverse) that the file
 * already holds or that an earlier step of it planned; the step kind only says so (`once`),
 * named here for the kind.
 */
function onceOnly(
  f: Passes,
  a: ActiveStep,
  edits: readonly Edit[],
  applied: TargetOnce | undefined,
): Edit[] {
  const once: OnceNote[] = []
  let named = edits.map((e) => (e.once ? { ...e, once: `${a.kind.name}: ${e.once}` } : e))
  // the same move in two steps of one file is one move: done by the first (twice is undone)
  if (f.movesHere.size) named = named.filter((e) => !e.once || !f.movesHere.has(e.once))
  for (const e of named) if (e.once) f.movesHere.add(e.once)
  const sorted = sortEdits(plannedOnce(f.current, named, applied, once))
  for (const n of once) {
    const note = { line: n.at.line, col: n.at.col, code: n.code, message: n.message }
    f.notes.push({ target: f.target, ...note, severity: 'warning' })
  }
  return sorted
}

/**
 * The leftovers still in the planned text (each mapped through the later passes; one an edit
 * replaced is gone), located there and, when edits moved it, where it is on disk now.
 */
function placeLeftovers(f: Passes, created: boolean): PlannedLeftover[] {
  const { passes, text, target } = f
  const current = f.last ?? f.current
  const kept: Array<{ at: number; text: string; reason: string }> = []
  const seen = new Set<number>()
  for (const l of f.pending) {
    let at: number | undefined = l.start
    for (let i = l.pass; i < passes.length && at !== undefined; i++)
      at = forward(at, shiftsOf(passes[i]!))
    if (at === undefined || seen.has(at) || current.slice(at, at + l.text.length) !== l.text)
      continue
    seen.add(at)
    kept.push({ at, text: l.text, reason: l.reason })
  }
  const positions = positionsIn(
    current,
    kept.map((l) => l.at),
  )
  const leftovers: PlannedLeftover[] = kept.map((l) => ({
    target,
    ...positions.get(l.at)!,
    text: l.text,
    reason: credentialFree(current, l, target),
  }))
  if (!same(current, text) && !created) {
    // the same text in the file as it is now, before the plan is applied
    const origins = kept.map((l) =>
      passes.reduceRight((at, pass) => unmapOffset(at, shiftsOf(pass)), l.at),
    )
    const was = positionsOf(text, origins)
    leftovers.forEach((l, i) => {
      const p = was.get(origins[i]!)!
      if (p.line !== l.line || p.col !== l.col) l.onDisk = { line: p.line, col: p.col }
    })
  }
  return leftovers
}

/** The result of a planned file: its change, unless no pass changed it. */
function fileResult(
  f: Passes,
  mode: number,
  before: string,
  leftovers: PlannedLeftover[],
): FileResult {
  const { passes, text, notes, encoding } = f
  const current = f.last ?? f.current
  const nonEmpty = passes.filter((p) => p.length > 0)
  if (nonEmpty.length === 0 || same(current, text))
    return { read: true, why: 'no change', leftovers, notes }
  // the diff is made once every file is planned: an old value replaced in one file is hidden in all
  return {
    read: true,
    why: 'changed',
    leftovers,
    notes,
    change: {
      target: f.target,
      kinds: f.kinds,
      encoding,
      before,
      after: typeof current === 'string' ? hashText(current, encoding) : current.hash(encoding),
      mode: mode & 0o7777,
      passes,
      beforeText: text,
      // made again from the edits when asked: a plan of thousands of files then holds one text
      // of each, not two
      get afterText() {
        return passes.reduce((t, pass) => (pass.length ? applyEdits(t, pass) : t), text)
      },
      diff: '',
      added: 0,
      removed: 0,
      validators: [...f.validators],
      ...(f.allowUserWritable ? { allowUserWritable: f.allowUserWritable } : {}),
    },
  }
}

/** The last part of each key a step's `set` writes from a secret (`db.pw` -> `pw`, `CFG->dbpass` -> `dbpass`). */
function secretKeys(options: unknown): string[] {
  const set = (options as { set?: Record<string, unknown> } | undefined)?.set
  if (!set || typeof set !== 'object') return []
  return Object.entries(set)
    .filter(([, v]) => typeof v === 'object' && v !== null && 'secret' in v)
    .map(([k]) =>
      k
        .split(/->|\.|::/)
        .pop()!
        .replace(/^\$/, ''),
    )
    .filter((k) => k.length > 0)
}

/**
 * A leftover's reason without the credential-looking values of its line: a near-miss quotes the
 * word around the address (`"10.0.10.48" inside "x10.0.10.480"`), which may be a password.
 */
function credentialFree(
  text: string | EditedText,
  l: { at: number; text: string; reason: string },
  target: string,
): string {
  if (!l.reason.includes('"')) return l.reason
  const line = lineAround(text, l.at)
  // and a value whose key is on an earlier line
  const start = l.at === 0 ? 0 : text.lastIndexOf('\n', l.at - 1) + 1
  const values = [
    ...credentialSpans(line, target),
    ...continuedOnLine(text, start, start + line.length, target),
  ].map((c) => line.slice(c.start, c.end))
  if (values.length === 0) return l.reason
  const quoted = [...l.reason.matchAll(/"([^"]+)"/g)].filter(
    (m) => m[1] !== l.text && values.some((v) => v.includes(m[1]!) || m[1]!.includes(v)),
  )
  return maskSpans(
    l.reason,
    [
      ...tokenSpans(l.reason, values),
      ...quoted.map((m) => ({ start: m.index + 1, end: m.index + 1 + m[1]!.length })),
    ],
    '(sensitive)',
  )
}

/** The planned text, made or not: whether it equals `text`. */
function same(current: string | EditedText, text: string): boolean {
  return typeof current === 'string' ? current === text : current.equals(text)
}

/** {@link positionsOf} in the planned text, made or not. */
function positionsIn(current: string | EditedText, offsets: readonly number[]) {
  return typeof current === 'string'
    ? positionsOf(current, offsets)
    : editedPositionsOf(current, offsets)
}

/** The line (without its line break) holding offset `at` of a text, made or not. */
function lineAround(text: string | EditedText, at: number): string {
  if (typeof text === 'string') {
    const start = text.lastIndexOf('\n', at - 1) + 1
    const nl = text.indexOf('\n', at)
    return text.slice(start, nl === -1 ? text.length : nl)
  }
  // widened until a line break (or the text's end) is met on each side
  let start = at
  for (let w = 256; ; w *= 2) {
    const from = Math.max(0, at - w)
    const nl = text.slice(from, at).lastIndexOf('\n')
    if (nl !== -1 || from === 0) {
      start = nl === -1 ? 0 : from + nl + 1
      break
    }
  }
  let end = at
  for (let w = 256; ; w *= 2) {
    const to = Math.min(text.length, at + w)
    const nl = text.slice(at, to).indexOf('\n')
    if (nl !== -1 || to === text.length) {
      end = nl === -1 ? text.length : at + nl
      break
    }
  }
  return text.slice(start, end)
}

/** A pass's sorted edits and, for each, what the edits before it add to the text's length. */
interface Shifts {
  edits: readonly Edit[]
  before: number[]
}

const shiftsCache = new WeakMap<readonly Edit[], Shifts>()

/**
 * The {@link Shifts} of a pass, made once. Its edits do not overlap (they were applied), so
 * their ends and the starts of their texts in the output both ascend: an offset's place among
 * them is found by a binary search, not a walk from the first edit (a file with thousands of
 * edits and of leftovers).
 */
export function shiftsOf(edits: readonly Edit[]): Shifts {
  let s = shiftsCache.get(edits)
  if (!s) {
    const before = [0]
    for (const e of edits)
      before.push(before[before.length - 1]! + e.text.length - (e.end - e.start))
    shiftsCache.set(edits, (s = { edits, before }))
  }
  return s
}

/** The first index of `0..n` for which `low(k)` is false (`low` holds for a prefix). */
function firstNot(n: number, low: (k: number) => boolean): number {
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (low(mid)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * {@link mapOffset} of `offset` through a pass: the edits that end before it only move it, so
 * the walk starts at the first that does not, with what those before it add.
 */
export function forward(offset: number, { edits, before }: Shifts): number | undefined {
  const first = firstNot(edits.length, (k) => edits[k]!.end < offset)
  let delta = before[first]!
  for (let k = first; k < edits.length; k++) {
    const e = edits[k]!
    if (e.end <= offset && !(e.start === e.end && e.start === offset)) {
      delta += e.text.length - (e.end - e.start)
      continue
    }
    if (e.start <= offset && offset < e.end) return undefined
    break
  }
  return offset + delta
}

/** The offset in a pass's input of `offset` in its output, which no edit of the pass wrote. */
export function unmapOffset(offset: number, { edits, before }: Shifts): number {
  // the edits whose text starts before `offset` in the output only move it
  const first = firstNot(edits.length, (k) => edits[k]!.start + before[k]! < offset)
  let delta = before[first]!
  for (let k = first; k < edits.length; k++) {
    const e = edits[k]!
    const start = e.start + delta
    if (start > offset || (start === offset && e.text.length > 0)) break
    delta += e.text.length - (e.end - e.start)
  }
  return offset - delta
}
