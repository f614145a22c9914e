import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import type { PlanDocument } from '@cutover/rewrite'
import { planJson } from '../src/output/plan-json.js'
import { run } from '../src/run.js'
import { makeTree } from './tree.js'

const SPEC = `version: 1
steps:
  - text: { files: ["etc/*.conf"], replace: { db-old: db-new } }
`

describe('the size limit of files in scope (--max-file-size)', () => {
  it('refuses a file just over the limit, naming it and the limit, and writes no plan', async () => {
    const big = 'x = db-old\n'.padEnd(1025, '#')
    const dir = makeTree({
      'cutover.yaml': SPEC,
      'etc/a.conf': 'host = db-old\n',
      'etc/big.conf': big,
    })
    for (const args of [
      ['plan', '--out', 'plan.json'],
      ['plan', '--json'],
      ['verify'],
      ['apply', '--yes'],
    ]) {
      const io = memoryIo({ cwd: dir })
      expect(await run([...args, '--root', '.', '--max-file-size', '1K'], io), args.join(' ')).toBe(
        1,
      )
      expect(io.err()).toContain('exceed the size limit of 1024 bytes (1 KiB)')
      expect(io.err()).toContain('  etc/big.conf: 1025 bytes')
      expect(io.err()).not.toContain('etc/a.conf')
      expect(io.out()).toBe('')
    }
    expect(existsSync(join(dir, 'plan.json'))).toBe(false)
    expect(readFileSync(join(dir, 'etc/a.conf'), 'utf8')).toBe('host = db-old\n')
    // a file of exactly the limit is read
    const io = memoryIo({ cwd: dir })
    expect(
      await run(
        ['plan', '--root', '.', '--max-file-size', '1025', '--detailed-exitcode', '--quiet'],
        io,
      ),
      io.err(),
    ).toBe(2)
  })

  it('takes sizes in bytes, K, M and G, and refuses anything else', async () => {
    const dir = makeTree({ 'cutover.yaml': SPEC, 'etc/a.conf': 'host = db-old\n' })
    for (const ok of ['14', '1K', '64M', '64MiB', '1G'])
      expect(
        await run(
          ['plan', '--root', '.', '--quiet', '--max-file-size', ok],
          memoryIo({ cwd: dir }),
        ),
        ok,
      ).toBe(0)
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.', '--max-file-size', 'big'], io)).toBe(1)
    expect(io.err()).toContain('--max-file-size takes a size such as 64M')
  })
})

describe('the plan document written in pieces', () => {
  it('is exactly JSON.stringify(doc, null, 2) with a final newline', async () => {
    const dir = makeTree({
      'cutover.yaml': SPEC,
      'etc/a.conf': 'host = db-old\n"quoted"\tand\\back\n',
      'etc/b.conf': 'db-old\n',
    })
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.', '--json'], io)).toBe(0)
    const doc = JSON.parse(io.out())
    expect(doc.changes).toHaveLength(2)
    expect(io.out()).toBe(JSON.stringify(doc, null, 2) + '\n')
    for (const d of [
      doc,
      {
        ...doc,
        changes: [],
        notes: [{ target: 'x', code: 'C', message: 'a\nb', severity: 'note' }],
      },
      { version: 1, profile: null, nested: { a: [1, { b: [] }], c: {} } },
    ]) {
      expect([...planJson(d as unknown as PlanDocument)].join('')).toBe(
        JSON.stringify(d, null, 2) + '\n',
      )
    }
  })
})

describe('a large change written in small pieces', () => {
  it('gives the plan document as JSON.stringify does, in no piece over 64 KiB', () => {
    // a diff of 1.2 MB with pairs of surrogates across every cut, controls and quotes; many edits
    const line = '+ "a\\b"\t\u0001 é 😀 x'
    const diff = Array.from({ length: 60000 }, (_, i) => `${line}${i}`).join('\n') + '\n'
    const edits = Array.from({ length: 5000 }, (_, i) => ({ start: i, end: i + 1, text: '😀' }))
    const odd = Object.assign(Object.create(null) as object, { z: 1, a: [undefined, () => 1] })
    const doc = {
      version: 1,
      changes: [
        { target: 'dump.sql', skip: undefined, fn: () => 1, edits, diff, odd },
        { target: 'b', when: new Date(0), empty: {}, list: [], nested: { a: [{ b: [1] }] } },
      ],
      leftovers: [],
    }
    const pieces = [...planJson(doc as unknown as PlanDocument)]
    expect(pieces.join('')).toBe(JSON.stringify(doc, null, 2) + '\n')
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(1 << 16)
  })

  it('writes the review of a large diff in pieces of at most 64 KiB, lines whole', async () => {
    const pad = '# a comment that makes the line long enough for the review to be large'
    const lines = Array.from({ length: 1000 }, (_, i) => `host${i} = db-old ${pad}\n`).join('')
    const dir = makeTree({ 'cutover.yaml': SPEC, 'etc/big.conf': lines })
    const writes: string[] = []
    const io = memoryIo({ cwd: dir, stdout: { write: (s: string) => writes.push(s) } })
    expect(await run(['plan', '--root', '.'], io)).toBe(0)
    const out = writes.join('')
    expect(out.match(/^\+host\d+ = db-new # .*$/gm)).toHaveLength(1000)
    expect(out.match(/^-host\d+ = db-old # .*$/gm)).toHaveLength(1000)
    expect(out).toMatch(/^Plan: 1 file\(s\) to change/)
    expect(out.endsWith('Leftovers: none\n')).toBe(true)
    expect(out.length).toBeGreaterThan(1 << 17)
    for (const w of writes) {
      expect(w.length).toBeLessThanOrEqual(1 << 16)
      expect(w.endsWith('\n')).toBe(true)
    }
  })
})
