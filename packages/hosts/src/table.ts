import type { Diagnostic } from '@cutover/rewrite'
import { addressFamily, type AddressFamily } from './address.js'

/** Line kinds, indexed by {@link LineTable.kind}. */
export const KINDS = ['blank', 'comment', 'entry', 'invalid'] as const
/** What a line holds (see `HostsLine`). */
export type LineKind = (typeof KINDS)[number]
const BLANK = 0
const COMMENT = 1
const ENTRY = 2
const INVALID = 3

/**
 * A parsed hosts file as flat arrays, one slot per line: what scans of large files (a
 * 200,000-line blocklist) read without allocating an object per line or token. Offsets index
 * the text; `-1` means absent.
 */
export interface LineTable {
  count: number
  start: Int32Array
  end: Int32Array
  next: Int32Array
  kind: Uint8Array
  /** 4 or 6 for an address of that family, 0 otherwise. */
  family: Uint8Array
  addrStart: Int32Array
  addrEnd: Int32Array
  comment: Int32Array
  /** Names of line `i` are tokens `nameFirst[i]` to `nameFirst[i + 1]` (exclusive). */
  nameFirst: Int32Array
  /** `[start, end]` pairs of every name token, in order. */
  tokens: Int32Array
  /** How many lines end with `\r\n`. */
  crlf: number
}

// glibc splits fields with isspace(): space, \t, \v, \f and a \r that does not end the line
const isBlank = (c: number) => c === 32 || c === 9 || c === 13 || c === 11 || c === 12

/** The family of a table slot's code. */
export const familyName = (code: number): AddressFamily | undefined => (code === 4 ? 'ipv4' : code === 6 ? 'ipv6' : undefined)

/** Scans `text` into a {@link LineTable}, pushing `BAD_ADDRESS`/`MISSING_NAME` diagnostics. */
export function scanTable(text: string, errors: Diagnostic[]): LineTable {
  const n = text.length
  let count = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++
  if (n > 0 && text.charCodeAt(n - 1) !== 10) count++
  const t: LineTable = {
    count, crlf: 0,
    start: new Int32Array(count), end: new Int32Array(count), next: new Int32Array(count),
    kind: new Uint8Array(count), family: new Uint8Array(count),
    addrStart: new Int32Array(count).fill(-1), addrEnd: new Int32Array(count).fill(-1), comment: new Int32Array(count).fill(-1),
    nameFirst: new Int32Array(count + 1), tokens: new Int32Array(Math.max(16, count * 4)),
  }
  let tok = 0
  let start = 0
  for (let li = 0; li < count; li++) {
    let nl = text.indexOf('\n', start)
    if (nl === -1) nl = n
    const end = nl > start && text.charCodeAt(nl - 1) === 13 && nl < n ? nl - 1 : nl
    if (end < nl) t.crlf++
    t.start[li] = start
    t.end[li] = end
    t.next[li] = nl < n ? nl + 1 : n
    t.nameFirst[li] = tok
    let i = start
    while (i < end) {
      const c = text.charCodeAt(i)
      if (isBlank(c)) {
        i++
        continue
      }
      if (c === 35) {
        t.comment[li] = i
        break
      }
      const s = i
      while (i < end) {
        const d = text.charCodeAt(i)
        if (isBlank(d) || d === 35) break
        i++
      }
      if (t.addrStart[li] === -1) {
        t.addrStart[li] = s
        t.addrEnd[li] = i
        continue
      }
      if (tok * 2 + 2 > t.tokens.length) {
        const grown = new Int32Array(t.tokens.length * 2)
        grown.set(t.tokens)
        t.tokens = grown
      }
      t.tokens[tok * 2] = s
      t.tokens[tok * 2 + 1] = i
      tok++
    }
    classify(text, t, li, tok - t.nameFirst[li]!, errors)
    start = nl + 1
  }
  t.nameFirst[count] = tok
  return t
}

function classify(text: string, t: LineTable, li: number, names: number, errors: Diagnostic[]): void {
  const as = t.addrStart[li]!
  if (as === -1) {
    t.kind[li] = t.comment[li] === -1 ? BLANK : COMMENT
    return
  }
  const ae = t.addrEnd[li]!
  const family = familyAt(text, as, ae)
  const range = { start: as, end: ae }
  if (!family) {
    t.kind[li] = INVALID
    errors.push({ code: 'BAD_ADDRESS', message: `expected an IPv4 or IPv6 address, got "${text.slice(as, ae)}"`, range })
    return
  }
  t.family[li] = family === 'ipv4' ? 4 : 6
  if (names === 0) {
    t.kind[li] = INVALID
    errors.push({ code: 'MISSING_NAME', message: `expected a host name after the address ${text.slice(as, ae)}`, range })
    return
  }
  t.kind[li] = ENTRY
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

/** Index of the first name token of line `li` whose lower-case text is `lower`, or -1. */
export function findName(text: string, t: LineTable, li: number, lower: string): number {
  const len = lower.length
  for (let k = t.nameFirst[li]!; k < t.nameFirst[li + 1]!; k++) {
    const s = t.tokens[k * 2]!
    if (t.tokens[k * 2 + 1]! - s === len && text.slice(s, s + len).toLowerCase() === lower) return k
  }
  return -1
}

/** Codes of {@link LineTable.kind}: indexes into {@link KINDS}. */
export { BLANK, COMMENT, ENTRY, INVALID }
