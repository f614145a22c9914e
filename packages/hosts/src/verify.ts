import type { Diagnostic } from '@cutover/rewrite'
import { sameAddress, type AddressFamily } from './address.js'
import { spanText, type HostsDocument } from './parse.js'
import { hostConflicts, namedIn } from './resolve.js'
import { foldName } from './table.js'

interface Expected {
  name: string
  address: string
  family: AddressFamily
}

/** Every address each of `names` (lower case) has in `doc`, in file order, in one pass. */
function addressesOf(
  doc: HostsDocument,
  names: ReadonlySet<string>,
): Map<string, Array<{ address: string; family: AddressFamily }>> {
  const out = new Map<string, Array<{ address: string; family: AddressFamily }>>()
  for (const { line, lower } of namedIn(doc, names)) {
    const list = out.get(lower) ?? []
    list.push({ address: spanText(doc, line.address!), family: line.family! })
    out.set(lower, list)
  }
  return out
}

/**
 * Checks a plan by resolving on its result `after` (the planned text parsed, or the part of it
 * that holds every ensured and removed name): every ensured name must resolve first-match to its
 * address and to no other address of its family (`HOST_UNRESOLVED`, an error: the plan is
 * wrong), every removed name must be gone (`HOST_NOT_REMOVED`), and a renamed name that the
 * result maps to two addresses is a `HOST_CONFLICT` warning.
 */
export function verifyPlan(
  after: HostsDocument,
  ensured: readonly Expected[],
  removed: ReadonlySet<string>,
  renamed: readonly string[],
): Diagnostic[] {
  const names = new Set([...ensured.map((e) => foldName(e.name)), ...removed])
  const found = addressesOf(after, names)
  const out: Diagnostic[] = []
  const at = { start: 0, end: 0 }
  for (const e of ensured) {
    const mine = (found.get(foldName(e.name)) ?? []).filter((f) => f.family === e.family)
    const wrong = mine.find((f) => !sameAddress(f.address, e.address))
    if (mine.length === 0 || wrong) {
      out.push({
        code: 'HOST_UNRESOLVED',
        message: `after this plan "${e.name}" would resolve to ${wrong?.address ?? 'nothing'}, not ${e.address}`,
        range: at,
      })
    }
  }
  for (const r of removed) {
    if (found.has(r))
      out.push({
        code: 'HOST_NOT_REMOVED',
        message: `after this plan "${r}" would still be listed`,
        range: at,
      })
  }
  if (renamed.length) {
    for (const d of hostConflicts(after, renamed))
      out.push({ ...d, range: at, message: `after this plan, ${d.message}` })
  }
  return out
}
