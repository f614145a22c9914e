// Test harness: a page opened by real headless Chromium (Debian's `chromium`), driven over the
// DevTools protocol by puppeteer-core (which brings no browser of its own). Every request the page
// makes is recorded, including the ones its Content-Security-Policy blocks: Chromium announces a
// request before it checks the policy, and logs the refusal to the console, which is kept too.
import { accessSync, constants, mkdirSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { need } from './tools.js'

/** The repository's root: the artifacts folder is made there unless the environment names one. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * Where screenshots go: `$CUTOVER_TEST_ARTIFACTS`, else `test-artifacts/` at the repository's
 * root (ignored by git; kept after the run for a person or CI to look at).
 */
export function artifactsDir(): string {
  const dir = process.env.CUTOVER_TEST_ARTIFACTS
  return dir ? resolve(dir) : join(ROOT, 'test-artifacts')
}

/** The absolute path of the `chromium` first on PATH. */
function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const path = join(dir, 'chromium')
    try {
      accessSync(path, constants.X_OK)
      return isAbsolute(path) ? path : resolve(path)
    } catch {
      // not in this folder
    }
  }
  throw new Error('chromium is missing: install the Debian package chromium')
}

/** A page opened in {@link Chromium}, with everything it asked for since it was opened. */
export interface ChromiumPage {
  /** The `file://` URL of the page. */
  url: string
  /** Every URL the page requested, in order, the page's own load first (blocked ones too). */
  requests: string[]
  /** The requests of any URL other than the page itself (its own `#fragment`s aside). */
  outside(): string[]
  /** What the page logged to the console; Chromium logs each load its CSP blocks here. */
  console: string[]
  /** Errors thrown in the page (its scripts, where it has any). */
  errors: string[]
  /** The visible text of the first element matching `selector` (`body`): its `innerText`. */
  text(selector?: string): Promise<string>
  /** How many elements match `selector`. */
  count(selector: string): Promise<number>
  /** How many elements match `selector` and are rendered (not `display: none`, nor inside such). */
  visible(selector: string): Promise<number>
  /** {@link count} of each selector. */
  counts(selectors: readonly string[]): Promise<Record<string, number>>
  /** Clicks the first element matching `selector`, as a person would (it must be visible). */
  click(selector: string): Promise<void>
  /**
   * Saves a PNG of the page as `NAME.png` in {@link artifactsDir} and returns its path: the
   * viewport, or the whole page with `fullPage`.
   */
  screenshot(name: string, opts?: { fullPage?: boolean }): Promise<string>
  /** The puppeteer page itself, for anything else. */
  page: Page
  close(): Promise<void>
}

/** A headless Chromium process (see {@link startChromium}). */
export interface Chromium {
  /** Opens a local file and waits until it is loaded and the network is idle. */
  open(file: string, opts?: { width?: number; height?: number }): Promise<ChromiumPage>
  /** Ends the browser and removes its profile. */
  close(): Promise<void>
}

/**
 * Starts Debian's `chromium` headless (with `--no-sandbox` as root, where its sandbox cannot
 * run), on a fresh profile. A missing chromium fails under CI=true (`need`), else throws: a test
 * guards with `describe.runIf(need('chromium'))`.
 */
export async function startChromium(): Promise<Chromium> {
  need('chromium')
  const browser: Browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    pipe: true,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-dev-shm-usage',
      '--font-render-hinting=none',
    ],
  })
  return {
    open: (file, opts) => openPage(browser, file, opts),
    close: () => browser.close(),
  }
}

async function openPage(
  browser: Browser,
  file: string,
  opts: { width?: number; height?: number } = {},
): Promise<ChromiumPage> {
  const page = await browser.newPage()
  await page.setViewport({ width: opts.width ?? 1280, height: opts.height ?? 900 })
  const url = pathToFileURL(resolve(file)).href
  const requests: string[] = []
  const consoleLines: string[] = []
  const errors: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('console', (m) => consoleLines.push(m.text()))
  page.on('pageerror', (e) => errors.push(e instanceof Error ? e.message : String(e)))
  await page.goto(url, { waitUntil: ['load', 'networkidle0'] })
  const count = (selector: string) => page.$$eval(selector, (all) => all.length)
  return {
    url,
    requests,
    outside: () => requests.filter((r) => r.replace(/#.*$/s, '') !== url),
    console: consoleLines,
    errors,
    text: (selector = 'body') =>
      page.$eval(selector, (e) => (e as { innerText?: string }).innerText ?? e.textContent ?? ''),
    count,
    visible: (selector) =>
      page.$$eval(
        selector,
        (all) =>
          all.filter((e) => (e as unknown as { checkVisibility(): boolean }).checkVisibility())
            .length,
      ),
    async counts(selectors) {
      const out: Record<string, number> = {}
      for (const s of selectors) out[s] = await count(s)
      return out
    },
    async click(selector) {
      await page.click(selector)
    },
    async screenshot(name, shot = {}) {
      const dir = artifactsDir()
      mkdirSync(dir, { recursive: true })
      const path = join(dir, `${name}.png`)
      await page.screenshot({ path: path as `${string}.png`, fullPage: shot.fullPage ?? false })
      return path
    },
    page,
    close: () => page.close(),
  }
}

/** What {@link viewPage} saw of a page. */
export interface PageView {
  url: string
  requests: string[]
  /** Requests of any URL other than the page itself: a self-contained page has none. */
  outside: string[]
  console: string[]
  errors: string[]
  /** The page's visible text (`body.innerText`). */
  text: string
  /** How many elements match each selector asked for. */
  counts: Record<string, number>
  /** Path of the screenshot, when one was asked for. */
  screenshot?: string
}

/**
 * Opens `file` in a Chromium of its own, reads it and closes it: the requests, the visible text,
 * the counts of `count`'s selectors, and a screenshot named `screenshot` (see
 * {@link ChromiumPage.screenshot}) when given.
 */
export async function viewPage(
  file: string,
  opts: { count?: readonly string[]; screenshot?: string; fullPage?: boolean } = {},
): Promise<PageView> {
  const chromium = await startChromium()
  try {
    const page = await chromium.open(file)
    const view: PageView = {
      url: page.url,
      requests: page.requests,
      outside: page.outside(),
      console: page.console,
      errors: page.errors,
      text: await page.text(),
      counts: await page.counts(opts.count ?? []),
    }
    if (opts.screenshot)
      view.screenshot = await page.screenshot(opts.screenshot, { fullPage: opts.fullPage })
    return view
  } finally {
    await chromium.close()
  }
}
