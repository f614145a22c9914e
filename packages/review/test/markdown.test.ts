import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { need } from '@cutover/test-kit'
import { showControls, type PlanDocument } from '@cutover/rewrite'
import { ReviewError, reviewOf, toMarkdown, type Review } from '../src/index.js'
import { cmark, elements, parse } from './cmark.js'
import { SPEC, cleanTrees, fleetDoc, hashOf, planDoc } from './plans.js'

afterAll(cleanTrees)

const HOSTILE = 'etc/odd/a|b`c``<script>alert(1)</script>\n| x | y |'
const FILES = {
  'etc/a.conf': 'db = 10.0.10.48\nname = oldname\nagain = oldname\n',
  // a diff line with a run of backticks longer than a fence, and a closing tag
  'etc/b.conf': 'x ```````` oldname </details> <b>\n  ```\n````\nhost 10.0.10.48\n',
  'etc/app.ini': '[db]\nhost = 10.0.10.48\npassword = Summer2019!\n',
  [HOSTILE]: 'host 10.0.10.48\n',
}
const SECRET = 'n3w-S3cret-value'

const withNewline = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`)

/** The HTML elements a review may produce: its own blocks, and what Markdown makes. */
const ALLOWED = new Set([
  'h1',
  'h2',
  'h3',
  'p',
  'strong',
  'code',
  'pre',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'details',
  'summary',
  'ul',
  'li',
  'hr',
])

async function review(files: Record<string, string> = FILES): Promise<Review> {
  const doc = await planDoc(SPEC, files, { DB_PASSWORD: SECRET })
  return reviewOf(doc, { hash: hashOf(doc), saved: 'plans/plan 1.json' })
}

describe.runIf(need('cmark-gfm'))('toMarkdown, read back by cmark-gfm', () => {
  it('has one diff fence per file holding exactly its diff, one table row per file, a details block each', async () => {
    const r = await review()
    const md = toMarkdown(r)
    const p = parse(md)
    expect(p.codeBlocks.filter((b) => b.info === 'diff').map((b) => b.text)).toEqual(
      r.files.map((f) => withNewline(f.diff)),
    )
    // the hostile name's diff is there, and the backtick runs of b.conf stayed inside their fence
    expect(r.files.find((f) => f.target === HOSTILE)!.diff).toContain('<script>')
    expect(p.codeBlocks.find((b) => b.text.includes('````````'))?.info).toBe('diff')

    expect(p.tables).toHaveLength(1)
    const table = p.tables[0]!
    expect(table.header).toEqual(['file', 'kind', '+', '−', 'what the rules did'])
    expect(table.rows).toEqual(
      r.files.map((f) => [f.path, f.kind, `+${f.added}`, `−${f.removed}`, f.rules]),
    )
    expect(table.rows.find((row) => row[0]!.includes('<script>'))![0]).toBe(
      '"etc/odd/a|b`c``<script>alert(1)</script>\\n| x | y |"',
    )

    // one <details><summary> per file, whose summary is the path, escaped for HTML
    const summaries = p.htmlBlocks.filter((h) => h.startsWith('<details><summary>'))
    expect(summaries).toHaveLength(r.files.length)
    expect(p.htmlBlocks.filter((h) => h.trim() === '</details>')).toHaveLength(r.files.length)
    expect(summaries.some((s) => s.includes('&lt;script&gt;alert(1)&lt;/script&gt;'))).toBe(true)
    for (const s of summaries) expect(s).not.toMatch(/<(?!\/?(details|summary|code)>)/)

    // nothing of a name or a text became markup
    expect(p.htmlInline).toBe(0)
    expect([...elements(md)].filter((e) => !ALLOWED.has(e))).toEqual([])
  })

  it('gives the hash at the top and the end, and how to apply exactly the saved plan', async () => {
    const r = await review()
    const p = parse(toMarkdown(r))
    expect(p.headings[0]).toEqual({ level: 1, text: 'Cutover plan' })
    expect(p.paragraphs[0]).toBe(`Plan hash: ${r.hash}`)
    expect(p.paragraphs.at(-1)).toBe(`Plan hash: ${r.hash}`)
    expect(p.codeBlocks.find((b) => b.info === 'sh')?.text).toBe(
      `cutover apply 'plans/plan 1.json' --expect ${r.hash}\n`,
    )
    const unsaved = parse(toMarkdown({ ...r, saved: undefined } as Review))
    expect(unsaved.codeBlocks.filter((b) => b.info === 'sh')).toEqual([])
    expect(unsaved.paragraphs.join('\n')).toContain('This plan was not saved')
  })

  it('groups leftovers by reason, lists accepted ones, warnings and validators, escaped', async () => {
    const doc = await planDoc(
      SPEC.replace(
        'replace: { oldname: newname } }',
        'replace: { oldname: newname }, validate: "grep -q . %s" }',
      ),
      FILES,
      { DB_PASSWORD: SECRET },
    )
    doc.leftovers.push(
      {
        target: 'etc/z',
        line: 1,
        col: 2,
        text: '10.0.10.48 <img src=x>',
        reason: 'not a | rule `x`',
      },
      { target: 'etc/w', line: 3, col: 1, text: '*10.0.10.48*', reason: 'not a | rule `x`' },
      {
        target: 'etc/v',
        line: 9,
        col: 1,
        text: '10.0.10.48\n# h\n| a |',
        reason: 'not a | rule `x`',
      },
      {
        target: 'etc/y',
        line: 2,
        col: 5,
        text: '10.0.10.48',
        reason: 'other',
        accepted: 'ok [link](http://x)',
      },
      {
        target: 'etc/u',
        line: 1,
        col: 1,
        text: 'www.evil.example http://evil.example/x a@b.example $x$ &lt; ~~s~~',
        reason: 'links',
      },
    )
    doc.notes.push({
      target: 'etc/n',
      line: 4,
      col: 2,
      code: 'X_W',
      message: '# not a heading',
      severity: 'warning',
    })
    const md = toMarkdown(reviewOf(doc, { hash: hashOf(doc) }))
    const p = parse(md)
    expect(p.headings.map((h) => h.text)).toContain('not a | rule `x` (3)')
    expect(p.items).toContain('etc/v:9:1: 10.0.10.48^J# h^J| a |')
    expect(p.headings.map((h) => h.text)).not.toContain('h')
    expect(p.tables).toHaveLength(1)
    expect(p.items).toContain('etc/z:1:2: 10.0.10.48 <img src=x>')
    expect(p.items).toContain('etc/w:3:1: *10.0.10.48*')
    expect(p.items).toContain('etc/y:2:5: 10.0.10.48 — other; accepted: ok [link](http://x)')
    expect(p.items).toContain('etc/n:4:2: X_W # not a heading')
    // no autolink, entity, strikethrough or math: the text as it is
    expect(p.items).toContain(
      'etc/u:1:1: www.evil.example http://evil.example/x a@b.example $x$ &lt; ~~s~~',
    )
    expect(p.items.find((i) => i.startsWith('validate: grep -q . %s: '))).toBe(
      `validate: grep -q . %s: etc/a.conf, etc/b.conf, "etc/odd/a|b\`c\`\`<script>alert(1)</script>\\n| x | y |"`,
    )
    expect(p.htmlInline).toBe(0)
    expect([...elements(md)].filter((e) => !ALLOWED.has(e))).toEqual([])
  })

  it('names the machine of each file of a fleet in a column of its own', async () => {
    const doc = await fleetDoc(
      `version: 1
machines:
  finance: { root: /srv/finance }
  timesheets: { ssh: root@timesheets, port: 2222 }
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text: { files: ["etc/*"], addresses: new }
`,
      {
        finance: { 'etc/hosts.conf': 'db 10.0.10.48\n' },
        timesheets: { 'etc/a\nb': 'db 10.0.10.48\n' },
      },
    )
    const p = parse(toMarkdown(reviewOf(doc, { hash: hashOf(doc) })))
    expect(p.tables[0]!.header[0]).toBe('machine')
    expect(p.tables[0]!.rows.map((r) => r.slice(0, 2))).toEqual([
      ['finance', 'etc/hosts.conf'],
      ['timesheets', '"etc/a\\nb"'],
    ])
    expect(p.items).toContain('timesheets: root@timesheets:2222')
  })

  it('keeps a plan of 500 changed files under --max-bytes and says what it left out', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 500; i++)
      files[`etc/app${String(i).padStart(3, '0')}.conf`] =
        `# service ${i}\nhost = 10.0.10.48\n` + 'x = 1\n'.repeat(i % 7) + 'name = oldname\n'
    const r = await review(files)
    expect(r.files).toHaveLength(500)
    for (const maxBytes of [60_000, 20_000]) {
      const md = toMarkdown(r, { maxBytes })
      expect(Buffer.byteLength(md)).toBeLessThanOrEqual(maxBytes)
      const p = parse(md)
      // every diff shown is a whole diff of one file of the plan
      const diffs = new Set(r.files.map((f) => withNewline(f.diff)))
      const shown = p.codeBlocks.filter((b) => b.info === 'diff')
      for (const b of shown) expect(diffs.has(b.text)).toBe(true)
      expect(shown.length).toBeLessThan(500)
      // every diff cannot be collapsed to a note within the limit: the smallest ones are whole
      const size = (d: string) => Buffer.byteLength(d)
      const shownSizes = shown.map((b) => size(b.text))
      const hidden = r.files.filter((f) => !shown.some((b) => b.text === withNewline(f.diff)))
      if (maxBytes === 60_000) expect(shown.length).toBeGreaterThan(0)
      if (shown.length)
        expect(Math.max(...shownSizes)).toBeLessThanOrEqual(
          Math.min(...hidden.map((f) => size(withNewline(f.diff)))),
        )
      // rows shown and rows counted add up to the plan's files
      const rows = p.tables[0]!.rows.length
      const more = /… and (\d+) more files not listed here/.exec(p.paragraphs.join('\n'))
      expect(rows + Number(more?.[1] ?? 0)).toBe(500)
      // the closing section says what was collapsed
      expect(p.headings.map((h) => h.text)).toContain('Left out')
      const left = p.paragraphs.find((t) => t.startsWith('To stay under --max-bytes'))!
      expect(left).toContain(`--max-bytes ${maxBytes}`)
      expect(left).toContain(`the diffs of ${500 - shown.length} files`)
      expect(left).toContain("cutover show 'plans/plan 1.json' --format html --out review.html")
    }
  })

  it('collapses the largest diffs first, each to its stat line and a note', async () => {
    const files = {
      ...FILES,
      'etc/big.conf': 'host = 10.0.10.48\n'.repeat(200),
    }
    const r = await review(files)
    const full = Buffer.byteLength(toMarkdown(r, { maxBytes: 1e9 }))
    const md = toMarkdown(r, { maxBytes: full - 100 })
    const p = parse(md)
    const big = r.files.find((f) => f.target === 'etc/big.conf')!
    expect(p.codeBlocks.filter((b) => b.info === 'diff').map((b) => b.text)).toEqual(
      r.files.filter((f) => f !== big).map((f) => withNewline(f.diff)),
    )
    expect(p.paragraphs).toContain(
      `Diff left out to stay under --max-bytes: ${big.diff.split('\n').length - 1} lines, ${Buffer.byteLength(big.diff)} bytes; see cutover show 'plans/plan 1.json' --format html --out review.html.`,
    )
    expect(p.tables[0]!.rows).toHaveLength(r.files.length)
  })
})

