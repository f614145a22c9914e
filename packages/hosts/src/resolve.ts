import type { Diagnostic } from '@cutover/rewrite'
import { sameAddress, type AddressFamily } from './address.js'
import { spanText, type HostsDocument, type HostsLine } from './parse.js'

/** An entry line that names a host, with the address it gives it. */
export interface HostsMatch { line: number; address: string; family: AddressFamily }

function hasName(doc: HostsDocument, line: HostsLine, lower: string): boolean {
  for (const n of line.names) {
    if (n.end - n.start === lower.length && spanText(doc, n).toLowerCase() === lower) return true
  }
  return false
}

/**
 * Every entry that names `name` (case-insensitive, canonical name or alias), in file order,
 * optionally of one address family.
 */
export function lookupHost(doc: HostsDocument, name: string, family?: AddressFamily): HostsMatch[] {
  const lower = name.toLowerCase()
  const out: HostsMatch[] = []
  doc.lines.forEach((line, i) => {
    if (line.kind !== 'entry' || (family && line.family !== family)) return
    if (hasName(doc, line, lower)) out.push({ line: i, address: spanText(doc, line.address!), family: line.family! })
  })
  return out
}

/**
 * Resolves `name` the way glibc's `files` source does without `multi on`: the address of the
 * first entry (of `family`, when given) that lists it, or `undefined`.
 */
export function resolveHost(doc: HostsDocument, name: string, family?: AddressFamily): string | undefined {
  const lower = name.toLowerCase()
  for (const line of doc.lines) {
    if (line.kind !== 'entry' || (family && line.family !== family)) continue
    if (hasName(doc, line, lower)) return spanText(doc, line.address!)
  }
  return undefined
}

/**
 * Names in `names` that one family of the document maps to more than one address: `multi on`
 * (Debian's default host.conf) returns all of them, so which one a program uses is a guess.
 * One `HOST_CONFLICT` warning per name, at the first entry that disagrees with the first match.
 */
export function hostConflicts(doc: HostsDocument, names: Iterable<string>): Diagnostic[] {
  const wanted = new Set<string>()
  const lengths = new Set<number>()
  for (const n of names) wanted.add(n.toLowerCase())
  for (const n of wanted) lengths.add(n.length)
  const first = new Map<string, string>()
  const reported = new Set<string>()
  const out: Diagnostic[] = []
  for (const line of doc.lines) {
    if (line.kind !== 'entry') continue
    const address = spanText(doc, line.address!)
    for (const n of line.names) {
      if (!lengths.has(n.end - n.start)) continue
      const name = spanText(doc, n).toLowerCase()
      if (!wanted.has(name) || reported.has(name)) continue
      const key = `${line.family} ${name}`
      const prior = first.get(key)
      if (prior === undefined) first.set(key, address)
      else if (!sameAddress(prior, address)) {
        reported.add(name)
        out.push({
          code: 'HOST_CONFLICT',
          severity: 'warning',
          message: `"${spanText(doc, n)}" maps to ${prior} on an earlier line and to ${address} here`,
          range: line.address!,
        })
      }
    }
  }
  return out
}
