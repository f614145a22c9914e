import { createHash } from 'node:crypto'
import { posix } from 'node:path'
import {
  isFleetPlan,
  quotePath,
  showControls,
  shellWord,
  wholeSummary,
  type AnyPlanDocument,
  type PlanDocChange,
} from '@cutover/rewrite'

// the terminal's words for a whole-file change, kept in @cutover/rewrite so that the terminal
// review does not load this package
export { shellWord, wholeSummary }

/** What a review says of the plan beyond its document: its hash, and the file it was saved to. */
export interface ReviewOptions {
  /** `sha256:` and the 64 hex digits of the plan document's bytes as saved. */
  hash: string
  /** The file the plan was saved to (as the user named it); absent: the plan was not saved. */
  saved?: string
}

/**
 * A plan document as a review shows it, whatever the format: every text is as the terminal
 * review shows it (paths quoted as git quotes them, control characters shown visibly), so a
 * renderer only escapes it for its format.
 */
export interface Review {
  profile: string | null
  /** `sha256:HEX` of the saved plan document. */
  hash: string
  /** The plan file the hash binds, as the user named it; absent when the plan was not saved. */
  saved?: string
  /** The spec's hash, as the document records it. */
  spec: string
  /** A fleet's machines and where each is (`ssh[:port]`, or `local ROOT`); empty for a single-root plan. */
  machines: Array<{ name: string; at: string }>
  /** The root of a single-root plan. */
  root?: string
  files: ReviewFile[]
  database: ReviewObject[]
  /** The open leftovers, grouped by their exact reason, groups in the order first seen. */
  leftovers: Array<{ reason: string; items: ReviewLeftover[] }>
  /** Leftovers an `accept:` entry of the spec covers (`accepted` set on each). */
  accepted: ReviewLeftover[]
  warnings: ReviewNote[]
  notes: ReviewNote[]
  /**
   * Each validator apply runs on the staged files before installing anything, and the files it
   * checks: those of the step kinds (`php-lint`, `visudo`, …) and each step's `validate: COMMAND`,
   * in the order the plan first names them.
   */
  validators: Array<{ command: string; files: string[] }>
  totals: {
    files: number
    machines: number
    added: number
    removed: number
    leftovers: number
    accepted: number
    warnings: number
  }
}

/** One changed file of a review. */
export interface ReviewFile {
  /** Unique in its review and stable from plan to plan: `[a-z0-9-]` only (an HTML anchor). */
  id: string
  machine?: string
  target: string
  /** Where the target leads when it is a link (root-relative). */
  link?: string
  /** As the terminal shows it: `quotePath(machine:target)`, then ` -> ` and where a link leads. */
  path: string
  kind: string
  added: number
  removed: number
  /** What the rules did (`addresses ×3, set ×1`), or what a whole-file change does ({@link wholeSummary}). */
  rules: string
  /** The document's diff, control characters shown. */
  diff: string
  whole?: 'file' | 'symlink' | 'absent'
  /** A whole file shown only as its size and hash (key material, a private file). */
  sensitive: boolean
  /** A whole file that is not text, shown as its size and hash. */
  binary: boolean
}

/** One changed database object of a review. */
export interface ReviewObject {
  id: string
  /** Quoted as the terminal shows it: `pg:finance/public.amqp_staff(integer)`. */
  target: string
  kind: string
  rules: string
  added: number
  removed: number
  diff: string
}

/** One leftover: an old value the plan does not change, and why. */
export interface ReviewLeftover {
  machine?: string
  /** Quoted as the terminal shows it, with its machine: `finance:etc/hosts`. */
  path: string
  line: number
  col: number
  /** Where the file on disk has the text, when the planned file has it elsewhere. */
  onDisk?: { line: number; col: number }
  text: string
  reason: string
  /** The `accept:` entry that covers it. */
  accepted?: string
}

/** A warning or note of the plan. */
export interface ReviewNote {
  machine?: string
  path: string
  line?: number
  col?: number
  code: string
  message: string
  severity: string
}

/**
 * The review of a plan document. It is made from the document only (never from an in-memory
 * plan), so it shows exactly what the saved plan holds, and a saved plan is reviewed the same
 * way later: the document holds no secret value, so neither does its review.
 */
