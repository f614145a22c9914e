import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { jsonStep, parseJson, type JsonOptions } from '../src/index.js'
import { changedLines, financeContext as context, corpusFiles, planText } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

const opts = (o: Partial<JsonOptions>): JsonOptions => ({ files: ['x'], ...o })

describe('json step', () => {
  it('rewrites string values only: never keys, comments, numbers; variants whole', async () => {
    const src = [
      '// db 10.0.10.48',
      '{',
      '  "10.0.10.48": "postgres://u@10.0.10.48:5432/x", /* was 10.0.10.48 */',
      '  "keys": ["oas.staff", "oas.staff.extra", "oas.projects.test"],',
      '  "n": 10.0,',
      '}',
      '',
    ].join('\n')
    const r = await planText(
      jsonStep,
      src,
      opts({ addresses: 'names', variants: ['routing-keys'] }),
    )
    expect(changedLines(src, r.after)).toEqual([
      [
        3,
        src.split('\n')[2],
        '  "10.0.10.48": "postgres://u@finance.thehumanjourney.net:5432/x", /* was 10.0.10.48 */',
      ],
      [
        4,
        src.split('\n')[3],
        '  "keys": ["oas.staff.test", "oas.staff.extra", "oas.projects.test"],',
      ],
    ])
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      'old address: inside a comment',
      'old address: an object key, not a string value',
      'old address: inside a comment',
      'near-miss: "oas.staff" inside "oas.staff.extra" is not rewritten',
    ])
    expect(
      (await planText(jsonStep, r.after, opts({ addresses: 'names', variants: ['routing-keys'] })))
        .edits,
    ).toEqual([])
  })

  it('sets values by path with JSON escaping, scalars become strings, secrets are sensitive', async () => {
    const src = '{"db": {"host": "old", "port": 5432, "list": ["a", {"pw": "x"}]}, "o": {}}\n'
    const r = await planText(
      jsonStep,
      src,
      opts({
        set: {
          'db.host': 'q"\\\n',
          'db.port': '6432',
          'db.list.1.pw': { secret: 'PW' },
          o: 'x',
          'no.such': 'y',
        },
      }),
      context({ secrets: { PW: 'p"w' } }),
    )
    expect(r.after).toBe(
      '{"db": {"host": "q\\"\\\\\\n", "port": "6432", "list": ["a", {"pw": "p\\"w"}]}, "o": {}}\n',
    )
    expect(JSON.parse(r.after).db).toEqual({
      host: 'q"\\\n',
      port: '6432',
      list: ['a', { pw: 'p"w' }],
    })
    expect(r.edits.find((e) => e.secret)).toMatchObject({
      secret: { name: 'PW', encoding: ['json'] },
      sensitive: true,
    })
    expect(r.diagnostics.map((d) => d.code)).toEqual(['SET_NOT_SCALAR', 'SET_NOT_FOUND'])
  })

  it('reports invalid JSON as an error diagnostic, with its position', async () => {
    const r = await jsonStep.plan(
      { path: 'x', text: '{"a": "10.0.10.48",, }', encoding: 'utf8' },
      opts({ addresses: 'names' }),
      context(),
    )
    expect(r.edits).toEqual([])
    expect(r.diagnostics[0]).toMatchObject({ code: 'JSON_SYNTAX', range: { start: 19 } })
  })

  it('json-parse validator accepts JSON with comments and rejects broken JSON with line:col', async () => {
    const dir = tempDir('cutover-json-')
    const v = jsonStep.validators![0]!
    writeFileSync(join(dir, 'ok.json'), '// c\n{"a": 1}\n')
    writeFileSync(join(dir, 'bad.json'), '{\n  "a": 1\n  "b": 2\n}\n')
    expect(await v.run(join(dir, 'ok.json'), 'ok.json')).toBeUndefined()
    expect(await v.run(join(dir, 'bad.json'), 'etc/x.json')).toMatch(
      /^etc\/x\.json:3:3: invalid JSON: CommaExpected/,
    )
    // a BOM is not a column: the error on the first line is placed as in the file's text
    writeFileSync(join(dir, 'bom.json'), '\uFEFF{\n  "a": 1 "b": 2}\n')
    expect(await v.run(join(dir, 'bom.json'), 'etc/bom.json')).toMatch(
      /^etc\/bom\.json:2:10: invalid JSON: CommaExpected/,
    )
  })
})

describe('json step on the real corpus', () => {
  const files = corpusFiles('json')
  it('has the corpus files (an empty folder would register no test below)', () =>
    expect(files.length).toBeGreaterThanOrEqual(5))
  it.each(files.map((f) => [f.name, f] as const))(
    '%s: located spans are inside the file and an empty plan changes nothing',
    async (_n, f) => {
      const doc = await parseJson(f.text)
      for (const s of [...doc.strings, ...doc.keys, ...doc.comments])
        expect(s.start >= 0 && s.start <= s.end && s.end <= f.text.length).toBe(true)
      const r = await planText(
        jsonStep,
        f.text,
        opts({ addresses: 'names', variants: ['routing-keys'] }),
      )
      expect(r.after).toBe(f.text)
      if (!f.name.endsWith('.aug')) expect(doc.errors).toEqual([])
    },
  )

  it('targeted edits on real files change exactly the intended line', async () => {
    const pg = files.find((f) => f.name === 'pagila_pgadmin_servers.json')!
    const r1 = await planText(
      jsonStep,
      pg.text,
      opts({ set: { 'Servers.1.Host': 'finance.thehumanjourney.net' } }),
    )
    expect(changedLines(pg.text, r1.after)).toEqual([
      [8, '      "Host": "pagila",', '      "Host": "finance.thehumanjourney.net",'],
    ])
    const v2 = files.find((f) => f.name === 'v2fly_release_config.jsonc')!
    const r2 = await planText(jsonStep, v2.text, opts({ replace: { '127.0.0.1': '10.0.10.49' } }))
    const changed = changedLines(v2.text, r2.after)
    expect(changed).toEqual([
      [21, '    "listen": "127.0.0.1",', '    "listen": "10.0.10.49",'],
      [33, '      "ip": "127.0.0.1"', '      "ip": "10.0.10.49"'],
    ])
  })
})
