import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { continuedAt, escapedAt } from '../src/hiding.js'

/** Where `re` matches, each offset tried (the meaning the loops must keep). */
function matches(text: string, re: RegExp): number[] {
  const out: number[] = []
  const g = new RegExp(re.source, 'g')
  for (let m = g.exec(text); m; m = g.exec(text)) {
    out.push(m.index)
    g.lastIndex = m.index + 1
  }
  return out
}

const CONTINUED = /'[ \t\f]*(?:--[^\n\r]*)?[\n\r](?:[ \t\n\r\f\v]|--[^\n\r]*[\n\r])*'/
const ESCAPED = /\\(?![.N](?:[\t\r\n]|$))[^\r\n]/

// the characters both patterns turn on, and some that they do not
const pieces = ["'", "''", '\\', '\\.', '\\N', '.', 'N', '-', '--', '-- c', ' ', '\t', '\f', '\v']
const text = fc
  .array(fc.constantFrom(...pieces, '\n', '\r', '\r\n', 'x', '48', 'é', '\u{1F600}'), {
    maxLength: 24,
  })
  .map((a) => a.join(''))

describe('the places a needle may hide', () => {
  it('continuedAt finds every quote the pattern of a continued string matches at', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(continuedAt(t)).toEqual(matches(t, CONTINUED))
      }),
      { numRuns: 5000 },
    )
  })

  it('escapedAt finds every backslash the pattern of an escape matches at', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(escapedAt(t)).toEqual(matches(t, ESCAPED))
      }),
      { numRuns: 5000 },
    )
  })

  it('finds the forms a dump uses', () => {
    const t = "'host=10.0.10.'\n  -- x\n'48' E'\\x31' a\\N\tb\\.\n\\.x"
    expect(continuedAt(t)).toEqual([t.indexOf("'\n")])
    expect(escapedAt(t)).toEqual([t.indexOf('\\x'), t.lastIndexOf('\\.')])
  })
})
