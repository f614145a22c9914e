import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { moduleLog, need } from '@cutover/test-kit'
import { startChromium, type Chromium, type ChromiumPage } from '@cutover/test-kit/chromium'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HTML_LIMITS, reviewOf, toHtml, type Review } from '../src/index.js'
import { SPEC, cleanTrees, fleetDoc, hashOf, planDoc } from './plans.js'
import { tempDir } from '@cutover/test-kit/temp'

// Reviews of plans made by the real engine, rendered and opened in real headless Chromium.
afterEach(cleanTrees)

const HOSTILE = `</details><script>alert("x")</script> 'q' &amp; <!--`
const FILES = {
  'etc/a.conf': 'db = 10.0.10.48\nname = oldname\nagain = oldname\n',
  'etc/app.ini': '[db]\nhost = 10.0.10.48\npassword = Summer2019!\n',
  'etc/other.txt': 'left 10.0.10.48\n',
  'etc/nonl.conf': 'db 10.0.10.48',
  [`etc/odd/<script>alert(1)<`]: `host 10.0.10.48 ${HOSTILE}\n`,
  [`etc/odd/<img src=x onerror=alert(1)>"q'`]: 'host 10.0.10.48\n',
}
const FLEET_SPEC = `version: 1
machines:
  finance: { root: /srv/finance }
  timesheets: { ssh: root@timesheets, port: 2222 }
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text: { files: ["etc/*.conf"], addresses: new }
`

