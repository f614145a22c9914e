import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyEdits } from '@cutover/rewrite'
import { iniStep, jsonStep, parseIni, parseJson, phpStep, tokenizePhp } from '../src/index.js'
import { financeContext as context } from '@cutover/test-kit'

const text = (tokens: string[]) =>
  fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((a) => a.join(''))

const PHP = text([
  '<?php ',
  '?>',
  "'",
  '"',
  '$user',
  '{$a}',
  '<<<EOT\n',
  '\nEOT;\n',
  "<<<'N'\n",
  '//',
  '#',
  '/*',
  '*/',
  '\n',
  '\r\n',
  ' ',
  '10.0.10.48',
  '10.0.10.480',
  'oas.staff',
  "define('DB_HOST', ",
  ');',
  ' => ',
  '\\',
  '`',
])
const INI = text([
  '[s]',
  '[',
  ']',
  'key',
  ' = ',
  '=',
  '"',
  "'",
  ';',
  '#',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\\',
  '10.0.10.48',
  'oas.staff',
  '!include x',
])
const JSON_ = text([
  '{',
  '}',
  '[',
  ']',
  '"',
  '"k": ',
  ',',
  ':',
  '//',
  '/*',
  '*/',
  '\n',
  ' ',
  '\\',
  '"10.0.10.48"',
  '1',
  'null',
])

describe('config parsers: property tests over format tokens', () => {
  it('php: tokens concatenate to any input; planning never crashes and edits stay in bounds', async () => {
    await fc.assert(
      fc.asyncProperty(PHP, async (src) => {
        expect((await tokenizePhp(src)).map((t) => t.text).join('')).toBe(src)
        const r = await phpStep.plan(
          { path: 'x', text: src, encoding: 'utf8' },
          { files: ['x'], addresses: 'names', variants: ['routing-keys'] },
          context(),
        )
        applyEdits(src, r.edits)
      }),
      { numRuns: 300 },
    )
  })

  it('ini: lines concatenate to any input; a second plan of the result edits nothing', async () => {
    await fc.assert(
      fc.asyncProperty(INI, async (src) => {
        const doc = parseIni(src)
        expect(doc.lines.map((l) => src.slice(l.start, l.end)).join('')).toBe(src)
        const o = { files: ['x'], addresses: 'names' as const }
        const r = await iniStep.plan({ path: 'x', text: src, encoding: 'utf8' }, o, context())
        const after = applyEdits(src, r.edits)
        expect(
          (await iniStep.plan({ path: 'x', text: after, encoding: 'utf8' }, o, context())).edits,
        ).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('json: never crashes, spans are in bounds, edits apply', async () => {
    await fc.assert(
      fc.asyncProperty(JSON_, async (src) => {
        const doc = await parseJson(src)
        for (const s of [...doc.strings, ...doc.keys, ...doc.comments])
          expect(s.start >= 0 && s.start <= s.end && s.end <= src.length).toBe(true)
        const r = await jsonStep.plan(
          { path: 'x', text: src, encoding: 'utf8' },
          { files: ['x'], addresses: 'names' },
          context(),
        )
        applyEdits(src, r.edits)
      }),
      { numRuns: 300 },
    )
  })
})
