import { applyEdits, checkEdits, type Edit } from '@cutover/rewrite'
import { expect } from 'vitest'
import { parseHosts, printHosts, type HostsDocument } from '../src/index.js'

/**
 * Applies `edits` to `src` after checking them (in bounds, no overlap), then checks that the
 * result round-trips, has no more malformed lines than before, and that `again` (the same
 * intent planned on the result) gives no edit. Returns the result.
 */
export function expectValidEdits(
  src: string,
  edits: readonly Edit[],
  again?: (doc: HostsDocument) => readonly Edit[],
): string {
  checkEdits(src, edits)
  const out = applyEdits(src, edits)
  const doc = parseHosts(out)
  expect(printHosts(doc)).toBe(out)
  expect(doc.errors.length).toBeLessThanOrEqual(parseHosts(src).errors.length)
  if (again) expect(again(doc)).toEqual([])
  return out
}

/** The lines of a text, for byte-level comparisons of untouched lines. */
export const linesOf = (t: string) => t.split('\n')
