/**
 * IPv4 networks and IPv6 addresses as numbers, for the address rules that are not one literal
 * each: every address of a network that moves, and an inventory host's IPv6 address in any
 * spelling (docs/design.md §3).
 */

/** An IPv4 network: its base address as an unsigned 32-bit number, and its prefix length. */
export interface Net {
  base: number
  len: number
}

const isDigit = (c: number) => c >= 48 && c <= 57
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)

/** The mask of a prefix length, as an unsigned 32-bit number. */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0
}

/** The dotted form of an unsigned 32-bit number. */
export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

/**
 * The IPv4 address written at `text[at, hi)`: four octets of at most three digits, each at most
 * 255, without a leading zero, separated by `.`; undefined when there is none. `end` is where it
 * ends (the caller checks what follows).
 */
export function readIPv4(
  text: string,
  at: number,
  hi: number,
): { value: number; end: number } | undefined {
  let value = 0
  let i = at
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= hi || text.charCodeAt(i) !== 46) return undefined
      i++
    }
    const start = i
    let v = 0
    while (i < hi && i - start < 3 && isDigit(text.charCodeAt(i)))
      v = v * 10 + text.charCodeAt(i++) - 48
    if (i === start || v > 255 || (i - start > 1 && text.charCodeAt(start) === 48)) return undefined
    value = value * 256 + v
  }
  return { value, end: i }
}

/** The number of a whole dotted-quad address, or undefined. */
export function ipv4Value(s: string): number | undefined {
  const r = readIPv4(s, 0, s.length)
  return r && r.end === s.length ? r.value : undefined
}

/** `a.b.c.d/len` as a network, or a problem: not a CIDR, or host bits set. */
export function parseCidr(s: string): Net | string {
  const slash = s.indexOf('/')
  const base = slash === -1 ? undefined : ipv4Value(s.slice(0, slash))
  const lenText = slash === -1 ? '' : s.slice(slash + 1)
  if (base === undefined || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(lenText))
    return `expected a network such as 172.20.0.0/24 (an IPv4 address, "/", a prefix length 0-32), got "${s}"`
  const len = Number(lenText)
  if ((base & ~maskOf(len)) >>> 0 !== 0)
    return `${s} has host bits set: the network is ${formatIPv4((base & maskOf(len)) >>> 0)}/${len}`
  return { base, len }
}

/** Whether the address `a` is in `net`. */
export function inNet(a: number, net: Net): boolean {
  return (a & maskOf(net.len)) >>> 0 === net.base
}

/**
 * The address of `a` (in `from`) with the same host part in `to`, or `to`'s broadcast address
 * for `from`'s when their prefixes differ; undefined when the host part does not fit `to` (a
 * longer prefix).
 */
export function mapAddress(a: number, from: Net, to: Net): number | undefined {
  const host = (a & ~maskOf(from.len)) >>> 0
  // the broadcast address of a network of another size is the new network's broadcast address:
  // `172.20.0.255` of a /24 moved to a /16 is `10.20.255.255`, not a host `10.20.0.255`
  if (from.len !== to.len && from.len <= 30 && host === ~maskOf(from.len) >>> 0)
    return (to.base | ~maskOf(to.len)) >>> 0
  if ((host & maskOf(to.len)) >>> 0 !== 0) return undefined
  return (to.base | host) >>> 0
}

/** The dotted netmask of a prefix length (`255.255.255.0` for 24). */
export function netmaskOf(len: number): string {
  return formatIPv4(maskOf(len))
}

/** The prefix length of a dotted netmask (`255.255.255.0` → 24), or undefined when it is none. */
export function prefixOfNetmask(n: number): number | undefined {
  for (let len = 0; len <= 32; len++) if (maskOf(len) === n) return len
  return undefined
}

/**
 * The text a prefilter looks for to find the addresses of a network: its whole leading octets
 * and a dot (`172.20.0.` for a /24, `172.20.` for a /16 or a /20); undefined for a prefix
 * shorter than 8, whose addresses share no leading octet.
 */
export function netNeedle(net: Net): string | undefined {
  const octets = Math.min(3, Math.floor(net.len / 8))
  if (octets === 0) return undefined
  return formatIPv4(net.base).split('.').slice(0, octets).join('.') + '.'
}

/**
 * What follows an address at `end` that makes it an address position: `/len` (a CIDR) or blanks
 * and a dotted netmask (`v6`: an IPv6 address, whose prefix goes to 128 and which has no mask). `prefix` is the length given; `suffixStart` where the length or the mask
 * begins.
 */
