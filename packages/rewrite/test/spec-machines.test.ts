import { describe, expect, it } from 'vitest'
import {
  LineIndex,
  parseSpec,
  resolveMachineRoots,
  specInventoryFile,
  specJsonSchema,
  type SpecError,
} from '../src/index.js'
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
    // either { ansible: FILE } or the machines listed
    const [ansible, listed] = schema.properties.machines.anyOf
    expect(ansible).toMatchObject({ required: ['ansible'], additionalProperties: false })
    expect(listed.propertyNames.pattern).toBeUndefined()
    expect(listed.additionalProperties.properties.port).toMatchObject({
      minimum: 1,
      maximum: 65535,
    })
    expect(schema.properties.scan.properties.on).toMatchObject({ type: 'array', uniqueItems: true })
  })
})

describe('machines of an Ansible inventory, and @group in on', () => {
  const inventory = {
    file: 'inventory.yml',
    machines: [
      { name: 'finance', ssh: 'root@10.0.10.48', root: '/' },
      { name: 'timesheets', ssh: 'root@10.0.10.50', root: '/' },
      { name: 'hrdb', root: '/srv/hrdb' },
    ],
    groups: {
      all: ['finance', 'timesheets', 'hrdb'],
      web: ['finance', 'timesheets'],
      databases: ['hrdb'],
      empty: [],
    },
  }
  const errors = (source: string, inv?: typeof inventory) => {
    try {
      parseSpec(source, 'cutover.yaml', kinds, inv ? { inventory: inv } : {})
    } catch (e) {
      const idx = new LineIndex(source)
      return (e as SpecError).diagnostics.map((d) => ({
        code: d.code,
        ...idx.position(d.range.start),
        message: d.message,
      }))
    }
    throw new Error('expected the spec to be rejected')
  }

  it('machines: { ansible: FILE } takes the hosts of the inventory read for it; @group is its hosts', () => {
    const source = `version: 1
machines: { ansible: inventory.yml }
scan: { files: [etc/**], on: ['@databases'] }
steps:
  - text: { on: ['@web', hrdb], files: [etc/hosts], replace: { a: b } }
  - text: { on: [finance, '@web'], files: [etc/motd], replace: { a: b } }
`
    expect(specInventoryFile(source)).toEqual({ ansible: 'inventory.yml' })
    const spec = parseSpec(source, 'cutover.yaml', kinds, { inventory })
    expect(spec.machines).toEqual(inventory.machines)
    expect(spec.inventory).toEqual({ file: 'inventory.yml', groups: inventory.groups })
    expect(spec.steps.map((s) => s.options.on)).toEqual([
      ['finance', 'timesheets', 'hrdb'],
      ['finance', 'timesheets'],
    ])
    expect(spec.scan?.on).toEqual(['hrdb'])
  })

  it('an inventory given to a spec without machines: (--inventory) makes its hosts the machines', () => {
    const spec = parseSpec(
      `version: 1
steps:
  - text: { on: ['@all'], files: [etc/hosts], replace: { a: b } }
`,
      'cutover.yaml',
      kinds,
      { inventory },
    )
    expect(spec.machines?.map((m) => m.name)).toEqual(['finance', 'timesheets', 'hrdb'])
    expect(spec.steps[0]!.options.on).toEqual(['finance', 'timesheets', 'hrdb'])
  })

  it('unknown or empty groups, unknown hosts, other keys beside ansible: errors at their line:col', () => {
    expect(
      errors(
        `version: 1
machines:
  ansible: inventory.yml
  extra: { ssh: x }
steps:
  - text: { on: ['@webs', '@empty', tenders], files: [etc/hosts], replace: { a: b } }
`,
        inventory,
      ),
    ).toEqual([
      {
        code: 'SPEC_VALUE',
        line: 4,
        col: 3,
        message:
          "with machines: { ansible: FILE } the machines are the inventory's hosts: declare this one in the inventory",
      },
      {
        code: 'SPEC_VALUE',
        line: 6,
        col: 18,
        message: 'unknown group "@webs"; the inventory\'s groups: @all, @web, @databases, @empty',
      },
      {
        code: 'SPEC_VALUE',
        line: 6,
        col: 27,
        message: 'group "@empty" of the inventory has no hosts',
      },
      {
        code: 'SPEC_VALUE',
        line: 6,
        col: 37,
        message: 'unknown machine "tenders"; the spec\'s machines: finance, timesheets, hrdb',
      },
    ])
  })

  it('without an inventory read: machines: { ansible } and @group say what is missing', () => {
    expect(
      errors(`version: 1
machines: { ansible: inventory.yml }
steps:
  - text: { on: [finance], files: [etc/hosts], replace: { a: b } }
`),
    ).toMatchObject([
      {
        line: 2,
        col: 22,
        message:
          'machines: { ansible: inventory.yml } needs the inventory read with ansible-inventory (the cutover command does it)',
      },
      // the spec's machines are the inventory's: none known here, so `on` has nothing to name
      { line: 4, col: 18 },
    ])
    expect(
      errors(`version: 1
machines: { a: { root: /srv/a } }
steps:
  - text: { on: ['@web'], files: [etc/hosts], replace: { a: b } }
`),
    ).toEqual([
      {
        code: 'SPEC_VALUE',
        line: 4,
        col: 18,
        message:
          '"@web" names a group of an Ansible inventory, and the spec\'s machines are not an inventory\'s (machines: { ansible: FILE } or --inventory FILE)',
      },
    ])
    // a spec that lists its machines and an inventory too
    expect(
      errors(
        `version: 1
machines: { a: { root: /srv/a } }
steps: []
`,
        inventory,
      ),
    ).toMatchObject([{ line: 2, col: 1, message: expect.stringContaining('remove one') }])
    expect(specInventoryFile('version: 1\nmachines: { a: { root: /srv/a } }\n')).toBe('listed')
    expect(specInventoryFile('version: 1\nsteps: []\n')).toBeUndefined()
  })
})
