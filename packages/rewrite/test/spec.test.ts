import { describe, expect, it } from 'vitest'
import { parseSpec, specJsonSchema } from '../src/index.js'
import { errorsOf, kinds } from './spec-errors.js'

const good = `version: 1
hosts:
  finance.thehumanjourney.net:  { old: 10.0.10.48, new: 10.0.10.49 }
  rabbitmq.thehumanjourney.net: { old: 10.0.10.107, new: 10.0.10.107 }
profiles: [test, live]
variants:
  routing-keys:
    - { test: oas.staff.test, live: oas.staff }
secrets:
  FINANCE_DB_PASSWORD: { env: FINANCE_DB_PASSWORD }
steps:
  - text:
      files: ["etc/apache2/sites-available/*.conf", "etc/hostname"]
      exclude: ["etc/apache2/sites-available/000-default.conf"]
      profiles: [live]
      addresses: names
      replace: { mentat-alt: mentat-hub }
      swap: [[mentat-hub.cesnet.cz, mentat-alt.cesnet.cz]]
      variants: [routing-keys]
`

describe('parseSpec', () => {
  it('loads a valid spec', () => {
    const spec = parseSpec(good, 'cutover.yaml', kinds)
    expect(spec.hosts).toEqual([
      { name: 'finance.thehumanjourney.net', old: '10.0.10.48', new: '10.0.10.49' },
      { name: 'rabbitmq.thehumanjourney.net', old: '10.0.10.107', new: '10.0.10.107' },
    ])
    expect(spec.profiles).toEqual(['test', 'live'])
    expect(spec.steps).toMatchObject([
      {
        kind: 'text',
        index: 0,
        options: { profiles: ['live'], swap: [['mentat-hub.cesnet.cz', 'mentat-alt.cesnet.cz']] },
      },
    ])
    expect(spec.hash).toMatch(/^sha256:[0-9a-f]{64}$/)
  })

  it('reports every error at once with its line and column', () => {
    const bad = `version: 2
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.480, new: 10.0.10.49 }
  timesheets: { old: 10.0.10.23 }
profiles: [test, live]
variants:
  routing-keys:
    - { test: oas.staff.test }
secrets:
  PW: { env: 1BAD }
colour: blue
steps:
  - text:
      files: etc/hosts
      adresses: names
      profiles: [staging]
      variants: [keys]
  - txet: { files: [a] }
  - text: { files: [a], addresses: maybe, swap: [[a]] }
`
    expect(errorsOf(bad)).toEqual([
      {
        code: 'SPEC_VALUE',
        line: 1,
        col: 10,
        message: 'unsupported spec version 2; this cutover reads version 1',
      },
      {
        code: 'SPEC_VALUE',
        line: 3,
        col: 39,
        message: 'expected an IPv4 address such as 10.0.10.48, got "10.0.10.480"',
      },
      {
        code: 'SPEC_MISSING_KEY',
        line: 4,
        col: 15,
        message: 'missing key "new" (an IPv4 address such as 10.0.10.48)',
      },
      {
        code: 'SPEC_VALUE',
        line: 8,
        col: 7,
        message: 'expected one value for each profile (test, live): missing live',
      },
      {
        code: 'SPEC_VALUE',
        line: 10,
        col: 14,
        message: 'expected an environment variable name, got "1BAD"',
      },
      {
        code: 'SPEC_UNKNOWN_KEY',
        line: 11,
        col: 1,
        message:
          'unknown key "colour"; expected one of: version, hosts, networks, profiles, variants, secrets, scan, accept, machines, checks, steps',
      },
      {
        code: 'SPEC_TYPE',
        line: 14,
        col: 14,
        message: 'expected a list of globs relative to the root, got "etc/hosts"',
      },
      {
        code: 'SPEC_UNKNOWN_KEY',
        line: 15,
        col: 7,
        message:
          'unknown key "adresses"; expected one of: files, exclude, profiles, create, allow-user-writable, on, validate, addresses, replace, swap, variants, keys',
      },
      {
        code: 'SPEC_VALUE',
        line: 16,
        col: 18,
        message: 'unknown profile "staging"; the spec declares: test, live',
      },
      {
        code: 'SPEC_VALUE',
        line: 17,
        col: 18,
        message: 'unknown variant group "keys"; the spec defines: routing-keys',
      },
      {
        code: 'SPEC_STEP',
        line: 18,
        col: 5,
        message: 'unknown step kind "txet"; expected one of: text, copy, exchange',
      },
      {
        code: 'SPEC_VALUE',
        line: 19,
        col: 36,
        message: 'expected "names" or "new" or "none", got "maybe"',
      },
      {
        code: 'SPEC_VALUE',
        line: 19,
        col: 50,
        message: 'a swap is a pair of two different values [a, b]',
      },
    ])
  })

  it('reports YAML syntax errors with their position', () => {
    expect(errorsOf('version: 1\nsteps: [\n')[0]).toMatchObject({ code: 'YAML_SYNTAX', line: 3 })
  })

  it('requires version and steps, and rejects duplicate keys', () => {
    expect(errorsOf('hosts: {}\nhosts: {}\n').map((e) => e.code)).toEqual([
      'SPEC_MISSING_KEY',
      'SPEC_MISSING_KEY',
      'SPEC_DUPLICATE',
    ])
  })

  it('rejects a secret reference to an undefined secret and a shared old address', () => {
    const src = `version: 1
hosts:
  a.example: { old: 10.0.0.1, new: 10.0.0.2 }
  b.example: { old: 10.0.0.1, new: 10.0.0.3 }
steps: []
`
    expect(errorsOf(src)).toEqual([
      {
        code: 'SPEC_VALUE',
        line: 4,
        col: 3,
        message: 'old address 10.0.0.1 of "b.example" is already the old address of "a.example"',
      },
    ])
  })

  it('rejects every path that is absolute or has a ".." part, in files, exclude, scan and create paths, at once', () => {
    const src = `version: 1
scan: { files: ["../**/app.conf", "etc/**"], exclude: ["/var/lib/**"] }
steps:
  - text: { files: ["../outside/*", "etc/../../x", "!../keep"], exclude: ["{..,etc}/y"], replace: { a: b } }
  - text: { files: ["etc/cron.d/../../../etc/cron.d/evil", "etc/..x/ok", "etc/x../ok"], create: { mode: "0644" }, replace: { a: b } }
  - text: { files: ["/etc/hosts"], replace: { a: b } }
`
    const errors = errorsOf(src)
    expect(errors.map(({ line, col, code }) => ({ line, col, code }))).toEqual([
      { line: 2, col: 17, code: 'SPEC_VALUE' },
      { line: 2, col: 56, code: 'SPEC_VALUE' },
      { line: 4, col: 21, code: 'SPEC_VALUE' },
      { line: 4, col: 37, code: 'SPEC_VALUE' },
      { line: 4, col: 52, code: 'SPEC_VALUE' },
      { line: 4, col: 75, code: 'SPEC_VALUE' },
      { line: 5, col: 21, code: 'SPEC_VALUE' },
      { line: 6, col: 21, code: 'SPEC_VALUE' },
    ])
    expect(errors[0]!.message).toBe(
      '"../**/app.conf" has a ".." part: paths are relative to the root (--root) and never leave it',
    )
    expect(errors[1]!.message).toBe(
      '"/var/lib/**" is an absolute path: paths are relative to the root (--root); write "var/lib/**"',
    )
  })

  it('generates a JSON Schema from the same definition', () => {
    const schema = specJsonSchema(kinds) as {
      properties: Record<string, unknown>
      required: string[]
      additionalProperties: boolean
    }
    expect(schema.required).toEqual(['version', 'steps'])
    expect(schema.additionalProperties).toBe(false)
    expect(Object.keys(schema.properties)).toEqual([
      'version',
      'hosts',
      'networks',
      'profiles',
      'variants',
      'secrets',
      'scan',
      'accept',
      'machines',
      'checks',
      'steps',
    ])
    expect(JSON.stringify(schema.properties.steps)).toContain('"text"')
  })
})
