import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyEdits, checkEdits, mapOffset, type Edit } from '../src/edit/edit.js'
import { forward, shiftsOf, unmapOffset } from '../src/plan/plan-file.js'

/** The offset in the input of `offset` in the output, by a walk from the first edit. */
function unmapWalk(offset: number, sorted: readonly Edit[]): number {
  let delta = 0
  for (const e of sorted) {
    const start = e.start + delta
    if (start > offset || (start === offset && e.text.length > 0)) break
    delta += e.text.length - (e.end - e.start)
  }
  return offset - delta
}

// a text and edits laid over it (insertions, deletions, replacements, several at one offset)
const pass = fc
  .tuple(
    fc.nat(60),
    fc.array(fc.tuple(fc.nat(6), fc.nat(5), fc.string({ maxLength: 4 })), { maxLength: 12 }),
  )
  .map(([length, raw]) => {
    const text = 'x'.repeat(length)
    const edits: Edit[] = []
    let at = 0
    for (const [gap, size, t] of raw) {
      const start = Math.min(length, at + gap)
      const end = Math.min(length, start + size)
      edits.push({ start, end, text: t, rule: `r${edits.length}` })
      at = end
    }
    let sorted: Edit[]
    try {
      sorted = checkEdits(text, edits)
    } catch {
      sorted = []
    }
    return { text, sorted }
  })

describe('offsets through a pass, by binary search', () => {
  it('forward gives what mapOffset gives, at every offset', () => {
    fc.assert(
      fc.property(pass, ({ text, sorted }) => {
        const s = shiftsOf(sorted)
        for (let o = 0; o <= text.length; o++) expect(forward(o, s)).toBe(mapOffset(o, sorted))
      }),
      { numRuns: 500 },
    )
  })

  it('unmapOffset gives what the walk from the first edit gives, at every offset', () => {
    fc.assert(
      fc.property(pass, ({ text, sorted }) => {
        const s = shiftsOf(sorted)
        const out = applyEdits(text, sorted)
        for (let o = 0; o <= out.length; o++) expect(unmapOffset(o, s)).toBe(unmapWalk(o, sorted))
      }),
      { numRuns: 500 },
    )
  })
})
