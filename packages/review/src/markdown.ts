import { showControls } from '@cutover/rewrite'
import { ReviewError } from './errors.js'
import {
  isLineDiff,
  shellWord,
  type Review,
  type ReviewFile,
  type ReviewLeftover,
  type ReviewNote,
  type ReviewObject,
} from './model.js'

/** How {@link toMarkdown} renders a review. */
export interface MarkdownOptions {
  /**
   * The most bytes (UTF-8) the Markdown may have: a comment limit (GitHub's is 65,536
   * characters). Default 60,000.
   */
  maxBytes?: number
}

/** The limit {@link toMarkdown} keeps to unless told otherwise. */
const DEFAULT_MAX_BYTES = 60_000

/**
 * The review as GitHub Flavored Markdown, for a ticket or merge-request comment (GitHub,
 * GitLab, Redmine): the plan's hash and how to apply exactly it, a table of the changed files,
 * one collapsible `<details>` block per file with its diff in a `diff` fence, the database
 * objects, the leftovers grouped by reason, accepted leftovers, warnings, the `validate:`
 * commands apply runs, and the hash again.
 *
 * The result never has more than `maxBytes` bytes: the largest diffs are collapsed first to
 * their stat line with a note; when even every diff collapsed is too long, the diffs are left
 * out (the table has their stat lines), long lists (the rows of the table, leftovers) are cut
 * with "… and N more" (a reason whose leftovers are all cut goes with its heading), and the
 * smallest diffs come back while they fit. A closing section says
 * what was left out. A limit too small for the parts every review has throws a
 * {@link ReviewError} `MAX_BYTES` naming the least that fits.
 *
 * Every text of the review is escaped for its place: no file name, leftover or message can
 * close a fence, add a table cell or row, or start raw HTML.
 */
export function toMarkdown(review: Review, opts: MarkdownOptions = {}): string {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
    throw new RangeError(`maxBytes must be a whole number of bytes, not ${maxBytes}`)
  const doc = layout(review)
  fit(doc, maxBytes)
  const text = render(doc, maxBytes)
  if (bytes(text) <= maxBytes) return text
  // everything that can be left out is (the closing section names the limit: its digits count)
  let needed = bytes(text)
  while (bytes(render(doc, needed)) > needed) needed = bytes(render(doc, needed))
  throw new ReviewError(
    'MAX_BYTES',
    `the review needs at least ${needed} bytes, more than --max-bytes ${maxBytes}`,
    needed,
  )
}

/** A part of the document that may be left out (a table row, a list item, a file's block). */
interface Item {
  /** The item as shown in full. */
  full: string
  fullBytes: number
  /** A diff block collapsed to its stat line and a note; absent for other items. */
  collapsed?: string
  collapsedBytes?: number
  /** The lines and bytes of the diff a collapsed item leaves out. */
  diff?: { lines: number; bytes: number; object: boolean }
  isCollapsed: boolean
  hidden: boolean
}

/** A run of items with what goes before and after it, and the line that counts hidden items. */
interface Section {
  head: string
  items: Item[]
  tail: string
  /** The line said in place of `n` hidden items. */
  more: (n: number) => string
  /** What a hidden item of this section is, for the closing note: `row(s) of the file table`. */
  what: string
  /** A section of diff blocks: they collapse, or all go, before a list is cut. */
  diffs: boolean
  /**
   * A group of a list (the leftovers of one reason): when every item of it is cut, its heading
   * goes too (the closing section counts the items).
   */
  droppable?: boolean
}

/** The document: sections in order, between a fixed beginning and end. */
interface Doc {
  top: string
  sections: Section[]
  /** The closing section, from what was left out (empty when nothing was). */
  closing: (left: LeftOut) => string
  bottom: string
}

/** What a document leaves out to stay under its limit. */
interface LeftOut {
  maxBytes: number
  collapsed: number
  /** Of those, database objects (the others are files). */
  objects: number
  lines: number
  bytes: number
  hidden: Array<{ what: string; n: number }>
}

const bytes = (s: string) => Buffer.byteLength(s)
const shown = (i: Item) => (i.isCollapsed ? i.collapsed! : i.full)

/** Whether a section is left out whole: a group whose every item is cut. */
const dropped = (s: Section, hidden: number) =>
  s.droppable === true && s.items.length > 0 && hidden === s.items.length

