import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Document, isCollection, parse, parseAllDocuments, type Scalar, visit } from 'yaml'
import { parseYaml, yamlStep, type YamlOptions, type YamlStyle } from '../src/yaml/index.js'
import { financeContext as context, planText } from '@cutover/test-kit'
import { mappedAt, referenceScalars } from './yaml-reference.js'

// Property tests of the yaml step's parser: scalars of every style, written by `yaml` itself or
// spelled from YAML's tokens (escapes, folds, chomping, indentation), located and decoded to the
// value `yaml` reads, in block and flow collections, keys, several documents, LF and CRLF.

/** Checks every located scalar against `yaml`: same tokens, same values, each value character mapped. */
function expectDecoded(text: string): YamlStyle[] {
  const doc = parseYaml(text)
  expect(doc.errors).toEqual([])
  const ref = referenceScalars(text)
  expect(doc.scalars.map((s) => s.start)).toEqual(ref.map((r) => r.offset))
  doc.scalars.forEach((s, k) => {
    expect({ at: s.start, value: s.literal.value, mapped: s.mapped }).toEqual({
      at: s.start,
      value: ref[k]!.source,
      mapped: true,
    })
    expect([...s.literal.value].every((_c, i) => mappedAt(text, s, i))).toBe(true)
    expect({ at: s.start, path: s.path, key: s.key }).toEqual({
      at: s.start,
      path: ref[k]!.path,
      key: ref[k]!.key,
    })
  })
  return doc.scalars.map((s) => s.style)
}

const STYLE_TYPES = [
  'PLAIN',
  'QUOTE_SINGLE',
  'QUOTE_DOUBLE',
  'BLOCK_LITERAL',
  'BLOCK_FOLDED',
] as const

/** Strings made of what makes YAML quoting, folding and escaping hard. */
const VALUE = fc
  .array(
    fc.constantFrom(
      'a',
      'db',
      ' ',
      '  ',
      '\n',
      '\n\n',
      '\t',
      ':',
      ': ',
      ' #',
      '#',
      '-',
      '- ',
      '"',
      "'",
      '\\',
      ',',
      '[',
      ']',
      '{',
      '}',
      '&a',
      '*a',
      '!',
      '|',
      '>',
      '%',
      '@',
      '`',
      '?',
      'é',
      '\u00a0',
      '\u2028',
      '\r',
      '\x07',
      '10.0.10.48',
      '172.20.0.5:9100:9100',
      'db-a.dept.example.edu:172.20.0.5',
      'true',
      '0x1F',
      '~',
      'null',
      '1e3',
      'a long line of words that the writer folds at a narrow width',
      'db-a.dept.example.edu',
    ),
    { maxLength: 8 },
  )
  .map((a) => a.join(''))