export function addressSuffix(
  text: string,
  end: number,
  hi: number,
  v6 = false,
): { prefix: number; suffixStart: number; end: number; mask: boolean } | undefined {
  if (end >= hi) return undefined
  const c = text.charCodeAt(end)
  if (c === 47) {
    let i = end + 1
    let v = 0
    while (i < hi && i - end - 1 < (v6 ? 3 : 2) && isDigit(text.charCodeAt(i)))
      v = v * 10 + text.charCodeAt(i++) - 48
    if (i === end + 1 || v > (v6 ? 128 : 32) || pathGoesOn(text, i, hi)) return undefined
    return { prefix: v, suffixStart: end + 1, end: i, mask: false }
  }
  // an IPv6 address has no dotted netmask
  if (v6 || (c !== 32 && c !== 9)) return undefined
  let i = end
  while (i < hi && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++
  const m = readIPv4(text, i, hi)
  if (!m || !ipv4EndOk(text, m.end, hi)) return undefined
  const prefix = prefixOfNetmask(m.value)
  // a mask of at least 8 bits: `10.0.0.1 0.0.0.0` is two addresses, not an address and a mask
  if (prefix === undefined || prefix < 8) return undefined
  return { prefix, suffixStart: i, end: m.end, mask: true }
}

/**
 * Whether a prefix length ends too soon to be one: followed by a letter, a digit, `_`, `-` or `/`,
 * or by `.` and one of them (`http://10.0.0.1/24/index.html` is a path, not a CIDR; a sentence's
 * final dot is not).
 */
function pathGoesOn(text: string, i: number, hi: number): boolean {
  const wordish = (c: number) =>
    isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 47
  if (i >= hi) return false
  const c = text.charCodeAt(i)
  return wordish(c) || (c === 46 && i + 1 < hi && wordish(text.charCodeAt(i + 1)))
}

/** The IPv4 end rule: not followed by a digit, nor by `.` and a digit. */
export function ipv4EndOk(text: string, end: number, hi: number): boolean {
  if (end >= hi) return true
  const c = text.charCodeAt(end)
  if (isDigit(c)) return false
  return !(c === 46 && end + 1 < hi && isDigit(text.charCodeAt(end + 1)))
}

/**
 * The canonical form of an IPv6 address (eight groups of four lowercase hex digits, an embedded
 * IPv4 tail converted), so that every spelling of one address compares equal; undefined when `s`
 * is not one.
 */
export function canonicalIPv6(s: string): string | undefined {
  if (s.length < 2 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return undefined
  let groups: string[]
  const tailAt = s.lastIndexOf(':')
  let head = s
  const tail: string[] = []
  if (s.includes('.')) {
    const v4 = ipv4Value(s.slice(tailAt + 1))
    if (v4 === undefined) return undefined
    tail.push(((v4 >>> 16) & 0xffff).toString(16), (v4 & 0xffff).toString(16))
    head = s.slice(0, tailAt + 1)
    // `::1.2.3.4` and `a:b::1.2.3.4` end the head with `::`; `a:…:f:1.2.3.4` with one `:`
    head = head.endsWith('::') ? head : head.slice(0, -1)
  }
  const parts = head.split('::')
  if (parts.length > 2) return undefined
  const split = (p: string) => (p === '' ? [] : p.split(':'))
  const left = split(parts[0]!)
  const right = parts.length === 2 ? split(parts[1]!) : []
  const given = left.length + right.length + tail.length
  if (parts.length === 2) {
    if (given > 7) return undefined
    groups = [...left, ...new Array<string>(8 - given).fill('0'), ...right, ...tail]
  } else {
    if (given !== 8) return undefined
    groups = [...left, ...tail]
  }
  if (groups.some((g) => g.length === 0 || g.length > 4 || !/^[0-9A-Fa-f]+$/.test(g)))
    return undefined
  return groups.map((g) => g.toLowerCase().padStart(4, '0')).join(':')
}

/**
 * The texts an IPv6 address written in any spelling starts with, for a prefilter: its first
 * group in every width and in both cases, then `:`; `::` too when the first group is zero.
 */
export function ipv6Needles(canonical: string): string[] {
  const first = canonical.slice(0, 4)
  const bare = first.replace(/^0+(?=.)/, '')
  const out = new Set<string>()
  for (let w = bare.length; w <= 4; w++) {
    const g = bare.padStart(w, '0')
    out.add(`${g}:`)
    out.add(`${g.toUpperCase()}:`)
  }
  if (bare === '0') out.add('::')
  return [...out]
}

/**
 * The IPv6 address written at `text[at, hi)`, whole: not preceded by a hex digit, `:` or `.`, the
 * longest run of hex digits, `:` and `.` from `at` (a trailing `.` or single `:` left out, as in
 * a sentence or `[addr]:port` written without brackets is not supported); undefined when that
 * run is not an IPv6 address.
 */
export function readIPv6(
  text: string,
  at: number,
  lo: number,
  hi: number,
): { canonical: string; end: number } | undefined {
  if (at > lo) {
    const b = text.charCodeAt(at - 1)
    if (isHex(b) || b === 58 || b === 46) return undefined
  }
  let i = at
  while (i < hi && i - at < 45) {
    const c = text.charCodeAt(i)
    if (!(isHex(c) || c === 58 || c === 46)) break
    i++
  }
  if (i < hi && i - at >= 45) return undefined
  let end = i
  while (end > at && text.charCodeAt(end - 1) === 46) end--
  if (end > at + 1 && text.charCodeAt(end - 1) === 58 && text.charCodeAt(end - 2) !== 58) end--
  const canonical = canonicalIPv6(text.slice(at, end))
  return canonical === undefined ? undefined : { canonical, end }
}
