import type { Diagnostic } from '@cutover/rewrite'

/** A half-open span `[start, end)` of the zone file's text. */
export interface Span {
  start: number
  end: number
}

/** A token of an entry: a word (escapes kept as written) or a quoted string (quotes included). */
export interface ZoneToken extends Span {
  quoted: boolean
}

/** What an entry of a zone file is. */
export type ZoneEntryKind = 'record' | 'directive' | 'blank' | 'invalid'

/**
 * One entry of a zone file: a resource record, a `$` directive, a line with nothing but blanks
 * or a comment, or a line that is none of these (kept, and reported in `errors`). An entry is
 * one line, or several when parentheses hold it open. Entries tile the text: each starts where
 * the previous one's `next` is.
 */
export interface ZoneEntry extends Span {
  kind: ZoneEntryKind
  /** Where the next entry starts: after this one's line break (or the end of the text). */
  next: number
  /** The 1-based line the entry starts on. */
  line: number
  /** Every token, in order, outside comments and parentheses. */
  tokens: ZoneToken[]
  /** The `;` comments, each up to its line's end (the line break excluded). */
  comments: Span[]
  /** The `(` and `)` of a multi-line entry. */
  parens: Span[]
  /** The origin in effect for the entry (absolute, as written: case kept), or undefined when unknown. */
  origin: string | undefined
  /** A record: its owner token, absent when the line starts blank (the previous owner's record). */
  owner?: ZoneToken
  /** A record: the owner name, absolute and lower case (the previous record's for a blank owner). */
  name?: string
  /** A record: its TTL field, when written. */
  ttl?: ZoneToken
  /** A record: its class field, when written. */
  class?: ZoneToken
  /** A record: its type (`A`, `SOA`, …); a directive: its name (`$ORIGIN`, `$TTL`, `$INCLUDE`, `$GENERATE`). */
  type?: ZoneToken
  /** A record's rdata tokens, or a directive's arguments. */
  rdata: ZoneToken[]
}

/** A parsed zone file: its text and its entries; malformed entries are reported, never thrown. */
export interface ZoneDocument {
  text: string
  entries: ZoneEntry[]
  errors: Diagnostic[]
  /** The origin in effect at the end of the file (after its last `$ORIGIN`). */
  endOrigin: string | undefined
}

/** Options of {@link parseZone}. */
export interface ParseZoneOptions {
  /** The zone's origin before any `$ORIGIN` (as named gets it from its zone statement). */
  origin?: string
}

const CLASSES = /^(IN|CH|HS|CS|CLASS\d+)$/i
const TTL = /^(\d+|(\d+[wdhms])+)$/i
const UNIT: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 }

/** True when `token` is a TTL as zone files write it: `3600`, `1h`, `1h30m`, `2W`. */
export function isTtl(token: string): boolean {
  return TTL.test(token)
}

/** The seconds of a TTL (`1h30m` is 5400), or undefined when `token` is not one. */
export function ttlSeconds(token: string): number | undefined {
  if (!TTL.test(token)) return undefined
  if (/^\d+$/.test(token)) return Number(token)
  let total = 0
  for (const m of token.matchAll(/(\d+)([wdhms])/gi))
    total += Number(m[1]) * UNIT[m[2]!.toLowerCase()]!
  return total
}

/** True when `token` is a class field (`IN`, `CH`, `HS`, `CS`, `CLASS1`). */
export function isClass(token: string): boolean {
  return CLASSES.test(token)
}

/** True when `name` ends with a dot that no backslash escapes: an absolute name. */
export function absolute(name: string): boolean {
  if (!name.endsWith('.')) return false
  let slashes = 0
  for (let i = name.length - 2; i >= 0 && name[i] === '\\'; i--) slashes++
  return slashes % 2 === 0
}

/**
 * The absolute, lower-case form of a name as a zone file spells it at `origin`: `@` is the
 * origin, a name ending with an unescaped dot is absolute, any other is relative to the origin.
 * Undefined for a relative name when the origin is unknown. ASCII letters only are folded, as
 * DNS compares names.
 */
export function absoluteName(spelled: string, origin: string | undefined): string | undefined {
  const fold = (n: string) => n.replace(/[A-Z]/g, (c) => c.toLowerCase())
  if (spelled === '@') return origin === undefined ? undefined : fold(dotted(origin))
  if (absolute(spelled)) return fold(spelled)
  if (origin === undefined) return undefined
  const o = dotted(origin)
  return fold(o === '.' ? `${spelled}.` : `${spelled}.${o}`)
}

/** `name` with its final dot (an origin given without one is absolute all the same). */
function dotted(name: string): string {
  return absolute(name) ? name : `${name}.`
}

/** The text of a span. */
export function spanText(doc: { text: string }, span: Span): string {
  return doc.text.slice(span.start, span.end)
}

/** The text of a zone document: its entries, joined. The same bytes as it was parsed from. */
export function printZone(doc: ZoneDocument): string {
  return doc.entries.map((e) => doc.text.slice(e.start, e.next)).join('')
}

