import { describe, expect, it } from 'vitest'
import { jsStep, parseJs, type JsOptions } from '../src/index.js'
import { changedLines, financeContext as context, planText } from '@cutover/test-kit'

const opts = (o: Partial<JsOptions>): JsOptions => ({ files: ['x'], ...o })

const KNEXFILE = `// knexfile.ts: the old host was 10.0.10.48
import type { Knex } from 'knex'
const host = process.env.DB_HOST ?? '10.0.10.48'
const config: Record<string, Knex.Config> = {
  finance: {
    client: "pg",
    connection: \`postgres://\${user}@10.0.10.48:5432/finance?app=\${app}&h=10.0.10.48\`,
    pool: { min: 2 }, /* 10.0.10.48 */
  },
  amqp: { keys: ['oas.staff', \`oas.projects\`, 'oas.staff.extra'], url: \`amqp://10.0.10.480\` },
}
const re = /10.0.10.48/
export default config
`

describe('js step', () => {
  it('rewrites string literals and template text of a knexfile.ts, never comments or code', async () => {
    const r = await planText(
      jsStep,
      KNEXFILE,
      opts({ addresses: 'names', variants: ['routing-keys'] }),
      context(),
      'knexfile.ts',
    )
    expect(changedLines(KNEXFILE, r.after)).toEqual([
      [
        3,
        "const host = process.env.DB_HOST ?? '10.0.10.48'",
        "const host = process.env.DB_HOST ?? 'finance.thehumanjourney.net'",
      ],
      [
        7,
        '    connection: `postgres://${user}@10.0.10.48:5432/finance?app=${app}&h=10.0.10.48`,',
        '    connection: `postgres://${user}@finance.thehumanjourney.net:5432/finance?app=${app}&h=finance.thehumanjourney.net`,',
      ],
      [
        10,
        "  amqp: { keys: ['oas.staff', `oas.projects`, 'oas.staff.extra'], url: `amqp://10.0.10.480` },",
        "  amqp: { keys: ['oas.staff.test', `oas.projects.test`, 'oas.staff.extra'], url: `amqp://10.0.10.480` },",
      ],
    ])
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      'old address: inside a comment',
      'old address: inside a comment',
      'near-miss: "oas.staff" inside "oas.staff.extra" is not rewritten',
      'near-miss: "10.0.10.48" inside "10.0.10.480" is not rewritten',
      'old address: not a string literal',
    ])
    expect(
      (
        await planText(
          jsStep,
          r.after,
          opts({ addresses: 'names', variants: ['routing-keys'] }),
          context(),
          'knexfile.ts',
        )
      ).edits,
    ).toEqual([])
  })

  it('encodes a replacement for each quoting', async () => {
    const src = `module.exports = { a: 'x', b: "x", c: \`x\${1}x\` }\n`
    const r = await planText(
      jsStep,
      src,
      opts({ replace: { x: "it's-${y}" } }),
      context(),
      'config.js',
    )
    expect(r.after).toBe(
      `module.exports = { a: 'it\\'s-\${y}', b: "it's-\${y}", c: \`it's-\\\${y}\${1}it's-\\\${y}\` }\n`,
    )
    // the result means the same to JavaScript
    const value = new Function('module', r.after + 'return module.exports')({
      exports: {},
    }) as Record<string, string>
    expect(value).toEqual({ a: "it's-${y}", b: "it's-${y}", c: "it's-${y}1it's-${y}" })
  })

  it('reports a syntax error instead of guessing', async () => {
    const r = await jsStep.plan(
      { path: 'c.js', text: "const a = '10.0.10.48\n", encoding: 'utf8' },
      opts({ addresses: 'names' }),
      context(),
    )
    expect(r.diagnostics[0]).toMatchObject({ code: 'JS_SYNTAX' })
    expect(r.edits).toEqual([])
  })

  it('locates comments and literal parts within bounds', async () => {
    const doc = await parseJs(KNEXFILE, 'knexfile.ts')
    expect(doc.comments.map((c) => KNEXFILE.slice(c.start, c.end))).toEqual([
      '// knexfile.ts: the old host was 10.0.10.48',
      '/* 10.0.10.48 */',
    ])
    expect(doc.parts.map((p) => KNEXFILE.slice(p.start, p.end))).toContain('postgres://')
  })
})
