import { describe, expect, it } from 'vitest'
import { parseAllDocuments, visit } from 'yaml'
import { parseYaml, type YamlScalar } from '../src/index.js'

/** Every scalar `yaml` composes, as (start of its token, the string it reads), in source order. */
function yamlValues(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = []
  for (const d of parseAllDocuments(text, { keepSourceTokens: true }))
    visit(d, {
      Scalar(_k, n) {
        if (n.srcToken && typeof n.source === 'string') out.push([n.srcToken.offset, n.source])
      },
    })
  return out.sort((a, b) => a[0] - b[0])
}

/** The value characters that are copied from the source: each must be the character it maps to. */
function expectMapped(text: string, s: YamlScalar) {
  const { literal } = s
  expect(literal.value).toBe(s.value)
  if (!literal.starts) {
    expect(text.slice(literal.region.start, literal.region.end)).toBe(s.value)
    return
  }
  for (let i = 0; i < literal.value.length; i++) {
    const [a, b] = [literal.starts[i]!, literal.ends![i]!]
    expect(a).toBeGreaterThanOrEqual(literal.region.start)
    expect(b).toBeLessThanOrEqual(literal.region.end)
    if (b - a === 1 && text[a] !== literal.value[i]) expect(text[a]).toMatch(/[\s'\\]/)
  }
}

const ALL_STYLES = [
  '# top 172.20.0.1',
  'plain: &p plain value',
  '  continued',
  '',
  '  after a blank line  ',
  'double: "x\\ty \\',
  '   joined',
  '',
  '  folded  ',
  '  \\x41\\u00e9\\U0001F600"   # a comment',
  "single: 'it''s",
  '',
  "  here '",
  'literal: |+ # header comment',
  '  line1',
  '   line2',
  '',
  'folded: >-',
  '  a',
  '  b',
  '',
  '  c',
  '    more indented',
  '  d',
  'flow: [a, "b", 172.20.0.1, {k: v}]',
  'port: 8080',
  'alias: *p',
  '? complex key',
  ': v',
  '---',
  '- second document',
  '',
].join('\n')

describe('parseYaml', () => {
  it('locates every scalar of every style, with the value yaml reads and its source mapping', () => {
    for (const text of [ALL_STYLES, ALL_STYLES.replace(/\n/g, '\r\n')]) {
      const doc = parseYaml(text)
      expect(doc.errors).toEqual([])
      expect(doc.scalars.map((s) => [s.start, s.value])).toEqual(yamlValues(text))
      for (const s of doc.scalars) {
        expect(s.mapped).toBe(true)
        expectMapped(text, s)
      }
      const byPath = (p: string) => doc.scalars.find((s) => !s.key && s.path.join('.') === p)!
      expect(byPath('double').value).toBe('x\ty joined\nfolded Aé😀')
      expect(byPath('single').value).toBe("it's\nhere ")
      expect(byPath('literal').value).toBe('line1\n line2\n\n')
      expect(byPath('folded').value).toBe('a b\nc\n  more indented\nd')
      expect(byPath('plain').value).toBe('plain value continued\nafter a blank line')
      expect(doc.scalars.map((s) => s.style)).toEqual(
        expect.arrayContaining(['plain', 'single', 'double', 'literal', 'folded']),
      )
    }
  })

  it('gives key paths, keys, flow context, types and documents', () => {
    const text = [
      'services:',
      '  db:',
      '    ports: ["172.20.0.5:5432:5432"]',
      '    environment:',
      '      DB_HOST: 172.20.0.5',
      '      DB_PORT: 5432',
      '---',
      '- [x, {y: z}]',
      '',
    ].join('\n')
    const doc = parseYaml(text)
    const rows = doc.scalars.map((s) => [s.value, s.path, s.key, s.flow, s.type, s.document])
    expect(rows).toEqual([
      ['services', [], true, false, 'string', 0],
      ['db', ['services'], true, false, 'string', 0],
      ['ports', ['services', 'db'], true, false, 'string', 0],
      ['172.20.0.5:5432:5432', ['services', 'db', 'ports', 0], false, true, 'string', 0],
      ['environment', ['services', 'db'], true, false, 'string', 0],
      ['DB_HOST', ['services', 'db', 'environment'], true, false, 'string', 0],
      ['172.20.0.5', ['services', 'db', 'environment', 'DB_HOST'], false, false, 'string', 0],
      ['DB_PORT', ['services', 'db', 'environment'], true, false, 'string', 0],
      ['5432', ['services', 'db', 'environment', 'DB_PORT'], false, false, 'number', 0],
      ['x', [0, 0], false, true, 'string', 1],
      ['y', [0, 1], true, true, 'string', 1],
      ['z', [0, 1, 'y'], false, true, 'string', 1],
    ])
    const ports = doc.scalars[3]!
    expect(text.slice(ports.start, ports.end)).toBe('"172.20.0.5:5432:5432"')
    expect(ports.style).toBe('double')
    expect(text.slice(ports.literal.region.start, ports.literal.region.end)).toBe(ports.value)
  })

  it('finds comments outside scalars, block headers included, and the quote most scalars use', () => {
    const text = "a: 'x#y' # one\n#two\nb: |  # three\n  #not\nc: v#not\nd: 'p'\ne: \"q\"\n"
    const doc = parseYaml(text)
    expect(doc.comments.map((c) => text.slice(c.start, c.end))).toEqual([
      '# one',
      '#two',
      '# three',
    ])
    expect(doc.quote).toBe("'")
    expect(parseYaml('a: b\n').quote).toBe('"')
  })

  it('returns syntax errors as data, with their range', () => {
    const doc = parseYaml('a: [1, 2\nb: "open\n')
    expect(doc.errors.length).toBeGreaterThan(0)
    expect(doc.errors[0]).toMatchObject({
      code: 'YAML_SYNTAX',
      range: { start: expect.any(Number) },
    })
  })
})
