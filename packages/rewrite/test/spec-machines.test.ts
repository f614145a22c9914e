import { describe, expect, it } from 'vitest'
import { parseSpec, resolveMachineRoots, specJsonSchema } from '../src/index.js'
import { errorsOf, kinds } from './spec-errors.js'

describe('machines and on', () => {
  it('loads the machines in spec order, root / by default, and each step its on', () => {
    const spec = parseSpec(
      `version: 1
machines:
  finance: { ssh: root@finance.thehumanjourney.net }
  hrdb: { ssh: admin@10.0.10.43, port: 2222, root: / }
  tenders: { root: /srv/copies/tenders }
scan: { files: [etc/**], on: [tenders] }
steps:
  - text: { on: [finance, hrdb], files: [etc/hosts], replace: { a: b } }
  - text: { files: [etc/motd], replace: { a: b } }
`,
      'cutover.yaml',
      kinds,
    )
    expect(spec.machines).toEqual([
      { name: 'finance', ssh: 'root@finance.thehumanjourney.net', root: '/' },
      { name: 'hrdb', ssh: 'admin@10.0.10.43', port: 2222, root: '/' },
      { name: 'tenders', root: '/srv/copies/tenders' },
    ])
    expect(spec.steps.map((s) => s.options.on)).toEqual([['finance', 'hrdb'], undefined])
    expect(spec.scan?.on).toEqual(['tenders'])
  })

  it("a local directory's root may be relative: resolveMachineRoots resolves it against the spec's directory", () => {
    const spec = parseSpec(
      `version: 1
machines:
  finance: { root: machines/finance }
  hrdb: { root: ./machines/hrdb/ }
  tenders: { root: /srv/tenders }
  remote: { ssh: admin@10.0.10.43 }
steps:
  - text: { files: [etc/hosts], replace: { a: b } }
`,
      'examples/finance/cutover.yaml',
      kinds,
    )
    // the spec says what was written; plans and journals get the absolute paths
    expect(spec.machines?.map((m) => m.root)).toEqual([
      'machines/finance',
      './machines/hrdb/',
      '/srv/tenders',
      '/',
    ])
    expect(resolveMachineRoots(spec, '/home/ops/examples/finance').machines).toEqual([
      { name: 'finance', root: '/home/ops/examples/finance/machines/finance' },
      { name: 'hrdb', root: '/home/ops/examples/finance/machines/hrdb' },
      { name: 'tenders', root: '/srv/tenders' },
      { name: 'remote', ssh: 'admin@10.0.10.43', root: '/' },
    ])
  })

  it('a spec without machines has none', () => {
    const spec = parseSpec(
      'version: 1\nsteps:\n  - text: { files: [a], replace: { a: b } }\n',
      'cutover.yaml',
      kinds,
    )
    expect(spec.machines).toBeUndefined()
    expect('machines' in spec).toBe(false)
  })

  it('reports bad names, ports, roots and unknown machines in on at their line:col, all at once', () => {
    const errors = errorsOf(`version: 1
machines:
  -finance: { ssh: a }
  "time sheets": { ssh: b }
  "hr:db": { ssh: c }
  "a/b": { root: /x }
  hrdb: { ssh: admin@10.0.10.43, port: 70000 }
  tenders: { ssh: t, root: srv/copies/tenders }
  local: { port: 22 }
  opt: { ssh: -oProxyCommand=x }
  ok: { root: /srv/../etc }
steps:
  - text: { on: [finance], files: [etc/hosts], replace: { a: b } }
  - text: { on: [hrdb, hrdb], files: [etc/hosts], replace: { a: b } }
  - text: { on: [], files: [etc/hosts], replace: { a: b } }
`)
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 3,
        col: 3,
        message: expect.stringContaining('starts with "-"'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 4,
        col: 3,
        message: expect.stringContaining('whitespace'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 5,
        col: 3,
        message: expect.stringContaining('":" or "/"'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 6,
        col: 3,
        message: expect.stringContaining('":" or "/"'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 7,
        col: 40,
        message: expect.stringContaining('1-65535'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 8,
        col: 28,
        message: expect.stringContaining("is relative: an ssh machine's root is the absolute path"),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 9,
        col: 10,
        message: expect.stringContaining('port needs ssh'),
      }),
      expect.objectContaining({ code: 'SPEC_VALUE', line: 10, col: 15 }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 11,
        col: 15,
        message: expect.stringContaining('".."'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 13,
        col: 18,
        message: expect.stringContaining('unknown machine "finance"'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 14,
        col: 17,
        message: expect.stringContaining('listed twice'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 15,
        col: 17,
        message: expect.stringContaining('at least 1'),
      }),
    ])
  })

  it('on without machines is an error naming the cause; so is an empty machines', () => {
    expect(
      errorsOf(`version: 1
scan: { files: [a], on: [x] }
steps:
  - text: { on: [finance], files: [a], replace: { a: b } }
`),
    ).toEqual([
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 2,
        col: 26,
        message: expect.stringContaining('declares none'),
      }),
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 4,
        col: 18,
        message: expect.stringContaining('declares none'),
      }),
    ])
    expect(errorsOf('version: 1\nmachines: {}\nsteps: []\n')).toEqual([
      expect.objectContaining({
        code: 'SPEC_VALUE',
        line: 2,
        message: 'expected at least one machine',
      }),
    ])
  })

  it('the JSON Schema has machines and on', () => {
    const schema = specJsonSchema(kinds) as { properties: Record<string, any> }
    expect(schema.properties.machines.propertyNames.pattern).toBeUndefined()
    expect(schema.properties.machines.additionalProperties.properties.port).toMatchObject({
      minimum: 1,
      maximum: 65535,
    })
    expect(schema.properties.scan.properties.on).toMatchObject({ type: 'array', uniqueItems: true })
  })
})