function sectionText(s: Section): string {
  const hidden = s.items.filter((i) => i.hidden).length
  if (dropped(s, hidden)) return ''
  return (
    s.head +
    s.items
      .filter((i) => !i.hidden)
      .map(shown)
      .join('') +
    (hidden ? s.more(hidden) : '') +
    s.tail
  )
}

/** What the document leaves out, from the counts of its diffs left out and hidden items. */
function leftOut(
  doc: Doc,
  maxBytes: number,
  out: { collapsed: number; objects: number; lines: number; bytes: number },
  hidden: readonly number[],
): LeftOut {
  // sections of one kind (the leftovers of each reason) are counted together
  const n = new Map<string, number>()
  doc.sections.forEach((s, k) => {
    if (hidden[k] && !s.diffs) n.set(s.what, (n.get(s.what) ?? 0) + hidden[k])
  })
  return { maxBytes, ...out, hidden: [...n].map(([what, count]) => ({ what, n: count })) }
}

function render(doc: Doc, maxBytes: number): string {
  return (
    doc.top +
    doc.sections.map(sectionText).join('') +
    doc.closing(
      leftOut(
        doc,
        maxBytes,
        doc.sections
          .flatMap((s) => s.items)
          .filter((i) => i.diff && (i.hidden || i.isCollapsed))
          .reduce(
            (o, i) => ({
              collapsed: o.collapsed + 1,
              objects: o.objects + (i.diff!.object ? 1 : 0),
              lines: o.lines + i.diff!.lines,
              bytes: o.bytes + i.diff!.bytes,
            }),
            { collapsed: 0, objects: 0, lines: 0, bytes: 0 },
          ),
        doc.sections.map((s) => s.items.filter((i) => i.hidden).length),
      ),
    ) +
    doc.bottom
  )
}

/**
 * Collapses and hides items until the document fits in `maxBytes`, or nothing is left to take
 * out. First the largest diffs collapse to their stat line and a note, one at a time. When even
 * every diff collapsed is too long, the notes go too (the table has each file's stat line):
 * every diff is left out, long lists are cut from their end, the largest list first, and then
 * the smallest diffs come back whole while they fit. Sizes are kept as sums, so each step costs
 * the same for a plan of ten files or a hundred thousand.
 */
function fit(doc: Doc, maxBytes: number): void {
  const f = new Fitting(doc, maxBytes)
  if (f.fits()) return

  const diffs = doc.sections.flatMap((s, k) => (s.diffs ? s.items.map((i) => ({ i, k })) : []))
  // 1. the largest diffs collapse first
  const largest = diffs
    .filter(({ i }) => i.collapsedBytes! < i.fullBytes)
    .sort((a, b) => b.i.fullBytes - a.i.fullBytes)
  for (const { i, k } of largest) {
    f.set(i, k, { isCollapsed: true, hidden: false })
    if (f.fits()) return
  }

  // 2. no diff at all; the longest lists cut from their end, as long as cutting shortens the
  // document: a short item costs less than the "… and N more" line said in its place
  for (const { i, k } of diffs) f.set(i, k, { isCollapsed: false, hidden: true })
  const order = doc.sections.map((s) => (s.diffs ? [] : s.items.map((_, n) => n).reverse()))
  const hide = (k: number, n: number) =>
    order[k]!.splice(0, n).forEach((at) => {
      f.set(doc.sections[k]!.items[at]!, k, { isCollapsed: false, hidden: true })
    })
  const show = (k: number, ats: number[]) => {
    for (const at of ats)
      f.set(doc.sections[k]!.items[at]!, k, { isCollapsed: false, hidden: false })
  }
  while (!f.fits()) {
    let best = -1
    for (let k = 0; k < doc.sections.length; k++)
      // the largest list; of lists alike, the last (a list is cut from its end)
      if (order[k]!.length && (best < 0 || f.size(k) >= f.size(best))) best = k
    if (best < 0) return
    // (the closing section's line of what was cut is said once, whatever is cut)
    const before = f.size(best)
    const next = order[best]!.slice(0, 1)
    hide(best, 1)
    if (f.size(best) < before) continue
    // the first item cut adds the line that counts them: cut the rest of the list, or none
    const rest = order[best]!.slice()
    hide(best, rest.length)
    if (f.size(best) < before) continue
    show(best, [...next, ...rest])
    order[best] = []
  }

  // 3. then the smallest diffs back, whole, while they fit
  for (const { i, k } of [...diffs].sort((a, b) => a.i.fullBytes - b.i.fullBytes)) {
    f.set(i, k, { isCollapsed: false, hidden: false })
    if (!f.fits()) {
      f.set(i, k, { isCollapsed: false, hidden: true })
      return
    }
  }
}

