import { posix } from 'node:path'
import {
  applyEdits,
  formatDiagnostic,
  quotePath,
  showControls,
  VALIDATE_PREFIX,
  type FileChange,
  type Plan,
} from '@cutover/rewrite'
import type { Io } from '../io.js'

/** ANSI colors, or none (not a terminal, or NO_COLOR set). */
export interface Paint {
  red(s: string): string
  green(s: string): string
  cyan(s: string): string
  bold(s: string): string
  dim(s: string): string
  yellow(s: string): string
}

export function paint(enabled: boolean): Paint {
  const c = (code: number) => (s: string) => (enabled ? `\u001b[${code}m${s}\u001b[0m` : s)
  return { red: c(31), green: c(32), cyan: c(36), bold: c(1), dim: c(2), yellow: c(33) }
}

/**
 * Counts of each rule's edits in a change: `addresses ×3, replace ×1`. A secret written again over
 * itself (a `set` already done, kept to mark the secret's place) changes nothing and is not counted.
 */
export function ruleCounts(c: FileChange): string {
  const counts = new Map<string, number>()
  let text = c.beforeText
  c.passes.forEach((pass, i) => {
    for (const e of pass)
      if (!(e.secret && text.slice(e.start, e.end) === e.text))
        counts.set(e.rule, (counts.get(e.rule) ?? 0) + 1)
    if (i + 1 < c.passes.length && pass.length) text = applyEdits(text, pass)
  })
  return [...counts.entries()].map(([r, n]) => `${r} ×${n}`).join(', ')
}

/** What the review says of a whole-file change instead of its rules (`from mentat-hub:etc/x`). */
const wholeRows = new WeakMap<object, string>()

/** Marks a change of the review as a whole-file one, with what its summary row says of it. */
export function describeWhole(change: FileChange, what: string): FileChange {
  wholeRows.set(change, what)
  return change
}

/**
 * The human review of a plan: summary, diffs, leftovers, notes. Sensitive values are already
 * masked by position in the plan (paths never are); odd file names are quoted like git's and
 * control characters shown visibly, so that no file can forge or hide a line of the review.
 * `labelOf` names the machine of an entry of a fleet's plan (`finance:`), before its path.
 */
export function formatPlan(
  plan: Plan,
  p: Paint,
  labelOf: (entry: object) => string = () => '',
): string {
  return [...reviewLines(plan, p, labelOf)].join('\n') + '\n'
}

/** Characters of the review written at once by {@link formatPlanPieces}. */
const PIECE = 1 << 15

/**
 * {@link formatPlan} in pieces of about {@link PIECE} characters, each ending with a newline:
 * the review of a large change (a 50 MB dump's diff) is written without being one string,
 * nor a string for each of its diffs (with the plan document in pieces, the bench's dump's plan
 * peaks ≈ 11 MiB lower).
 */
export function* formatPlanPieces(
  plan: Plan,
  p: Paint,
  labelOf: (entry: object) => string = () => '',
): Generator<string> {
  let batch: string[] = []
  let size = 0
  for (const line of reviewLines(plan, p, labelOf)) {
    if (size + line.length > PIECE && size > 0) {
      yield batch.join('\n') + '\n'
      batch = []
      size = 0
    }
    batch.push(line)
    size += line.length + 1
  }
  if (batch.length) yield batch.join('\n') + '\n'
}

