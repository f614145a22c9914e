import { isIPv6 } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { plainIPv6 } from '../src/address.js'
import { eachNamed, lineOf, parseHosts, planHosts, type HostsDocument } from '../src/index.js'
import { findNamed, lineFrom, type NamedHit } from '../src/locate.js'
import { scanTable } from '../src/table.js'

// A large file is planned without a table of every line (native searches find the lines that
// matter): what those searches give must be what the table gives, on any text.

const NAMES = [
  'finance.thehumanjourney.net',
  'finance',
  'FINANCE',
  'hrdb',
  'Hrdb.TheHumanJourney.net',
  'legacy-db',
  'key',
  '\u212aey',
  'İx',
  'ix',
  'a.b',
]
const ADDRESSES = [
  '127.0.0.1',
  '10.0.10.48',
  '0.0.0.0',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3',
  '::1',
  '::',
  '1::',
  ':::',
  'fe80::1%eth0',
  'fd00:9798::b858',
  '1:2:3:4:5:6:7:8',
  '1::2::3',
  '::ffff:1.2.3.4',
]
const token = fc.constantFrom(
  '\n',
  '\r\n',
  '\t',
  ' ',
  '#',
  '# cutover',
  '\r',
  '\v',
  '\f',
  'x#y',
  '{{ip}}',
  'é',
  ...NAMES,
  ...ADDRESSES,
)
const entry = fc
  .tuple(
    fc.constantFrom('', '', ' ', '\t'),
    fc.constantFrom(...ADDRESSES),
    fc.constantFrom(' ', '\t', '', '#'),
    fc.array(fc.constantFrom(...NAMES), { maxLength: 3 }),
    fc.constantFrom('', ' # note', '#x', ' ', '\r'),
  )
  .map(([lead, a, sep, names, tail]) => `${lead}${a}${sep}${names.join(' ')}${tail}`)
const line = fc.oneof(
  { weight: 3, arbitrary: entry },
  { weight: 1, arbitrary: fc.array(token, { maxLength: 10 }).map((t) => t.join('')) },
)
const hostsText = fc
  .tuple(fc.array(line, { maxLength: 14 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, eol, final]) => lines.join(eol) + (final && lines.length ? eol : ''))
const names = fc
  .uniqueArray(fc.constantFrom(...NAMES), { maxLength: 4 })
  .map((n) => new Set(n.map((x) => x.toLowerCase())))

/** The hits as the table gives them. */
function tableHits(doc: HostsDocument, wanted: ReadonlySet<string>): NamedHit[] {
  const out: NamedHit[] = []
  eachNamed(doc, wanted, (i, lower, k) =>
    out.push({
      line: lineOf(doc, i),
      lower,
      span: { start: doc.table.tokens[k * 2]!, end: doc.table.tokens[k * 2 + 1]! },
    }),
  )
  return out
}

describe('a large file planned without a table', () => {
  it('reports the malformed lines a full scan reports, and reads each line as the table does', () => {
    fc.assert(
      fc.property(hostsText, (text) => {
        const errors: Parameters<typeof scanTable>[1] = []
        const table = scanTable(text, errors)
        const doc = parseHosts(text)
        expect(doc.errors).toEqual(errors)
        expect(doc.eol).toBe(table.crlf * 2 > table.count ? '\r\n' : '\n')
        for (let i = 0; i < table.count; i++)
          expect(lineFrom(text, table.start[i]!)).toEqual(lineOf(doc, i))
      }),
      { numRuns: 1000 },
    )
  })

  it('finds the names the table finds, case-insensitively, or leaves the text to the table', () => {
    fc.assert(
      fc.property(hostsText, names, (text, wanted) => {
        const found = findNamed(text, wanted)
        const exact = wanted.size > 0 && [...wanted].some((n) => /[^\x00-\x7f]/.test(n))
        expect(found === undefined).toBe(exact)
        if (found) expect(found.hits).toEqual(tableHits(parseHosts(text), wanted))
        const both = findNamed(text, wanted, true)
        expect(both === undefined).toBe(exact)
        if (both) expect(both).toEqual({ hits: found!.hits, errors: parseHosts(text).errors })
      }),
      { numRuns: 1000 },
    )
  })

  it('plans an ensure without making the table', () => {
    const lines = Array.from(
      { length: 5000 },
      (_, k) =>
        (k % 50 === 0 ? '# rack\n' : '') +
        `10.1.${k >> 8}.${k & 255}\thost-${k}.example.net host-${k}`,
    )
    const text =
      lines
        .join('\n')
        .replace('host-4321.example.net host-4321', 'Finance.TheHumanJourney.net finance') +
      '\n::1\tlocalhost\n'
    const doc = parseHosts(text)
    const guarded = Object.create(doc, {
      table: { get: () => expect.fail('the table was made') },
      lines: { get: () => expect.fail('the lines were made') },
    }) as HostsDocument
    const plan = planHosts(guarded, {
      ensure: [
        { name: 'finance.thehumanjourney.net', address: '10.0.10.49' },
        { name: 'hrdb.thehumanjourney.net', address: '10.0.10.43' },
      ],
    })
    expect(plan).toEqual(
      planHosts(parseHosts(text), {
        ensure: [
          { name: 'finance.thehumanjourney.net', address: '10.0.10.49' },
          { name: 'hrdb.thehumanjourney.net', address: '10.0.10.43' },
        ],
      }),
    )
    expect(plan.edits.map((e) => e.text)).toEqual([
      '10.0.10.49',
      '\n# cutover\n10.0.10.43\thrdb.thehumanjourney.net\n',
    ])
  })

  it('answers yes for plain IPv6 only where isIPv6 does, and the sweep skips only good lines', () => {
    const group = fc.stringMatching(/^[0-9a-fA-F]{1,5}$/)
    const plain = fc
      .tuple(fc.array(group, { maxLength: 9 }), fc.array(group, { maxLength: 9 }), fc.boolean())
      .map(([a, b, double]) => (double ? `${a.join(':')}::${b.join(':')}` : [...a, ...b].join(':')))
    const noise = fc
      .array(fc.constantFrom('0', 'f', 'ffff', '12345', ':', '::', '.', '%', 'g', '1.2.3.4'), {
        maxLength: 12,
      })
      .map((t) => t.join(''))
    fc.assert(
      fc.property(fc.oneof(plain, noise), (a) => {
        if (plainIPv6(a)) expect(isIPv6(a)).toBe(true)
        else if (isIPv6(a) && /^[0-9a-fA-F:]+$/.test(a)) expect.fail(`${a} is plain IPv6`)
        const text = `127.0.0.1\tlocalhost\n${a}\tname\n${a}\t#\n`
        const errors: Parameters<typeof scanTable>[1] = []
        scanTable(text, errors)
        expect(parseHosts(text).errors).toEqual(errors)
      }),
      { numRuns: 5000 },
    )
  })
})
