import type { Diagnostic } from '@cutover/rewrite'
import { lineErrors } from './locate.js'
import type { HostsLine, Span } from './line.js'
import { KINDS, countLines, familyName, scanTable, type LineTable } from './table.js'

export type { HostsLine, Span } from './line.js'

/** A parsed hosts file: every line, in order, covering the text without gap. Never thrown at. */
export interface HostsDocument {
  /** The text parsed; every span indexes it. */
  readonly text: string
  /** Every line as an object, made on first use (scans of large files read `table` instead). */
  readonly lines: readonly HostsLine[]
  /** The same lines as flat arrays, made on first use (planning a large file needs no table). */
  readonly table: LineTable
  /** Malformed lines (`BAD_ADDRESS`, `MISSING_NAME`), each with the range of the offending token (found on first use). */
  readonly errors: Diagnostic[]
  /** The line break most lines use (`\r\n` when more lines end with it than with `\n`). */
  readonly eol: '\n' | '\r\n'
  /** Whether the text ends with a line break (or is empty). */
  readonly finalNewline: boolean
}

/**
 * Parses the text of a hosts(5) file. Lossless: the lines cover the text exactly, so
 * {@link printHosts} gives it back byte for byte. As glibc does, a `#` anywhere starts a comment
 * and fields are separated by any run of blanks. Malformed lines are kept as `invalid` lines
 * and reported in `errors`; this function never throws.
 */
export function parseHosts(text: string): HostsDocument {
  const n = text.length
  let table: LineTable | undefined
  let lines: HostsLine[] | undefined
  const doc: HostsDocument = {
    text,
    get errors() {
      let errors = found.get(doc)
      if (!errors) found.set(doc, (errors = lineErrors(text)))
      return errors
    },
    eol: eolOf(text),
    finalNewline: n === 0 || text.charCodeAt(n - 1) === 10,
    get table() {
      return (table ??= scanTable(text, []))
    },
    get lines() {
      return (lines ??= Array.from({ length: this.table.count }, (_, i) => lineOf(doc, i)))
    },
  }
  return doc
}

/** The diagnostics of each document, once found (by the first search of its text that finds them). */
const found = new WeakMap<HostsDocument, Diagnostic[]>()

/** Gives `doc` its diagnostics unless it has them: `errors` found by a search of its text made for another reason. */
export function noteErrors(doc: HostsDocument, errors: Diagnostic[]): void {
  if (!found.has(doc)) found.set(doc, errors)
}

/** Whether `doc.errors` is known yet. */
export const errorsKnown = (doc: HostsDocument): boolean => found.has(doc)

/** `\r\n` when more lines end with it than with `\n`. */
function eolOf(text: string): '\n' | '\r\n' {
  let crlf = 0
  for (let i = text.indexOf('\r\n'); i !== -1; i = text.indexOf('\r\n', i + 2)) crlf++
  return crlf > 0 && crlf * 2 > countLines(text) ? '\r\n' : '\n'
}

/** Line `i` of a document as an object (a new one on every call). */
export function lineOf(doc: HostsDocument, i: number): HostsLine {
  const t = doc.table
  const names: Span[] = []
  for (let k = t.nameFirst[i]!; k < t.nameFirst[i + 1]!; k++)
    names.push({ start: t.tokens[k * 2]!, end: t.tokens[k * 2 + 1]! })
  const line: HostsLine = {
    kind: KINDS[t.kind[i]!]!,
    start: t.start[i]!,
    end: t.end[i]!,
    next: t.next[i]!,
    names,
  }
  if (t.addrStart[i] !== -1) line.address = { start: t.addrStart[i]!, end: t.addrEnd[i]! }
  const family = familyName(t.family[i]!)
  if (family) line.family = family
  if (t.comment[i] !== -1) line.comment = { start: t.comment[i]!, end: t.end[i]! }
  return line
}

/**
 * Prints a document: the concatenation of its lines, each with its own line break. For a
 * document from {@link parseHosts} this is exactly the text parsed.
 */
export function printHosts(doc: HostsDocument): string {
  const t = doc.table
  const parts: string[] = []
  for (let i = 0; i < t.count; i++) parts.push(doc.text.slice(t.start[i]!, t.next[i]!))
  return parts.join('')
}

/** The text of a span of a document. */
export function spanText(doc: HostsDocument, span: Span): string {
  return doc.text.slice(span.start, span.end)
}

/** The index of the line holding `offset` (binary search over line starts); 0 for an empty document. */
export function lineAt(doc: HostsDocument, offset: number): number {
  const starts = doc.table.start
  let lo = 0
  let hi = doc.table.count - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (starts[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return lo
}
