import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseZone, printZone, spanText } from '../src/index.js'

const ORIGIN = 'example.net.'
const blank = fc.constantFrom(' ', '\t', '  ', '\t\t', ' \t')
const owner = fc.constantFrom('@', '', 'www', 'WWW', 'db.example.net.', 'a\\.b', 'mail')
const ttl = fc.option(fc.constantFrom('300', '86400', '1h', '1h30m', '2W'), { nil: undefined })
const klass = fc.option(fc.constantFrom('IN', 'in', 'CH'), { nil: undefined })
const rdataOf: Record<string, fc.Arbitrary<string[]>> = {
  A: fc.constantFrom(['10.0.10.48'], ['192.0.2.1']),
  MX: fc.constantFrom(['10', 'mail'], ['20', 'mx.example.org.']),
  CNAME: fc.constantFrom(['www'], ['db.example.net.']),
  TXT: fc.constantFrom(
    ['"v=spf1 -all"'],
    ['"a;b"', '"c\\"d"'],
    ['"semi; colon"'],
    ['\\065bc'],
    ['""'],
  ),
}
const record = fc.record({
  owner,
  ttl,
  klass,
  classFirst: fc.boolean(),
  type: fc.constantFrom('A', 'MX', 'CNAME', 'TXT'),
  seps: fc.array(blank, { minLength: 8, maxLength: 8 }),
  comment: fc.option(fc.constantFrom('; note', ';', '; (x) "y"'), { nil: undefined }),
  parens: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n'),
  rdataPick: fc.nat(),
})
const line = fc.oneof(
  { weight: 6, arbitrary: record.map((r) => ({ kind: 'record' as const, ...r })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('$TTL 3600', '$ORIGIN example.net.', '; only a comment', '')
      .map((text) => ({ kind: 'other' as const, text })),
  },
)

interface Expected {
  owner?: string
  name?: string
  ttl?: string
  klass?: string
  type: string
  rdata: string[]
}

type Line = typeof line extends fc.Arbitrary<infer L> ? L : never

/** A zone file from the lines, and what each record must be read as. */
function build(lines: fc.Arbitrary<Line[]>) {
  return lines.chain((ls) =>
    fc
      .tuple(...ls.map((l) => (l.kind === 'record' ? rdataOf[l.type]! : fc.constant<string[]>([]))))
      .map((rdatas) => {
        let text = ''
        const expected: Expected[] = []
        let previous: string | undefined
        ls.forEach((l, i) => {
          if (l.kind === 'other') {
            text += `${l.text}\n`
            return
          }
          const s = l.seps
          const fields = [l.ttl, l.klass]
          if (l.classFirst) fields.reverse()
          const head = [...fields.filter((f) => f !== undefined), l.type]
          const rdata = rdatas[i]!
          // a blank owner is written as leading blanks; the first record always has an owner
          const ownerText = l.owner === '' && previous === undefined ? '@' : l.owner
          let t = ownerText === '' ? s[0]! : `${ownerText}${s[0]}`
          t += head.join(s[1])
          t += l.parens
            ? `${s[2]}(${l.eol}${s[3]}${rdata.join(`${l.eol}${s[4]}`)}${s[5]})`
            : `${s[2]}${rdata.join(s[3])}`
          if (l.comment) t += `${s[6]}${l.comment}`
          text += t + l.eol
          const name =
            ownerText === ''
              ? previous
              : ownerText === '@'
                ? ORIGIN
                : ownerText.endsWith('.')
                  ? ownerText.toLowerCase()
                  : `${ownerText.toLowerCase()}.${ORIGIN}`
          previous = name
          expected.push({
            ...(ownerText !== '' ? { owner: ownerText } : {}),
            ...(name !== undefined ? { name } : {}),
            ...(l.ttl !== undefined ? { ttl: l.ttl } : {}),
            ...(l.klass !== undefined ? { klass: l.klass } : {}),
            type: l.type,
            rdata,
          })
        })
        return { text, expected }
      }),
  )
}

describe('zone files built from zone tokens', () => {
  it('print back byte for byte, and every record is read field by field', () => {
    fc.assert(
      fc.property(build(fc.array(line, { maxLength: 12 })), ({ text, expected }) => {
        const doc = parseZone(text, { origin: 'example.net' })
        expect(printZone(doc)).toBe(text)
        expect(doc.errors).toEqual([])
        const got = doc.entries
          .filter((e) => e.kind === 'record')
          .map((e) => ({
            ...(e.owner ? { owner: spanText(doc, e.owner) } : {}),
            ...(e.name !== undefined ? { name: e.name } : {}),
            ...(e.ttl ? { ttl: spanText(doc, e.ttl) } : {}),
            ...(e.class ? { klass: spanText(doc, e.class) } : {}),
            type: spanText(doc, e.type!),
            rdata: e.rdata.map((t) => spanText(doc, t)),
          }))
        expect(got).toEqual(expected)
      }),
      { numRuns: 400 },
    )
  })

  it('never throw and always print back, whatever the bytes', () => {
    const chunk = fc.constantFrom(
      '(',
      ')',
      '"',
      ';',
      '\\',
      '\n',
      '\r\n',
      ' ',
      '\t',
      '$ORIGIN',
      '$TTL',
      '@',
      'IN',
      'A',
      '300',
      'www',
      '10.0.0.1',
      'SOA',
    )
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 40 }), (parts) => {
        const text = parts.join('')
        const doc = parseZone(text)
        expect(printZone(doc)).toBe(text)
        let at = 0
        for (const e of doc.entries) {
          expect(e.start).toBe(at)
          at = e.next
        }
        expect(at).toBe(text.length)
      }),
      { numRuns: 1000 },
    )
  })
})
