import type { Diagnostic } from '@cutover/rewrite'
import type { HostsLine, Span } from './line.js'
import { KINDS, classify, familyName, foldName, scanTable } from './table.js'

// Large files are planned without a table of every line: one native search (a regular
// expression for lines that are not plain entries, and for the names wanted) finds the few
// lines that matter, and only those are tokenized. Each helper gives what the table would.

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)'
const GROUP = '[0-9a-fA-F]{1,4}'
/** IPv6 addresses `isIPv6` accepts: 8 groups, or at most 4 before `::` and 3 after it. */
const IPV6 = `${GROUP}(?::${GROUP}){7}|(?:${GROUP}(?::${GROUP}){0,3})?::(?:${GROUP}(?::${GROUP}){0,2})?`
/**
 * A line break not followed by a line that surely parses without error: a dotted quad without
 * leading zeros or a plain IPv6 address at the very start, blanks, and the first character of
 * a name; or only blanks, up to a comment or the end of the line. Other lines (malformed,
 * indented, other forms of address) are checked one by one; this only skips work.
 */
const NOT_PLAIN = `\\n(?!(?:${OCTET}(?:\\.${OCTET}){3}|${IPV6})[ \\t\\v\\f\\r]+[^ \\t\\v\\f\\r#\\n]|[ \\t\\v\\f\\r]*(?:[#\\n]|$))`
const LINES = new RegExp(NOT_PLAIN, 'g')

const isBlank = (c: number) => c === 32 || c === 9 || c === 13 || c === 11 || c === 12

/** The `BAD_ADDRESS`/`MISSING_NAME` diagnostics of `text`, in file order, as {@link scanTable} reports them. */
export function lineErrors(text: string): Diagnostic[] {
  return sweep(text, LINES, true, () => {})
}

/**
 * Runs `re` (global) over `text` and hands each match to `other`, except, when `lines` is set,
 * lone line breaks (its `NOT_PLAIN` alternative): the line after each, and the first line, are
 * checked. Returns the diagnostics of malformed lines, in file order.
 */
function sweep(
  text: string,
  re: RegExp,
  lines: boolean,
  other: (m: RegExpExecArray) => void,
): Diagnostic[] {
  const errors: Diagnostic[] = []
  const n = text.length
  if (n === 0) return errors
  if (lines) checkLine(text, 0, errors)
  re.lastIndex = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!lines || m[0] !== '\n') other(m)
    else if (m.index + 1 < n) checkLine(text, m.index + 1, errors)
  }
  return errors
}

/** Pushes the diagnostic of the line at `start`, if any, without making a table for a fine line. */
function checkLine(text: string, start: number, errors: Diagnostic[]): void {
  let i = start
  let c = text.charCodeAt(i)
  while (i < text.length && isBlank(c)) c = text.charCodeAt(++i)
  if (i >= text.length || c === 10 || c === 35) return // blank or comment
  const as = i
  while (i < text.length && !isBlank(c) && c !== 35 && c !== 10) c = text.charCodeAt(++i)
  const ae = i
  while (i < text.length && isBlank(c)) c = text.charCodeAt(++i)
  const named = i < text.length && c !== 10 && c !== 35
  classify(text, as, ae, named ? 1 : 0, errors)
}

/** The offset where the line holding `offset` starts. */
export function lineStartAt(text: string, offset: number): number {
  return offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1
}

/** The line that starts at `start` (a line start of `text`, before its end), as {@link lineOf} gives it. */
export function lineFrom(text: string, start: number): HostsLine {
  const nl = text.indexOf('\n', start)
  const t = scanTable(text, [], start, nl === -1 ? text.length : nl + 1)
  const names: Span[] = []
  for (let k = 0; k < t.nameFirst[1]!; k++)
    names.push({ start: t.tokens[k * 2]!, end: t.tokens[k * 2 + 1]! })
  const line: HostsLine = {
    kind: KINDS[t.kind[0]!]!,
    start: t.start[0]!,
    end: t.end[0]!,
    next: t.next[0]!,
    names,
  }
  if (t.addrStart[0] !== -1) line.address = { start: t.addrStart[0]!, end: t.addrEnd[0]! }
  const family = familyName(t.family[0]!)
  if (family) line.family = family
  if (t.comment[0] !== -1) line.comment = { start: t.comment[0]!, end: t.end[0]! }
  return line
}

/** The lines of `text` from `start` on, one by one, until `stop` returns true; the line it stopped at. */
export function lineWhere(
  text: string,
  start: number,
  stop: (line: HostsLine) => boolean,
): HostsLine | undefined {
  for (let at = start; at < text.length;) {
    const line = lineFrom(text, at)
    if (stop(line)) return line
    if (line.next === at) break
    at = line.next
  }
  return undefined
}

/** The last line of a non-empty text. */
export function lastLine(text: string): HostsLine {
  const n = text.length
  const body = text.charCodeAt(n - 1) === 10 ? n - 1 : n
  return lineFrom(text, lineStartAt(text, body))
}

/** The end of the content of the line before the one starting at `start` (> 0). */
export function endBefore(text: string, start: number): number {
  return lineFrom(text, lineStartAt(text, start - 1)).end
}

/** A name token of an entry whose lower-case text is one of the names looked for. */
export interface NamedHit {
  line: HostsLine
  lower: string
  span: Span
}

const special = /[\\^$.*+?()[\]{}|/-]/g

/**
 * Every name token of an entry whose lower-case text (same length) is in `names`, in file
 * order, from one case-insensitive search of the text; with `withErrors`, the same search also
 * finds the diagnostics of {@link lineErrors}. Only when every name is ASCII (a regular expression
 * without the `u` flag folds ASCII letters only, as the resolver does: U+212A KELVIN SIGN is not
 * `k`); undefined otherwise, for the caller to scan a table.
 */
export function findNamed(
  text: string,
  names: ReadonlySet<string>,
  withErrors = false,
): { hits: NamedHit[]; errors?: Diagnostic[] } | undefined {
  // a name with a blank, `#` or a line break is never a token
  const wanted = [...names].filter((n) => n.length > 0 && !/[\s#]/.test(n))
  if (wanted.length === 0) return withErrors ? { hits: [], errors: lineErrors(text) } : { hits: [] }
  // eslint-disable-next-line no-control-regex
  if (wanted.some((n) => /[^\u0000-\u007f]/.test(n))) return undefined
  // a blank, then the name; longest first: at a token's start the first alternative that
  // matches is the whole token
  const sorted = wanted.sort((a, b) => b.length - a.length).map((n) => n.replace(special, '\\$&'))
  const byName = `[ \\t\\v\\f\\r](?:${sorted.join('|')})`
  const re = new RegExp(withErrors ? `${NOT_PLAIN}|${byName}` : byName, 'gi')
  const hits: NamedHit[] = []
  let line: HostsLine | undefined
  const errors = sweep(text, re, withErrors, (m) => {
    const start = m.index + 1
    const end = m.index + m[0].length
    if (line === undefined || start >= line.next || start < line.start)
      line = lineFrom(text, lineStartAt(text, start))
    if (line.kind !== 'entry' || !line.names.some((s) => s.start === start && s.end === end)) return
    const lower = foldName(m[0].slice(1))
    if (names.has(lower)) hits.push({ line, lower, span: { start, end } })
  })
  return withErrors ? { hits, errors } : { hits }
}
