import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { checkEdits, spliceEdits, type Edit } from '../src/edit/edit.js'
import { EditedText, editedPositionsOf, hashText, positionsOf } from '../src/text/big-text.js'
import {
  LineIndex,
  createEngine,
  encodeText,
  sha256,
  textStep,
  type TextEncoding,
} from '../src/index.js'
import { Prefilter } from '../src/match/prefilter.js'
import { tempDir } from '@cutover/test-kit/temp'

const MB = 1 << 20

describe('large-text helpers', () => {
  it('hashText gives sha256 of the encoded text, also when a chunk ends inside a surrogate pair', () => {
    const cases: Array<[string, TextEncoding[]]> = [
      ['x'.repeat(MB - 1) + '😀' + 'y'.repeat(MB), ['utf8', 'utf8-bom', 'latin1']],
      ['a'.repeat(MB + 5) + 'café', ['utf8', 'utf8-bom', 'latin1']],
      ['\ufeffb'.repeat(3) + 'é'.repeat(MB) + '\ud800' + 'z', ['utf8', 'utf8-bom']],
      ['short é €', ['utf8', 'utf8-bom', 'latin1']],
    ]
    for (const [text, encodings] of cases)
      for (const enc of encodings) expect(hashText(text, enc)).toBe(sha256(encodeText(text, enc)))
  })

  it('positionsOf gives what LineIndex gives, for any offsets in any order', () => {
    const text = 'one\ntwo\r\n\nthree\nlast'
    const index = new LineIndex(text)
    const offsets = [...Array(text.length + 1).keys()].reverse()
    const at = positionsOf(text, [...offsets, 3, 3])
    for (const o of offsets) expect(at.get(o)).toEqual(index.position(o))
  })

  it('Prefilter.scanLatin1 finds the groups of the needles in a text (a longer needle proves the shorter)', () => {
    const p = new Prefilter([['10.0.10.13'], ['10.0.10.130'], ['absent'], []])
    expect(p.scanLatin1('host=10.0.10.130\n')).toEqual([true, true, false, false])
    expect(p.scanLatin1('host=10.0.10.13\n')).toEqual([true, false, false, false])
    expect(p.scanLatin1('none')).toEqual([false, false, false, false])
    expect(p.scanLatin1('')).toEqual([false, false, false, false])
  })
})

describe('planning a large file', () => {
  it('reads an ASCII file and a UTF-8 file of more than 1 MB exactly as it reads small ones', async () => {
    const root = tempDir('cutover-big-')
    const filler = 'nothing to see on this line\n'.repeat(50_000)
    const ascii = `a 10.0.10.48 b\n${filler}c 10.0.10.480 d\n${filler}e 10.0.10.48\n`
    const utf8 = `é 10.0.10.48\n${filler}€ 10.0.10.480\n`
    writeFileSync(join(root, 'ascii.conf'), ascii)
    writeFileSync(join(root, 'utf8.conf'), utf8)
    writeFileSync(join(root, 'small.conf'), 'a 10.0.10.48 b\nc 10.0.10.480 d\n')
    writeFileSync(join(root, 'quiet.conf'), filler.repeat(2))
    // read in chunks: a file that is not UTF-8 past its first chunk, one with a BOM
    const latin1 = Buffer.from(`${filler}${filler}caf\xe9 10.0.10.48\n`, 'latin1')
    const bom = Buffer.from(`\ufeff${utf8}`)
    writeFileSync(join(root, 'latin1.conf'), latin1)
    writeFileSync(join(root, 'bom.conf'), bom)
    const engine = createEngine({ steps: [textStep] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["*.conf"], addresses: names }\n',
      'cutover.yaml',
    )
    const plan = await engine
      .plan(spec, { root, threads: 0 })
      .finally(() => rmSync(root, { recursive: true, force: true }))
    expect(plan.stats).toEqual({ considered: 6, read: 5, skipped: 1 })
    const byTarget = new Map(plan.changes.map((c) => [c.target, c]))
    const a = byTarget.get('ascii.conf')!
    expect(a.encoding).toBe('utf8')
    expect(a.beforeText === ascii).toBe(true)
    expect(a.afterText === ascii.replace(/10\.0\.10\.48\b(?!0)/g, 'db')).toBe(true)
    expect(a.before).toBe(sha256(Buffer.from(ascii)))
    expect(a.after).toBe(sha256(Buffer.from(a.afterText)))
    expect(a.passes[0]).toHaveLength(2)
    const u = byTarget.get('utf8.conf')!
    expect([u.encoding, u.beforeText === utf8, u.after]).toEqual([
      'utf8',
      true,
      sha256(Buffer.from(u.afterText)),
    ])
    const l = byTarget.get('latin1.conf')!
    expect([l.encoding, l.before, l.beforeText === latin1.toString('latin1')]).toEqual([
      'latin1',
      sha256(latin1),
      true,
    ])
    expect(
      Buffer.from(l.afterText, 'latin1').equals(
        Buffer.from(latin1.toString('latin1').replace('10.0.10.48', 'db'), 'latin1'),
      ),
    ).toBe(true)
    const b = byTarget.get('bom.conf')!
    expect([b.encoding, b.before, b.beforeText === utf8]).toEqual(['utf8-bom', sha256(bom), true])
    // leftovers are located as in a small file: line and column in the planned text
    expect(plan.leftovers.map((l) => [l.target, l.line, l.col])).toEqual([
      ['ascii.conf', 50_002, 3],
      ['bom.conf', 50_002, 3],
      ['small.conf', 2, 3],
      ['utf8.conf', 50_002, 3],
    ])
  })
})

