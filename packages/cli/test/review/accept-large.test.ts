import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { need } from '@cutover/test-kit'
import { makeTree } from '../tree.js'
import { cmarkGfm, everyText, fileHash, readPlan } from './accept-kit.js'

/*
 * The acceptance of issue 21 for a large plan: 500 changed files (and 200 leftovers) as a
 * Markdown comment stays under --max-bytes, the default and a small one, says what it collapsed,
 * and GitHub's parser reads it as the table, the collapsible blocks and the diffs it means.
 */

const BIN = resolve(import.meta.dirname, '../../dist/bin.js')
const FILES = 500
const LEFT = 200
const BIG = 250
const pad = (i: number) => String(i).padStart(3, '0')

function tree(): string {
  const files: Record<string, string> = {
    'cutover.yaml': [
      'version: 1',
      'hosts:',
      '  db.example.net: { old: 10.0.10.48, new: 10.0.10.49 }',
      'scan:',
      '  files: ["srv/**"]',
      'steps:',
      '  - text: { files: ["etc/app/*.conf"], addresses: new }',
      '',
    ].join('\n'),
  }
  // diffs of different sizes, one much larger, so that which ones collapse first is visible
  for (let i = 0; i < FILES; i++)
    files[`root/etc/app/service-${pad(i)}.conf`] = Array.from(
      { length: i === BIG ? 150 : 1 + (i % 7) * 3 },
      (_, k) => `# setting ${k} of service ${i}\nupstream_${k} = 10.0.10.48:${5000 + k}\n`,
    ).join('')
  // files no step rewrites: each old address in them is a leftover
  for (let i = 0; i < LEFT; i++) files[`root/srv/notes-${pad(i)}.txt`] = `was on 10.0.10.48\n`
  return makeTree(files, 'cutover-review-large-')
}

