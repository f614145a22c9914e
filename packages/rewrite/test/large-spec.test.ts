import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createEngine, textStep } from '../src/index.js'
import { literalAlternation } from '../src/match/match.js'
import { Prefilter } from '../src/match/prefilter.js'
import { tempDir } from '@cutover/test-kit/temp'

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('literalAlternation', () => {
  it('matches where a flat longest-first alternation of the same literals matches, the same text', () => {
    const literal = fc
      .array(fc.constantFrom('a', 'b', '.', '-', '1', '10', '*', '(', '\\', 'é', '|'), {
        minLength: 1,
        maxLength: 6,
      })
      .map((a) => a.join(''))
    const text = fc
      .array(fc.constantFrom('a', 'b', '.', '-', '1', '0', '*', '(', '\\', 'é', '|', ' '), {
        maxLength: 40,
      })
      .map((a) => a.join(''))
    fc.assert(
      fc.property(fc.uniqueArray(literal, { minLength: 1, maxLength: 12 }), text, (literals, t) => {
        const flat = new RegExp(
          [...literals]
            .sort((a, b) => b.length - a.length)
            .map(escape)
            .join('|'),
          'g',
        )
        const trie = new RegExp(literalAlternation(literals), 'g')
        const all = (re: RegExp) => {
          const out: string[] = []
          re.lastIndex = 0
          for (let m = re.exec(t); m; m = re.exec(t)) {
            out.push(`${m.index}:${m[0]}`)
            re.lastIndex = m.index + 1
          }
          return out
        }
        expect(all(trie)).toEqual(all(flat))
      }),
      { numRuns: 500 },
    )
  })
})

describe('a spec with 30,000 replace keys', () => {
  // Built by comparing every needle with every other one, the prefilter took minutes for such a
  // spec before any file was read, and the matcher tried every key at each match: this plan did
  // not finish within the test timeout. Nothing here measures time; the timeout is the bound.
  const N = 30_000
  const keys = Array.from({ length: N }, (_, i) => `old-host-${i}.dept.example.org`)

  it('builds its prefilter and plans a file with hundreds of matches', async () => {
    const p = new Prefilter([['10.0.10.48'], keys])
    expect(p.scanLatin1(`x ${keys[N - 1]} y`)).toEqual([false, true])
    expect(p.scanLatin1('old-host-.dept.example.org 10.0.10.4')).toEqual([false, false])

    const root = tempDir('cutover-large-spec-')
    mkdirSync(join(root, 'etc'))
    // 400 of 8,000 lines hold a key (a diff of thousands of changed lines is slow on its own)
    const lines = Array.from({ length: 8000 }, (_, i) =>
      i % 20 === 0 ? `host${i} = ${keys[(i * 7919) % N]}\n` : `line ${i} old-host-${i}\n`,
    )
    writeFileSync(join(root, 'etc/app.conf'), lines.join(''))
    const spec = `version: 1\nsteps:\n  - text:\n      files: [etc/app.conf]\n      replace:\n${keys.map((k, i) => `        ${k}: new-host-${i}.example.net\n`).join('')}`
    const engine = createEngine({ steps: [textStep] })
    const plan = await engine.plan(engine.parseSpec(spec, 'cutover.yaml'), { root })
    expect(plan.changes).toHaveLength(1)
    const after = plan.changes[0]!.afterText
    expect(after).toBe(
      lines
        .map((l, i) =>
          i % 20 === 0
            ? l.replace(keys[(i * 7919) % N]!, `new-host-${(i * 7919) % N}.example.net`)
            : l,
        )
        .join(''),
    )
    expect(plan.changes[0]!.added).toBe(400)
  })
})

describe('a file over the size limit', () => {
  it('is refused, not read, whether files are read on this thread or on reader threads', async () => {
    const root = tempDir('cutover-max-size-')
    mkdirSync(join(root, 'etc'))
    writeFileSync(join(root, 'etc/small.conf'), 'db-old\n')
    writeFileSync(join(root, 'etc/big.conf'), 'db-old\n'.repeat(20))
    writeFileSync(join(root, 'etc/quiet.conf'), 'nothing to see\n'.repeat(20))
    const engine = createEngine({ steps: [textStep] })
    const spec = engine.parseSpec(
      'version: 1\nsteps:\n  - text: { files: ["etc/*.conf"], replace: { db-old: db-new } }\n',
      'cutover.yaml',
    )
    for (const threads of [0, 2]) {
      const plan = engine.plan(spec, { root, threads, maxFileSize: 100 })
      // every file over the limit is named, whether or not it holds a needle
      await expect(plan).rejects.toMatchObject({
        code: 'FILE_TOO_LARGE',
        message: expect.stringMatching(
          /limit of 100 bytes[^]*etc\/big\.conf: 140 bytes\n  etc\/quiet\.conf: 300 bytes\n/,
        ),
      })
      const ok = await engine.plan(spec, { root, threads, maxFileSize: 300 })
      expect(ok.changes.map((c) => c.target)).toEqual(['etc/big.conf', 'etc/small.conf'])
    }
  })
})