export function reviewOf(doc: AnyPlanDocument, opts: ReviewOptions): Review {
  const fleet = isFleetPlan(doc)
  const ids = new Set<string>()
  // a fleet's files machine by machine, in the machines' order, as the terminal lists them (the
  // document has every machine's edits first, then the files copied or exchanged between them)
  const order = fleet ? doc.machines.map((m) => m.name) : []
  const machineOf = (c: object) => order.indexOf((c as { machine?: string }).machine ?? '')
  const changes = fleet ? [...doc.changes].sort((a, b) => machineOf(a) - machineOf(b)) : doc.changes
  const files: ReviewFile[] = changes.map((c) => {
    const machine = (c as { machine?: string }).machine
    const at = label(machine, c.target)
    const { added, removed } = counts(c.diff)
    return {
      id: uniqueId(ids, 'file', at),
      ...(machine !== undefined ? { machine } : {}),
      target: c.target,
      ...(c.link !== undefined ? { link: c.link } : {}),
      path:
        c.link === undefined
          ? quotePath(at)
          : `${quotePath(at)} -> ${quotePath(linkShown(c.target, c.link))}`,
      kind: c.kind,
      added,
      removed,
      rules: c.whole ? wholeSummary(c) : ruleCounts(c),
      diff: shown(c.diff),
      ...(c.whole ? { whole: c.whole.type } : {}),
      sensitive: c.whole?.sensitive === true,
      binary: c.whole?.binary === true,
    }
  })
  const database: ReviewObject[] = doc.database.map((d) => ({
    id: uniqueId(ids, 'db', d.target),
    target: quotePath(d.target),
    kind: d.kind,
    rules: Object.entries(d.rules)
      .map(([r, n]) => `${r} ×${n}`)
      .join(', '),
    ...counts(d.diff),
    diff: shown(d.diff),
  }))

  const leftover = (l: AnyPlanDocument['leftovers'][number]): ReviewLeftover => {
    const machine = (l as { machine?: string }).machine
    return {
      ...(machine !== undefined ? { machine } : {}),
      path: quotePath(label(machine, l.target)),
      line: l.line,
      col: l.col,
      ...(l.onDisk ? { onDisk: { line: l.onDisk.line, col: l.onDisk.col } } : {}),
      text: showControls(l.text),
      reason: showControls(l.reason),
      ...(l.accepted !== undefined ? { accepted: showControls(l.accepted) } : {}),
    }
  }
  // grouped by the reason as the document has it (two reasons may show alike)
  const groups = new Map<string, { reason: string; items: ReviewLeftover[] }>()
  for (const l of doc.leftovers)
    if (l.accepted === undefined) {
      const group = groups.get(l.reason) ?? { reason: showControls(l.reason), items: [] }
      group.items.push(leftover(l))
      groups.set(l.reason, group)
    }
  const accepted = doc.leftovers.filter((l) => l.accepted !== undefined).map(leftover)

  const note = (n: AnyPlanDocument['notes'][number]): ReviewNote => {
    const machine = (n as { machine?: string }).machine
    return {
      ...(machine !== undefined ? { machine } : {}),
      path: quotePath(label(machine, n.target)),
      ...(n.line ? { line: n.line, col: n.col ?? 1 } : {}),
      code: n.code,
      message: showControls(n.message),
      severity: n.severity,
    }
  }
  const warnings = doc.notes.filter((n) => n.severity === 'warning').map(note)
  const notes = doc.notes.filter((n) => n.severity !== 'warning').map(note)

  const validators = new Map<string, string[]>()
  for (const c of changes)
    for (const v of c.validators)
      validators.set(v, [
        ...(validators.get(v) ?? []),
        quotePath(label((c as { machine?: string }).machine, c.target)),
      ])

  const machines = fleet
    ? doc.machines.map((m) => ({
        name: m.name,
        at:
          m.ssh !== undefined
            ? `${m.ssh}${m.port !== undefined ? `:${m.port}` : ''}`
            : `local ${m.root}`,
      }))
    : []
  const open = [...groups.values()]
  return {
    profile: doc.profile,
    hash: opts.hash,
    ...(opts.saved !== undefined ? { saved: opts.saved } : {}),
    spec: doc.spec,
    machines,
    ...(fleet ? {} : { root: doc.root }),
    files,
    database,
    leftovers: open,
    accepted,
    warnings,
    notes,
    validators: [...validators].map(([v, list]) => ({ command: showControls(v), files: list })),
    totals: {
      files: files.length,
      machines: machines.length,
      added: files.reduce((n, f) => n + f.added, 0),
      removed: files.reduce((n, f) => n + f.removed, 0),
      leftovers: open.reduce((n, g) => n + g.items.length, 0),
      accepted: accepted.length,
      warnings: warnings.length,
    },
  }
}

/** `machine:target` of a fleet's entry, the target alone otherwise. */
function label(machine: string | undefined, target: string): string {
  return machine === undefined ? target : `${machine}:${target}`
}

/** Where a link leads, relative to the link's directory (as `ls -l` shows a relative link). */
function linkShown(target: string, link: string): string {
  return posix.relative(posix.dirname(`/${target}`), `/${link}`)
}

/** A diff with the control characters of each line shown (a database statement may hold some). */
function shown(diff: string): string {
  return diff.split('\n').map(showControls).join('\n')
}

/**
 * The lines a diff adds and removes: every `+` and `-` line but the `---`/`+++` header of the
 * file (a whole file's summary lines count, as the terminal counts them). A diff without that
 * header is no line diff but a statement (a database row's `UPDATE`, its `--` comments saying
 * what it was): it adds and removes no line.
 */
function counts(diff: string): { added: number; removed: number } {
  const lines = diff.split('\n')
  if (!isLineDiff(diff)) return { added: 0, removed: 0 }
  let added = 0
  let removed = 0
  for (const l of lines.slice(2))
    if (l.startsWith('+')) added++
    else if (l.startsWith('-')) removed++
  return { added, removed }
}

/** Counts of each rule's edits, in the order first seen: `addresses ×3, set ×1`. */
function ruleCounts(c: PlanDocChange): string {
  const n = new Map<string, number>()
  for (const e of c.edits) n.set(e.rule, (n.get(e.rule) ?? 0) + 1)
  return [...n].map(([r, k]) => `${r} ×${k}`).join(', ')
}

/**
 * A stable identifier of `what` made of `[a-z0-9-]`: the kind, a readable part of the name and
 * 10 hex digits of its hash (names differing only in case or punctuation differ there); a
 * repeat within one review gets `-2`, `-3`.
 */
function uniqueId(taken: Set<string>, kind: string, what: string): string {
  const slug = what
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '')
  const hash = createHash('sha256').update(`${kind}\0${what}`).digest('hex').slice(0, 10)
  const base = `${kind}-${slug ? `${slug}-` : ''}${hash}`
  let id = base
  for (let i = 2; taken.has(id); i++) id = `${base}-${i}`
  taken.add(id)
  return id
}

/**
 * Whether a diff of the review is a line diff (its `---`/`+++` header first), as every file's is
 * and a database function's; a database row's is its statement, whose `--` lines are comments.
 */
export function isLineDiff(diff: string): boolean {
  return /^--- [^\n]*\n\+\+\+ /.test(diff)
}
