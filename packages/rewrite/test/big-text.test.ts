import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hashText, positionsOf } from '../src/text/big-text.js'
import {
  LineIndex,
  createEngine,
  encodeText,
  sha256,
  textStep,
  type TextEncoding,
} from '../src/index.js'
import { Prefilter } from '../src/match/prefilter.js'

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
    const root = mkdtempSync(join(tmpdir(), 'cutover-big-'))
    const filler = 'nothing to see on this line\n'.repeat(50_000)
    const ascii = `a 10.0.10.48 b\n${filler}c 10.0.10.480 d\n${filler}e 10.0.10.48\n`
    const utf8 = `é 10.0.10.48\n${filler}€ 10.0.10.480\n`
    writeFileSync(join(root, 'ascii.conf'), ascii)
    writeFileSync(join(root, 'utf8.conf'), utf8)
    writeFileSync(join(root, 'small.conf'), 'a 10.0.10.48 b\nc 10.0.10.480 d\n')
    writeFileSync(join(root, 'quiet.conf'), filler.repeat(2))
    const engine = createEngine({ steps: [textStep] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["*.conf"], addresses: names }\n',
      'cutover.yaml',
    )
    const plan = await engine.plan(spec, { root, threads: 0 })
    expect(plan.stats).toEqual({ considered: 4, read: 3, skipped: 1 })
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
    // leftovers are located as in a small file: line and column in the planned text
    expect(plan.leftovers.map((l) => [l.target, l.line, l.col])).toEqual([
      ['ascii.conf', 50_002, 3],
      ['small.conf', 2, 3],
      ['utf8.conf', 50_002, 3],
    ])
  })
})