describe.runIf(need('cmark-gfm'))('toMarkdown: any text reads back as itself', () => {
  it('shows a reason, a leftover, a message and a file name as they are, with no markup made of them', async () => {
    const base = await planDoc(SPEC, { 'etc/a.conf': 'name = oldname\n' }, { DB_PASSWORD: SECRET })
    const piece = fc.constantFrom(
      ...'`*_[]()<>|~$&#+-.!:@\\/=^{}" \tw1a;',
      'www.',
      'http://',
      '&amp;',
      '&#65;',
      'mailto:',
      '1.',
      '2)',
      'x@y.example',
      '@octocat',
      '#12',
      'GH-7',
      ':smile:',
      '<b>',
      '</details>',
      'é',
      '\n',
    )
    const text = fc
      .array(piece, { minLength: 1, maxLength: 12 })
      .map((a) => a.join(''))
      .filter((t) => t.trim() !== '')
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 25 }), async (texts) => {
        const doc: PlanDocument = {
          ...base,
          changes: base.changes.map((c, i) => ({ ...c, target: texts[i % texts.length]! })),
          leftovers: texts.map((t, i) => ({
            target: `etc/l${i}`,
            line: 1,
            col: 1,
            text: t,
            reason: `${t} ${i}`,
          })),
          notes: texts.map((t) => ({
            target: 'etc/n',
            code: 'X_Y',
            message: t,
            severity: 'warning',
          })),
        }
        const r = reviewOf(doc, { hash: hashOf(doc) })
        const md = toMarkdown(r)
        const p = parse(md)
        const xml = cmark(md, 'xml')
        for (const node of ['link', 'emph', 'strikethrough', 'image', 'html_inline'])
          expect(xml).not.toContain(`<${node}`)
        expect(xml.match(/<strong>/g)).toHaveLength(1)
        const shown = (t: string) => showControls(t).trimEnd()
        expect(p.headings.map((h) => h.text).filter((h) => /\d+ \(1\)$/.test(h))).toEqual(
          texts.map((t, i) => `${showControls(t)} ${i} (1)`),
        )
        expect(p.items.filter((i) => i.startsWith('etc/l'))).toEqual(
          texts.map((t, i) => `etc/l${i}:1:1: ${showControls(t)}`),
        )
        expect(p.items.filter((i) => i.startsWith('etc/n: '))).toEqual(
          texts.map((t) => `etc/n: X_Y ${shown(t)}`.trimEnd()),
        )
        expect(p.tables[0]!.rows[0]![0]).toBe(r.files[0]!.path)
      }),
      { numRuns: 40 },
    )
  })

  it('keeps names and values readable in the raw text: a path or value in code, no needless backslash', async () => {
    const r = await review()
    const md = toMarkdown(r)
    expect(md).toContain('| `etc/a.conf` | text |')
    expect(md).toContain('<summary><code>etc/a.conf</code> (text, +')
    const doc = await planDoc(SPEC, FILES, { DB_PASSWORD: SECRET })
    doc.leftovers.push({
      target: 'etc/pg_hba.conf',
      line: 3,
      col: 7,
      text: 'host all 10.0.10.48/32 md5',
      reason: 'old address: inside a comment of routing-keys.conf',
    })
    const raw = toMarkdown(reviewOf(doc, { hash: hashOf(doc) }))
    expect(raw).toContain('### old address: inside a comment of routing-keys.conf (1)')
    expect(raw).toContain('- etc/pg_hba.conf:3:7: `host all 10.0.10.48/32 md5`')
    // what GitHub would make a mention or an issue reference (notifying, cross-referencing) is code
    doc.notes.push({
      target: 'etc/n',
      code: 'X_Y',
      message: 'as @octocat said in #12, GH-7 and org/repo#3',
      severity: 'warning',
    })
    expect(toMarkdown(reviewOf(doc, { hash: hashOf(doc) }))).toContain(
      '- etc/n: X_Y as `@octocat` said in `#12`, `GH-7` and org/repo`#3`',
    )
  })
})

