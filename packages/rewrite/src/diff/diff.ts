import { structuredPatch } from 'diff/lib/patch/create.js'
import { EditedText, editedPositionsOf, positionsOf } from '../text/big-text.js'
import { applyEdits, type Edit } from '../edit/edit.js'
import { merge, sensitiveSpans, type Span } from './sensitive.js'

/**
 * What a diff hides: spans of the old and of the new text (offsets), and, for each shown line,
 * more columns to hide (half-open, 0-based, e.g. values that look like credentials).
 */
export interface DiffMask {
  before?: readonly Span[]
  after?: readonly Span[]
  line?(text: string): readonly Span[]
}

/** What a diff shows in place of a sensitive value. */
export const SENSITIVE = '(sensitive)'

/**
 * A unified diff of `before` and `after` with `a/PATH` and `b/PATH` headers (paths relative to
 * the root, quoted like git's when they hold control characters) and 3 lines of context. What
 * `mask` names shows as `(sensitive)`, the rest of its line as it is; control characters of the
 * shown lines are made visible (`^[`, see {@link showControls}). Returns `''` when the texts are
 * equal. A missing final newline is marked as `\ No newline at end of file`; CR of CRLF endings is
 * kept out of the shown lines.
 */
export function unifiedDiff(
  path: string,
  before: string,
  after: string | EditedText,
  mask?: DiffMask,
): string {
  if (typeof after === 'string' ? before === after : after.equals(before)) return ''
  const out = [`--- ${quotePath(`a/${path}`)}`, `+++ ${quotePath(`b/${path}`)}`]
  // the lines of a large diff are joined a block at a time: short-lived strings, not tens of
  // thousands that outlive V8's young generation until the diff is whole
  const blocks: string[] = []
  const hideBefore = columnsByLine(before, mask?.before ?? [])
  const hideAfter = columnsByLine(after, mask?.after ?? [])
  for (const h of hunks(before, after)) {
    out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`)
    let oldLine = h.oldStart
    let newLine = h.newStart
    for (const raw of h.lines) {
      const sign = raw[0]
      let body = raw.slice(1)
      if (sign === '\\') {
        out.push(raw)
        continue
      }
      if (body.endsWith('\r')) body = body.slice(0, -1)
      const cols = [
        ...(sign !== '+' ? (hideBefore.get(oldLine) ?? []) : []),
        ...(sign !== '-' ? (hideAfter.get(newLine) ?? []) : []),
        ...(mask?.line?.(body) ?? []),
      ]
      out.push(sign + shown(body, cols))
      if (sign !== '+') oldLine++
      if (sign !== '-') newLine++
    }
    if (out.length >= BLOCK) blocks.push(out.splice(0).join('\n'))
  }
  // no empty block: the last hunk may have ended one
  if (out.length) blocks.push(out.join('\n'))
  return blocks.join('\n') + '\n'
}

/** Lines of a diff joined at once by {@link unifiedDiff}. */
const BLOCK = 1000

/** A line with the columns `hide` shows as `(sensitive)` and its control characters made visible. */
function shown(body: string, hide: readonly Span[]): string {
  if (hide.length === 0) return showControls(body)
  const parts: string[] = []
  let at = 0
  for (const s of merge(
    hide.map((c) => ({ start: Math.min(c.start, body.length), end: Math.min(c.end, body.length) })),
  )) {
    parts.push(showControls(body.slice(at, s.start)), SENSITIVE)
    at = s.end
  }
  parts.push(showControls(body.slice(at)))
  return parts.join('')
}

/** The columns (0-based, half-open) of each line (1-based) that spans of `text` cover. */
function columnsByLine(text: string | EditedText, spans: readonly Span[]): Map<number, Span[]> {
  const out = new Map<number, Span[]>()
  if (spans.length === 0) return out
  const offsets = spans.flatMap((s) => [s.start, s.end])
  const at =
    typeof text === 'string' ? positionsOf(text, offsets) : editedPositionsOf(text, offsets)
  for (const s of spans) {
    const a = at.get(s.start)!
    const b = at.get(s.end)!
    for (let line = a.line; line <= b.line; line++) {
      const from = line === a.line ? a.col - 1 : 0
      const to = line === b.line ? b.col - 1 : Number.MAX_SAFE_INTEGER
      if (to > from) out.set(line, [...(out.get(line) ?? []), { start: from, end: to }])
    }
  }
  return out
}

// C0 controls but tab, DEL, C1 controls, and the bidirectional controls that reorder what a
// terminal shows (a line that reads differently from what it holds)
const CONTROL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * `text` with every control character shown visibly, as `cat -v` does: `^[` for ESC, `^M` for a
 * CR, `^?` for DEL, `M-^[` for a C1 control; bidirectional controls as `<U+202E>`. Tabs stay.
 */
export function showControls(text: string): string {
  return text.replace(CONTROL, (ch) => {
    const c = ch.charCodeAt(0)
    if (c < 0x20) return '^' + String.fromCharCode(c + 64)
    if (c === 0x7f) return '^?'
    if (c < 0xa0) return 'M-^' + String.fromCharCode(c - 0x80 + 64)
    return `<U+${c.toString(16).toUpperCase().padStart(4, '0')}>`
  })
}

// eslint-disable-next-line no-control-regex
const ODD_NAME = /[\u0000-\u001f\u007f-\u009f"\\\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const C_ESCAPES: Record<string, string> = {
  '\u0007': 'a',
  '\b': 'b',
  '\t': 't',
  '\n': 'n',
  '\u000b': 'v',
  '\f': 'f',
  '\r': 'r',
  '"': '"',
  '\\': '\\',
}

/**
 * A file name as one shell word, the same in every format's `cutover apply FILE --expect …`:
 * as it is when it needs no quoting, else in single quotes; control characters shown; a
 * relative name starting with `-` after `./` (no option).
 */
export function shellWord(path: string): string {
  const p = showControls(path.startsWith('-') ? `./${path}` : path)
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`
}

/**
 * A path as git quotes it: unchanged when it holds no control character, `"` or `\\`; otherwise
 * in double quotes with C escapes (`"a\\nb"`) and octal bytes for other controls, so that a file
 * name can never start a line of its own in a review.
 */
export function quotePath(path: string): string {
  if (!ODD_NAME.test(path)) return path
  let out = '"'
  for (const ch of path) {
    if (C_ESCAPES[ch] !== undefined) out += '\\' + C_ESCAPES[ch]
    else if (ODD_NAME.test(ch))
      for (const b of Buffer.from(ch, 'utf8')) out += '\\' + b.toString(8).padStart(3, '0')
    else out += ch
  }
  return out + '"'
}

interface Hunk {
  oldStart: number
  oldLines: number
  newStart: number
  newLines: number
  lines: string[]
}

/** From how many lines on a diff is computed window by window (see {@link windows}). */
const WINDOWED_FROM = 5000

/**
 * The hunks of the diff of `before` and `after`. An {@link EditedText} of `before` is read
 * where it differs and skipped where its edits say it equals `before`; a small one is made.
 */
function* hunks(before: string, after: string | EditedText): Generator<Hunk> {
  const whole = () =>
    structuredPatch('a', 'b', before, after.toString(), '', '', { context: 3 }).hunks
  if (before.length < 65536 || !hasLines(before, WINDOWED_FROM)) return yield* whole()
  const cuts = windows(before, after)
  if (!cuts) return yield* whole()
  // window by window: the hunks of one are used before the next is diffed
  for (let k = 0; k + 1 < cuts.length; k++) {
    const from = cuts[k]!
    const to = cuts[k + 1]!
    if (!to.dirty) continue
    const x = before.slice(from.x, to.x)
    const y = after.slice(from.y, to.y)
    if (x === y) continue
    for (const h of structuredPatch('a', 'b', x, y, '', '', { context: 3 }).hunks) {
      yield { ...h, oldStart: h.oldStart + from.i, newStart: h.newStart + from.j }
    }
  }
}

/** True when `text` has at least `min` lines (a final line without newline counts; an empty tail does not). */
function hasLines(text: string, min: number): boolean {
  let lines = 1
  for (
    let i = text.indexOf('\n');
    i !== -1 && i + 1 < text.length && lines < min;
    i = text.indexOf('\n', i + 1)
  )
    lines++
  return lines >= min
}

/**
 * A cut between windows: line numbers (0-based), the offsets where those lines start, and
 * whether the window that ends here holds a difference (the others are equal, hence skipped).
 */
interface Cut {
  i: number
  j: number
  x: number
  y: number
  dirty: boolean
}

/**
 * The lines of a text from one line on, found as they are needed: `start(k)` is the offset of
 * the k-th line after the first (a final line without newline counts; an empty tail does not).
 */
class Ahead {
  readonly #starts: number[]
  #ended = false
  constructor(
    readonly text: string | EditedText,
    at: number,
  ) {
    this.#starts = [at]
    if (at >= text.length) this.#ended = true
  }

  /** Whether line `k` exists. */
  has(k: number): boolean {
    const s = this.#starts
    while (s.length <= k && !this.#ended) {
      const nl = this.text.indexOf('\n', s[s.length - 1]!)
      if (nl === -1 || nl + 1 >= this.text.length) this.#ended = true
      else s.push(nl + 1)
    }
    return k < s.length && s[k]! < this.text.length
  }

  /** Whether the text ends right before line `k` (there is no line `k`, but there is each before it). */
  endsAt(k: number): boolean {
    return !this.has(k) && (k === 0 || this.has(k - 1))
  }

  /** Offset of line `k` (which must exist), or the text's length just past the last line. */
  start(k: number): number {
    return this.has(k) ? this.#starts[k]! : this.text.length
  }
}

/** Whether line `i` of `x` equals line `j` of `y`, line break included. */
function same(x: Ahead, i: number, y: Ahead, j: number): boolean {
  if (!x.has(i) || !y.has(j)) return false
  const a = x.start(i)
  const b = y.start(j)
  const ae = x.start(i + 1)
  const be = y.start(j + 1)
  if (ae - a !== be - b) return false
  const line = y.text.slice(b, be)
  return typeof x.text === 'string' ? x.text.startsWith(line, a) : x.text.slice(a, ae) === line
}

/**
 * Length of the common prefix of `x` from `p` and `y` from `q`, compared a block at a time; an
 * {@link EditedText} of `x` says itself how far it is `x` unchanged from there.
 */
function commonPrefix(x: string, p: number, y: string | EditedText, q: number): number {
  const max = Math.min(x.length - p, y.length - q)
  let lo = typeof y === 'string' || y.base !== x ? 0 : Math.min(max, y.unchangedRun(p, q))
  // the blocks of an edited text are made to be compared: smaller ones
  const most = typeof y === 'string' ? 1 << 20 : 1 << 16
  let step = 256
  while (step >= 16) {
    if (lo + step <= max && x.slice(p + lo, p + lo + step) === y.slice(q + lo, q + lo + step)) {
      lo += step
      if (step < most) step *= 2
    } else step >>= 1
  }
  while (lo < max && x.charCodeAt(p + lo) === y.charCodeAt(q + lo)) lo++
  return lo
}

/** Offset of line `to` of `text`, walking from line `from` that starts at `at`. */
function lineOffset(text: string | EditedText, from: number, at: number, to: number): number {
  for (; from < to; from++) at = text.indexOf('\n', at) + 1
  for (; from > to; from--) at = at >= 2 ? text.lastIndexOf('\n', at - 2) + 1 : 0
  return at
}

/**
 * Cuts a large diff into windows that can be diffed apart: pairs of line numbers in the middle
 * of runs of 20 or more equal lines, so that no hunk (3 lines of context) spans two windows.
 * Equal stretches are skipped by comparing blocks of text and counting their line breaks;
 * differences by a greedy look-ahead for the nearest line pair that is equal along with the 2
 * lines after it. Returns undefined when the texts differ too much for that (the whole diff is
 * computed then).
 */
function windows(x: string, y: string | EditedText): Cut[] | undefined {
  const cuts: Cut[] = [{ i: 0, j: 0, x: 0, y: 0, dirty: false }]
  // whether a difference was met since the last cut
  let dirty = false
  const cut = (i: number, j: number, at: { i: number; j: number; x: number; y: number }) => {
    cuts.push({ i, j, x: lineOffset(x, at.i, at.x, i), y: lineOffset(y, at.j, at.y, j), dirty })
    dirty = false
  }
  // line i of x starts at p, line j of y at q
  let i = 0
  let j = 0
  let p = 0
  let q = 0
  let run = 0
  let changed = false
  while (p < x.length && q < y.length) {
    const common = commonPrefix(x, p, y, q)
    let equal = 0
    let past = p
    for (let nl = x.indexOf('\n', p); nl !== -1 && nl < p + common; nl = x.indexOf('\n', nl + 1)) {
      equal++
      past = nl + 1
    }
    // the last lines, without a line break, are equal when both texts end there
    if (p + common === x.length && q + common === y.length && past < x.length) {
      equal++
      past = x.length
    }
    if (equal > 0) {
      if (changed && run < 20 && run + equal >= 20) {
        cut(i + 10 - run, j + 10 - run, { i, j, x: p, y: q })
        changed = false
      }
      q += past - p
      p = past
      i += equal
      j += equal
      run += equal
      continue
    }
    // a long equal run before this difference: cut in its middle too, so that the equal stretch
    // between two distant differences is a window of its own (equal, hence skipped)
    if (run >= 20 && cuts[cuts.length - 1]!.i < i - 10) cut(i - 10, j - 10, { i, j, x: p, y: q })
    run = 0
    changed = true
    dirty = true
    const xa = new Ahead(x, p)
    const ya = new Ahead(y, q)
    let found = false
    for (let d = 1; d <= 200 && !found; d++) {
      for (let di = 0; di <= d; di++) {
        const dj = d - di
        const atEnd = xa.endsAt(di) && ya.endsAt(dj)
        if (
          atEnd ||
          (same(xa, di, ya, dj) &&
            (xa.endsAt(di + 1) || same(xa, di + 1, ya, dj + 1)) &&
            (!xa.has(di + 2) || same(xa, di + 2, ya, dj + 2)))
        ) {
          i += di
          j += dj
          p = xa.start(di)
          q = ya.start(dj)
          found = true
          break
        }
      }
    }
    if (!found) return undefined
  }
  // lines added or removed at the end after a long equal run: cut before them too
  if (run >= 20 && (p < x.length || q < y.length) && cuts[cuts.length - 1]!.i < i - 10)
    cut(i - 10, j - 10, { i, j, x: p, y: q })
  cuts.push({
    i: -1,
    j: -1,
    x: x.length,
    y: y.length,
    dirty: dirty || p < x.length || q < y.length,
  })
  return cuts
}

function range(start: number, lines: number): string {
  // diff reports an empty side as starting at the line before it; unified diff says `N,0`.
  if (lines === 0) return `${Math.max(0, start - 1)},0`
  return lines === 1 ? `${start}` : `${start},${lines}`
}

/** Counts `+` and `-` lines of a unified diff (headers excluded). */
export function diffStat(diff: string): { added: number; removed: number } {
  let added = 0
  let removed = 0
  let inHunk = false
  // line by line without splitting: a large diff is not made again as an array of its lines
  for (let at = 0; at <= diff.length;) {
    let nl = diff.indexOf('\n', at)
    if (nl === -1) nl = diff.length
    if (diff.startsWith('@@ ', at)) inHunk = true
    if (inHunk && nl > at) {
      if (diff.charCodeAt(at) === 0x2b) added++
      else if (diff.charCodeAt(at) === 0x2d) removed++
    }
    at = nl + 1
  }
  return { added, removed }
}

/**
 * {@link unifiedDiff} of `before` and of the text its edits (in passes, each indexing the previous
 * pass's output) make of it, with what sensitive edits write and the old values they replace
 * shown as `(sensitive)`, by position: the rest of their lines, and the same words elsewhere,
 * are shown as they are. `line` hides more on each shown line.
 */
export function maskedDiff(
  target: string,
  before: string,
  passes: readonly (readonly Edit[])[],
  line?: DiffMask['line'],
): string {
  const after = passes.reduce((t: string, pass) => (pass.length ? applyEdits(t, pass) : t), before)
  const spans = sensitiveSpans(before, passes)
  return unifiedDiff(target, before, after, {
    before: spans.before,
    after: spans.after,
    ...(line ? { line } : {}),
  })
}
