import { isIPv4, isIPv6 } from 'node:net'

/** The address family of an entry: what `gethostbyname` (IPv4) or an IPv6 lookup would see. */
export type AddressFamily = 'ipv4' | 'ipv6'

/**
 * The family of an address as hosts(5) accepts it (`inet_pton`): a dotted quad without leading
 * zeros, or an IPv6 address (a `%zone` suffix is tolerated, as on macOS). `undefined` otherwise.
 */
export function addressFamily(text: string): AddressFamily | undefined {
  if (text.includes(':')) return isIPv6(text) ? 'ipv6' : undefined
  return isIPv4(text) ? 'ipv4' : undefined
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