/** The lines of {@link formatPlan}, without their newlines. */
function* reviewLines(plan: Plan, p: Paint, labelOf: (entry: object) => string): Generator<string> {
  const where = plan.profile ? ` for profile ${p.bold(plan.profile)}` : ''
  if (plan.changes.length === 0 && plan.database.length > 0)
    yield `No file changes${where}: ${plan.stats.considered} file(s) in scope are as the spec wants them.`
  else if (plan.changes.length === 0)
    yield `No changes${where}: ${plan.stats.considered} file(s) in scope are as the spec wants them.`
  else {
    yield (
      p.bold(`Plan${where}: ${plan.changes.length} file(s) to change`) +
      p.dim(` (${plan.stats.considered} in scope, ${plan.stats.read} read)`)
    )
    // a target reached through a link shows where it leads: `etc/hosts -> ../run/hosts`
    const named = (c: FileChange) =>
      c.link === undefined
        ? quotePath(labelOf(c) + c.target)
        : `${quotePath(labelOf(c) + c.target)} -> ${quotePath(linkShown(c.target, c.link))}`
    // columns: paths padded to the longest, kinds likewise, counts right-aligned
    const rows = plan.changes.map((c) => ({
      path: named(c),
      kinds: c.kinds.join('+'),
      added: `+${c.added}`,
      removed: `-${c.removed}`,
      rules: wholeRows.get(c) ?? ruleCounts(c),
    }))
    const width = (k: 'path' | 'kinds' | 'added' | 'removed') =>
      Math.max(...rows.map((r) => r[k].length))
    const w = {
      path: width('path'),
      kinds: width('kinds'),
      added: width('added'),
      removed: width('removed'),
    }
    for (const r of rows) {
      yield `  ${r.path.padEnd(w.path)}  ${r.kinds.padEnd(w.kinds)}  ${p.green(r.added.padStart(w.added))} ${p.red(r.removed.padStart(w.removed))}  ${r.rules}`
    }
    yield* validateRows(plan.changes, p, labelOf)
    yield ''
    for (const c of plan.changes) yield* colorDiff(c.diff, p)
  }
  if (plan.database.length) {
    yield p.bold(`Database${where}: ${plan.database.length} object(s) to change`)
    const width = Math.max(...plan.database.map((c) => quotePath(c.target).length))
    for (const c of plan.database)
      yield `  ${quotePath(c.target).padEnd(width)}  ${c.kind.padEnd(8)} ${Object.entries(c.rules)
        .map(([r, n]) => `${r} ×${n}`)
        .join(', ')}`
    yield ''
    for (const c of plan.database) yield* colorDiff(c.diff, p)
  }
  // positions are in the planned files; where the file on disk has the text elsewhere, both
  const left = (l: Plan['leftovers'][number]) =>
    `  ${quotePath(labelOf(l) + l.target)}:${l.line}:${l.col}${l.onDisk ? ` (on disk ${l.onDisk.line}:${l.onDisk.col})` : ''}: ${showControls(l.text)} — ${showControls(l.reason)}`
  const open = plan.leftovers.filter((l) => l.accepted === undefined)
  const accepted = plan.leftovers.filter((l) => l.accepted !== undefined)
  if (open.length) {
    yield p.yellow(p.bold(`Leftovers: ${open.length}`))
    for (const l of open) yield left(l)
  } else yield p.dim('Leftovers: none')
  if (accepted.length) {
    yield p.dim(`Accepted leftovers: ${accepted.length}`)
    for (const l of accepted) yield `${left(l)}; accepted: ${showControls(l.accepted!)}`
  }
  for (const n of plan.notes) {
    const target = labelOf(n) + n.target
    const at = n.line ? `${quotePath(target)}:${n.line}:${n.col}` : quotePath(target)
    yield `${n.severity === 'warning' ? p.yellow('warning') : p.dim('note')}: ${at}: ${n.code} ${showControls(n.message)}`
  }
}

/**
 * The steps' `validate:` commands and the files each checks: apply runs them on the staged files,
 * on each file's machine, before installing anything; plan does not (they may read the machine's
 * real tree), so the review shows what will run.
 */
function validateRows(
  changes: readonly FileChange[],
  p: Paint,
  labelOf: (entry: object) => string,
): string[] {
  const files = new Map<string, string[]>()
  for (const c of changes)
    for (const v of c.validators)
      if (v.startsWith(VALIDATE_PREFIX))
        files.set(v, [...(files.get(v) ?? []), quotePath(labelOf(c) + c.target)])
  if (files.size === 0) return []
  return [
    p.dim('Validated by apply before anything is installed (plan does not run these):'),
    ...[...files].map(([v, list]) => `  ${showControls(v)}: ${list.join(', ')}`),
  ]
}

/** The lines of a diff (split at its newlines, read one by one), colored. */
function* colorDiff(diff: string, p: Paint): Generator<string> {
  for (let at = 0; ;) {
    const nl = diff.indexOf('\n', at)
    // diffs are made with their control characters shown; a database row's text is shown here
    const l = showControls(nl === -1 ? diff.slice(at) : diff.slice(at, nl))
    yield l.startsWith('+++') || l.startsWith('---')
      ? p.bold(l)
      : l.startsWith('@@')
        ? p.cyan(l)
        : l.startsWith('+')
          ? p.green(l)
          : l.startsWith('-')
            ? p.red(l)
            : l
    if (nl === -1) return
    at = nl + 1
  }
}

export { formatDiagnostic }

/** Where a link leads, relative to the link's directory (as `ls -l` shows a relative link). */
function linkShown(target: string, link: string): string {
  return posix.relative(posix.dirname(`/${target}`), `/${link}`)
}

/** Whether output to `io` is colored: stdout is a terminal and NO_COLOR is not set. */
export function colors(io: Io): boolean {
  return io.isTTY && io.env.NO_COLOR === undefined
}
