import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeText, encodeText } from '@cutover/rewrite'
import { corpusPath } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { parseZone, printZone, recordType, spanText } from '../src/index.js'

const dir = corpusPath('zone')
const files = readdirSync(dir).sort()

describe('corpus round-trip', () => {
  it('has the corpus files', () => {
    expect(files.length).toBeGreaterThanOrEqual(25)
  })

  for (const f of files) {
    it(`${f} prints back byte for byte, its entries tiling the text`, () => {
      const bytes = readFileSync(join(dir, f))
      const { text, encoding } = decodeText(bytes)
      const doc = parseZone(text)
      expect(encodeText(printZone(doc), encoding).equals(bytes)).toBe(true)
      let at = 0
      const problems: string[] = []
      for (const e of doc.entries) {
        if (e.start !== at) problems.push(`gap at ${at}`)
        at = e.next
        const spans = [...e.tokens, ...e.comments, ...e.parens].sort((a, b) => a.start - b.start)
        for (const [i, s] of spans.entries()) {
          if (s.start < e.start || s.end > e.end) problems.push(`line ${e.line}: span outside`)
          if (i > 0 && s.start < spans[i - 1]!.end) problems.push(`line ${e.line}: overlap`)
        }
        // between the spans there are blanks and line breaks only
        let k = e.start
        for (const s of spans) {
          if (!/^[\s]*$/.test(text.slice(k, s.start))) problems.push(`line ${e.line}: lost text`)
          k = s.end
        }
        if (!/^[\s]*$/.test(text.slice(k, e.next))) problems.push(`line ${e.line}: lost tail`)
      }
      expect(problems).toEqual([])
      expect(at).toBe(text.length)
    })
  }

  it('reads the SOA of the tsig zone in parentheses with its comments, and its blank owners', () => {
    const doc = parseZone(readFileSync(join(dir, 'bind9_tsig_ns1_example.db'), 'utf8'))
    expect(doc.errors).toEqual([])
    const soa = doc.entries.find((e) => recordType(doc, e) === 'SOA')!
    expect(soa.name).toBe('example.nil.')
    expect(soa.rdata.map((t) => spanText(doc, t))).toEqual([
      'ns1.example.nil.',
      'hostmaster.example.nil.',
      '1',
      '2000',
      '2000',
      '1814400',
      '3600',
    ])
    expect(soa.comments.map((c) => spanText(doc, c))).toContain('; serial')
    // `a TXT "foo foo foo"` then a blank-owner PTR: both are a.example.nil.
    const ptr = doc.entries.find((e) => recordType(doc, e) === 'PTR')!
    expect(ptr.owner).toBeUndefined()
    expect(ptr.name).toBe('a.example.nil.')
  })

  it('reads TXT strings with escapes and the octal escapes of the digdelv zone as rdata', () => {
    const doc = parseZone(readFileSync(join(dir, 'bind9_digdelv_ns2_example.db.in'), 'utf8'), {
      origin: 'example.',
    })
    expect(doc.errors).toEqual([])
    const all = doc.entries.find((e) => e.name === 'all.yaml.example.')!
    expect(recordType(doc, all)).toBe('TXT')
    expect(spanText(doc, all.rdata[0]!)).toBe('\\000')
    expect(all.rdata.length).toBe(256)
  })
})
