import { describe, expect, it } from 'vitest'
import { LineIndex, decodeText, encodeText, formatDiagnostic } from '../src/index.js'
import { isBinary } from '../src/text/source.js'

describe('decodeText/encodeText', () => {
  it.each([
    ['utf8', Buffer.from('héllo\n')],
    ['utf8-bom', Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('a\r\nb')])],
    ['latin1', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff])],
  ])('round-trips %s bytes', (encoding, bytes) => {
    const d = decodeText(bytes)
    expect(d.encoding).toBe(encoding)
    expect(encodeText(d.text, d.encoding).equals(bytes)).toBe(true)
  })
  it('keeps the BOM out of the text', () => {
    expect(decodeText(Buffer.from([0xef, 0xbb, 0xbf, 0x61])).text).toBe('a')
  })
  it('detects binary files by NUL bytes', () => {
    expect(isBinary(Buffer.from([1, 0, 2]))).toBe(true)
    expect(isBinary(Buffer.from('text'))).toBe(false)
  })
})

describe('LineIndex and formatDiagnostic', () => {
  it('gives 1-based lines and columns, CRLF-aware', () => {
    const idx = new LineIndex('ab\r\ncd\nef')
    expect(idx.position(0)).toEqual({ line: 1, col: 1 })
    expect(idx.position(5)).toEqual({ line: 2, col: 2 })
    expect(idx.lineText(1)).toBe('ab')
    expect(idx.offset({ line: 3, col: 2 })).toBe(8)
  })
  it('renders path:line:col, the line and a caret', () => {
    const src = 'steps:\n  - txet: {}\n'
    const out = formatDiagnostic('cutover.yaml', src, {
      code: 'SPEC_STEP',
      message: 'unknown step kind "txet"',
      range: { start: 11, end: 15 },
    })
    expect(out).toBe(
      'cutover.yaml:2:5: SPEC_STEP unknown step kind "txet"\n    - txet: {}\n      ^^^^',
    )
  })
  it('shows a credential whose key is on an earlier line as (sensitive) on the source line', () => {
    const src = '{\n  "password":\n    "s3cret" x\n}\n'
    const out = formatDiagnostic('app.json', src, {
      code: 'JSON_PARSE',
      message: 'unexpected token',
      range: { start: 29, end: 30 },
    })
    expect(out).toBe(
      'app.json:3:14: JSON_PARSE unexpected token\n      "(sensitive)" x\n' + ' '.repeat(20) + '^',
    )
  })
})