/** Scans one entry from `at` (a line start): its tokens, comments, parentheses and end. */
function scanEntry(
  text: string,
  at: number,
  errors: Diagnostic[],
): { tokens: ZoneToken[]; comments: Span[]; parens: Span[]; end: number; next: number } {
  const tokens: ZoneToken[] = []
  const comments: Span[] = []
  const parens: Span[] = []
  let depth = 0
  let i = at
  const n = text.length
  while (i < n) {
    const c = text[i]!
    if (c === '\n') {
      if (depth === 0) break
      i++
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++
    } else if (c === ';') {
      const start = i
      while (i < n && text[i] !== '\n') i++
      // a CR before the line break belongs to the break, not the comment
      comments.push({ start, end: text[i - 1] === '\r' && i < n ? i - 1 : i })
    } else if (c === '(' || c === ')') {
      parens.push({ start: i, end: i + 1 })
      if (c === '(') depth++
      else if (depth > 0) depth--
      else
        errors.push({
          code: 'ZONE_SYNTAX',
          message: 'a ")" that no "(" opened',
          range: { start: i, end: i + 1 },
        })
      i++
    } else if (c === '"') {
      const start = i++
      while (i < n && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1
      if (i >= n || text[i] !== '"') {
        i = Math.min(i, n)
        errors.push({
          code: 'ZONE_SYNTAX',
          message: 'a quoted string that does not end on its line',
          range: { start, end: i },
        })
        tokens.push({ start, end: i, quoted: true })
      } else {
        tokens.push({ start, end: ++i, quoted: true })
      }
    } else {
      const start = i
      while (i < n) {
        const d = text[i]!
        if (d === '\\') {
          i += text[i + 1] === '\n' || i + 1 >= n ? 1 : 2
          continue
        }
        if (/[\s;()"]/.test(d)) break
        i++
      }
      tokens.push({ start, end: i, quoted: false })
    }
  }
  if (depth > 0)
    errors.push({
      code: 'ZONE_SYNTAX',
      message: 'a "(" that no ")" closes before the end of the file',
      range: { start: parens.findLast((p) => text[p.start] === '(')!.start, end: i },
    })
  const end = i > at && text[i - 1] === '\r' && i < n ? i - 1 : i
  return { tokens, comments, parens, end, next: i < n ? i + 1 : i }
}

/**
 * Parses a zone file (RFC 1035 master file, as BIND reads it) without throwing and without
 * losing a byte: every entry keeps its span, and each record its owner, TTL and class (in either
 * order), type and rdata as spans of the text. `$ORIGIN` changes the origin of the entries
 * after it, a blank owner is the previous record's, `@` is the origin. `$INCLUDE` is located,
 * not followed.
 */
export function parseZone(text: string, options: ParseZoneOptions = {}): ZoneDocument {
  const entries: ZoneEntry[] = []
  const errors: Diagnostic[] = []
  let origin = options.origin
  let previous: string | undefined
  let line = 1
  let at = 0
  while (at < text.length) {
    const scanned = scanEntry(text, at, errors)
    const { tokens } = scanned
    const entry: ZoneEntry = {
      kind: 'blank',
      start: at,
      end: scanned.end,
      next: scanned.next,
      line,
      tokens,
      comments: scanned.comments,
      parens: scanned.parens,
      origin,
      rdata: [],
    }
    const word = (t: ZoneToken) => text.slice(t.start, t.end)
    if (tokens.length > 0) {
      const blankOwner = tokens[0]!.start > at
      const first = word(tokens[0]!)
      if (!blankOwner && first.startsWith('$')) {
        entry.kind = 'directive'
        entry.type = tokens[0]
        entry.rdata = tokens.slice(1)
        const directive = first.toUpperCase()
        if (directive === '$ORIGIN' && tokens[1]) {
          const o = word(tokens[1])
          origin = absolute(o) ? o : origin === undefined ? undefined : `${o}.${dotted(origin)}`
        } else if (!['$ORIGIN', '$TTL', '$INCLUDE', '$GENERATE'].includes(directive) || !tokens[1])
          errors.push({
            code: 'ZONE_SYNTAX',
            message: `${first}: not a directive this parser knows, or without its argument`,
            range: tokens[0]!,
          })
      } else {
        let k = 0
        if (!blankOwner) entry.owner = tokens[k++]
        for (let fields = 0; fields < 2 && k < tokens.length; fields++) {
          const w = word(tokens[k]!)
          if (!entry.ttl && !tokens[k]!.quoted && isTtl(w)) entry.ttl = tokens[k++]
          else if (!entry.class && !tokens[k]!.quoted && isClass(w)) entry.class = tokens[k++]
          else break
        }
        if (k < tokens.length && !tokens[k]!.quoted) {
          entry.kind = 'record'
          entry.type = tokens[k]
          entry.rdata = tokens.slice(k + 1)
          const name = entry.owner ? absoluteName(word(entry.owner), origin) : previous
          if (name !== undefined) entry.name = name
          previous = name
        } else {
          entry.kind = 'invalid'
          errors.push({
            code: 'ZONE_SYNTAX',
            message: 'a record without a type',
            range: { start: tokens[0]!.start, end: tokens.at(-1)!.end },
          })
        }
      }
    }
    entries.push(entry)
    for (let i = at; i < scanned.next; i++) if (text.charCodeAt(i) === 10) line++
    at = scanned.next
  }
  return { text, entries, errors, endOrigin: origin }
}

/** The entry that holds `offset`, or undefined past the end. */
export function entryAt(doc: ZoneDocument, offset: number): ZoneEntry | undefined {
  let lo = 0
  let hi = doc.entries.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const e = doc.entries[mid]!
    if (offset < e.start) hi = mid - 1
    else if (offset >= e.next) lo = mid + 1
    else return e
  }
  return undefined
}

/** A record's type in upper case (`A`, `SOA`), or undefined for an entry that is no record. */
export function recordType(doc: ZoneDocument, e: ZoneEntry): string | undefined {
  return e.kind === 'record' && e.type ? spanText(doc, e.type).toUpperCase() : undefined
}
