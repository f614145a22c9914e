import { describe, expect, it } from 'vitest'
import { parseHosts, printHosts, spanText } from '../src/index.js'

const names = (text: string, line = 0) => {
  const doc = parseHosts(text)
  const l = doc.lines[line]!
  return {
    kind: l.kind,
    address: l.address && spanText(doc, l.address),
    family: l.family,
    names: l.names.map((n) => spanText(doc, n)),
    comment: l.comment && spanText(doc, l.comment),
  }
}

describe('parseHosts', () => {
  it('reads an entry with canonical name, aliases and an inline comment', () => {
    expect(names('10.0.10.48\tfinance.thehumanjourney.net  finance # old db\n')).toEqual({
      kind: 'entry',
      address: '10.0.10.48',
      family: 'ipv4',
      names: ['finance.thehumanjourney.net', 'finance'],
      comment: '# old db',
    })
  })

  it('reads IPv6 entries, including compressed and zoned forms', () => {
    expect(names('::1 localhost ip6-localhost\n')).toMatchObject({
      kind: 'entry',
      family: 'ipv6',
      names: ['localhost', 'ip6-localhost'],
    })
    expect(names('fe80::1%lo0\tlocalhost\n')).toMatchObject({
      kind: 'entry',
      family: 'ipv6',
      address: 'fe80::1%lo0',
    })
    expect(names('2001:db8::10 db\n')).toMatchObject({ kind: 'entry', family: 'ipv6' })
  })

  it('cuts a comment at any "#", as glibc does, even inside a token', () => {
    expect(names('10.0.0.1 foo#bar baz\n')).toMatchObject({ names: ['foo'], comment: '#bar baz' })
    expect(names('   # only a comment')).toMatchObject({
      kind: 'comment',
      names: [],
      comment: '# only a comment',
    })
  })

  it('tells blank lines from comments and entries, with tabs, spaces and \\r as blanks', () => {
    const doc = parseHosts(' \t \n\n#x\n \t127.0.0.1\t \tlocalhost \r\n')
    expect(doc.lines.map((l) => l.kind)).toEqual(['blank', 'blank', 'comment', 'entry'])
    expect(spanText(doc, doc.lines[3]!.names[0]!)).toBe('localhost')
  })

  it('keeps CRLF line breaks out of the content and notes the style', () => {
    const text = '127.0.0.1 localhost\r\n::1 localhost\r\n'
    const doc = parseHosts(text)
    expect(doc.eol).toBe('\r\n')
    expect(doc.lines[0]).toMatchObject({ start: 0, end: 19, next: 21 })
    expect(spanText(doc, doc.lines[0]!.names[0]!)).toBe('localhost')
    expect(printHosts(doc)).toBe(text)
  })

  it('notes a missing final newline and an empty file', () => {
    expect(parseHosts('127.0.0.1 localhost').finalNewline).toBe(false)
    expect(parseHosts('127.0.0.1 localhost\n').finalNewline).toBe(true)
    const empty = parseHosts('')
    expect(empty).toMatchObject({ lines: [], errors: [], finalNewline: true, eol: '\n' })
    expect(printHosts(empty)).toBe('')
  })

  it('reports a bad address with its range and keeps the line byte for byte', () => {
    const text = '127.0.0.1 localhost\n10.0.10.999 broken # typo\n{{ip}} {{fqdn}}\n'
    const doc = parseHosts(text)
    expect(doc.errors).toMatchObject([
      { code: 'BAD_ADDRESS', range: { start: 20, end: 31 } },
      { code: 'BAD_ADDRESS', range: { start: 46, end: 52 } },
    ])
    expect(doc.lines.map((l) => l.kind)).toEqual(['entry', 'invalid', 'invalid'])
    expect(printHosts(doc)).toBe(text)
  })

  it('reports an address without a name', () => {
    const doc = parseHosts('10.0.0.1   # nothing here\n')
    expect(doc.errors).toMatchObject([{ code: 'MISSING_NAME', range: { start: 0, end: 8 } }])
    expect(doc.lines[0]!.kind).toBe('invalid')
  })

  it('rejects dotted quads that inet_pton rejects (leading zeros, short forms)', () => {
    for (const bad of ['010.0.0.1', '10.0.1', '256.1.1.1', '1.2.3.4.5', ':::1']) {
      expect(parseHosts(`${bad} x\n`).errors[0]?.code, bad).toBe('BAD_ADDRESS')
    }
  })
})
