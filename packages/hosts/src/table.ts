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
export const familyName = (code: number): AddressFamily | undefined =>
  code === 4 ? 'ipv4' : code === 6 ? 'ipv6' : undefined

/** How many lines `text[from, to)` has: its line breaks, plus a last line without one. */
export function countLines(text: string, from = 0, to = text.length): number {
  let count = 0
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) count++
  if (to > from && text.charCodeAt(to - 1) !== 10) count++
  return count
}

/**
 * Scans the lines of `text[from, to)` into a {@link LineTable} (offsets into `text`), pushing
 * `BAD_ADDRESS`/`MISSING_NAME` diagnostics. `from` and `to` must be line boundaries (a line's
 * start, the end of the text); by default the whole text. Makes no string for a well-formed line.
 */
export function scanTable(
  text: string,
  errors: Diagnostic[],
  from = 0,
  to = text.length,
): LineTable {
  const count = countLines(text, from, to)
  const start = new Int32Array(count)
  const end = new Int32Array(count)
  const next = new Int32Array(count)
  const kind = new Uint8Array(count)
  const family = new Uint8Array(count)
  const addrStart = new Int32Array(count)
  const addrEnd = new Int32Array(count)
  const comment = new Int32Array(count)
  const nameFirst = new Int32Array(count + 1)
  let tokens = new Int32Array(Math.max(16, count * 4))
  let tok = 0
  let crlf = 0
  let i = from
  for (let li = 0; li < count; li++) {
    const s0 = i
    let nl = text.indexOf('\n', i)
    if (nl === -1 || nl >= to) nl = to
    nameFirst[li] = tok
    let as = -1
    let ae = -1
    let com = -1
    while (i < nl) {
      const c = text.charCodeAt(i)
      if (isBlank(c)) {
        i++
        continue
      }
      if (c === 35) {
        com = i
        break
      }
      const s = i++
      while (i < nl) {
        const d = text.charCodeAt(i)
        if (isBlank(d) || d === 35) break
        i++
      }
      if (as === -1) {
        as = s
        ae = i
        continue
      }
      if (tok * 2 + 2 > tokens.length) {
        const grown = new Int32Array(tokens.length * 2)
        grown.set(tokens)
        tokens = grown
      }
      tokens[tok * 2] = s
      tokens[tok * 2 + 1] = i
      tok++
    }
    const cr = nl < to && nl > s0 && text.charCodeAt(nl - 1) === 13
    if (cr) crlf++
    start[li] = s0
    end[li] = cr ? nl - 1 : nl
    next[li] = nl < to ? nl + 1 : to
    addrStart[li] = as
    addrEnd[li] = ae
    comment[li] = com
    if (as === -1) kind[li] = com === -1 ? BLANK : COMMENT
    else {
      const f = classify(text, as, ae, tok - nameFirst[li]!, errors)
      kind[li] = f === 0 || tok === nameFirst[li] ? INVALID : ENTRY
      family[li] = f
    }
    i = nl + 1
  }
  nameFirst[count] = tok
  return {
    count,
    crlf,
    start,
    end,
    next,
    kind,
    family,
    addrStart,
    addrEnd,
    comment,
    nameFirst,
    tokens,
  }
}

/** The family code (4, 6, or 0 for none) of the address `text[as, ae)` of a line with `names` names; reports a malformed line. */
export function classify(
  text: string,
  as: number,
  ae: number,
  names: number,
  errors: Diagnostic[],
): number {
  const f = familyAt(text, as, ae)
  if (!f) {
    errors.push({
      code: 'BAD_ADDRESS',
      message: `expected an IPv4 or IPv6 address, got "${text.slice(as, ae)}"`,
      range: { start: as, end: ae },
    })
    return 0
  }
  if (names === 0)
    errors.push({
      code: 'MISSING_NAME',
      message: `expected a host name after the address ${text.slice(as, ae)}`,
      range: { start: as, end: ae },
    })
  return f === 'ipv4' ? 4 : 6
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
 * A host name as glibc's resolver compares names (`strcasecmp`): ASCII letters lower-cased, every
 * other character as it is. Never `toLowerCase()`, which makes U+212A KELVIN SIGN a `k`.
 */
export function foldName(name: string): string {
  return /[A-Z]/.test(name)
    ? name.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32))
    : name
}

/** Index of the first name token of line `li` whose folded text ({@link foldName}) is `lower`, or -1. */
export function findName(text: string, t: LineTable, li: number, lower: string): number {
  const len = lower.length
  for (let k = t.nameFirst[li]!; k < t.nameFirst[li + 1]!; k++) {
    const s = t.tokens[k * 2]!
    if (t.tokens[k * 2 + 1]! - s === len && foldName(text.slice(s, s + len)) === lower) return k
  }
  return -1
}

/** Codes of {@link LineTable.kind}: indexes into {@link KINDS}. */
export { BLANK, COMMENT, ENTRY, INVALID }