describe('EditedText', () => {
  // a text and one pass of edits over it, with line breaks, surrogate pairs and their halves
  const chars = fc.constantFrom('a', 'b', '\n', '\r\n', '\u00e9', '\u{1F600}', '\ud83d', '\ude00')
  const str = (max: number) => fc.array(chars, { maxLength: max }).map((a) => a.join(''))
  const edited = fc
    .tuple(str(40), fc.array(fc.tuple(fc.nat(8), fc.nat(4), str(3)), { maxLength: 8 }))
    .map(([base, raw]) => {
      const edits: Edit[] = []
      let at = 0
      for (const [gap, size, text] of raw) {
        const start = Math.min(base.length, at + gap)
        const end = Math.min(base.length, start + size)
        edits.push({ start, end, text, rule: 'r' })
        at = end
      }
      let sorted: Edit[]
      try {
        sorted = checkEdits(base, edits)
      } catch {
        sorted = []
      }
      return { base, sorted, made: spliceEdits(base, sorted) }
    })

  it('reads as the text it stands for: slices, line positions, equality', () => {
    fc.assert(
      fc.property(edited, str(40), ({ base, sorted, made }, other) => {
        const t = new EditedText(base, sorted)
        expect(t.length).toBe(made.length)
        expect(t.toString()).toBe(made)
        for (let a = 0; a <= made.length; a++)
          for (let b = a; b <= made.length; b += 3) expect(t.slice(a, b)).toBe(made.slice(a, b))
        const all = Array.from({ length: made.length + 1 }, (_, k) => k)
        expect(editedPositionsOf(t, all)).toEqual(positionsOf(made, all))
        for (let a = 0; a <= made.length; a++) {
          expect(t.indexOf('\n', a)).toBe(made.indexOf('\n', a))
          expect(t.lastIndexOf('\n', a)).toBe(made.lastIndexOf('\n', a))
          expect(t.charCodeAt(a)).toBe(made.charCodeAt(a))
          // what it says is unchanged is so
          for (let p = 0; p <= base.length; p++) {
            const run = t.unchangedRun(p, a)
            if (run > 0) expect(made.slice(a, a + run)).toBe(base.slice(p, p + run))
          }
        }
        expect(t.equals(made)).toBe(true)
        expect(t.equals(base)).toBe(made === base)
        expect(t.equals(other)).toBe(made === other)
      }),
      { numRuns: 500 },
    )
  })

  it('hashes as hashText hashes the text it stands for, in every encoding, large or not', () => {
    fc.assert(
      fc.property(
        edited,
        fc.constantFrom<TextEncoding>('utf8', 'utf8-bom', 'latin1'),
        fc.boolean(),
        ({ base, sorted }, encoding, large) => {
          // a large text is hashed piece by piece: its pieces may end inside a surrogate pair
          const pad = large ? 'x'.repeat(1 << 20) : ''
          const wide = pad + base
          const moved = sorted.map((e) => ({
            ...e,
            start: e.start + pad.length,
            end: e.end + pad.length,
          }))
          const t = new EditedText(wide, moved)
          expect(t.hash(encoding)).toBe(hashText(spliceEdits(wide, moved), encoding))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('hashes a surrogate pair that two pieces split as the pair it is', () => {
    // a large text whose stretches and edit texts end and start inside pairs: the base's high
    // half then an edit's low half, an edit's high half then the base's low half, a lone half
    const pad = 'x'.repeat(1 << 20)
    const base = `${pad}a\ud83dXb\ude00c\ud83dYd`
    const at = (s: string) => base.indexOf(s)
    const edits: Edit[] = [
      { start: at('X'), end: at('X') + 1, text: '\ude00x', rule: 'r' },
      { start: at('b'), end: at('b') + 1, text: 'y\ud83d', rule: 'r' },
      { start: at('Y'), end: at('Y') + 1, text: '', rule: 'r' },
    ]
    const t = new EditedText(base, edits)
    for (const encoding of ['utf8', 'utf8-bom', 'latin1'] as const)
      expect(t.hash(encoding), encoding).toBe(hashText(spliceEdits(base, edits), encoding))
  })
})
