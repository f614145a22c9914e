import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { type Context, scanForInit, starterSpec, textStep } from '@cutover/rewrite'
import { changedLines, financeContext, planText } from '@cutover/test-kit'
import { yamlStep, type YamlOptions } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

const opts = (o: Partial<YamlOptions>): YamlOptions => ({ files: ['x'], ...o })

/** The department of the issue: two servers of 172.20.0.0/24 and their new addresses. */
const dept = (over: Partial<Context> = {}): Context =>
  financeContext({
    inventory: [
      { name: 'db-a.dept.example.edu', old: '172.20.0.5', new: '10.20.0.5' },
      { name: 'web.dept.example.edu', old: '172.20.0.10', new: '10.20.0.10' },
      { name: 'ns1.dept.example.edu', old: '172.20.0.2', new: '10.20.0.2' },
    ],
    ...over,
  })

/** Plans, checks the result reads as YAML, plans again (nothing to do) and returns the result. */
async function planTwice(text: string, o: YamlOptions, ctx: Context = dept()) {
  const r = await planText(yamlStep, text, o, ctx)
  for (const d of parseAllDocuments(r.after)) expect(d.errors).toEqual([])
  const again = await planText(yamlStep, r.after, o, ctx)
  expect(again.edits).toEqual([])
  return r
}

const COMPOSE = [
  'services:',
  '  web:',
  '    image: nginx # was on 172.20.0.10',
  '    ports:',
  '      - "172.20.0.10:443:443"',
  "      - '172.20.0.10:80:80/tcp'",
  '    extra_hosts:',
  '      - "db-a.dept.example.edu:172.20.0.5"',
  '      - db-a=172.20.0.5',
  '    dns: 172.20.0.2',
  '    environment:',
  '      DB_HOST: 172.20.0.5',
  '      DB_URL: "postgres://app@172.20.0.5:5432/app"',
  '  worker:',
  '    extra_hosts: { db-a.dept.example.edu: 172.20.0.5 }',
  '',
].join('\n')

