import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { need } from '@cutover/test-kit'
import { viewPage } from '@cutover/test-kit/chromium'
import { cutover, snapshot, SSH_TEST_MS, useFleet } from '../fleet/fleet-kit.js'
import { controller, EXAMPLES, holds, offline, secrets } from '../fleet/examples-kit.js'
import { cmarkGfm, everyText, expectShowsPlan, fileHash, readPlan } from './accept-kit.js'

/*
 * The acceptance of issue 21 on the finance example, planned as a fleet of five VMs over real
 * sshd with its secrets set: the plan reviewed as one HTML page in real headless Chromium and as
 * a Markdown ticket comment, approved by its hash, and applied only with that hash.
 */

const kit = useFleet(5, 'cutover-review-finance-')

/**
 * What no review may hold: the values of the spec's secrets, and the old values they replace
 * (the PHP config's database password, the dump's dblink password), read from the example.
 */
function secretValues(): string[] {
  const machine = join(EXAMPLES, 'finance/machines/finance')
  const php = readFileSync(join(machine, 'var/www/finance/config.php'), 'utf8')
  const dump = readFileSync(join(machine, 'backup/finance-schema.sql'), 'utf8')
  const oldPhp = /define\('DB_PASSWORD', '([^']+)'\)/.exec(php)?.[1]
  const oldDblink = /dbname=timesheets user=finance password=([^\s',]+)/.exec(dump)?.[1]
  expect([oldPhp, oldDblink]).not.toContain(undefined)
  return [...Object.values(secrets), oldPhp!, oldDblink!]
}

function expectNoSecret(text: string, what: string): void {
  for (const value of secretValues())
    expect(text.includes(value), `${what} holds the secret value ${value}`).toBe(false)
}

describe.runIf(need('chromium') && need('cmark-gfm'))(
  'examples/finance as a fleet over real sshd: review in a browser and a ticket, apply by hash',
  () => {
    it(
      'the HTML page loads from file:// alone and shows every changed file, leftover and the hash; the Markdown is read by cmark-gfm; no secret in either; apply --expect runs only the reviewed bytes',
      async () => {
        const ctl = controller(kit, 'finance')
        const env = { ...kit.env(), ...secrets }
        const before = holds('finance', kit.fleet)

        // the page, and the plan it reviews saved beside it
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
        expect(plan.err).not.toMatch(/^\s+at /m)
        expect(plan.code, plan.err).toBe(0)
        const doc = readPlan(join(ctl, 'plan.json'))
        const hash = fileHash(join(ctl, 'plan.json'))
        expect(doc.changes.length).toBeGreaterThan(20)
        expect(doc.leftovers.length).toBeGreaterThan(0)
        const review = join(ctl, 'review.html')
        const html = readFileSync(review, 'utf8')
        expect(html).toMatch(/^<!doctype html>/i)
        expectNoSecret(html, 'review.html')
        expectNoSecret(everyText(html), 'the text of review.html')
        expectNoSecret(plan.out + plan.err, 'the output of plan --format html')

        const page = await viewPage(review, { screenshot: 'review-finance', fullPage: true })
        // nothing but the file itself: no script, style, font or image from anywhere
        expect(page.requests[0]).toBe(pathToFileURL(review).href)
        expect(page.requests.filter((u) => u.replace(/#.*$/s, '') !== page.url)).toEqual([])
        expect(page.outside).toEqual([])
        // nothing refused by the page's policy either, and no script to fail
        expect(page.console).toEqual([])
        expect(page.errors).toEqual([])
        expectShowsPlan(page.text, doc, 'the page')
        // the first hash a reader sees is the one of the saved plan's bytes
        expect(/sha256:[0-9a-f]{64}/.exec(page.text)?.[0]).toBe(hash)
        expectNoSecret(page.text, 'the page')
        expect(readFileSync(page.screenshot!).subarray(0, 8).toString('hex')).toBe(
          '89504e470d0a1a0a',
        )
        expect(statSync(page.screenshot!).size).toBeGreaterThan(10_000)

        // the same plan as a ticket comment
        const md = await cutover(
          ['plan', '--profile', 'live', '--format', 'markdown', '--save', 'plan-md.json'],
          ctl,
          env,
        )
        expect(md.code, md.err).toBe(0)
        expectNoSecret(md.out + md.err, 'the Markdown')
        const mdDoc = readPlan(join(ctl, 'plan-md.json'))
        const mdHash = fileHash(join(ctl, 'plan-md.json'))
        expect(Buffer.byteLength(md.out)).toBeLessThanOrEqual(60_000)
        expect(md.out).toContain(mdHash)
        expect(md.out).toContain(`cutover apply plan-md.json --expect ${mdHash}`)
        // what a reader of the ticket sees: the comment as GitHub's parser renders it
        const rendered = everyText(cmarkGfm(md.out))
        expectShowsPlan(rendered, mdDoc, 'the Markdown as GitHub renders it')
        expectNoSecret(rendered, 'the Markdown as GitHub renders it')

        // a saved plan shown later is the same review, bound to the same bytes
        const shown = await cutover(['show', 'plan.json'], ctl, env)
        expect(shown.code, shown.err).toBe(0)
        expect(shown.out).toContain(hash)
        expectShowsPlan(everyText(cmarkGfm(shown.out)), doc, 'show plan.json')
        expectNoSecret(shown.out, 'show plan.json')

        // an approval of another plan's hash, or of these bytes once changed, runs nothing
        const state = () => ({
          machines: holds('finance', kit.fleet),
          locks: kit.fleet.machines.map((m) => existsSync(join(m.root, 'var/lib/cutover'))),
          controller: snapshot(ctl),
        })
        const unchanged = state()
        expect(unchanged.locks).toEqual(kit.fleet.machines.map(() => false))
        const wrong = await cutover(['apply', 'plan.json', '--expect', mdHash], ctl, env)
        expect(wrong.code).toBe(1)
        expect(wrong.err).toContain(hash)
        expect(wrong.err).toContain(mdHash)
        expect(wrong.err).toMatch(/nothing was applied/)
        expect(wrong.err).not.toMatch(/^\s+at /m)
        expect(state()).toEqual(unchanged)

        const bytes = readFileSync(join(ctl, 'plan.json'))
        writeFileSync(join(ctl, 'plan.json'), `${bytes.toString().trimEnd()} \n`)
        const tampered = state()
        const edited = await cutover(['apply', 'plan.json', '--expect', hash], ctl, env)
        expect(edited.code).toBe(1)
        expect(edited.err).toContain(hash)
        expect(edited.err).toMatch(/nothing was applied/)
        expect(state()).toEqual(tampered)
        writeFileSync(join(ctl, 'plan.json'), bytes)

        // the hash the reviewers approved applies, and gives what the same plan gives offline
        const [expected] = await offline('finance', ['live'], kit.dir)
        const apply = await cutover(['apply', 'plan.json', '--expect', hash, '--quiet'], ctl, env)
        expect(apply.err).toBe('')
        expect(apply.code).toBe(0)
        expect(holds('finance', kit.fleet)).toEqual(expected)
        expect(holds('finance', kit.fleet)).not.toEqual(before)
        // the hex may be given in capitals, as some tools print it: the hash matches, and what
        // refuses the plan now is its targets, changed by the apply
        const again = await cutover(
          ['apply', 'plan.json', '--expect', `sha256:${hash.slice(7).toUpperCase()}`],
          ctl,
          env,
        )
        expect(again.code).toBe(1)
        expect(again.err).not.toMatch(/--expect/)
        expect(again.err).toMatch(/finance|timesheets|hrdb|tenders|ns1/)
      },
      2 * SSH_TEST_MS,
    )
  },
)
