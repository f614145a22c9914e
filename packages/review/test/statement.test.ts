import { afterEach, describe, expect, it } from 'vitest'
import type { PlanDocument } from '@cutover/rewrite'
import { reviewOf, toHtml, toMarkdown } from '../src/index.js'
import { SPEC, cleanTrees, hashOf, planDoc } from './plans.js'

afterEach(cleanTrees)

// a database row as the live SQL step plans it: its statement, with the old value as a comment
const ROW = `-- pg:finance/amqp.broker(broker_id=1)\nUPDATE amqp.broker SET host = 'mq.example.org' WHERE broker_id = '1';\n-- was: host = '10.0.10.107'\n`
// a database function: a line diff like a file's
const FN = `--- a/pg:finance/public.f()\n+++ b/pg:finance/public.f()\n@@ -1,2 +1,2 @@\n BEGIN\n--- old 10.0.10.48\n+-- new mq.example.org\n`

async function withDatabase(): Promise<PlanDocument> {
  const doc = await planDoc(SPEC, { 'etc/a.conf': 'db = 10.0.10.48\n' }, { DB_PASSWORD: 'x' })
  return {
    ...doc,
    database: [
      {
        target: 'pg:finance/amqp.broker(broker_id=1)',
        kind: 'sql',
        diff: ROW,
        rules: { addresses: 1 },
      },
      { target: 'pg:finance/public.f()', kind: 'sql', diff: FN, rules: { addresses: 1 } },
    ] as unknown as PlanDocument['database'],
  }
}

describe("a database row's statement is no line diff", () => {
  it('counts no line added or removed for a row, the lines of a function', async () => {
    const doc = await withDatabase()
    const r = reviewOf(doc, { hash: hashOf(doc) })
    expect(r.database.map((o) => [o.added, o.removed])).toEqual([
      [0, 0],
      [1, 1],
    ])
  })

  it('Markdown: the row in a sql fence with its counts, the function in a diff fence', async () => {
    const doc = await withDatabase()
    const md = toMarkdown(reviewOf(doc, { hash: hashOf(doc) }))
    expect(md).toMatch(/amqp\.broker\(broker_id=1\)\S* \(sql, \+0 −0\)<\/summary>/)
    expect(md).toContain(`\`\`\`sql\n${ROW}\`\`\``)
    expect(md).toContain(`\`\`\`diff\n${FN}\`\`\``)
  })

  it('HTML: no line of the row is shown as removed', async () => {
    const doc = await withDatabase()
    const page = await toHtml(reviewOf(doc, { hash: hashOf(doc) }))
    expect(page).toContain('<span class="ctx">-- was: host = &#39;10.0.10.107&#39;</span>')
    expect(page).not.toMatch(/<span class="del">-- (pg:|was:)/)
  })
})
