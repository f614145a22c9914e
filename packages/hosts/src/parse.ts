import type { Diagnostic, Range } from '@cutover/rewrite'
import { addressFamily, type AddressFamily } from './address.js'

/** Half-open `[start, end)` offsets of a token in the document's text. */
export type Span = Range

/**
 * One line of a hosts file. `kind` says what it holds:
 * - `entry`: an address and at least one name (the canonical name, then aliases);
 * - `blank`: only whitespace; `comment`: whitespace, then a `#` comment;
 * - `invalid`: a first token that is no address, or an address without a name (see `doc.errors`).
 */
export interface HostsLine {
  kind: 'entry' | 'blank' | 'comment' | 'invalid'
  /** Offset of the line's first character. */
  start: number
  /** End of the line's content: the offset of its `\n` (or of the `\r` of a `\r\n`). */
  end: number
  /** Offset of the next line (after the line break); `end` when the text ends without one. */
  next: number
  /** The first token: the address of an entry, or what stood in its place. */
  address?: Span
  /** The family of an entry's address. */
  family?: AddressFamily
  /** Names of an entry: canonical name first, then aliases. Empty for other kinds. */
  names: Span[]
  /** From `#` to the end of the content, when the line has a comment. */
  comment?: Span
}

/** A parsed hosts file: every line, in order, covering the text without gap. Never thrown at. */
export interface HostsDocument {
  /** The text parsed; every span indexes it. */
  text: string
  lines: HostsLine[]
  /** Malformed lines (`BAD_ADDRESS`, `MISSING_NAME`), each with the range of the offending token. */
  errors: Diagnostic[]
  /** The line break most lines use (`\r\n` when more lines end with it than with `\n`). */
  eol: '\n' | '\r\n'
  /** Whether the text ends with a line break (or is empty). */
  finalNewline: boolean
}

const SPACE = 32
const TAB = 9
const CR = 13
const LF = 10
const HASH = 35

// glibc splits fields with isspace(): space, \t, \v, \f and a \r that does not end the line
const isBlank = (c: number) => c === SPACE || c === TAB || c === CR || c === 11 || c === 12

/**
 * Parses the text of a hosts(5) file. Lossless: the lines cover the text exactly, so
 * {@link printHosts} gives it back byte for byte. As glibc does, a `#` anywhere starts a comment
 * and fields are separated by any run of blanks. Malformed lines are kept as `invalid` lines
 * and reported in `errors`; this function never throws.
 */
export function parseHosts(text: string): HostsDocument {
  const lines: HostsLine[] = []
  const errors: Diagnostic[] = []
  let crlf = 0
  let start = 0
  const n = text.length
  while (start < n) {
    let nl = text.indexOf('\n', start)
    if (nl === -1) nl = n
    const end = nl < n && nl > start && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl
    if (end < nl) crlf++
    lines.push(parseLine(text, start, end, nl < n ? nl + 1 : n, errors))
    start = nl + 1
  }
  const finalNewline = n === 0 || text.charCodeAt(n - 1) === LF
  return { text, lines, errors, eol: crlf * 2 > lines.length ? '\r\n' : '\n', finalNewline }
}

function parseLine(text: string, start: number, end: number, next: number, errors: Diagnostic[]): HostsLine {
  let address: Span | undefined
  const names: Span[] = []
  let comment: Span | undefined
  let i = start
  while (i < end) {
    const c = text.charCodeAt(i)
    if (isBlank(c)) {
      i++
      continue
    }
    if (c === HASH) {
      comment = { start: i, end }
      break
    }
    const s = i
    while (i < end) {
      const d = text.charCodeAt(i)
      if (isBlank(d) || d === HASH) break
      i++
    }
    if (address === undefined) address = { start: s, end: i }
    else names.push({ start: s, end: i })
  }
  // one object shape for every line keeps property access monomorphic on large files
  const line: HostsLine = { kind: 'entry', start, end, next, address, family: undefined, names, comment }
  if (!address) {
    line.kind = comment ? 'comment' : 'blank'
    return line
  }
  const family = familyAt(text, address.start, address.end)
  if (!family) {
    line.kind = 'invalid'
    errors.push({ code: 'BAD_ADDRESS', message: `expected an IPv4 or IPv6 address, got "${text.slice(address.start, address.end)}"`, range: address })
    return line
  }
  line.family = family
  if (names.length === 0) {
    line.kind = 'invalid'
    errors.push({ code: 'MISSING_NAME', message: `expected a host name after the address ${text.slice(address.start, address.end)}`, range: address })
  }
  return line
}

/** The family of `text[start, end)`, without slicing it when it is a dotted quad (the common case). */
function familyAt(text: string, start: number, end: number): AddressFamily | undefined {
  let parts = 0
  let digits = 0
  let value = 0
  let lead = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (digits === 0) lead = c
      else if (lead === 48) return addressFamily(text.slice(start, end)) // no leading zeros in a dotted quad
      value = value * 10 + (c - 48)
      if (++digits > 3 || value > 255) return addressFamily(text.slice(start, end))
    } else if (c === 46 && digits > 0 && parts < 3) {
      parts++
      digits = 0
      value = 0
    } else {
      return addressFamily(text.slice(start, end))
    }
  }
  return parts === 3 && digits > 0 ? 'ipv4' : undefined
}

/**
 * Prints a document: the concatenation of its lines, each with its own line break. For a
 * document from {@link parseHosts} this is exactly the text parsed.
 */
export function printHosts(doc: HostsDocument): string {
  const parts: string[] = []
  for (const l of doc.lines) parts.push(doc.text.slice(l.start, l.next))
  return parts.join('')
}

/** The text of a span of a document. */
export function spanText(doc: HostsDocument, span: Span): string {
  return doc.text.slice(span.start, span.end)
}

/** The index of the line holding `offset` (binary search over line starts). */
export function lineAt(doc: HostsDocument, offset: number): number {
  let lo = 0
  let hi = doc.lines.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (doc.lines[mid]!.start <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}
