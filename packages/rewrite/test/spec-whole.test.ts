import { describe, expect, it } from 'vitest'
import { parseSpec, specJsonSchema } from '../src/index.js'
import { errorsOf, kinds } from './spec-errors.js'

const machines = `machines:
  hub: { root: /srv/hub }
  alt: { ssh: root@alt.example.net }
`

describe('copy and exchange', () => {
  it('loads copy and exchange as whole-file steps, apart from the steps that edit files', () => {
    const spec = parseSpec(
      `version: 1
${machines}profiles: [test, live]
steps:
  - text: { files: [etc/hosts], replace: { a: b } }
  - copy: { from: hub:etc/mentat/, to: alt:etc/mentat/, delete: true, sensitive: ["**/*.key"] }
  - copy: { from: files/motd, to: [hub:etc/motd, alt:etc/motd] }
  - exchange:
      pairs: [[hub:etc/hostname, alt:etc/hostname], [hub:etc/warden_client/key.pem, alt:etc/warden_client/key.pem]]
      sensitive: true
      profiles: [live]
`,
      'cutover.yaml',
      kinds,
    )
    expect(spec.steps.map((s) => s.kind)).toEqual(['text'])
    expect(spec.whole.map((s) => [s.kind, s.index])).toEqual([
      ['copy', 1],
      ['copy', 2],
      ['exchange', 3],
    ])
    const [tree, file, ex] = spec.whole
    const strip = (l: object) => {
      const { range: _r, ...rest } = l as { range: unknown }
      return rest
    }
    expect(tree!.kind === 'copy' && strip(tree!.options.from)).toEqual({
      machine: 'hub',
      path: 'etc/mentat',
      tree: true,
    })
    expect(tree!.kind === 'copy' && tree!.options.to.map(strip)).toEqual([
      { machine: 'alt', path: 'etc/mentat', tree: true },
    ])
    expect(tree!.kind === 'copy' && [tree!.options.delete, tree!.options.sensitive]).toEqual([
      true,
      ['**/*.key'],
    ])
    expect(file!.kind === 'copy' && strip(file!.options.from)).toEqual({
      local: 'files/motd',
      tree: false,
    })
    expect(file!.kind === 'copy' && file!.options.to.map((t) => `${t.machine}:${t.path}`)).toEqual([
      'hub:etc/motd',
      'alt:etc/motd',
    ])
    expect(
      ex!.kind === 'exchange' &&
        ex!.options.pairs.map((p) => p.map((l) => `${l.machine}:${l.path}`)),
    ).toEqual([
      ['hub:etc/hostname', 'alt:etc/hostname'],
      ['hub:etc/warden_client/key.pem', 'alt:etc/warden_client/key.pem'],
    ])
    expect(ex!.options.profiles).toEqual(['live'])
  })

  it('reports every mistake of a copy or exchange at its line:col, all at once', () => {
    const errors = errorsOf(`version: 1
${machines}steps:
  - copy: { from: hub:etc/mentat/, to: nowhere:etc/mentat/ }
  - copy: { from: hub:../etc/passwd, to: alt:etc/passwd }
  - copy: { from: hub:etc/mentat/, to: alt:etc/mentat.json }
  - copy: { from: hub:etc/motd, to: etc/motd }
  - exchange: { pairs: [[hub:etc/hostname, hub:etc/hostname.old]] }
  - exchange: { pairs: [[hub:etc/a, alt:etc/a]] }
  - copy: { from: hub:etc/b, to: alt:etc/a }
  - copy: { from: hub:etc/c, to: alt:etc/c, delete: true }
  - copy: { from: hub:etc/d, to: alt:/etc/d }
`)
    expect(errors.map((e) => [e.line, e.col, e.code])).toEqual([
      [6, 40, 'SPEC_VALUE'],
      [7, 19, 'SPEC_VALUE'],
      [8, 40, 'SPEC_VALUE'],
      [9, 37, 'SPEC_VALUE'],
      [10, 25, 'SPEC_VALUE'],
      [12, 34, 'SPEC_VALUE'],
      [13, 19, 'SPEC_VALUE'],
      [14, 34, 'SPEC_VALUE'],
    ])
    expect(errors[0]!.message).toMatch(/unknown machine "nowhere"; the spec's machines: hub, alt/)
    expect(errors[1]!.message).toMatch(/"\.\.\/etc\/passwd" has a "\.\." part/)
    expect(errors[2]!.message).toMatch(/is a directory tree and to alt:etc\/mentat.json is a file/)
    expect(errors[3]!.message).toMatch(/"etc\/motd" names no machine: expected MACHINE:PATH/)
    expect(errors[4]!.message).toMatch(/an exchange is between two machines: .* are on hub/)
    expect(errors[5]!.message).toMatch(
      /alt:etc\/a is written by step 7 \(copy\) and by step 6 \(exchange\)/,
    )
    expect(errors[6]!.message).toMatch(/delete: true removes files a source tree lacks/)
    expect(errors[7]!.message).toMatch(/"\/etc\/d" is an absolute path/)
  })

  it('copy needs machines:', () => {
    const errors = errorsOf(`version: 1
steps:
  - copy: { from: a/, to: hub:b/ }
`)
    expect(errors).toEqual([
      {
        code: 'SPEC_VALUE',
        line: 3,
        col: 5,
        message: expect.stringMatching(/^copy needs machines:/),
      },
    ])
  })

  it('the JSON Schema knows copy and exchange', () => {
    const schema = JSON.stringify(specJsonSchema(kinds))
    expect(schema).toContain('"copy"')
    expect(schema).toContain('"exchange"')
    expect(schema).toContain('a location MACHINE:PATH')
  })
})
