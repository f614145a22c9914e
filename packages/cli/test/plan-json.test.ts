import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { PlanDocument } from '@cutover/rewrite'
import { planHash, planJson } from '../src/output/plan-json.js'
import { createHash } from 'node:crypto'

// characters whose escaping differs: controls, quotes, backslash, DEL, the JS line separators,
// both halves of a pair alone or together, and plain text of one, two and three UTF-8 bytes
const unit = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\u001f',
  '\b',
  '\t',
  '\n',
  '\f',
  '\r',
  '"',
  '\\',
  '/',
  '\u007f',
  '\u2028',
  '\u2029',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '😀',
  'é',
  'a',
  'z',
  ' ',
  '€',
)
const short = fc.string({ unit, maxLength: 12 })
// a string longer than the 16K escaped at once, its odd characters right around a cut
const long = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -6, max: 6 }), short, short)
  .map(([cuts, off, a, b]) => {
    const at = (1 << 14) * cuts + off
    return 'x'.repeat(Math.max(0, at - a.length)) + a + b + 'y'.repeat(off & 3)
  })
const text = fc.oneof({ weight: 4, arbitrary: short }, { weight: 1, arbitrary: long })
const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 1e21, 5e-324, NaN, -Infinity),
)
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, undefined),
    number,
    text,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(short, fc.constantFrom('0', '10', '2', '__proto__', 'toJSON')),
      tie('value'),
      {
        maxKeys: 4,
      },
    ),
  ),
}))
const doc = fc.dictionary(fc.oneof(short, fc.constantFrom('version', 'changes', '1')), value, {
  maxKeys: 5,
})

describe('the plan document in pieces, on any value', () => {
  it('is JSON.stringify(doc, null, 2) with a final newline, and its hash that of those bytes', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const pieces = [...planJson(d as unknown as PlanDocument)]
        const whole = JSON.stringify(d, null, 2) + '\n'
        expect(pieces.join('')).toBe(whole)
        const sha = createHash('sha256').update(Buffer.from(whole, 'utf8')).digest('hex')
        expect(planHash(d as unknown as PlanDocument)).toBe(`sha256:${sha}`)
      }),
      { numRuns: 400 },
    )
  })
})
