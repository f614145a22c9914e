import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { need } from '@cutover/test-kit'
import { viewPage } from '@cutover/test-kit/chromium'
import { cutover, SSH_TEST_MS, useFleet } from '../fleet/fleet-kit.js'
import { controller, keyLines } from '../fleet/examples-kit.js'
import { cmarkGfm, everyText, expectShowsPlan, fileHash, readPlan } from './accept-kit.js'

/*
 * The acceptance of issue 21 on the Mentat example over real sshd: its live profile exchanges
 * the servers' private keys (Warden client, Shibboleth SP), and no review of that plan, HTML or
 * Markdown, made at plan time or later from the saved plan, holds a byte of either key.
 */

const kit = useFleet(2, 'cutover-review-mentat-')

function expectNoKey(text: string, what: string): void {
  const found = keyLines().filter((line) => text.includes(line))
  expect(found, `${what} holds bytes of a private key`).toEqual([])
}

describe.runIf(need('chromium') && need('cmark-gfm'))(
  'examples/mentat over real sshd: the review of an exchange of private keys',
  () => {
    it(
      'the HTML page and the Markdown list every exchanged key file and hold no byte of a key',
      async () => {
        const ctl = controller(kit, 'mentat')
        const env = kit.env()
        const plan = await cutover(
          [
            'plan',
            '--profile',
            'live',
            '--format',
            'html',
            '--out',
            'review.html',
            '--save',
            'plan.json',
          ],
          ctl,
          env,
        )
        expect(plan.code, plan.err).toBe(0)
        const doc = readPlan(join(ctl, 'plan.json'))
        const keys = doc.changes.filter((c) => /key\.pem$/.test(c.target))
        // both servers' two keys are exchanged, and the plan says they are sensitive
        expect(keys).toHaveLength(4)
        for (const k of keys) expect(k.whole?.sensitive, k.target).toBe(true)

        const review = join(ctl, 'review.html')
        const html = readFileSync(review, 'utf8')
        expectNoKey(html, 'review.html')
        expectNoKey(everyText(html), 'the text of review.html')
        const page = await viewPage(review, { screenshot: 'review-mentat' })
        expect(page.requests[0]).toBe(pathToFileURL(review).href)
        expect(page.outside).toEqual([])
        expect(page.console).toEqual([])
        expectShowsPlan(page.text, doc, 'the page')
        expect(page.text).toContain(fileHash(join(ctl, 'plan.json')))
        expectNoKey(page.text, 'the page')

        const md = await cutover(['plan', '--profile', 'live', '--format', 'markdown'], ctl, env)
        expect(md.code, md.err).toBe(0)
        expectNoKey(md.out + md.err, 'the Markdown')
        expectNoKey(everyText(cmarkGfm(md.out)), 'the Markdown as GitHub renders it')
        // an unsaved plan binds nothing: the comment says so instead of offering an apply
        expect(md.out).not.toMatch(/--expect/)

        // the saved plan shown later, in either format
        const shownMd = await cutover(['show', 'plan.json', '--format', 'markdown'], ctl, env)
        expect(shownMd.code, shownMd.err).toBe(0)
        expectShowsPlan(everyText(cmarkGfm(shownMd.out)), doc, 'show plan.json')
        expectNoKey(shownMd.out, 'show plan.json')
        const shownHtml = await cutover(
          ['show', 'plan.json', '--format', 'html', '--out', 'shown.html'],
          ctl,
          env,
        )
        expect(shownHtml.code, shownHtml.err).toBe(0)
        const shown = readFileSync(join(ctl, 'shown.html'), 'utf8')
        expect(shown).toContain(fileHash(join(ctl, 'plan.json')))
        expectNoKey(everyText(shown), 'show plan.json --format html')
      },
      SSH_TEST_MS,
    )
  },
)