let dir = ''
let chromium: Chromium | undefined
beforeAll(() => {
  dir = tempDir('cutover-html-')
})
afterAll(async () => {
  await chromium?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Writes the page and opens it in the one Chromium of this file. */
async function open(name: string, html: string): Promise<ChromiumPage> {
  const file = join(dir, `${name}.html`)
  writeFileSync(file, html)
  chromium ??= await startChromium()
  return chromium.open(file)
}

/** The visible text of every element matching `selector`. */
function texts(page: ChromiumPage, selector: string): Promise<string[]> {
  return page.page.$$eval(selector, (all) =>
    all.map((e) => (e as { innerText?: string }).innerText ?? ''),
  )
}

async function singleRoot(): Promise<Review> {
  const doc = await planDoc(SPEC, FILES, { DB_PASSWORD: 'n3w-Secret' })
  doc.leftovers.push({
    target: 'etc/w',
    line: 5,
    col: 6,
    text: '10.0.10.48',
    reason: 'accepted here',
    accepted: 'ok',
  })
  return reviewOf(doc, { hash: hashOf(doc), saved: 'plan.json' })
}

describe('toHtml: the page itself', () => {
  it('is one document with the CSP, the hash at the top, and no script, link or url() outside data:', async () => {
    const r = await singleRoot()
    const html = await toHtml(r)
    expect(html.startsWith('<!doctype html>\n')).toBe(true)
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:">`,
    )
    // the hash comes before the summary and again at the end
    expect(html.indexOf(r.hash)).toBeLessThan(html.indexOf('id="summary"'))
    expect(html.lastIndexOf(r.hash)).toBeGreaterThan(html.indexOf('id="validators"'))
    expect(html).toContain(`cutover apply plan.json --expect ${r.hash}`)
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|@font-face/i)
    expect(
      [...html.matchAll(/url\(\s*['"]?([^'")]*)/g)]
        .map((m) => m[1])
        .filter((u) => !u!.startsWith('data:')),
    ).toEqual([])
    // diff2html's stylesheet is inlined (its classes are styled)
    expect(html).toMatch(/<style>[^<]*\.d2h-code-line-ctn\{/)
  })

  it('says the plan was not saved when it was not', async () => {
    const doc = await planDoc(SPEC, FILES, { DB_PASSWORD: 'x' })
    const html = await toHtml(reviewOf(doc, { hash: hashOf(doc) }))
    expect(html).toContain('This plan was not saved')
    expect(html).not.toContain('cutover apply')
  })

  it('holds no secret value the plan sets (the document holds none)', async () => {
    const html = await toHtml(await singleRoot())
    expect(html).not.toContain('n3w-Secret')
    expect(html).not.toContain('Summer2019!')
  })
})

describe('diff2html', () => {
  it('is loaded by toHtml only: importing the package or writing Markdown loads none of it', async () => {
    const doc = await planDoc(SPEC, FILES, { DB_PASSWORD: 'x' })
    const review = reviewOf(doc, { hash: hashOf(doc) })
    const loaded = (html: boolean) => {
      const d = mkdtempSync(join(dir, 'modules-'))
      const log = moduleLog(d)
      writeFileSync(join(d, 'review.json'), JSON.stringify(review))
      const script =
        `const m = await import(${JSON.stringify(join(import.meta.dirname, '../dist/index.js'))});` +
        `const r = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(join(d, 'review.json'))}, 'utf8'));` +
        `m.toMarkdown(r);${html ? 'await m.toHtml(r);' : ''}`
      const out = spawnSync(
        process.execPath,
        [...log.importArgs, '--input-type=commonjs', '-e', `(async () => { ${script} })()`],
        {
          encoding: 'utf8',
        },
      )
      expect(out.stderr).toBe('')
      return log
        .loaded()
        .split('\n')
        .filter((u) => u.includes('/diff2html/'))
    }
    expect(loaded(false)).toEqual([])
    expect(loaded(true).length).toBeGreaterThan(0)
  })
})

describe.runIf(need('chromium'))('toHtml opened in Chromium', () => {
  it('a fleet plan: no request outside the file, every file, leftover and warning shown, a screenshot', async () => {
    const doc = await fleetDoc(FLEET_SPEC, {
      finance: {
        'etc/hosts.conf': 'db 10.0.10.48\n',
        'etc/app.conf': 'a 10.0.10.48\nb 10.0.10.48\n',
        'etc/left.txt': '10.0.10.48\n',
      },
      timesheets: { 'etc/hosts.conf': 'db 10.0.10.48\n# 10.0.10.48 in a comment\n' },
    })
    doc.notes.push({
      machine: 'timesheets',
      target: 'etc/hosts.conf',
      line: 1,
      col: 4,
      code: 'X_WARN',
      message: 'look here',
      severity: 'warning',
    })
    doc.leftovers.push({
      machine: 'finance',
      target: 'etc/left.txt',
      line: 1,
      col: 1,
      text: '10.0.10.48',
      reason: 'no step reads this file',
    })
    const r = reviewOf(doc, { hash: hashOf(doc), saved: 'plan.json' })
    expect(r.files.length).toBeGreaterThanOrEqual(3)
    const page = await open('fleet', await toHtml(r))
    expect(page.outside()).toEqual([])
    expect(page.console).toEqual([])
    expect(page.errors).toEqual([])
    const text = await page.text()
    expect(text.indexOf(r.hash)).toBeLessThan(text.indexOf('Summary'))
    for (const f of r.files) {
      expect(text).toContain(f.path)
      expect(await page.text(`#${f.id} > summary`)).toContain(f.path)
    }
    expect(r.leftovers.flatMap((g) => g.items).length).toBeGreaterThan(0)
    for (const g of r.leftovers) {
      expect(text).toContain(g.reason)
      for (const l of g.items) expect(text).toContain(`${l.path}:${l.line}:${l.col}\t${l.text}`)
    }
    expect(text).toContain('timesheets:etc/hosts.conf:1:4\tX_WARN\tlook here')
    // navigation: a heading per machine, a link per file to its anchor
    expect(r.machines.map((m) => m.name)).toEqual(['finance', 'timesheets'])
    expect(await texts(page, 'nav h3')).toEqual(r.machines.map((m) => `${m.name} (${m.at})`))
    expect(await texts(page, 'nav h3')).toContain('timesheets (root@timesheets:2222)')
    const links = await page.page.$$eval('nav a', (all) => all.map((a) => a.getAttribute('href')))
    for (const f of r.files) expect(links).toContain(`#${f.id}`)
    expect(
      await page.counts(['details.item', '.split .d2h-file-wrapper', '.unified .d2h-file-wrapper']),
    ).toEqual({
      'details.item': r.files.length,
      '.split .d2h-file-wrapper': r.files.length,
      '.unified .d2h-file-wrapper': r.files.length,
    })
    const shot = await page.screenshot('review-html-fleet', { fullPage: true })
    expect(statSync(shot).size).toBeGreaterThan(10_000)
    await page.close()
  })

  it('side by side and unified are switched by CSS alone: the visible text changes', async () => {
    const r = await singleRoot()
    const page = await open('toggle', await toHtml(r))
    const views = async () => [await page.visible('.split'), await page.visible('.unified')]
    const item = `#${r.files.find((f) => f.target === 'etc/a.conf')!.id}`
    const before = await page.text(item)
    const diffs = r.files.filter((f) => !f.sensitive && !f.binary).length
    expect(await views()).toEqual([diffs, 0])
    await page.click('label[for=view-unified]')
    const after = await page.text(item)
    expect(await views()).toEqual([0, diffs])
    expect(after).not.toBe(before)
    // side by side: the old and the new line in two tables; unified: one table with both lines
    expect(await page.count(`${item} .d2h-file-side-diff`)).toBe(2)
    expect(after).toMatch(/- db = 10\.0\.10\.48\n[\s\S]*\n\+ db = 10\.0\.10\.49/)
    await page.click('label[for=view-split]')
    expect(await page.text(item)).toBe(before)
    expect(page.outside()).toEqual([])
    await page.close()
  })

  it('a hostile file name or diff line injects nothing: shown as text, the structure unchanged', async () => {
    const r = await singleRoot()
    const html = await toHtml(r)
    expect(html).not.toMatch(/<script|<img|<!--/i)
    const page = await open('hostile', html)
    expect(page.outside()).toEqual([])
    expect(page.errors).toEqual([])
    expect(await page.counts(['script', 'img', 'details', '[onerror]', 'style'])).toEqual({
      script: 0,
      img: 0,
      details: r.files.length,
      '[onerror]': 0,
      style: 1,
    })
    const text = await page.text()
    for (const f of r.files) expect(text).toContain(f.path)
    expect(text).toContain(`"etc/odd/<img src=x onerror=alert(1)>\\"q'"`)
    expect(text).toContain(`host 10.0.10.49 ${HOSTILE}`)
    await page.close()
  })

  it('hunks are read by their counts; a diff without hunks (a sensitive file) is shown as its lines', async () => {
    const r = await singleRoot()
    const file = (target: string, diff: string, more: Partial<Review['files'][number]> = {}) => ({
      ...r.files[0]!,
      id: `file-${target.replace(/\W/g, '-')}`,
      target,
      path: target,
      diff,
      ...more,
    })
    const review: Review = {
      ...r,
      files: [
        // a removed "-- comment" and an added "++ x" line are lines of the hunk, not a file header
        file(
          'etc/sql',
          '--- a/etc/sql\n+++ b/etc/sql\n@@ -7,2 +7,2 @@\n--- gone\n+++ come\n same\n',
        ),
        file(
          'etc/key.pem',
          '--- a/etc/key.pem\n+++ b/etc/key.pem\n-(sensitive file, 1704 bytes, sha256:aa)\n+(sensitive file, 1704 bytes, sha256:bb)\n',
          { sensitive: true, whole: 'file' },
        ),
        ...r.files.filter((f) => f.target === 'etc/nonl.conf'),
      ],
    }
    const page = await open('hunks', await toHtml(review))
    await page.click('label[for=view-unified]')
    const words = async (selector: string) =>
      (await page.text(selector)).replace(/\s+/g, ' ').trim()
    // the hunk's header, then each line with its old and new numbers
    expect(await words('#file-etc-sql .unified')).toBe(
      '@@ -7,2 +7,2 @@ 7 - -- gone 7 + ++ come 8 8 same',
    )
    expect(await page.text('#file-etc-key-pem .note')).toBe(
      'Shown only as its size and hash (a sensitive file).',
    )
    // one line each, no empty line between them
    expect(await page.text('#file-etc-key-pem pre.plain')).toBe(
      '-(sensitive file, 1704 bytes, sha256:aa)\n+(sensitive file, 1704 bytes, sha256:bb)',
    )
    const nonl = review.files[2]!
    expect(nonl.diff).toContain('\\ No newline at end of file')
    expect(await words(`#${nonl.id} .unified`)).toMatch(
      /- db 10\.0\.10\.48 \\ No newline at end of file 1 \+ db 10\.0\.10\.49 \\ No newline at end of file$/,
    )
    // side by side, each side has its own marker, after its own line
    await page.click('label[for=view-split]')
    const sides = await texts(page, `#${nonl.id} .split .d2h-file-side-diff`)
    expect(sides.map((t) => t.replace(/\s+/g, ' ').trim())).toEqual([
      '@@ -1,1 +1,1 @@ 1 - db 10.0.10.48 \\ No newline at end of file',
      '1 + db 10.0.10.49 \\ No newline at end of file',
    ])
    await page.close()
  })

  it('a text that is no unified diff (a database row) is shown line for line, whatever its lines hold', async () => {
    const doc = await planDoc(SPEC, { 'etc/a.conf': 'db 10.0.10.48\n' }, { DB_PASSWORD: 'x' })
    // a row's value with line breaks whose lines look like a hunk: no line of the statement is
    // taken for a hunk, none is left out
    const diff =
      `-- pg:finance/public.staff(id=1)\n` +
      `UPDATE public.staff SET note = 'x\n@@ -1 +1 @@\n-a\n+b\n' WHERE id = 1;\n` +
      `-- was: note = 'x'\n`
    doc.database.push({
      target: 'pg:finance/public.staff(id=1)',
      kind: 'sql',
      before: `sha256:${'0'.repeat(64)}`,
      after: `sha256:${'1'.repeat(64)}`,
      diff,
      rules: { addresses: 1 },
      payload: null,
      connection: null,
    })
    // a unified diff whose hunk is shorter than its header says is shown as its lines too
    doc.database.push({
      ...doc.database[0]!,
      target: 'pg:finance/public.f(integer)',
      diff: '--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-old\n+new\n',
    })
    const r = reviewOf(doc, { hash: hashOf(doc) })
    const [row, short] = r.database
    const page = await open('database-row', await toHtml(r))
    expect(await page.text(`#${row!.id} pre.plain`)).toBe(diff.slice(0, -1))
    expect(await page.text(`#${short!.id} pre.plain`)).toBe('@@ -1,3 +1,3 @@\n-old\n+new')
    expect(await page.count(`#${row!.id} .d2h-file-wrapper, #${short!.id} .d2h-file-wrapper`)).toBe(
      0,
    )
    await page.close()
  })

  it('a cut text that is no diff shows its first lines, never a later line after one left out', async () => {
    const r = await singleRoot()
    const long = `UPDATE t SET v = '${'z'.repeat(300)}';`
    const review: Review = {
      ...r,
      database: [
        {
          id: 'db-row',
          target: 'pg:finance/public.t(id=1)',
          kind: 'sql',
          rules: 'addresses ×1',
          added: 0,
          removed: 2,
          diff: `-- pg:finance/public.t(id=1)\n${long}\n-- was: v = 'a'\n`,
        },
      ],
    }
    const page = await open('plain-cut', await toHtml(review, { maxFileBytes: 200 }))
    expect(await page.text('#db-row pre.plain')).toBe('-- pg:finance/public.t(id=1)')
    expect(await page.text('#db-row .cut')).toMatch(
      /^Diff cut: the first 1 of 3 lines shown; 2 lines, /,
    )
    await page.close()
  })

  it('bidirectional and other control characters of any text are shown, never written raw', async () => {
    const r = await singleRoot()
    const html = async (review: Review) => {
      const out = await toHtml(review)
      expect(out).not.toMatch(/[\u0000\u202e\u2067]/)
      return out
    }
    const single = await html({ ...r, saved: 'plan\u202e.json', root: '/srv/\u2067x\u0000' })
    const fleet = await html({ ...r, machines: [{ name: 'm', at: 'local /srv/\u202eabc' }] })
    const page = await open('controls', single)
    expect(await page.text()).toContain('Saved as plan<U+202E>.json.')
    expect(await page.text()).toContain('Root: /srv/<U+2067>x^@')
    await page.close()
    const p2 = await open('controls-fleet', fleet)
    expect(await p2.text('#summary')).toContain('m (local /srv/<U+202E>abc)')
    await p2.close()
  })

  it('every field of a review is escaped, wherever it is shown', async () => {
    const h = (what: string) =>
      `${what}<b>bold</b></td></table></section></details><script>x()</script>"'&amp;`
    const review: Review = {
      profile: h('profile'),
      hash: `sha256:${'a'.repeat(64)}`,
      saved: h('saved'),
      spec: h('spec'),
      machines: [{ name: h('m'), at: h('at') }],
      files: [
        {
          id: 'file-x',
          machine: h('m'),
          target: h('target'),
          path: h('path'),
          kind: h('kind'),
          added: 1,
          removed: 1,
          rules: h('rules'),
          diff: `--- a/x\n+++ b/x\n@@ -1 +1 @@ ${h('hunk')}\n-${h('old')}\n+${h('new')}\n`,
          sensitive: false,
          binary: false,
        },
      ],
      database: [
        {
          id: 'db-y',
          target: h('db'),
          kind: h('dbkind'),
          rules: h('dbrules'),
          added: 0,
          removed: 1,
          diff: `-${h('plain')}\n`,
        },
      ],
      leftovers: [
        {
          reason: h('reason'),
          items: [
            {
              machine: h('m'),
              path: h('lpath'),
              line: 1,
              col: 2,
              text: h('ltext'),
              reason: h('reason'),
            },
          ],
        },
      ],
      accepted: [
        {
          path: h('apath'),
          line: 3,
          col: 4,
          text: h('atext'),
          reason: h('areason'),
          accepted: h('acc'),
        },
      ],
      warnings: [
        {
          path: h('wpath'),
          line: 1,
          col: 1,
          code: h('code'),
          message: h('wmsg'),
          severity: 'warning',
        },
      ],
      notes: [{ path: h('npath'), code: h('ncode'), message: h('nmsg'), severity: 'note' }],
      validators: [{ command: h('validate'), files: [h('vfile')] }],
      totals: {
        files: 1,
        machines: 1,
        added: 1,
        removed: 1,
        leftovers: 1,
        accepted: 1,
        warnings: 1,
      },
    }
    const html = await toHtml(review)
    expect(html).not.toMatch(/<script|<b>/i)
    const page = await open('fields', html)
    expect(await page.counts(['script', 'b', 'details', 'section', 'table'])).toEqual({
      script: 0,
      b: 0,
      details: 2,
      section: 8,
      table: 8,
    })
    const text = await page.text()
    for (const what of [
      'profile',
      'saved',
      'spec',
      'at',
      'target',
      'path',
      'kind',
      'rules',
      'old',
      'new',
      'db',
      'dbkind',
      'dbrules',
      'plain',
      'reason',
      'lpath',
      'ltext',
      'apath',
      'atext',
      'areason',
      'acc',
      'wpath',
      'code',
      'wmsg',
      'npath',
      'ncode',
      'nmsg',
      'validate',
      'vfile',
    ])
      expect(text, what).toContain(h(what))
    // a hunk header is rebuilt from its numbers: nothing after them is shown
    expect(text).not.toContain(h('hunk'))
    await page.close()
  })

  // these two lay out pages of thousands of diff rows: seconds each, more on a loaded machine
  it('a large diff is cut with a note, the largest diffs are left out past the page limit, the page stays small', async () => {
    const lines = (n: number, x: string) =>
      Array.from({ length: n }, (_, i) => `${x}${i} 10.0.10.48\n`).join('')
    const files: Record<string, string> = { 'etc/huge.conf': lines(3_000, 'huge') }
    for (let i = 0; i < 12; i++)
      files[`etc/m${String(i).padStart(2, '0')}.conf`] = lines(150 + i, `m${i}-`)
    files['etc/small.conf'] = 'db 10.0.10.48\n'
    const doc = await planDoc(SPEC, files, { DB_PASSWORD: 'x' })
    const r = reviewOf(doc, { hash: hashOf(doc), saved: 'plan.json' })
    const opts = { maxFileLines: 400, maxPageLines: 2_000 }
    const html = await toHtml(r, opts)
    const page = await open('large', html)
    expect(page.outside()).toEqual([])
    const huge = r.files.find((f) => f.target === 'etc/huge.conf')!
    const small = r.files.find((f) => f.target === 'etc/small.conf')!
    // huge: 6,000 lines (3,000 changed), cut to 400; the others 300 to 322 lines, 4,134 in all:
    // the largest are left out until the page holds 2,000 lines at most: huge (400) and the six
    // of 322 to 312 lines (2,144 lines are still too many, 1,832 are not)
    expect(await page.text(`#${huge.id} .cut`)).toMatch(
      /^Diff left out to keep the page small: 6,000 lines, [\d,]+ bytes\./,
    )
    const cutNotes = await texts(page, 'details .cut')
    expect(cutNotes.filter((t) => t.startsWith('Diff left out'))).toHaveLength(7)
    expect(cutNotes.filter((t) => t.startsWith('Diff cut: the first 400 of'))).toHaveLength(0)
    expect(await page.count(`#${small.id} .split .d2h-del`)).toBeGreaterThan(0)
    expect(await page.text('#summary .cut')).toContain('0 diffs are cut and 7 left out')
    const shown = await page.count('.unified .d2h-code-linenumber:not(.d2h-info)')
    expect(shown).toBeLessThanOrEqual(opts.maxPageLines)
    expect(shown).toBeGreaterThan(opts.maxPageLines / 2)
    // every file is still listed and reachable
    const text = await page.text()
    for (const f of r.files) expect(text).toContain(f.path)
    await page.close()

    // within the page's limit, the one large diff is cut, not left out
    const one = await toHtml(r, { maxFileLines: 400 })
    const p2 = await open('large-cut', one)
    const body = huge.diff
      .split('\n')
      .filter((l) => /^[-+ ]/.test(l) && !/^(---|\+\+\+) [ab]\//.test(l))
    expect(body).toHaveLength(6_000)
    const left = body.slice(400).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0)
    expect(await p2.text(`#${huge.id} .cut`)).toBe(
      `Diff cut: the first 400 of 6,000 lines shown; 5,600 lines, ${left.toLocaleString('en-US')} bytes left out (one diff shows 400 lines and 100,000 bytes at most). The saved plan plan.json holds the whole diff.`,
    )
    await p2.close()
    expect(Buffer.byteLength(html)).toBeLessThan(Buffer.byteLength(one))
  }, 180_000)

  it('a line longer than one diff may show is left out with its diff, never shown in part', async () => {
    const r = await singleRoot()
    const long = `x${'0123456789'.repeat(20_000)}`
    const review: Review = {
      ...r,
      files: [
        { ...r.files[0]!, id: 'file-long', diff: `--- a/x\n+++ b/x\n@@ -1 +1 @@\n-${long}\n+y\n` },
      ],
    }
    const html = await toHtml(review)
    expect(Buffer.byteLength(html)).toBeLessThan(100_000)
    const page = await open('long-line', html)
    expect(await page.text('#file-long .cut')).toBe(
      `Diff left out: its first line is longer than the 100,000 bytes one diff shows at most; 2 lines, ${(long.length + 2 + 3).toLocaleString('en-US')} bytes. The saved plan plan.json holds the whole diff.`,
    )
    expect(
      await page.count('#file-long .d2h-file-wrapper, #file-long .empty, #file-long pre'),
    ).toBe(0)
    // the summary counts it as left out, not as cut
    expect(await page.text('#summary .cut')).toContain('0 diffs are cut and 1 left out')
    await page.close()
  })

  it('with the default limits a plan of 12,000 changed lines makes a page of a few MB', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 12; i++)
      files[`etc/f${String(i).padStart(2, '0')}.conf`] = Array.from(
        { length: 600 },
        (_, k) => `l${k} 10.0.10.48\n`,
      ).join('')
    const doc = await planDoc(SPEC, files, { DB_PASSWORD: 'x' })
    const r = reviewOf(doc, { hash: hashOf(doc), saved: 'plan.json' })
    const html = await toHtml(r)
    const bytes = Buffer.byteLength(html)
    // 1,200 diff lines a file, cut to 1,000: 12,000 in all, of which 5,000 are shown
    expect(HTML_LIMITS).toEqual({
      maxFileLines: 1_000,
      maxFileBytes: 100_000,
      maxPageLines: 5_000,
      maxPageBytes: 500_000,
    })
    expect(bytes).toBeLessThan(5_000_000)
    const page = await open('default-limits', html)
    expect(page.outside()).toEqual([])
    expect(await page.count('.unified .d2h-code-linenumber:not(.d2h-info)')).toBe(5_000)
    const notes = await texts(page, 'details .cut')
    expect(
      notes.filter((t) => t.startsWith('Diff cut: the first 1,000 of 1,200 lines')),
    ).toHaveLength(5)
    expect(notes.filter((t) => t.startsWith('Diff left out'))).toHaveLength(7)
    await page.close()
  }, 180_000)
})