function markdown(dir: string, ...extra: string[]) {
  const r = spawnSync(
    process.execPath,
    [BIN, 'plan', '--root', 'root', '--format', 'markdown', '--save', 'plan.json', ...extra],
    { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } },
  )
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe.runIf(need('cmark-gfm'))('plan --format markdown of 500 changed files', () => {
  const cases: Array<{ name: string; limit: (full: number) => number | undefined }> = [
    { name: 'the default --max-bytes (60000)', limit: () => undefined },
    { name: 'a small --max-bytes (20000)', limit: () => 20_000 },
    // only a few diffs need to go: the largest ones, the others shown whole
    { name: 'a --max-bytes just under the full size', limit: (full) => full - 3000 },
  ]
  for (const { name, limit: limitOf } of cases) {
    it(`stays under ${name}, says what was collapsed, and cmark-gfm reads it`, () => {
      const dir = tree()
      const full = markdown(dir, '--max-bytes', '10000000')
      expect(full.code, full.err).toBe(0)
      const limit = limitOf(Buffer.byteLength(full.out))
      const max = limit ?? 60_000
      // in full it would not fit: this plan is one that must be collapsed
      expect(Buffer.byteLength(full.out)).toBeGreaterThan(max)
      const md = markdown(dir, ...(limit === undefined ? [] : ['--max-bytes', String(limit)]))
      expect(md.code, md.err).toBe(0)
      expect(Buffer.byteLength(md.out)).toBeLessThanOrEqual(max)

      const doc = readPlan(join(dir, 'plan.json'))
      expect(doc.changes).toHaveLength(FILES)
      expect(doc.leftovers).toHaveLength(LEFT)
      const hash = fileHash(join(dir, 'plan.json'))
      // the hash heads the comment and closes it
      expect(md.out.slice(0, 2000)).toContain(hash)
      expect(md.out.slice(-2000)).toContain(hash)

      // what a reader of the ticket sees: GitHub's parser renders a table, the collapsible
      // blocks, and each diff fence as one diff, beginning with its header
      const html = cmarkGfm(md.out)
      expect(html).toMatch(/<table>/)
      expect((html.match(/<details>/g) ?? []).length).toBe(
        (md.out.match(/^<details>/gm) ?? []).length,
      )
      const blocks = [
        ...html.matchAll(/<pre><code class="language-diff">([\s\S]*?)<\/code><\/pre>/g),
      ].map((m) => everyText(m[1]!))
      expect(blocks).toHaveLength((md.out.match(/^`{3,}diff$/gm) ?? []).length)
      const inFull = new Set<string>()
      for (const b of blocks) {
        const target = /^--- a\/(\S+)\n/.exec(b)?.[1]
        expect(target, b.slice(0, 80)).toBeDefined()
        // the whole diff of that file, as the plan holds it
        expect(b).toBe(doc.changes.find((c) => c.target === target)!.diff)
        inFull.add(target!)
      }
      const text = everyText(html)

      // every file is a row of the table, or counted in the "… and N more" line under it
      const rows = new Set(
        [...html.matchAll(/<td><code>(etc\/app\/service-\d{3}\.conf)<\/code><\/td>/g)].map(
          (m) => m[1]!,
        ),
      )
      const moreFiles = Number(/… and (\d+) more files? not listed/.exec(text)?.[1] ?? 0)
      expect(rows.size + moreFiles).toBe(FILES)
      // every leftover is listed, or counted
      const listed = new Set(
        [...text.matchAll(/(srv\/notes-\d{3}\.txt):1:8: 10\.0\.10\.48/g)].map((m) => m[1]!),
      )
      const moreLeft = Number(/… and (\d+) more leftovers?/.exec(text)?.[1] ?? 0)
      expect(listed.size + moreLeft).toBe(LEFT)

      // the diffs not shown whole: each collapsed one says so with its size, the largest went
      // first, and the closing paragraph counts them all, their lines and bytes
      const size = (d: string) => ({
        lines: d.split('\n').length - (d.endsWith('\n') ? 1 : 0),
        bytes: Buffer.byteLength(d),
      })
      const out = doc.changes.filter((c) => !inFull.has(c.target))
      expect(out.length).toBeGreaterThan(0)
      const notes = [
        ...text.matchAll(/Diff left out to stay under --max-bytes: (\d+) lines?, (\d+) bytes/gi),
      ].map((m) => ({ lines: Number(m[1]), bytes: Number(m[2]) }))
      // a collapsed block left in the comment says so with its size (under a tight limit the
      // blocks may all go, counted in an "… and N more diffs" line, the table keeping their files)
      if (notes.length === 0) expect(text).toMatch(/… and \d+ more diffs? not shown/)
      const shownBytes = doc.changes
        .filter((c) => inFull.has(c.target))
        .map((c) => size(c.diff).bytes)
      if (shownBytes.length > 0 && notes.length > 0)
        expect(Math.max(...shownBytes)).toBeLessThanOrEqual(Math.min(...notes.map((n) => n.bytes)))
      if (limit !== undefined && limit > 100_000) {
        // just under the full size: most diffs whole, the largest one (service-250's) collapsed
        expect(notes.length).toBeGreaterThan(0)
        expect(inFull.size).toBeGreaterThan(FILES / 2)
        expect(inFull.has(`etc/app/service-${BIG}.conf`)).toBe(false)
      }
      const closing = text.slice(text.lastIndexOf('--max-bytes'))
      expect(text).toMatch(new RegExp(`under --max-bytes ${max}, this comment leaves out`))
      const said = /the diffs of (\d+) files? \((\d+) lines, (\d+) bytes\)/.exec(text)
      expect(said, closing).not.toBeNull()
      expect(said!.slice(1, 4).map(Number)).toEqual([
        out.length,
        out.reduce((a, c) => a + size(c.diff).lines, 0),
        out.reduce((a, c) => a + size(c.diff).bytes, 0),
      ])
    })
  }

  it('a --max-bytes too small for the fixed parts: exit 1 naming the size needed, nothing printed', () => {
    const dir = tree()
    const r = markdown(dir, '--max-bytes', '200')
    expect(r.code).toBe(1)
    expect(r.out).toBe('')
    expect(r.err).toMatch(/--max-bytes/)
    expect(r.err).toMatch(/\d{3,}/)
    expect(r.err).not.toMatch(/^\s+at /m)
  })
})