describe('yaml step', () => {
  it('compose under addresses: names: names in values, new addresses where only an address can stand', async () => {
    const r = await planTwice(COMPOSE, opts({ addresses: 'names' }))
    expect(changedLines(COMPOSE, r.after).map(([n, , after]) => [n, after])).toEqual([
      [5, '      - "10.20.0.10:443:443"'],
      [6, "      - '10.20.0.10:80:80/tcp'"],
      [8, '      - "db-a.dept.example.edu:10.20.0.5"'],
      [9, '      - db-a=10.20.0.5'],
      [10, '    dns: 10.20.0.2'],
      [12, '      DB_HOST: db-a.dept.example.edu'],
      [13, '      DB_URL: "postgres://app@db-a.dept.example.edu:5432/app"'],
      [15, '    extra_hosts: { db-a.dept.example.edu: 10.20.0.5 }'],
    ])
    expect(r.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['172.20.0.10', 'old address: inside a comment'],
    ])
    expect(r.diagnostics).toEqual([])
  })

  it('netplan under addresses: names keeps addresses: interface, gateway and DNS servers get the new ones', async () => {
    const src = [
      'network:',
      '  ethernets:',
      '    ens18:',
      '      addresses: [172.20.0.10/24]',
      '      routes:',
      '        - to: default',
      '          via: 172.20.0.2',
      '      nameservers:',
      '        search: [dept.example.edu]',
      '        addresses: [172.20.0.2, 9.9.9.9]',
      '      description: web 172.20.0.10',
      '',
    ].join('\n')
    const r = await planTwice(src, opts({ addresses: 'names' }))
    expect(changedLines(src, r.after).map(([n, , after]) => [n, after])).toEqual([
      [4, '      addresses: [10.20.0.10/24]'],
      [7, '          via: 10.20.0.2'],
      [10, '        addresses: [10.20.0.2, 9.9.9.9]'],
      [11, '      description: web web.dept.example.edu'],
    ])
  })

  it('the name part of a name:address pair follows replace:, its address part addresses:', async () => {
    const src = 'extra_hosts:\n  - "db-a.dept.example.edu:172.20.0.5"\n'
    const r = await planTwice(
      src,
      opts({ addresses: 'new', replace: { 'db-a.dept.example.edu': 'db-b.dept.example.edu' } }),
    )
    expect(r.after).toBe('extra_hosts:\n  - "db-b.dept.example.edu:10.20.0.5"\n')
  })

  it('a NAME=address item of an environment: list is a variable, so it takes the name, as its mapping form does', async () => {
    const src = [
      'services:',
      '  web:',
      '    environment:',
      '      - DB_HOST=172.20.0.5',
      '      - "PEER=172.20.0.5"',
      '    extra_hosts:',
      '      - db-a=172.20.0.5',
      '',
    ].join('\n')
    const r = await planTwice(src, opts({ addresses: 'names' }))
    expect(parse(r.after)).toEqual({
      services: {
        web: {
          environment: ['DB_HOST=db-a.dept.example.edu', 'PEER=db-a.dept.example.edu'],
          extra_hosts: ['db-a=10.20.0.5'],
        },
      },
    })
  })

  it('never edits keys, anchors or tags; leftovers say why', async () => {
    const src = [
      '172.20.0.5: &a172 172.20.0.5',
      'copy: *a172',
      '? 172.20.0.10',
      ': !!str 172.20.0.10',
      '',
    ].join('\n')
    const r = await planTwice(src, opts({ addresses: 'new' }))
    expect(r.after).toBe(
      [
        '172.20.0.5: &a172 10.20.0.5',
        'copy: *a172',
        '? 172.20.0.10',
        ': !!str 10.20.0.10',
        '',
      ].join('\n'),
    )
    expect(r.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['172.20.0.5', 'old address: a mapping key, not a value'],
      ['172.20.0.10', 'old address: a mapping key, not a value'],
    ])
  })

  it('never edits a scalar inside a complex key (a sequence or mapping as a key)', async () => {
    const src = '? [172.20.0.5, x]\n: 172.20.0.5\n? {h: 172.20.0.10}\n: v\n'
    const r = await planTwice(src, opts({ addresses: 'new' }))
    expect(r.after).toBe('? [172.20.0.5, x]\n: 10.20.0.5\n? {h: 172.20.0.10}\n: v\n')
    expect(r.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['172.20.0.5', 'old address: a mapping key, not a value'],
      ['172.20.0.10', 'old address: a mapping key, not a value'],
    ])
  })

  it('matches the decoded value of every style and writes each edit in its style', async () => {
    const src = [
      'double: "\\x31\\x37\\x32.20.0.5 and \\',
      '  172.20.0.10\\t"',
      "single: 'it''s 172.20.0.5'",
      'literal: |',
      '  host 172.20.0.5',
      '    172.20.0.10 more indented',
      'folded: >-',
      '  first 172.20.0.5',
      '  second',
      'plain: a 172.20.0.5',
      '  b',
      '',
    ].join('\r\n')
    const r = await planTwice(src, opts({ addresses: 'names' }))
    const values = parse(r.after) as Record<string, string>
    expect(values).toEqual({
      double: 'db-a.dept.example.edu and web.dept.example.edu\t',
      single: "it's db-a.dept.example.edu",
      literal: 'host db-a.dept.example.edu\n  web.dept.example.edu more indented\n',
      folded: 'first db-a.dept.example.edu second',
      plain: 'a db-a.dept.example.edu b',
    })
    expect(r.leftovers).toEqual([])
    expect(r.after.split('\r\n').length).toBe(src.split('\r\n').length)
  })

  it('quotes a plain scalar whose new value would change type or not parse, with the file quote style, and says so', async () => {
    const src = [
      "a: 'x'",
      "b: 'y'",
      'port: 172.20.0.5',
      'flow: [172.20.0.10, z]',
      'ok: 172.20.0.2',
      '',
    ].join('\n')
    const r = await planTwice(
      src,
      opts({ replace: { '172.20.0.5': '22:22', '172.20.0.10': 'a, b', '172.20.0.2': 'yes' } }),
    )
    expect(r.after).toBe(
      ["a: 'x'", "b: 'y'", "port: '22:22'", "flow: ['a, b', z]", "ok: 'yes'", ''].join('\n'),
    )
    expect(parse(r.after)).toEqual({
      a: 'x',
      b: 'y',
      port: '22:22',
      flow: ['a, b', 'z'],
      ok: 'yes',
    })
    expect(
      r.diagnostics.map((d) => [d.code, d.severity, src.slice(d.range.start, d.range.end)]),
    ).toEqual([
      ['YAML_QUOTED', 'warning', '172.20.0.5'],
      ['YAML_QUOTED', 'warning', '172.20.0.10'],
      ['YAML_QUOTED', 'warning', '172.20.0.2'],
    ])
    // no quoted scalar in the file: double quotes
    const plain = await planTwice(
      'k: 172.20.0.5 # x\n',
      opts({ replace: { '172.20.0.5': 'a #b' } }),
    )
    expect(plain.after).toBe('k: "a #b" # x\n')
  })

  it('refuses a value a style cannot hold rather than writing it wrong', async () => {
    const src = "s: 'at 172.20.0.5'\nl: |\n  at 172.20.0.5\n"
    const r = await planText(yamlStep, src, opts({ replace: { '172.20.0.5': 'a\nb' } }), dept())
    expect(r.edits).toEqual([])
    expect(
      r.diagnostics.map((d) => [d.code, d.severity, src.slice(d.range.start, d.range.end)]),
    ).toEqual([
      ['YAML_UNENCODABLE', 'warning', '172.20.0.5'],
      ['YAML_UNENCODABLE', 'warning', '172.20.0.5'],
    ])
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      expect.stringMatching(
        /^not rewritten: "a\nb" cannot be written inside this single-quoted scalar/,
      ),
      expect.stringMatching(/^not rewritten: "a\nb" cannot be written inside this literal block/),
    ])
    const d = await planTwice('d: "at 172.20.0.5"\n', opts({ replace: { '172.20.0.5': 'a\nb' } }))
    expect(parse(d.after)).toEqual({ d: 'at a\nb' })
  })

  it('never lets an edit begin a line of a multi-line scalar with a document marker', async () => {
    // at column 0 `--- x` would start a second document and `... x` end this one
    for (const to of ['--- x', '... x', '---']) {
      const plain = await planTwice('a\nfoo\n', opts({ replace: { foo: to } }))
      expect(parseAllDocuments(plain.after).map((d) => d.toJS())).toEqual([`a ${to}`])
      expect(plain.diagnostics.map((d) => d.code)).toEqual(['YAML_QUOTED'])
    }
    const src = '"a\nfoo"\n'
    const quoted = await planText(yamlStep, src, opts({ replace: { foo: '--- x' } }), dept())
    expect(quoted.edits).toEqual([])
    expect(quoted.diagnostics.map((d) => d.code)).toEqual(['YAML_UNENCODABLE'])
    // inside an indented scalar the same text is no marker
    const nested = await planTwice('k: a\n  foo\n', opts({ replace: { foo: '--- x' } }))
    expect(nested.after).toBe('k: a\n  --- x\n')
  })

  it('keys: limits the rules to values under those key paths; the rest are leftovers', async () => {
    const r = await planTwice(
      COMPOSE,
      opts({ addresses: 'names', keys: ['services.*.environment'] }),
    )
    expect(changedLines(COMPOSE, r.after).map(([n]) => n)).toEqual([12, 13])
    expect(r.leftovers.map((l) => l.reason)).toContain(
      "old address: outside this step's keys (services.*.environment)",
    )
  })

  it('variants match whole values; swaps are marked once; multi-document files', async () => {
    const src = 'key: oas.staff\n---\nother: [oas.staff.extra, db-a, db-b]\n'
    const r = await planTwice(src, opts({ variants: ['routing-keys'] }), financeContext())
    expect(r.after).toBe('key: oas.staff.test\n---\nother: [oas.staff.extra, db-a, db-b]\n')
    const swap = await planText(yamlStep, src, opts({ swap: [['db-a', 'db-b']] }))
    expect(swap.after).toBe('key: oas.staff\n---\nother: [oas.staff.extra, db-b, db-a]\n')
    expect(swap.edits.map((e) => e.once)).toEqual(['swap [db-a, db-b]', 'swap [db-a, db-b]'])
  })

  it('sets scalars by key path in their style, quoting when needed, in every document', async () => {
    const src = [
      'services:',
      '  db:',
      '    environment:',
      "      DB_HOST: 'old'",
      '      DB_PORT: 5432',
      '      DB_NAME: app',
      '      DB_PASS:',
      '      EMPTY: ""',
      '    ports: [1, 2]',
      '---',
      "services: { db: { environment: { DB_HOST: 'x' } } }",
      '',
    ].join('\n')
    const o = opts({
      set: {
        'services.db.environment.DB_HOST': "it's",
        'services.db.environment.DB_PORT': '6432',
        'services.db.environment.DB_NAME': 'no',
        'services.db.environment.DB_PASS': { secret: 'PW' },
        'services.db.environment.EMPTY': 'filled',
        'services.db.ports': 'x',
        'services.nope': 'x',
      },
    })
    const r = await planText(yamlStep, src, o, financeContext({ secrets: { PW: 'p"w' } }))
    expect(parse(parseAllDocuments(r.after)[0]!.toString())).toEqual({
      services: {
        db: {
          environment: {
            DB_HOST: "it's",
            DB_PORT: 6432,
            DB_NAME: 'no',
            DB_PASS: 'p"w',
            EMPTY: 'filled',
          },
          ports: [1, 2],
        },
      },
    })
    expect(r.after.split('\n').slice(3, 8)).toEqual([
      "      DB_HOST: 'it''s'",
      '      DB_PORT: 6432',
      "      DB_NAME: 'no'",
      "      DB_PASS: 'p\"w'",
      '      EMPTY: "filled"',
    ])
    expect(r.after.split('\n')[10]).toBe("services: { db: { environment: { DB_HOST: 'it''s' } } }")
    expect(r.edits.find((e) => e.secret)).toMatchObject({
      secret: { name: 'PW', encoding: ['yaml-single'] },
      sensitive: true,
    })
    expect(r.diagnostics.map((d) => d.code).sort()).toEqual([
      'SET_NOT_FOUND',
      'SET_NOT_SCALAR',
      'YAML_QUOTED',
    ])
    const again = await planText(yamlStep, r.after, o, financeContext({ secrets: { PW: 'p"w' } }))
    expect(again.edits.filter((e) => e.text !== r.after.slice(e.start, e.end))).toEqual([])
  })

  it('sets a key with no value whose comment follows the colon, keeping the comment one', async () => {
    const r = await planTwice('k: # the host\nj:  #x\n', opts({ set: { k: 'v', j: 'w' } }))
    expect(r.after).toBe('k: "v" # the host\nj:  "w" #x\n')
    expect(parse(r.after)).toEqual({ k: 'v', j: 'w' })
  })

  it('sets a value holding line breaks into a plain scalar quoted, never folded', async () => {
    const src = 'a: a\nb: [x, y]\n'
    const o = opts({ set: { a: 'a\n\na', 'b.1': 'p\nq' } })
    const r = await planTwice(src, o)
    expect(parse(r.after)).toEqual({ a: 'a\n\na', b: ['x', 'p\nq'] })
    expect(r.after).toBe('a: "a\\n\\na"\nb: [x, "p\\nq"]\n')
    expect(r.diagnostics.map((d) => d.code)).toEqual(['YAML_QUOTED', 'YAML_QUOTED'])
  })

  it('sets a NAME=value item of a list (compose environment as a list), a secret quoted', async () => {
    const src = [
      'services:',
      '  db:',
      '    environment:',
      '      - DB_HOST=172.20.0.5',
      '      - "DB_PASS=old"',
      '      - DB_USER=app',
      '      - OTHER=x',
      '',
    ].join('\n')
    const o = opts({
      set: {
        'services.db.environment.DB_HOST': 'db-a.dept.example.edu',
        'services.db.environment.DB_PASS': { secret: 'PW' },
        'services.db.environment.DB_USER': { secret: 'USER' },
      },
    })
    const ctx = financeContext({ secrets: { PW: 'p"w', USER: "o'neil" } })
    const r = await planText(yamlStep, src, o, ctx)
    expect(r.after.split('\n').slice(3, 7)).toEqual([
      '      - DB_HOST=db-a.dept.example.edu',
      '      - "DB_PASS=p\\"w"',
      '      - "DB_USER=o\'neil"',
      '      - OTHER=x',
    ])
    expect(parse(r.after)).toEqual({
      services: {
        db: {
          environment: [
            'DB_HOST=db-a.dept.example.edu',
            'DB_PASS=p"w',
            "DB_USER=o'neil",
            'OTHER=x',
          ],
        },
      },
    })
    expect(r.edits.filter((e) => e.secret).map((e) => e.secret!.encoding)).toEqual([
      ['yaml-double'],
      ['yaml-double'],
    ])
    const again = await planText(yamlStep, r.after, o, ctx)
    expect(again.edits.filter((e) => e.text !== r.after.slice(e.start, e.end))).toEqual([])
  })

  it('leaves a file with syntax errors alone and says where', async () => {
    const r = await planText(yamlStep, 'a: [172.20.0.5\nb: c\n', opts({ addresses: 'new' }), dept())
    expect(r.edits).toEqual([])
    expect(r.diagnostics[0]).toMatchObject({ code: 'YAML_SYNTAX' })
  })

  it('validator yaml-parse: passes a good staged file, names line and column of a bad one', async () => {
    const dir = tempDir('cutover-yaml-')
    const v = yamlStep.validators!.find((x) => x.name === 'yaml-parse')!
    writeFileSync(join(dir, 'good.yml'), 'a: [1, 2]\n')
    writeFileSync(join(dir, 'bad.yml'), 'a: 1\nb: [1, 2\n')
    expect(await v.run(join(dir, 'good.yml'), 'etc/good.yml')).toBeUndefined()
    expect(await v.run(join(dir, 'bad.yml'), 'etc/bad.yml')).toMatch(
      /^etc\/bad\.yml:\d+:\d+: invalid YAML/,
    )
  })

  it('init proposes a yaml step (addresses: names) for .yml and .yaml files', async () => {
    const root = tempDir('cutover-yaml-init-')
    mkdirSync(join(root, 'etc/netplan'), { recursive: true })
    mkdirSync(join(root, 'etc/app'), { recursive: true })
    writeFileSync(
      join(root, 'etc/netplan/01-netcfg.yaml'),
      'network:\n  addresses: [172.20.0.10/24]\n',
    )
    writeFileSync(join(root, 'etc/app/compose.YML'), 'services: { a: { dns: 172.20.0.2 } }\n')
    writeFileSync(join(root, 'etc/app/app.conf'), 'host = 172.20.0.5\n')
    const kinds = [textStep, yamlStep]
    const scan = await scanForInit(root, { kinds })
    expect(Object.fromEntries(scan.matched.map((f) => [f.target, f.kind]))).toEqual({
      'etc/app/app.conf': 'text',
      'etc/app/compose.YML': 'yaml',
      'etc/netplan/01-netcfg.yaml': 'yaml',
    })
    const spec = starterSpec(scan, { kinds })
    expect(spec).toMatch(
      /- yaml:\n\s+files: \[[^\]]*etc\/netplan\/01-netcfg\.yaml[^\]]*\]\n\s+addresses: names/,
    )
  })

  it('reads files that spell an old address only with escapes (the prefilter needles)', () => {
    const needles = yamlStep.needles(opts({ addresses: 'names' }), dept())
    expect(needles).toEqual(expect.arrayContaining(['172.20.0.5', '\\x', '\\u', '\\U']))
  })

  it("the prefilter lets through a value spelled with '' or folded over lines", async () => {
    for (const [src, from] of [
      ["k: 'it''s here'\n", "it's"],
      ['k: foo\n  bar\n', 'foo bar'],
    ] as const) {
      const o = opts({ replace: { [from]: 'x' } })
      expect(yamlStep.needles(o, dept()).some((n) => src.includes(n))).toBe(true)
      expect((await planText(yamlStep, src, o, dept())).edits).not.toEqual([])
    }
  })
})
