import { applyEdits, checkEdits, type Edit } from '@cutover/rewrite'
import { expect } from 'vitest'
import { parseSudoers, type SudoersDocument } from '../src/index.js'

/**
 * Checks edits the way every handler's must hold: in bounds, no overlap, a clean re-parse of
 * the result, and `[]` when the same operation runs on the result.
 */
export function expectValidEdits(
  src: string,
  edits: Edit[],
  again: (doc: SudoersDocument) => Edit[],
): string {
  checkEdits(src, edits)
  const out = applyEdits(src, edits)
  const doc = parseSudoers(out)
  expect(doc.errors).toEqual([])
  expect(again(doc)).toEqual([])
  return out
}
