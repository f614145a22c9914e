import { describe, expect, it } from 'vitest'
import { Matcher, applyEdits, type Edit, type Pattern } from '../src/index.js'

const addr = (find: string, replace: string): Pattern => ({
  find,
  replace,
  rule: 'addresses',
  boundary: 'ipv4',
  kind: 'address',
})
const label = (find: string, replace: string, rule = 'replace'): Pattern => ({
  find,
  replace,
  rule,
  boundary: 'label',
  kind: 'name',
})
const token = (find: string, replace: string): Pattern => ({
  find,
  replace,
  rule: 'variants',
  boundary: 'token',
  kind: 'variant',
})

function rewrite(text: string, patterns: Pattern[]): string {
  const { matches } = new Matcher(patterns).scan(text)
  const edits: Edit[] = matches
    .filter((m) => m.pattern.find !== m.pattern.replace)
    .map((m) => ({ start: m.start, end: m.end, text: m.pattern.replace, rule: m.pattern.rule }))
  return applyEdits(text, edits)
}

describe('IPv4 boundaries', () => {
  const p = [addr('10.0.10.48', 'finance.example.net')]
  it.each([
    ['10.0.10.480', '10.0.10.480'],
    ['110.0.10.48', '110.0.10.48'],
    ['10.0.10.48.5', '10.0.10.48.5'],
    ['ip-10-0-10-48', 'ip-10-0-10-48'],
  ])('leaves the decoy %s alone', (input, out) => {
    expect(rewrite(input, p)).toBe(out)
  })
  it.each([
    ['host=10.0.10.48;', 'host=finance.example.net;'],
    ["'10.0.10.48:5432'", "'finance.example.net:5432'"],
    ['//10.0.10.48/', '//finance.example.net/'],
    ['a,10.0.10.48,b', 'a,finance.example.net,b'],
    ['10.0.10.48', 'finance.example.net'],
    ['10.0.10.48.', 'finance.example.net.'],
    ['10.0.10.48/32', 'finance.example.net/32'],
    ['postgresql://u@10.0.10.48/db', 'postgresql://u@finance.example.net/db'],
  ])('rewrites %s', (input, out) => {
    expect(rewrite(input, p)).toBe(out)
  })
  it('maps a prefix address separately from the longer one', () => {
    const both = [addr('10.0.10.4', 'four.example.net'), addr('10.0.10.48', 'finance.example.net')]
    expect(rewrite('10.0.10.4 10.0.10.48 10.0.10.4:80 10.0.10.40', both)).toBe(
      'four.example.net finance.example.net four.example.net:80 10.0.10.40',
    )
    expect(rewrite('x 10.0.10.4.5 y', both)).toBe('x 10.0.10.4.5 y')
  })
  it('reports near-misses but not inside accepted matches', () => {
    const m = new Matcher([addr('10.0.10.4', 'a'), addr('10.0.10.48', 'b')])
    const { matches, nearMisses } = m.scan('10.0.10.48 10.0.10.480')
    expect(matches.map((x) => x.pattern.find)).toEqual(['10.0.10.48'])
    expect(nearMisses).toMatchObject([{ start: 11, pattern: { find: '10.0.10.48' } }])
  })
})

describe('host labels', () => {
  const p = [label('mentat-alt', 'mentat-hub')]
  it('renames only whole labels', () => {
    expect(
      rewrite(
        'mentat-alt mentat-alternative old-mentat-alt /var/mentat-alt/ mentat-alt.cesnet.cz mentat_alt',
        p,
      ),
    ).toBe(
      'mentat-hub mentat-alternative old-mentat-alt /var/mentat-hub/ mentat-hub.cesnet.cz mentat_alt',
    )
  })
  it('swaps in one pass', () => {
    const swap = [
      label('mentat-hub.cesnet.cz', 'mentat-alt.cesnet.cz', 'swap'),
      label('mentat-alt.cesnet.cz', 'mentat-hub.cesnet.cz', 'swap'),
    ]
    expect(rewrite('A=mentat-hub.cesnet.cz B=mentat-alt.cesnet.cz', swap)).toBe(
      'A=mentat-alt.cesnet.cz B=mentat-hub.cesnet.cz',
    )
  })
  it('prefers the longest pattern at a position (rename and swap together)', () => {
    const ps = [
      label('mentat-alt', 'mentat-hub'),
      label('mentat-alt.cesnet.cz', 'mentat-hub.cesnet.cz', 'swap'),
      label('mentat-hub.cesnet.cz', 'mentat-alt.cesnet.cz', 'swap'),
    ]
    expect(rewrite('mentat-alt mentat-alt.cesnet.cz mentat-hub.cesnet.cz', ps)).toBe(
      'mentat-hub mentat-hub.cesnet.cz mentat-alt.cesnet.cz',
    )
  })
  it('swaps IPv4 addresses with address boundaries', () => {
    const ps: Pattern[] = [
      {
        find: '147.251.21.10',
        replace: '147.251.21.11',
        rule: 'swap',
        boundary: 'ipv4',
        kind: 'name',
      },
      {
        find: '147.251.21.11',
        replace: '147.251.21.10',
        rule: 'swap',
        boundary: 'ipv4',
        kind: 'name',
      },
    ]
    expect(
      rewrite('address 147.251.21.10\ngateway 147.251.21.1\npeer 147.251.21.11 147.251.21.100', ps),
    ).toBe('address 147.251.21.11\ngateway 147.251.21.1\npeer 147.251.21.10 147.251.21.100')
  })
})

describe('variants', () => {
  const toTest = [token('oas.staff', 'oas.staff.test'), token('oas.staff.test', 'oas.staff.test')]
  const toLive = [token('oas.staff', 'oas.staff'), token('oas.staff.test', 'oas.staff')]
  it('flips to the active profile and is idempotent', () => {
    const once = rewrite('k=oas.staff,oas.staff.test,oas.staff.extra,xoas.staff', toTest)
    expect(once).toBe('k=oas.staff.test,oas.staff.test,oas.staff.extra,xoas.staff')
    expect(rewrite(once, toTest)).toBe(once)
    expect(rewrite(once, toLive)).toBe('k=oas.staff,oas.staff,oas.staff.extra,xoas.staff')
  })
})

describe('Matcher', () => {
  it('refuses one literal with two replacements', () => {
    expect(() => new Matcher([label('a', 'b'), label('a', 'c', 'swap')])).toThrow(
      /"a" is rewritten to "b" by rule "replace" and to "c" by rule "swap"/,
    )
  })
  it('scans a region with its ends as boundaries', () => {
    const m = new Matcher([addr('10.0.10.48', 'x')])
    const text = "1'10.0.10.48'1"
    expect(m.scan(text, 2, 12).matches).toHaveLength(1)
    expect(m.scan('110.0.10.48', 1, 11).matches).toHaveLength(1)
  })
  it('gives needles only for rewriting patterns', () => {
    expect(new Matcher([token('a.b', 'a.b'), token('c', 'a.b')]).needles()).toEqual(['c'])
  })
})
