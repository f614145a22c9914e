import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createEngine, textStep, type StepKind } from '../src/index.js'
import { discoverCache, discoverFiles } from '../src/plan/discover.js'

// A plan of a large tree reads its files ahead on reader threads while the tree is still being
// walked, and then does not read again the files that hold no needle. Read ahead or not, the
// plan is the same.

/** A step that appends a line to every file it plans, and plans every file (no needle needed). */
const stamp: StepKind<any> = {
  ...textStep,
  name: 'stamp',
  needles: () => [],
  alwaysPlan: () => true,
  plan: (file) => ({
    edits: [{ start: file.text.length, end: file.text.length, text: '# stamped\n', rule: 'stamp' }],
    diagnostics: [],
    leftovers: [],
  }),
}

/** Enough files that a plan reads them on threads, and reads ahead. */
const FILES = 4400

function tree(seed: number, hot: number): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cutover-read-ahead-')))
  let x = seed || 1
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648
  for (let k = 0; k < FILES; k++) {
    const ext = k % 17 === 0 ? 'txt' : 'conf'
    const path = join(root, `d${k % 37}`, `s${k % 5}`, `f${k}.${ext}`)
    mkdirSync(dirname(path), { recursive: true })
    const r = next()
    const body =
      r < hot
        ? `host db.example.org ${r < hot / 2 ? '10.0.10.48' : '10.0.10.49'}\n`
        : r < hot * 2
          ? 'near miss 10.0.10.4 and 10.0.10.480\n'
          : `quiet ${k}\n`
    writeFileSync(path, body)
  }
  // one directory also in scope through a link to it: its files are targets twice
  symlinkSync('d3', join(root, 'also'))
  return root
}

describe('reading ahead while the tree is walked', () => {
  it('gives the same plan as reading after the walk, on this thread', async () => {
    const engine = createEngine({ steps: [textStep, stamp] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["**/*.conf"], addresses: names }\n  - stamp: { files: ["**/*.txt"], replace: { never-here: x } }\n',
      'cutover.yaml',
    )
    const view = (p: Awaited<ReturnType<typeof engine.plan>>) =>
      JSON.stringify({
        changes: p.changes,
        leftovers: p.leftovers,
        notes: p.notes,
        stats: p.stats,
      })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.constantFrom(0, 0.01, 0.2),
        async (seed, hot) => {
          const root = tree(seed, hot)
          try {
            const after = await engine.plan(spec, { root, threads: 0 })
            const ahead = await engine.plan(spec, { root })
            expect(after.stats.considered).toBeGreaterThan(FILES)
            expect(view(ahead)).toBe(view(after))
          } finally {
            rmSync(root, { recursive: true, force: true })
          }
        },
      ),
      { numRuns: 2 },
    )
  }, 120_000)
})

describe('discoverFiles onFile', () => {
  it('names each file found that is not a link, with where it is, as the walk finds it', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'cutover-on-file-')))
    for (const p of ['etc/a.conf', 'etc/b.conf', 'etc/skip.txt', 'srv/app/c.conf']) {
      mkdirSync(dirname(join(root, p)), { recursive: true })
      writeFileSync(join(root, p), p)
    }
    symlinkSync('../etc/a.conf', join(root, 'srv/link.conf'))
    symlinkSync('srv/app', join(root, 'app'))
    const given: Array<[string, string]> = []
    const found = await discoverFiles(root, {
      files: ['**/*.conf'],
      cache: discoverCache(),
      onFile: (path, real) => given.push([path, real]),
    })
    expect(found).toEqual([
      'app/c.conf',
      'etc/a.conf',
      'etc/b.conf',
      'srv/app/c.conf',
      'srv/link.conf',
    ])
    // the link to a file is resolved later, as before; a file below a linked directory is where
    // that directory really is
    expect(given.sort()).toEqual([
      ['app/c.conf', join(root, 'srv/app/c.conf')],
      ['etc/a.conf', join(root, 'etc/a.conf')],
      ['etc/b.conf', join(root, 'etc/b.conf')],
      ['srv/app/c.conf', join(root, 'srv/app/c.conf')],
    ])
  })
})
