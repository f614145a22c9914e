import { afterEach, describe, expect, it } from 'vitest'
import { reviewOf, toHtml, toMarkdown } from '../src/index.js'
import { SPEC, cleanTrees, hashOf, planDoc } from './plans.js'

afterEach(cleanTrees)

const unescape = (html: string) =>
  html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

describe('the command that applies exactly the saved plan', () => {
  it('is the same shell command in Markdown and HTML, one word for any file name, never an option', async () => {
    const doc = await planDoc(SPEC, { 'etc/a.conf': 'db = 10.0.10.48\n' }, { DB_PASSWORD: 'x' })
    const hash = hashOf(doc)
    const names: Array<[string, string]> = [
      ['plan.json', 'plan.json'],
      ['my plan.json', "'my plan.json'"],
      ["it's.json", `'it'\\''s.json'`],
      ['-x.json', './-x.json'],
      ['--expect=sha256:0.json', './--expect=sha256:0.json'],
    ]
    for (const [saved, word] of names) {
      const review = reviewOf(doc, { hash, saved })
      const command = `cutover apply ${word} --expect ${hash}`
      expect(toMarkdown(review)).toContain(`\n${command}\n`)
      expect(unescape(await toHtml(review))).toContain(`<code>${command}</code>`)
    }
  })
})