describe('toMarkdown within its limit', () => {
  it('never exceeds maxBytes; below the least it throws MAX_BYTES naming the least', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 30; i++)
      files[`etc/f${i}.conf`] = 'host = 10.0.10.48 oldname # café → ✓ 😀\n'.repeat(
        1 + ((i * 37) % 23),
      )
    const base = await planDoc(SPEC, files, { DB_PASSWORD: SECRET })
    const full = (r: Review) => Buffer.byteLength(toMarkdown(r, { maxBytes: 1e9 }))
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 29 }),
        fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 40 }),
        fc.double({ min: 0, max: 1.05, noNaN: true }),
        async (drop, texts, part) => {
          const doc: PlanDocument = {
            ...base,
            changes: base.changes.slice(drop),
            leftovers: texts.map((text, i) => ({
              target: `etc/l${i}`,
              line: i + 1,
              col: 1,
              text,
              reason: `reason ${i % 3} ${text}`,
            })),
          }
          const r = reviewOf(doc, { hash: hashOf(doc) })
          const maxBytes = Math.floor(full(r) * part)
          let md: string
          try {
            md = toMarkdown(r, { maxBytes })
          } catch (e) {
            expect(e).toBeInstanceOf(ReviewError)
            const err = e as ReviewError
            expect(err.code).toBe('MAX_BYTES')
            expect(err.needed).toBeGreaterThan(maxBytes)
            expect(Buffer.byteLength(toMarkdown(r, { maxBytes: err.needed! }))).toBeLessThanOrEqual(
              err.needed!,
            )
            // the least: one byte less does not fit either
            expect(() => toMarkdown(r, { maxBytes: err.needed! - 1 })).toThrow(ReviewError)
            return
          }
          expect(Buffer.byteLength(md)).toBeLessThanOrEqual(maxBytes)
          if (maxBytes >= full(r)) expect(md).not.toContain('## Left out')
          else expect(md).toContain('## Left out')
        },
      ),
      { numRuns: 60 },
    )
  })

  it('fits a plan of many leftover reasons: a reason whose leftovers are all cut goes whole, counted', async () => {
    const base = await planDoc(SPEC, { 'etc/a.conf': 'name = oldname\n' }, { DB_PASSWORD: SECRET })
    const doc: PlanDocument = {
      ...base,
      leftovers: Array.from({ length: 3000 }, (_, i) => ({
        target: 'etc/bind/db.example.org',
        line: i + 1,
        col: 10,
        text: '10.0.10.48',
        reason: `old address: the A record of host${i}.example.org., which this profile keeps`,
      })),
    }
    const r = reviewOf(doc, { hash: hashOf(doc) })
    const md = toMarkdown(r)
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(60_000)
    const headings = md.match(/^### .* \(1\)$/gm)!
    const listed = md.match(/^- etc\/bind\/db\.example\.org:\d+:10: `10\.0\.10\.48`$/gm)!
    // the first reasons, each with its leftover; the rest counted, with no heading left empty
    expect(headings.length).toBe(listed.length)
    expect(listed.length).toBeGreaterThan(100)
    expect(headings[0]).toContain('host0.example.org')
    expect(md).toContain(`leaves out ${3000 - listed.length} leftover(s)`)
  })

  it('says which diffs left out are of files and which of database objects', async () => {
    const base = await planDoc(SPEC, { 'etc/a.conf': 'name = oldname\n' }, { DB_PASSWORD: SECRET })
    const body = Array.from({ length: 80 }, (_, k) => ` line ${k}\n`).join('')
    const doc: PlanDocument = {
      ...base,
      database: [
        {
          target: 'pg:finance/public.f()',
          kind: 'sql',
          diff: `--- a/pg:finance/public.f()\n+++ b/pg:finance/public.f()\n@@ -1,81 +1,81 @@\n${body}-old 10.0.10.48\n+new 10.0.10.49\n`,
          rules: { addresses: 1 },
        },
      ] as unknown as PlanDocument['database'],
    }
    const r = reviewOf(doc, { hash: hashOf(doc) })
    const full = Buffer.byteLength(toMarkdown(r, { maxBytes: 1e9 }))
    const md = toMarkdown(r, { maxBytes: full - 200 })
    expect(md).toContain('leaves out the diffs of 1 database object (85 lines,')
  })

  it('throws MAX_BYTES for a limit under the fixed parts, with the size they need', async () => {
    const r = await review()
    const err = (() => {
      try {
        toMarkdown(r, { maxBytes: 100 })
      } catch (e) {
        return e as ReviewError
      }
    })()
    expect(err).toBeInstanceOf(ReviewError)
    expect(err).toMatchObject({ code: 'MAX_BYTES' })
    expect(err!.message).toBe(
      `the review needs at least ${err!.needed} bytes, more than --max-bytes 100`,
    )
    expect(Buffer.byteLength(toMarkdown(r, { maxBytes: err!.needed! }))).toBeLessThanOrEqual(
      err!.needed!,
    )
  })
})

describe('a review of a plan with a secret', () => {
  it('holds no secret value and no old value the secret replaces', async () => {
    const r = await review()
    const md = toMarkdown(r)
    const ini = r.files.find((f) => f.target === 'etc/app.ini')!
    expect(ini.rules).toContain('set.db.password ×1')
    expect(ini.diff).toContain('(sensitive)')
    for (const text of [md, JSON.stringify(r)]) {
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain('Summer2019!')
    }
  })
})
