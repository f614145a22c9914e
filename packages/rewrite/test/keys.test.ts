import { describe, expect, it } from 'vitest'
import { keyScope, outsideKeysReason, parseSpec } from '../src/index.js'
import { errorsOf, kinds } from './spec-errors.js'

describe('keyScope', () => {
  it('is true everywhere without keys, and nowhere with an empty list', () => {
    const all = keyScope(undefined)
    expect(all([])).toBe(true)
    expect(all(['a', 0, 'b'])).toBe(true)
    const none = keyScope([])
    expect(none(['a'])).toBe(false)
    expect(none([])).toBe(false)
  })

  it('takes a value whose path starts with a key: the whole array under trusted_domains', () => {
    const inScope = keyScope(['trusted_domains'])
    expect(inScope(['trusted_domains'])).toBe(true)
    expect(inScope(['trusted_domains', 0])).toBe(true)
    expect(inScope(['trusted_domains', 3, 'host'])).toBe(true)
    expect(inScope(['overwrite.cli.url'])).toBe(false)
    expect(inScope(['trusted'])).toBe(false)
    expect(inScope(['trusted_domains_extra', 0])).toBe(false)
    expect(inScope([])).toBe(false)
  })

  it('compares dotted paths segment by segment, array indexes as their numbers', () => {
    const inScope = keyScope(['services.db.ports', 'listen.1'])
    expect(inScope(['services', 'db', 'ports', 0])).toBe(true)
    expect(inScope(['services', 'db'])).toBe(false)
    expect(inScope(['services', 'web', 'ports', 0])).toBe(false)
    expect(inScope(['listen', 1])).toBe(true)
    expect(inScope(['listen', '1'])).toBe(true)
    expect(inScope(['listen', 0])).toBe(false)
  })

  it('lets * stand for any one segment, and never for none', () => {
    const inScope = keyScope(['services.*.extra_hosts'])
    expect(inScope(['services', 'db', 'extra_hosts', 2])).toBe(true)
    expect(inScope(['services', 'web', 'extra_hosts'])).toBe(true)
    expect(inScope(['services', 'extra_hosts'])).toBe(false)
    expect(inScope(['services', 'db', 'environment', 'extra_hosts'])).toBe(false)
    expect(keyScope(['*'])(['anything', 'at', 'all'])).toBe(true)
    expect(keyScope(['*'])([])).toBe(false)
  })

  it('reads a PHP property path CFG->wwwroot as two segments, as set writes it', () => {
    const inScope = keyScope(['CFG->wwwroot'])
    expect(inScope(['CFG', 'wwwroot'])).toBe(true)
    expect(inScope(['CFG', 'dbhost'])).toBe(false)
    expect(keyScope(['CFG'])(['CFG', 'dbhost'])).toBe(true)
  })

  it('compares keys exactly (case and all)', () => {
    expect(keyScope(['Listen'])(['listen'])).toBe(false)
    expect(keyScope(['listen'])(['listen'])).toBe(true)
  })

  it('names the keys in the reason of an old value outside them', () => {
    expect(outsideKeysReason(['listen', 'set_real_ip_from'])).toBe(
      "outside this step's keys (listen, set_real_ip_from)",
    )
  })
})

describe('keys: in a spec', () => {
  const spec = (keys: string) => `version: 1
hosts:
  web: { old: 172.20.0.10, new: 10.20.0.10 }
steps:
  - text:
      files: [etc/nginx/**]
      addresses: new
      keys: ${keys}
`

  it('is a rule key of the text step, kept as written', () => {
    const parsed = parseSpec(spec('[listen, set_real_ip_from]'), 'cutover.yaml', kinds)
    expect(parsed.steps[0]!.options).toMatchObject({ keys: ['listen', 'set_real_ip_from'] })
  })

  it('rejects an empty list, an empty key, a blank inside a key and an empty segment', () => {
    expect(errorsOf(spec('[]'))).toMatchObject([{ code: 'SPEC_VALUE', line: 8, col: 13 }])
    expect(errorsOf(spec('[""]'))).toMatchObject([
      { code: 'SPEC_VALUE', line: 8, col: 14, message: 'a key must not be empty' },
    ])
    expect(errorsOf(spec('["a b"]'))).toMatchObject([
      { code: 'SPEC_VALUE', line: 8, col: 14, message: 'a key holds no blanks, got "a b"' },
    ])
    expect(errorsOf(spec('[a..b]'))).toMatchObject([
      {
        code: 'SPEC_VALUE',
        line: 8,
        col: 14,
        message: '"a..b" has an empty segment (two dots, or a dot at an end)',
      },
    ])
    expect(errorsOf(spec('listen'))).toMatchObject([{ code: 'SPEC_TYPE', line: 8, col: 13 }])
  })

  it('refuses keys on a step with no rule for them to limit, at the keys', () => {
    const idle = `version: 1
steps:
  - text:
      files: [etc/nginx/**]
      keys: [listen]
  - text:
      files: [etc/nginx/**]
      addresses: none
      keys: [listen]
      replace: {}
`
    expect(errorsOf(idle)).toEqual(
      [5, 9].map((line) => ({
        code: 'SPEC_VALUE',
        line,
        col: 7,
        message:
          'keys limits addresses, replace, swap and variants, and this step has none of them (set names its own keys): add a rule or remove keys',
      })),
    )
  })
})