describe('yaml parser: property tests', () => {
  it('values written by yaml in every style, anywhere in a document, decode to themselves', () => {
    const seen = new Set<string>()
    let identity = 0
    fc.assert(
      fc.property(
        fc.array(fc.tuple(VALUE, fc.constantFrom(...STYLE_TYPES)), {
          minLength: 6,
          maxLength: 6,
        }),
        fc.integer({ min: 12, max: 80 }),
        fc.boolean(),
        fc.boolean(),
        (vs, lineWidth, crlf, twoDocs) => {
          const [a, b, c, d, e, f] = vs.map(([v]) => v)
          const data = {
            a,
            list: [b, { k: c }],
            flow: [d, e],
            nested: { deeper: { f } },
            [a!]: 'as a key',
          }
          const doc = new Document(data)
          const flow = doc.get('flow', true)
          if (isCollection(flow)) flow.flow = true
          let i = 0
          visit(doc, {
            Scalar(_k, node: Scalar) {
              node.type = vs[i++ % vs.length]![1]
            },
          })
          const one = doc.toString({ lineWidth, minContentWidth: 0 })
          let text = twoDocs ? `${one}---\n# second\n${one}` : one
          if (crlf) text = text.replace(/\n/g, '\r\n')
          // `yaml` forced to a style it cannot write (a plain `:` then an empty line) writes what it
          // then refuses to read: not a text the reader is asked about
          if (parseAllDocuments(text).some((x) => x.errors.length > 0)) return
          for (const s of expectDecoded(text)) seen.add(s)
          // where the writer is lossless (`yaml` writes a lone blank as a block scalar that reads
          // back empty), the values located are the values written
          if (!crlf && JSON.stringify(parse(one)) === JSON.stringify(data)) {
            identity++
            const located = parseYaml(one).scalars.map((s) => s.literal.value)
            for (const v of [a, b, c, d, e, f, 'as a key']) expect(located).toContain(v)
          }
        },
      ),
      { numRuns: 400 },
    )
    expect([...seen].sort()).toEqual(['double', 'folded', 'literal', 'plain', 'single'])
    expect(identity).toBeGreaterThan(100)
  })

  // Scalars spelled from tokens, as people write them: the reader must agree with `yaml` on
  // every spelling `yaml` accepts.
  const tokens = (ts: string[], max = 10) =>
    fc.array(fc.constantFrom(...ts), { minLength: 1, maxLength: max }).map((a) => a.join(''))
  const DOUBLE = tokens([
    'a',
    '10.0.10.48',
    ' ',
    '\t',
    '\\n',
    '\\t',
    '\\"',
    '\\\\',
    '\\/',
    '\\x41',
    '\\u00e9',
    '\\U0001F600',
    '\\0',
    '\\e',
    '\\N',
    '\\_',
    '\\L',
    '\\ ',
    '\\\n    ',
    '\\\r\n    ',
    '\n    ',
    '\r\n    ',
    '\n\n    ',
    '\n   \n    ',
    "'",
    '#',
    ': ',
  ]).map((s) => `"${s}"`)
  const SINGLE = tokens([
    'a',
    '10.0.10.48',
    ' ',
    '\t',
    "''",
    '\\',
    '"',
    '\n    ',
    '\r\n    ',
    '\n\n    ',
    '\n  \t \n    ',
    '#',
    ': ',
  ]).map((s) => `'${s}'`)
  const PLAIN = fc
    .tuple(
      fc.constantFrom('a', '10.0.10.48', 'db-a.x:172.20.0.5', 'x'),
      tokens([
        'b',
        '10.0.10.48',
        ' ',
        '\t',
        ':x',
        '#',
        ' c',
        '\n    d',
        '\r\n    d',
        '\n\n    e',
        '-',
      ]),
    )
    .map(([h, t]) => h + t)
  const BLOCK = fc
    .tuple(
      fc.constantFrom('|', '|-', '|+', '>', '>-', '>+', '|2', '>2-', '|1+', '| # c', '>- # c'),
      fc.array(
        fc.constantFrom(
          '    a',
          '    10.0.10.48 b',
          '      more indented',
          '    \tblank-led',
          '',
          '  ',
          '     ',
          '    x  ',
          '    # not a comment',
        ),
        { minLength: 1, maxLength: 8 },
      ),
      fc.constantFrom('\n', '\r\n'),
      fc.constantFrom('', '\n', '\n\n', '\n  \n'),
    )
    .map(([h, ls, nl, tail]) => `${h}${nl}${ls.join(nl)}${nl}${tail.replace(/\n/g, nl)}`)
  const PLACE = fc.constantFrom(
    (s: string) => `k: ${s}\n`,
    (s: string) => `top:\n  k: ${s}\n  after: 1\n`,
    (s: string) => `- ${s}\n- z\n`,
    (s: string) => `---\nfirst: 1\n---\nk: ${s}\n`,
    (s: string) => `k: &anchor ${s}\nl: *anchor\n`,
    (s: string) => `k: !tag ${s}\n`,
  )
  const FLOW_PLACE = fc.constantFrom(
    (s: string) => `k: [${s}, z]\n`,
    (s: string) => `k: {a: ${s}, b: z}\n`,
    (s: string) => `${s}: v\n`,
  )

  // Whole documents from YAML's structural tokens: directives, document markers, complex keys,
  // nested sequences, anchors and tags on keys, comments, tabs, a byte order mark, flow
  // collections over several lines, JSON-style `"k":v`.
  const LINE = fc.constantFrom(
    '%YAML 1.2\n---\n',
    '---\n',
    '--- # c\n',
    '...\n',
    '# comment 10.0.10.48\n',
    'k: v\n',
    'k:\tv # c\n',
    'k: 10.0.10.48 # 10.0.10.48\n',
    '"q": "10.0.10.48:9100:9100"\n',
    "'s': 'it''s'\n",
    '? complex key\n: value\n',
    '? |\n  block key\n: v\n',
    '- - a\n  - 172.20.0.5/24\n',
    '- k: v\n  l: w\n',
    '&a anchored: !!str 1\n',
    '*a : aliased key\n',
    'ports: ["172.20.0.10:9100:9100", 80]\n',
    'm: {"k":v, x: [1, "2"], y: {}}\n',
    'f: [a,\n  b, c\n  ]\n',
    'e:\n',
    'n: ~\n',
    'b: !!binary aGVsbG8=\n',
    't: !custom\n  x: 1\n',
    'blk: |2\n\n   x\n  y\n',
    'fold: >\n  a\n  b\n\n   c\n  d\n',
    'str: "a\\\n  b"\n',
    'plain: a\n  b\n\n  c\n',
    'k2: v\r\n',
    '\ufeff',
  )
  it('documents from structural tokens: every scalar located and decoded as yaml reads it', () => {
    let checked = 0
    fc.assert(
      fc.property(fc.array(LINE, { minLength: 1, maxLength: 10 }), (ls) => {
        const text = ls.join('')
        const docs = parseAllDocuments(text)
        if (docs.some((d) => d.errors.length > 0)) return
        checked++
        expectDecoded(text)
      }),
      { numRuns: 1000 },
    )
    expect(checked).toBeGreaterThan(100)
  })

  it.each([
    ['double-quoted', DOUBLE, true],
    ['single-quoted', SINGLE, true],
    ['plain', PLAIN, false],
    ['block', BLOCK, false],
  ] as const)('%s scalars spelled from tokens decode as yaml reads them', (_n, scalar, inFlow) => {
    let checked = 0
    fc.assert(
      fc.property(scalar, inFlow ? fc.oneof(PLACE, FLOW_PLACE) : PLACE, (s, place) => {
        const text = place(s)
        const docs = parseAllDocuments(text)
        if (docs.some((d) => d.errors.length > 0)) return
        checked++
        expectDecoded(text)
      }),
      { numRuns: 500 },
    )
    // most spellings are valid YAML: the property is not vacuous
    expect(checked).toBeGreaterThan(100)
  })

  // Edits through the step: a rule's edit or a `set` changes its scalar's value and nothing else
  // `yaml` reads, whatever the style the scalar was written in.
  // the finance inventory's host that moves, as the matcher finds its address (design.md §3)
  const { old: OLD, new: NEW } = context().inventory[0]!
  const FOUND = new RegExp(`(?<![\\d.])${OLD.replace(/\./g, '\\.')}(?!\\d|\\.\\d)`, 'g')
  const moved = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.replace(FOUND, NEW)
      : Array.isArray(v)
        ? v.map(moved)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, moved(x)]))
          : v
  const opts = (o: Partial<YamlOptions>): YamlOptions => ({ files: ['x'], ...o })
  const written = (
    vs: ReadonlyArray<readonly [string, (typeof STYLE_TYPES)[number]]>,
    lineWidth: number,
  ) => {
    const [a, b, c, d, e] = vs.map(([v]) => v)
    const data = { a, list: [b, { k: c }], flow: [d], nested: { deeper: { e } } }
    const doc = new Document(data)
    const flow = doc.get('flow', true)
    if (isCollection(flow)) flow.flow = true
    let i = 0
    visit(doc, {
      Scalar(_k, node: Scalar) {
        node.type = vs[i++ % vs.length]![1]
      },
    })
    const text = doc.toString({ lineWidth, minContentWidth: 0 })
    // a text the writer cannot read back itself is no input for the step
    return parseAllDocuments(text).some((x) => x.errors.length > 0) ? undefined : { data, text }
  }
  const VALUES = fc.array(fc.tuple(VALUE, fc.constantFrom(...STYLE_TYPES)), {
    minLength: 5,
    maxLength: 5,
  })

  it('an address rule edits only the values holding the address, as yaml reads them', async () => {
    let edited = 0
    await fc.assert(
      fc.asyncProperty(VALUES, fc.integer({ min: 12, max: 80 }), async (vs, lineWidth) => {
        const w = written(vs, lineWidth)
        if (!w) return
        const { text } = w
        const before = parse(text) as unknown
        const r = await planText(yamlStep, text, opts({ addresses: 'new' }), context())
        if (r.edits.length > 0) edited++
        expect(parse(r.after)).toEqual(moved(before))
        expect(parseYaml(r.after).errors).toEqual([])
      }),
      { numRuns: 300 },
    )
    expect(edited).toBeGreaterThan(50)
  })

  it('set writes a value of any text at a path, read back as that string, the rest unchanged', async () => {
    let set = 0
    const PATHS = ['a', 'list.0', 'list.1.k', 'flow.0', 'nested.deeper.e'] as const
    await fc.assert(
      fc.asyncProperty(
        VALUES,
        fc.integer({ min: 12, max: 80 }),
        fc.constantFrom(...PATHS),
        VALUE,
        async (vs, lineWidth, path, v) => {
          const w = written(vs, lineWidth)
          if (!w) return
          const { text } = w
          const before = parse(text) as Record<string, unknown>
          const r = await planText(yamlStep, text, opts({ set: { [path]: v } }), context())
          const refused = r.diagnostics.filter((d) => d.code === 'SET_UNSAFE')
          if (refused.length > 0) {
            // a value the scalar's style cannot hold is refused, never garbled
            expect(r.edits).toEqual([])
            return
          }
          set++
          const expected = structuredClone(before)
          const keys = path.split('.')
          let at: Record<string, unknown> = expected
          for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>
          at[keys.at(-1)!] = v
          expect(parse(r.after)).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
    // most values are written (a block scalar's are refused)
    expect(set).toBeGreaterThan(100)
  })

  it('a replace: rule writes any text in place of a name, in any style, or leaves the scalar whole', async () => {
    const FROM = 'db-a.dept.example.edu'
    // a name as the matcher finds one: not inside a longer label (design.md §3)
    const NAME = /(?<![A-Za-z0-9_-])db-a\.dept\.example\.edu(?![A-Za-z0-9_-])/g
    let replaced = 0
    await fc.assert(
      fc.asyncProperty(
        VALUES,
        fc.integer({ min: 12, max: 80 }),
        VALUE,
        async (vs, lineWidth, to) => {
          const w = written(vs, lineWidth)
          if (!w || to === '') return
          const r = await planText(yamlStep, w.text, opts({ replace: { [FROM]: to } }), context())
          expect(parseYaml(r.after).errors).toEqual([])
          // each value is its old self with every match replaced, or (a change its style cannot
          // hold, reported) its old self
          const before = parse(w.text) as unknown
          const after = parse(r.after) as unknown
          const refused = r.diagnostics.some((d) => d.code === 'YAML_UNENCODABLE')
          const same = (b: unknown, a: unknown): boolean =>
            typeof b === 'string'
              ? a === b.replace(NAME, () => to) || (refused && a === b)
              : Array.isArray(b)
                ? Array.isArray(a) && a.length === b.length && b.every((x, i) => same(x, a[i]))
                : b !== null && typeof b === 'object'
                  ? a !== null &&
                    typeof a === 'object' &&
                    JSON.stringify(Object.keys(a)) === JSON.stringify(Object.keys(b)) &&
                    Object.entries(b).every(([k, x]) => same(x, (a as Record<string, unknown>)[k]))
                  : Object.is(a, b)
          expect({ text: r.after, ok: same(before, after) }).toEqual({ text: r.after, ok: true })
          if (r.edits.length > 0) replaced++
        },
      ),
      { numRuns: 300 },
    )
    expect(replaced).toBeGreaterThan(30)
  })
})
