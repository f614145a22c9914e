import type { Diagnostic } from '@cutover/rewrite'
import { sameAddress, type AddressFamily } from './address.js'
import { findNamed, type NamedHit } from './locate.js'
import { errorsKnown, lineOf, noteErrors, type HostsDocument, type HostsLine } from './parse.js'
import { ENTRY, familyName, findName, foldName } from './table.js'

/** An entry line that names a host, with the address it gives it. */
export interface HostsMatch {
  line: number
  address: string
  family: AddressFamily
}

const familyCode = (f: AddressFamily | undefined) => (f === 'ipv4' ? 4 : f === 'ipv6' ? 6 : 0)

/**
 * Every entry that names `name` (ASCII case-insensitive as glibc compares names, canonical name or alias), in file order,
 * optionally of one address family. `line` indexes `doc.lines`.
 */
export function lookupHost(doc: HostsDocument, name: string, family?: AddressFamily): HostsMatch[] {
  const { text, table: t } = doc
  const lower = foldName(name)
  const want = familyCode(family)
  const out: HostsMatch[] = []
  for (let i = 0; i < t.count; i++) {
    if (t.kind[i] !== ENTRY || (want && t.family[i] !== want) || findName(text, t, i, lower) === -1)
      continue
    out.push({
      line: i,
      address: text.slice(t.addrStart[i]!, t.addrEnd[i]!),
      family: familyName(t.family[i]!)!,
    })
  }
  return out
}

/**
 * Resolves `name` the way glibc's `files` source does without `multi on`: the address of the
 * first entry (of `family`, when given) that lists it, ASCII case-insensitively, or `undefined`.
 */
export function resolveHost(
  doc: HostsDocument,
  name: string,
  family?: AddressFamily,
): string | undefined {
  const { text, table: t } = doc
  const lower = foldName(name)
  const want = familyCode(family)
  for (let i = 0; i < t.count; i++) {
    if (t.kind[i] !== ENTRY || (want && t.family[i] !== want)) continue
    if (findName(text, t, i, lower) !== -1) return text.slice(t.addrStart[i]!, t.addrEnd[i]!)
  }
  return undefined
}

/**
 * Calls `visit(line, lowerName, token)` for every name token of an entry whose lower-case text
 * is in `names`, in file order; tokens of other lengths are never sliced.
 */
export function eachNamed(
  doc: HostsDocument,
  names: ReadonlySet<string>,
  visit: (line: number, lower: string, token: number) => void,
): void {
  const { text, table: t } = doc
  const lengths = new Set<number>()
  for (const n of names) lengths.add(n.length)
  for (let i = 0; i < t.count; i++) {
    if (t.kind[i] !== ENTRY) continue
    for (let k = t.nameFirst[i]!; k < t.nameFirst[i + 1]!; k++) {
      const s = t.tokens[k * 2]!
      const e = t.tokens[k * 2 + 1]!
      if (!lengths.has(e - s)) continue
      const lower = foldName(text.slice(s, e))
      if (names.has(lower)) visit(i, lower, k)
    }
  }
}

/**
 * The name tokens of entries whose lower-case text is in `names` (lower case), in file order:
 * found by one search of the text where that is exact, else by a scan of the table.
 */
export function namedIn(doc: HostsDocument, names: ReadonlySet<string>): NamedHit[] {
  const found = findNamed(doc.text, names, !errorsKnown(doc))
  if (found) {
    if (found.errors) noteErrors(doc, found.errors)
    return found.hits
  }
  const t = doc.table
  const out: NamedHit[] = []
  let line: HostsLine | undefined
  let at = -1
  eachNamed(doc, names, (i, lower, k) => {
    if (i !== at) line = lineOf(doc, (at = i))
    out.push({ line: line!, lower, span: { start: t.tokens[k * 2]!, end: t.tokens[k * 2 + 1]! } })
  })
  return out
}

/**
 * Names in `names` that one family of the document maps to more than one address: `multi on`
 * (Debian's default host.conf) returns all of them, so which one a program uses is a guess.
 * One `HOST_CONFLICT` warning per name, at the address of the first entry that disagrees.
 */
export function hostConflicts(doc: HostsDocument, names: Iterable<string>): Diagnostic[] {
  const wanted = new Set<string>()
  for (const n of names) wanted.add(foldName(n))
  return conflictsOf(doc, namedIn(doc, wanted))
}

/** {@link hostConflicts} of the names found as `hits`. */
export function conflictsOf(doc: HostsDocument, hits: readonly NamedHit[]): Diagnostic[] {
  const { text } = doc
  const first = new Map<string, string>()
  const reported = new Set<string>()
  const out: Diagnostic[] = []
  for (const { line, lower, span } of hits) {
    if (reported.has(lower)) continue
    const range = line.address!
    const address = text.slice(range.start, range.end)
    const key = `${line.family} ${lower}`
    const prior = first.get(key)
    if (prior === undefined) first.set(key, address)
    else if (!sameAddress(prior, address)) {
      reported.add(lower)
      out.push({
        code: 'HOST_CONFLICT',
        severity: 'warning',
        message: `"${text.slice(span.start, span.end)}" maps to ${prior} on an earlier line and to ${address} here`,
        range: { start: range.start, end: range.end },
      })
    }
  }
  return out
}
