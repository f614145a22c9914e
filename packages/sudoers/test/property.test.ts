import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyEdits } from '@cutover/rewrite'
import { ensureRule, parseSudoers, printSudoers } from '../src/index.js'

const token = fc.constantFrom(
  '\n',
  '\r\n',
  '\t',
  ' ',
  '#',
  '\\\n',
  ',',
  ':',
  '=',
  '!',
  '(',
  ')',
  '"',
  '%',
  '+',
  '@',
  '^',
  '$',
  '*',
  'ALL',
  'root',
  'www-data',
  'FOO',
  'NOPASSWD:',
  'SETENV:',
  'CWD=/tmp',
  'Defaults',
  'Defaults:www-data',
  'Defaults@host',
  'Defaults>root',
  'Defaults!/bin/ls',
  'User_Alias',
  'Cmnd_Alias',
  'Host_Alias',
  'Runas_Alias',
  '#include',
  '@includedir',
  '#0',
  '/bin/ls',
  'sha256:abc=',
  'sudoedit',
  '10.0.10.48',
  'env_keep+=',
  '"quoted"',
  '\u00e9',
)

describe('properties', () => {
  it('parse then print is the identity and never throws', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (parts) => {
        const src = parts.join('')
        const doc = parseSudoers(src)
        expect(printSudoers(doc)).toBe(src)
        for (const e of doc.errors) expect(e.range.start).toBeLessThanOrEqual(src.length)
      }),
      { numRuns: 3000 },
    )
  })
  it('ensureRule on any parsed text adds a rule once', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), (parts) => {
        const src = parts.join('')
        const doc = parseSudoers(src)
        if (doc.errors.length) return
        const edits = ensureRule(doc, 'www-data ALL=(finance) NOPASSWD: /bin/true')
        // the generated texts never hold this rule: the first call always adds it
        expect(edits.length).toBeGreaterThan(0)
        const out = applyEdits(src, edits)
        const again = parseSudoers(out)
        expect(again.errors).toEqual([])
        expect(out).toContain('www-data ALL=(finance) NOPASSWD: /bin/true')
        expect(ensureRule(again, 'www-data ALL = (finance) NOPASSWD:/bin/true')).toEqual([])
      }),
      { numRuns: 2000 },
    )
  })
})
