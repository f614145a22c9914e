import { describe, expect, it } from 'vitest'
import { EditConflictError, applyEdits, mapOffset, sortEdits } from '../src/index.js'

describe('applyEdits', () => {
  it('applies from the original coordinates and keeps every other byte', () => {
    const src = 'a\r\nb 10.0.10.48\r\nc'
    expect(
      applyEdits(src, [
        { start: 5, end: 15, text: 'host', rule: 'r' },
        { start: 0, end: 1, text: 'A', rule: 'r' },
      ]),
    ).toBe('A\r\nb host\r\nc')
  })
  it('names both rules and the position of an overlap', () => {
    const src = 'one\ntwo three'
    const err = (() => {
      try {
        applyEdits(src, [
          { start: 4, end: 7, text: 'x', rule: 'replace' },
          { start: 6, end: 9, text: 'y', rule: 'swap' },
        ])
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(EditConflictError)
    expect((err as Error).message).toMatch(/rules "replace" and "swap" both edit 2:3/)
  })
  it('rejects edits outside the text', () => {
    expect(() => applyEdits('abc', [{ start: 2, end: 5, text: '', rule: 'r' }])).toThrow(
      EditConflictError,
    )
  })
  it('allows insertions at one offset in their given order', () => {
    expect(
      applyEdits('ab', [
        { start: 1, end: 1, text: 'x', rule: 'a' },
        { start: 1, end: 1, text: 'y', rule: 'a' },
      ]),
    ).toBe('axyb')
  })
  it('returns the source for no edits', () => {
    expect(applyEdits('same', [])).toBe('same')
  })
})

describe('mapOffset', () => {
  const edits = sortEdits([{ start: 2, end: 4, text: 'XYZW', rule: 'r' }])
  it('shifts offsets after an edit and drops those inside it', () => {
    expect(mapOffset(1, edits)).toBe(1)
    expect(mapOffset(3, edits)).toBeUndefined()
    expect(mapOffset(4, edits)).toBe(6)
  })
})
