import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { need } from '@cutover/test-kit'
import { artifactsDir, startChromium, viewPage, type Chromium } from '@cutover/test-kit/chromium'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// The helper the review tests open their pages with: what it reports must be what Chromium did.
const CSP = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`

describe.runIf(need('chromium'))('@cutover/test-kit/chromium', () => {
  let dir = ''
  let chromium: Chromium
  beforeAll(async () => {
    dir = tempDir('cutover-chromium-')
    chromium = await startChromium()
  })
  afterAll(async () => {
    await chromium?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('records every request of a page, the ones its CSP blocks too, and the refusals', async () => {
    const file = join(dir, 'leaky.html')
    writeFileSync(
      file,
      `<!doctype html>${CSP}<style>@font-face{font-family:f;src:url(f.woff)} p{font-family:f}</style>` +
        `<p>text</p><img src="http://127.0.0.1:9/x.png"><link rel=stylesheet href="other.css">`,
    )
    const page = await chromium.open(file)
    const base = pathToFileURL(dir).href
    expect(page.requests[0]).toBe(page.url)
    expect(page.outside().sort()).toEqual(
      ['http://127.0.0.1:9/x.png', `${base}/f.woff`, `${base}/other.css`].sort(),
    )
    expect(page.console.filter((l) => l.includes('Content Security Policy'))).toHaveLength(3)
    await page.close()
  })

  it('a page that asks for nothing else has no request outside itself; text, counts, click', async () => {
    const file = join(dir, 'clean.html')
    writeFileSync(
      file,
      `<!doctype html>${CSP}<style>#b:checked ~ .a, .b { display: none } #b:checked ~ .b { display: block }</style>` +
        `<a href="#x">to x</a><input type=radio name=v id=a checked><input type=radio name=v id=b>` +
        `<label for=b>B</label><p class=a>shown first</p><p class=b>shown after</p><p id=x>x</p>`,
    )
    const page = await chromium.open(file)
    expect(page.outside()).toEqual([])
    expect(page.errors).toEqual([])
    expect(await page.counts(['p', 'input', 'table'])).toEqual({ p: 3, input: 2, table: 0 })
    expect(await page.text()).toContain('shown first')
    expect(await page.text()).not.toContain('shown after')
    expect([await page.visible('p.a'), await page.visible('p.b'), await page.visible('p')]).toEqual(
      [1, 0, 2],
    )
    await page.click('label[for=b]')
    expect([await page.visible('p.a'), await page.visible('p.b')]).toEqual([0, 1])
    expect(await page.text()).toContain('shown after')
    expect(await page.text()).not.toContain('shown first')
    await page.click('a')
    expect(page.outside()).toEqual([])
    await page.close()
  })

  it('viewPage: a screenshot PNG in the artifacts folder ($CUTOVER_TEST_ARTIFACTS)', async () => {
    const file = join(dir, 'shot.html')
    writeFileSync(file, `<!doctype html>${CSP}<h1>Shot</h1>`)
    const before = process.env.CUTOVER_TEST_ARTIFACTS
    process.env.CUTOVER_TEST_ARTIFACTS = join(dir, 'artifacts')
    try {
      expect(artifactsDir()).toBe(join(dir, 'artifacts'))
      const view = await viewPage(file, { count: ['h1'], screenshot: 'chromium-self-test' })
      expect(view).toMatchObject({ outside: [], text: 'Shot', counts: { h1: 1 } })
      expect(view.screenshot).toBe(join(dir, 'artifacts', 'chromium-self-test.png'))
      const png = readFileSync(view.screenshot!)
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
      // width and height of the IHDR chunk: the viewport
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1280, 900])
    } finally {
      if (before === undefined) delete process.env.CUTOVER_TEST_ARTIFACTS
      else process.env.CUTOVER_TEST_ARTIFACTS = before
    }
  })

  it('by default the artifacts folder is test-artifacts/ at the root, which git ignores', () => {
    const before = process.env.CUTOVER_TEST_ARTIFACTS
    delete process.env.CUTOVER_TEST_ARTIFACTS
    try {
      expect(artifactsDir()).toBe(join(import.meta.dirname, '..', 'test-artifacts'))
    } finally {
      if (before !== undefined) process.env.CUTOVER_TEST_ARTIFACTS = before
    }
    expect(readFileSync(join(import.meta.dirname, '../.gitignore'), 'utf8')).toMatch(
      /^\/test-artifacts\/$/m,
    )
  })
})
