import { applyEdits, checkEdits } from '@cutover/rewrite'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  addressFamily,
  parseHosts,
  planHosts,
  printHosts,
  resolveHost,
  spanText,
  type EnsureRequest,
} from '../src/index.js'

const NAMES = [
  'finance.thehumanjourney.net',
  'finance',
  'hrdb.thehumanjourney.net',
  'hrdb',
  'legacy-db',
  'localhost',
  'RabbitMQ.thehumanjourney.net',
]
const ADDRESSES = [
  '127.0.0.1',
  '::1',
  '10.0.10.48',
  '10.0.10.49',
  '10.0.10.50',
  'fe80::1%eth0',
  '0.0.0.0',
]
const token = fc.constantFrom(
  '\n',
  '\r\n',
  '\n',
  '\t',
  ' ',
  ' ',
  '#',
  '# cutover',
  '\r',
  '\v',
  'x#y',
  '999.1.1.1',
  '010.0.0.1',
  '{{fqdn}}',
  'é',
  ...NAMES,
  ...ADDRESSES,
)
const hostsText = fc.array(token, { maxLength: 60 }).map((t) => t.join(''))

/** Lines built from format tokens, mostly well-formed entries, so that ensure has work to do. */
const entryLine = fc
  .tuple(
    fc.constantFrom(...ADDRESSES),
    fc.constantFrom(' ', '\t', '  '),
    fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }),
    fc.constantFrom('', ' # note', '#x'),
  )
  .map(([a, sep, names, comment]) => `${a}${sep}${names.join(' ')}${comment}`)
const line = fc.oneof(
  { weight: 4, arbitrary: entryLine },
  { weight: 1, arbitrary: hostsText.map((t) => t.replace(/\n/g, '')) },
)
const hostsFile = fc
  .tuple(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, eol, final]) => lines.join(eol) + (final && lines.length ? eol : ''))

const ensureList = fc.uniqueArray(
  fc.record({
    name: fc.constantFrom(...NAMES),
    address: fc.constantFrom('10.0.10.49', '10.0.10.51', '::1', '127.0.0.1'),
  }),
  { selector: (e) => e.name.toLowerCase(), maxLength: 4 },
)

describe('properties', () => {
  it('any token sequence round-trips, and its lines tile the text with blank-free tokens', () => {
    fc.assert(
      fc.property(hostsText, (text) => {
        const doc = parseHosts(text)
        expect(printHosts(doc)).toBe(text)
        let at = 0
        for (const l of doc.lines) {
          expect(l.start).toBe(at)
          expect(l.start <= l.end && l.end <= l.next).toBe(true)
          at = l.next
          for (const n of l.names) expect(spanText(doc, n)).toMatch(/^[^\s#]+$/)
          if (l.kind === 'entry') expect(l.names.length).toBeGreaterThan(0)
        }
        expect(at).toBe(text.length)
      }),
      { numRuns: 500 },
    )
  })

  it('the fast dotted-quad check agrees with inet_pton-like validation', () => {
    const quadish = fc
      .array(fc.constantFrom('0', '00', '01', '1', '10', '99', '255', '256', '1000', ''), {
        minLength: 1,
        maxLength: 5,
      })
      .map((t) => t.join('.'))
    const free = fc
      .array(
        fc.constantFrom(
          '0',
          '1',
          '2',
          '5',
          '9',
          '25',
          '255',
          '256',
          '.',
          ':',
          '::',
          'a',
          'f',
          '%',
          'e',
        ),
        { minLength: 1, maxLength: 12 },
      )
      .map((t) => t.join(''))
    const addressish = fc.oneof(quadish, free).filter((a) => a.length > 0)
    fc.assert(
      fc.property(addressish, (a) => {
        expect(parseHosts(`${a} name\n`).lines[0]!.family).toBe(addressFamily(a))
      }),
      { numRuns: 2000 },
    )
  })

  it('ensure then ensure gives no edit, and every ensured name resolves first-match to its address', () => {
    fc.assert(
      fc.property(hostsFile, ensureList, (text, ensure: EnsureRequest[]) => {
        const plan = planHosts(parseHosts(text), { ensure })
        checkEdits(text, plan.edits)
        expect(plan.diagnostics.filter((d) => d.severity !== 'warning')).toEqual([])
        const out = applyEdits(text, plan.edits)
        const doc = parseHosts(out)
        expect(printHosts(doc)).toBe(out)
        for (const e of ensure)
          expect(resolveHost(doc, e.name, e.address.includes(':') ? 'ipv6' : 'ipv4')).toBe(
            e.address,
          )
        expect(planHosts(doc, { ensure }).edits).toEqual([])
      }),
      { numRuns: 500 },
    )
  })

  it('remove then remove gives no edit, and the removed names are gone', () => {
    fc.assert(
      fc.property(
        hostsFile,
        fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 3 }),
        (text, remove) => {
          const plan = planHosts(parseHosts(text), { remove })
          const doc = parseHosts(applyEdits(text, plan.edits))
          for (const r of remove) expect(resolveHost(doc, r)).toBeUndefined()
          expect(planHosts(doc, { remove }).edits).toEqual([])
        },
      ),
      { numRuns: 300 },
    )
  })

  it('lines naming none of the ensured names come through byte for byte, in order', () => {
    fc.assert(
      fc.property(hostsFile, ensureList, (text, ensure: EnsureRequest[]) => {
        const doc = parseHosts(text)
        const wanted = new Set(ensure.map((e) => e.name.toLowerCase()))
        const shorts = new Set([...wanted].map((n) => n.split('.')[0]!))
        const untouched = doc.lines
          .filter(
            (l) =>
              !l.names.some((n) => {
                const t = spanText(doc, n).toLowerCase()
                return wanted.has(t) || shorts.has(t)
              }),
          )
          // a lone \r ending the last line joins an appended \n as one CRLF break
          .map((l) => text.slice(l.start, l.end).replace(/\r+$/, ''))
        const out = applyEdits(text, planHosts(doc, { ensure }).edits)
          .split(/\r?\n/)
          .map((l) => l.replace(/\r+$/, ''))
        let i = 0
        for (const l of out) if (i < untouched.length && l === untouched[i]) i++
        expect(i).toBe(untouched.length)
      }),
      { numRuns: 300 },
    )
  })
})
