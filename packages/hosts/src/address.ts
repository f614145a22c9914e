import { isIPv4, isIPv6 } from 'node:net'

/** The address family of an entry: what `gethostbyname` (IPv4) or an IPv6 lookup would see. */
export type AddressFamily = 'ipv4' | 'ipv6'

/**
 * The family of an address as hosts(5) accepts it (`inet_pton`): a dotted quad without leading
 * zeros, or an IPv6 address (a `%zone` suffix is tolerated, as on macOS). `undefined` otherwise.
 * An IPv4-mapped IPv6 address (`::ffff:10.0.10.48`) is `ipv4`: glibc answers IPv4 lookups
 * (`gethostbyname`, `getent ahostsv4`) from it with the address it maps, so for the names on its
 * line it is that IPv4 address.
 */
export function addressFamily(text: string): AddressFamily | undefined {
  if (text.includes(':')) {
    if (plainIPv6(text)) return mappedIPv4(text) === undefined ? 'ipv6' : 'ipv4'
    if (!isIPv6(text)) return undefined
    return mappedIPv4(text) === undefined ? 'ipv6' : 'ipv4'
  }
  return isIPv4(text) ? 'ipv4' : undefined
}

const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/

/**
 * The dotted quad an IPv4-mapped IPv6 address (`::ffff:0:0/96`, in any spelling:
 * `::ffff:10.0.10.48`, `::FFFF:a00:a30`, `0:0:0:0:0:ffff:10.0.10.48`) maps, or undefined for any
 * other text (a zone suffix included: `inet_pton` rejects it).
 */
export function mappedIPv4(text: string): string | undefined {
  // every spelling has "ffff" and at least one ':' before it
  if (text.length < 9 || text.includes('%') || !/ffff/i.test(text)) return undefined
  const m = MAPPED.exec(canonicalIPv6(text))
  if (!m) return undefined
  const hi = Number.parseInt(m[1]!, 16)
  const lo = Number.parseInt(m[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/**
 * The text to write in place of the address `original` so that it gives `address`: a dotted
 * quad replacing the IPv4 of an IPv4-mapped address keeps the mapped spelling
 * (`::ffff:10.0.10.48` → `::ffff:10.0.10.49`), so that IPv6 and unspecified lookups move too.
 */
export function addressInPlaceOf(original: string, address: string): string {
  if (address.includes(':') || mappedIPv4(original) === undefined) return address
  const dotted = /^(.*:)\d+\.\d+\.\d+\.\d+$/.exec(original)
  return `${dotted ? dotted[1] : '::ffff:'}${address}`
}

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)

/**
 * True for an IPv6 address in the plain form (groups of 1 to 4 hex digits; 8 of them, or at
 * most 7 around one `::`; no zone, no IPv4 tail), which `isIPv6` accepts too. A quick answer
 * for the common case: its regular expression is slow, and a hosts file may hold thousands.
 */
export function plainIPv6(text: string): boolean {
  const n = text.length
  let groups = 0
  let digits = 0
  let double = false
  let i = 0
  if (text.startsWith('::')) {
    double = true
    i = 2
    if (n === 2) return true
  }
  for (; i < n; i++) {
    const c = text.charCodeAt(i)
    if (isHex(c)) {
      if (++digits > 4) return false
      continue
    }
    if (c !== 58 || digits === 0) return false
    groups++
    digits = 0
    if (i + 1 < n && text.charCodeAt(i + 1) === 58) {
      if (double) return false
      double = true
      i++
      if (i + 1 === n) return groups <= 7
    }
  }
  if (digits === 0) return false
  groups++
  return double ? groups <= 7 : groups === 8
}

/** The canonical text of an IPv6 address (`0:0::1` → `::1`), keeping a zone suffix as given. */
function canonicalIPv6(text: string): string {
  const zone = text.indexOf('%')
  const bare = zone === -1 ? text : text.slice(0, zone)
  try {
    const host = new URL(`http://[${bare}]/`).hostname
    return host.slice(1, -1) + (zone === -1 ? '' : text.slice(zone))
  } catch {
    return text.toLowerCase()
  }
}

/**
 * True when two addresses name the same host address (`::1` equals `0::1`; an IPv4-mapped
 * address equals the IPv4 address it maps; IPv4 text is compared as is).
 */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true
  const ca = a.includes(':')
  const cb = b.includes(':')
  if (!ca && !cb) return false
  if (ca && cb && canonicalIPv6(a) === canonicalIPv6(b)) return true
  const va = ca ? mappedIPv4(a) : a
  return va !== undefined && va === (cb ? mappedIPv4(b) : b)
}