/** The size of a document as its items are collapsed and hidden, kept as sums. */
class Fitting {
  readonly #doc: Doc
  readonly #maxBytes: number
  readonly #fixed: number
  /** Per section: the bytes of its head and tail, of its visible items, how many are hidden, its size. */
  readonly #frame: number[]
  readonly #visible: number[]
  readonly #hidden: number[]
  readonly #size: number[]
  #sections = 0
  /** The diffs left out (collapsed or hidden). */
  readonly #out = { collapsed: 0, objects: 0, lines: 0, bytes: 0 }
  /** The items hidden of each kind of list, in the order of the sections (as leftOut counts them). */
  readonly #kinds = new Map<string, number>()

  constructor(doc: Doc, maxBytes: number) {
    this.#doc = doc
    this.#maxBytes = maxBytes
    this.#fixed = bytes(doc.top) + bytes(doc.bottom)
    this.#frame = doc.sections.map((s) => bytes(s.head) + bytes(s.tail))
    this.#visible = doc.sections.map(() => 0)
    this.#hidden = doc.sections.map(() => 0)
    for (const s of doc.sections) if (!s.diffs) this.#kinds.set(s.what, 0)
    doc.sections.forEach((s, k) => s.items.forEach((i) => this.#count(i, k, 1)))
    this.#size = doc.sections.map((_, k) => this.#measure(k))
    this.#sections = this.#size.reduce((n, b) => n + b, 0)
  }

  /** The bytes of section `k` as it is now. */
  size(k: number): number {
    return this.#size[k]!
  }

  #measure(k: number): number {
    const s = this.#doc.sections[k]!
    const hidden = this.#hidden[k]!
    if (dropped(s, hidden)) return 0
    return this.#frame[k]! + this.#visible[k]! + (hidden ? bytes(s.more(hidden)) : 0)
  }

  /** The bytes of the document as it is now. */
  total(): number {
    const hidden = [...this.#kinds].filter(([, n]) => n > 0).map(([what, n]) => ({ what, n }))
    const closing = this.#doc.closing({ maxBytes: this.#maxBytes, ...this.#out, hidden })
    return this.#fixed + this.#sections + bytes(closing)
  }

  /** Whether the document fits in the limit as it is now. */
  fits(): boolean {
    return this.total() <= this.#maxBytes
  }

  /** Shows, collapses or hides item `i` of section `k`. */
  set(i: Item, k: number, to: { isCollapsed: boolean; hidden: boolean }): void {
    this.#count(i, k, -1)
    i.isCollapsed = to.isCollapsed
    i.hidden = to.hidden
    this.#count(i, k, 1)
    const size = this.#measure(k)
    this.#sections += size - this.#size[k]!
    this.#size[k] = size
  }

  #count(i: Item, k: number, sign: 1 | -1): void {
    const s = this.#doc.sections[k]!
    if (i.hidden) {
      this.#hidden[k]! += sign
      if (!s.diffs) this.#kinds.set(s.what, this.#kinds.get(s.what)! + sign)
    } else this.#visible[k]! += sign * (i.isCollapsed ? i.collapsedBytes! : i.fullBytes)
    if (i.diff && (i.hidden || i.isCollapsed)) {
      this.#out.collapsed += sign
      if (i.diff.object) this.#out.objects += sign
      this.#out.lines += sign * i.diff.lines
      this.#out.bytes += sign * i.diff.bytes
    }
  }
}

/** The review laid out as sections, every text escaped for its place. */
function layout(r: Review): Doc {
  const fleet = r.machines.length > 0
  const view =
    r.saved === undefined
      ? 'cutover plan --format html --out review.html'
      : `cutover show ${shellWord(r.saved)} --format html --out review.html`
  const sections: Section[] = []

  // the top: title, the hash and how to apply exactly it, the totals, the machines
  const t = r.totals
  const title = `# Cutover plan${r.profile !== null ? ` for profile ${inline(r.profile)}` : ''}\n\n`
  const hash = `**Plan hash:** ${code(r.hash)}\n\n`
  const apply =
    r.saved === undefined
      ? 'This plan was not saved, so no file is bound to this hash: plan again with `--save PLAN.json` to review the plan that apply will run.\n\n'
      : `Saved as ${code(r.saved)}. Apply exactly this plan (apply refuses a plan file whose hash differs):\n\n${fence(
          `cutover apply ${shellWord(r.saved)} --expect ${showControls(r.hash)}`,
          'sh',
        )}\n`
  const summary = `${count(t.files, 'file')} to change${fleet ? ` on ${count(t.machines, 'machine')}` : ''} (+${t.added} −${t.removed})${
    r.database.length ? `, ${count(r.database.length, 'database object')}` : ''
  }; ${count(t.leftovers, 'open leftover')}, ${t.accepted} accepted; ${count(t.warnings, 'warning')}.\n\n`
  const where = fleet
    ? `Machines:\n\n${r.machines.map((m) => `- ${inline(m.name)}: ${inline(m.at)}\n`).join('')}\n`
    : r.root !== undefined
      ? `Root: ${inline(r.root)}\n\n`
      : ''
  const top = title + hash + apply + summary + where

  // the files: a table, then a block per file
  if (r.files.length) {
    const cols = [...(fleet ? ['machine'] : []), 'file', 'kind', '+', '−', 'what the rules did']
    sections.push({
      head: `## Files\n\n${row(cols)}${row(cols.map(() => '---'))}`,
      items: r.files.map((f) =>
        item(
          row([
            ...(fleet ? [inline(f.machine ?? '')] : []),
            cellCode(fileName(f, fleet)),
            inline(f.kind),
            `+${f.added}`,
            `−${f.removed}`,
            inline(f.rules),
          ]),
        ),
      ),
      tail: '\n',
      more: (n) => `\n… and ${count(n, 'more file')} not listed here: see ${code(view)}.\n`,
      what: 'row(s) of the file table',
      diffs: false,
    })
    sections.push({
      head: '## Diffs\n\n',
      items: r.files.map((f) =>
        diffItem(f.path, `${f.kind}, +${f.added} −${f.removed}`, f.diff, view, false),
      ),
      tail: '',
      more: (n) => `… and ${count(n, 'more diff')} not shown here: see ${code(view)}.\n\n`,
      what: 'diff block(s)',
      diffs: true,
    })
  }

  // database objects likewise
  if (r.database.length) {
    const cols = ['object', 'kind', '+', '−', 'what the rules did']
    sections.push({
      head: `## Database\n\n${row(cols)}${row(cols.map(() => '---'))}`,
      items: r.database.map((o) =>
        item(
          row([
            cellCode(o.target),
            inline(o.kind),
            `+${o.added}`,
            `−${o.removed}`,
            inline(o.rules),
          ]),
        ),
      ),
      tail: '\n',
      more: (n) => `\n… and ${count(n, 'more object')} not listed here: see ${code(view)}.\n`,
      what: 'row(s) of the database table',
      diffs: false,
    })
    sections.push({
      head: '',
      items: r.database.map((o: ReviewObject) =>
        diffItem(o.target, `${o.kind}, +${o.added} −${o.removed}`, o.diff, view, true),
      ),
      tail: '',
      more: (n) => `… and ${count(n, 'more database diff')} not shown here: see ${code(view)}.\n\n`,
      what: 'database diff block(s)',
      diffs: true,
    })
  }

  // leftovers, by reason
  // the place in prose, the text a file holds as code: as it is, never read as Markdown
  const left = (l: ReviewLeftover) =>
    `${inline(`${l.path}:${l.line}:${l.col}${l.onDisk ? ` (on disk ${l.onDisk.line}:${l.onDisk.col})` : ''}:`)} ${code(l.text)}`
  if (r.leftovers.length === 0)
    sections.push(
      list(
        '## Leftovers\n\nNone: no old value is left in the files in scope.\n\n',
        [],
        'leftover',
        view,
      ),
    )
  else {
    sections.push(list(`## Leftovers: ${t.leftovers}\n\n`, [], 'leftover', view))
    for (const g of r.leftovers)
      sections.push({
        ...list(
          `### ${inline(g.reason)} (${g.items.length})\n\n`,
          g.items.map(left),
          'leftover',
          view,
        ),
        droppable: true,
      })
  }
  if (r.accepted.length)
    sections.push(
      list(
        `## Accepted leftovers: ${r.accepted.length}\n\n`,
        r.accepted.map(
          (l) => `${left(l)} ${inline(`— ${l.reason}; accepted: ${l.accepted ?? ''}`)}`,
        ),
        'accepted leftover',
        view,
      ),
    )

  // warnings and notes
  const note = (n: ReviewNote) =>
    inline(`${n.line ? `${n.path}:${n.line}:${n.col ?? 1}` : n.path}: ${n.code} ${n.message}`)
  if (r.warnings.length)
    sections.push(
      list(`## Warnings: ${r.warnings.length}\n\n`, r.warnings.map(note), 'warning', view),
    )
  if (r.notes.length)
    sections.push(list(`## Notes: ${r.notes.length}\n\n`, r.notes.map(note), 'note', view))

  // what apply runs before installing anything
  if (r.validators.length)
    sections.push(
      list(
        '## Validators\n\nApply runs these on the staged files, on each file’s machine, before installing anything:\n\n',
        r.validators.map((v) => `${code(v.command)}: ${inline(v.files.join(', '))}`),
        'validator',
        view,
      ),
    )

  const closing = (l: LeftOut) => {
    const parts = [
      ...(l.collapsed
        ? [
            `the diffs of ${[
              ...(l.collapsed > l.objects ? [count(l.collapsed - l.objects, 'file')] : []),
              ...(l.objects ? [count(l.objects, 'database object')] : []),
            ].join(' and ')} (${l.lines} lines, ${l.bytes} bytes)`,
          ]
        : []),
      ...l.hidden.filter((h) => !h.what.includes('diff block')).map((h) => `${h.n} ${h.what}`),
    ]
    if (parts.length === 0) return ''
    return `## Left out\n\nTo stay under --max-bytes ${l.maxBytes}, this comment leaves out ${parts.join('; ')}. ${code(view)} shows everything.\n\n`
  }
  return { top, sections, closing, bottom: `---\n\nPlan hash: ${code(r.hash)}\n` }
}

/** A table row or list item shown whole. */
function item(full: string): Item {
  return { full, fullBytes: bytes(full), isCollapsed: false, hidden: false }
}

/** A list section: a head, one `- ` item per text (already escaped), and a blank line after. */
function list(head: string, texts: string[], what: string, view: string): Section {
  return {
    head,
    items: texts.map((t) => item(`- ${t}\n`)),
    tail: texts.length ? '\n' : '',
    more: (n) => `- … and ${count(n, `more ${what}`)}: see ${code(view)}\n`,
    what: `${what}(s)`,
    diffs: false,
  }
}

/** A file's or object's collapsible block: its diff in a fence, or collapsed, a note instead. */
function diffItem(path: string, stat: string, diff: string, view: string, object: boolean): Item {
  // the name in <code>: GitHub links no @mention, #number or address in code
  const summary = `<details><summary><code>${html(path)}</code> (${html(stat)})</summary>\n\n`
  const lines = diff === '' ? 0 : diff.split('\n').length - (diff.endsWith('\n') ? 1 : 0)
  const size = bytes(diff)
  // a database row's statement is SQL (its `--` lines comments, not removed lines)
  const full = `${summary}${fence(diff, isLineDiff(diff) ? 'diff' : 'sql')}\n</details>\n\n`
  const collapsed = `${summary}Diff left out to stay under --max-bytes: ${lines} lines, ${size} bytes; see ${code(view)}.\n\n</details>\n\n`
  return {
    full,
    fullBytes: bytes(full),
    collapsed,
    collapsedBytes: bytes(collapsed),
    diff: { lines, bytes: size, object },
    isCollapsed: false,
    hidden: false,
  }
}

/** A file as its table row names it: a fleet's table has the machine in a column of its own. */
function fileName(f: ReviewFile, fleet: boolean): string {
  // the path is quoted with its machine (`"finance:a\nb"`); the row shows the rest of it
  if (!fleet || f.machine === undefined) return f.path
  const prefix = `${f.machine}:`
  if (f.path.startsWith(prefix)) return f.path.slice(prefix.length)
  if (f.path.startsWith(`"${prefix}`)) return `"${f.path.slice(prefix.length + 1)}`
  return f.path
}

/** `1 file`, `3 files`. */
function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

/**
 * Text as Markdown shows it literally, escaped only where Markdown would read it otherwise, so
 * the raw comment stays readable (`pg_hba.conf`, `routing-keys`, `10.0.10.48` as they are):
 * backslash-escaped are the characters that start code, emphasis, strikethrough, math, a link
 * or raw HTML, a table cell (`|`), an entity (`&` before `name;`), an autolink (`://`, `www.`,
 * `mailto:`), a `_` not inside a word, and a list, heading or quote marker at the start; what
 * reads as an e-mail address, a mention or an issue reference (`#12`, `GH-12`) is a code span
 * (GFM links an address in any text, escaped or not, and GitHub a mention or a reference, which
 * also notifies that user or marks that issue); control characters and line breaks are shown visibly
 * (`^J`), so the text stays on its line.
 */
function inline(text: string): string {
  const t = showControls(text)
  // the words to show as code, two that touch as one (two code spans side by side would read
  // as one run of backticks)
  const spans: Array<[number, number]> = []
  for (const m of t.matchAll(/[\w.+@-]*@[\w.+@-]*|#\d+|\bGH-\d+/g)) {
    const last = spans.at(-1)
    if (last && last[1] === m.index) last[1] += m[0].length
    else spans.push([m.index, m.index + m[0].length])
  }
  let out = ''
  let at = 0
  for (const [from, to] of spans) {
    out += escapeText(t.slice(at, from)) + code(t.slice(from, to))
    at = to
  }
  out += escapeText(t.slice(at))
  return (
    out
      // a list, heading or quote marker at the start
      .replace(/^[-+#>]/, '\\$&')
      .replace(/^(\d+)([.)])/, '$1\\$2')
      // blanks that begin a list item or cell would be dropped (or start an indented block)
      .replace(/^[ \t]+/, (b) => b.replaceAll(' ', '&#32;').replaceAll('\t', '&#9;'))
  )
}

/** The characters of {@link inline}'s text that Markdown reads anywhere in a line, escaped. */
function escapeText(s: string): string {
  return s
    .replace(/[\\`*[\]<|~$]/g, '\\$&')
    .replace(/&(?=#?[0-9A-Za-z]+;)/g, '\\&')
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
    .replace(/:(?=\/\/)|(?<=(?:mailto|xmpp)):/gi, '\\:')
    .replace(/(?<![A-Za-z0-9])(www)\./gi, '$1\\.')
}

/** Text in a code span, with a backtick run longer than any inside it. */
function code(text: string): string {
  const t = showControls(text)
  if (t === '') return ''
  const run = '`'.repeat(longestRun(t, '`') + 1)
  // a space is stripped from each end of a code span when both have one
  const pad = t.startsWith('`') || t.endsWith('`') || /^ .*[^ ].* $/s.test(t) ? ' ' : ''
  return `${run}${pad}${t}${pad}${run}`
}

/** A code span in a table cell: a `|` in it is `\|` (GFM splits cells before reading code). */
function cellCode(text: string): string {
  return code(text).replaceAll('|', '\\|')
}

/**
 * A fenced code block whose content is exactly `text` (a newline added when it has none): the
 * fence is longer than any run of backticks in it, so no line of it can close the fence.
 */
function fence(text: string, info: string): string {
  const run = '`'.repeat(Math.max(3, longestRun(text, '`') + 1))
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`
  return `${run}${info}\n${body}${run}\n`
}

function longestRun(text: string, ch: string): number {
  let best = 0
  let n = 0
  for (const c of text) {
    n = c === ch ? n + 1 : 0
    if (n > best) best = n
  }
  return best
}

/** A GFM table row; the cells are escaped already (a `|` in one is `\|`). */
function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |\n`
}

/** Text for raw HTML (the `<summary>` of a block): `& < > " '` escaped. */
function html(text: string): string {
  return showControls(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )
}
