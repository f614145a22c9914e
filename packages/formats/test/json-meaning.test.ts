import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { jsonStep, type JsonOptions } from '../src/index.js'
import { need, planText } from '@cutover/test-kit'

// Rewritten JSON read back by JSON.parse and by PHP's json_decode: rules match a string's
// value, so escapes (\n, \t, \u002e) neither hide a match nor make one.

const opts = (o: Partial<JsonOptions>): JsonOptions => ({ files: ['x'], ...o })
const NAME = 'finance.thehumanjourney.net'

function phpDecode(json: string): unknown {
  return JSON.parse(
    execFileSync(
      'php',
      [
        '-r',
        'echo json_encode(json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR));',
      ],
      { input: json, encoding: 'utf8' },
    ),
  )
}

describe('json: rules match the value of a string', () => {
  const src = [
    '{',
    '  "nl": "line\\nmentat-alt",',
    '  "tab": "tab\\tmentat-alt",',
    '  "cr": "cr\\rmentat-alt",',
    '  "dot": "\\u002e10.0.10.48",',
    '  "esc": "10.0.10\\u002e48",',
    '  "slash": "http:\\/\\/10.0.10.48\\/x",',
    '  "whole": "oas\\u002estaff",',
    '  "quote": "say \\"10.0.10.48\\""',
    '}',
    '',
  ].join('\n')
  const o = opts({
    addresses: 'names',
    replace: { 'mentat-alt': 'mentat' },
    variants: ['routing-keys'],
  })

  it('renames after escapes, leaves "\\u002e10.0.10.48" (value .10.0.10.48) with a near-miss, and both readers agree', async () => {
    const r = await planText(jsonStep, src, o)
    expect(r.diagnostics).toEqual([])
    expect(r.leftovers.map((l) => [src.slice(l.start, l.end), l.reason])).toEqual([
      [
        '10.0.10.48',
        'near-miss: "10.0.10.48" inside ".10.0.10.48" (the literal\'s value) is not rewritten',
      ],
    ])
    const want = {
      nl: 'line\nmentat',
      tab: 'tab\tmentat',
      cr: 'cr\rmentat',
      dot: '.10.0.10.48',
      esc: NAME,
      slash: `http://${NAME}/x`,
      whole: 'oas.staff.test',
      quote: `say "${NAME}"`,
    }
    expect(JSON.parse(r.after)).toEqual(want)
    expect((await planText(jsonStep, r.after, o)).edits).toEqual([])
    if (!need('php')) return
    expect(phpDecode(r.after)).toEqual(want)
  })

  it('reports a leftover old address hidden by an escape when no rule rewrites it', async () => {
    const r = await planText(jsonStep, '{"a": "h=10.0.10\\u002e48"}\n', opts({}))
    expect(r.leftovers).toMatchObject([
      { text: '10.0.10\\u002e48', reason: 'old address: this step has addresses: none' },
    ])
  })
})
