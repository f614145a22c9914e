import { isIPv4, isIPv6 } from 'node:net'

/** The address family of an entry: what `gethostbyname` (IPv4) or an IPv6 lookup would see. */
export type AddressFamily = 'ipv4' | 'ipv6'

/**
 * The family of an address as hosts(5) accepts it (`inet_pton`): a dotted quad without leading
 * zeros, or an IPv6 address (a `%zone` suffix is tolerated, as on macOS). `undefined` otherwise.
 */
export function addressFamily(text: string): AddressFamily | undefined {
  if (text.includes(':')) return plainIPv6(text) || isIPv6(text) ? 'ipv6' : undefined
  return isIPv4(text) ? 'ipv4' : undefined
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

/** True when two addresses name the same host address (`::1` equals `0::1`; IPv4 text is compared as is). */
export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true
  if (!a.includes(':') || !b.includes(':')) return false
  return canonicalIPv6(a) === canonicalIPv6(b)
}
