import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { SpecError, createEngine } from '@cutover/rewrite'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { cliSpecSchema } from '../src/steps.js'
import { stepKinds } from '../src/steps.js'

const repo = resolve(import.meta.dirname, '../../..')
const shipped = resolve(import.meta.dirname, '../schema/cutover.schema.json')
const engine = createEngine({ steps: stepKinds })
const ajv = new Ajv2020({ strict: true, allErrors: true })
const validate = ajv.compile(cliSpecSchema())

/** The validator's verdict: the error codes, or [] when the spec is valid. */
function validatorCodes(source: string): string[] {
  try {
    engine.parseSpec(source, 'cutover.yaml')
    return []
  } catch (e) {
    if (!(e instanceof SpecError)) throw e
    return e.diagnostics.map((d) => d.code)
  }
}

const head =
  'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nprofiles: [test, live]\n'
const step = (s: string) => `${head}steps:\n  - ${s}\n`

/** Specs the validator rejects for their shape: the schema must reject each of them too. */
const BAD: Record<string, string> = {
  'no version': 'steps: []\n',
  'no steps': 'version: 1\n',
  'version 2': 'version: 2\nsteps: []\n',
  'version as text': 'version: one\nsteps: []\n',
  'unknown top-level key': 'version: 1\nsteps: []\nhostz: {}\n',
  'old address not IPv4':
    'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.480, new: 10.0.10.49 }\nsteps: []\n',
  'host without new': 'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48 }\nsteps: []\n',
  'host name with a space':
    'version: 1\nhosts:\n  "db example": { old: 10.0.10.48, new: 10.0.10.49 }\nsteps: []\n',
  'unknown key in a host':
    'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49, via: x }\nsteps: []\n',
  'profile listed twice': 'version: 1\nprofiles: [test, test]\nsteps: []\n',
  'empty profiles': 'version: 1\nprofiles: []\nsteps: []\n',
  'secret without env': 'version: 1\nsecrets:\n  PW: { from: X }\nsteps: []\n',
  'steps not a list': 'version: 1\nsteps: { text: { files: [x] } }\n',
  'unknown step kind': step('perl: { files: [x] }'),
  'step with two kinds': step('text: { files: [x] }\n    php: { files: [y] }'),
  'step without files': step('text: { addresses: names }'),
  'files not a list': step('text: { files: etc/hosts }'),
  'unknown step key': step('text: { files: [x], adresses: names }'),
  'bad addresses value': step('text: { files: [x], addresses: dns }'),
  'replace not a mapping': step('text: { files: [x], replace: oops }'),
  'swap pair of three': step('text: { files: [x], swap: [[a, b, c]] }'),
  'php set of a list': step('php: { files: [x], set: [DB_PASSWORD] }'),
  'hosts ensure sideways': step('hosts: { files: [etc/hosts], ensure: sideways }'),
  'sudoers rules not a list': step(
    'sudoers: { files: [etc/sudoers.d/x], rules: "www-data ALL=(ALL) ALL" }',
  ),
  'sql functions not a list': step('sql: { files: [x.sql], functions: public.amqp_* }'),
}

/** Rejected by the validator only: references between parts of a spec have no JSON Schema form. */
const CROSS_REFERENCES: Record<string, string> = {
  'undeclared variant group': step('text: { files: [x], variants: [routing-keys] }'),
  'undeclared secret': step('php: { files: [x], set: { DB_PASSWORD: { secret: NOPE } } }'),
  'undeclared profile in a step': step(
    'text: { files: [x], profiles: [staging], addresses: names }',
  ),
  'variant missing a profile': `${head}variants:\n  keys:\n    - { test: a.test }\nsteps: []\n`,
  'one old address twice':
    'version: 1\nhosts:\n  a.example.org: { old: 10.0.10.48, new: 10.0.10.1 }\n  b.example.org: { old: 10.0.10.48, new: 10.0.10.2 }\nsteps: []\n',
}

describe('the JSON Schema of cutover.yaml', () => {
  it('is shipped in the cli package, in sync with the step kinds, and printed by `cutover schema`', async () => {
    const text = JSON.stringify(cliSpecSchema(), null, 2) + '\n'
    expect(readFileSync(shipped, 'utf8'), 'regenerate it: pnpm --filter @cutover/cli schema').toBe(
      text,
    )
    const io = memoryIo()
    expect(await run(['schema'], io)).toBe(0)
    expect(io.out()).toBe(text)
    const pkg = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8'),
    ) as { files: string[] }
    expect(pkg.files).toContain('schema')
  })

  it('is a valid draft 2020-12 schema with a oneOf branch per step kind', () => {
    expect(ajv.validateSchema(cliSpecSchema())).toBe(true)
    const steps = (
      cliSpecSchema().properties as { steps: { items: { oneOf: Array<{ required: string[] }> } } }
    ).steps
    expect(steps.items.oneOf.map((b) => b.required[0])).toEqual([
      ...stepKinds.map((k) => k.name),
      'copy',
      'exchange',
    ])
  })

  it('accepts the examples, which reference it on their first line', () => {
    for (const name of ['finance', 'mentat', 'dept']) {
      const source = readFileSync(resolve(repo, 'examples', name, 'cutover.yaml'), 'utf8')
      expect(source.split('\n')[0]).toBe(
        '# yaml-language-server: $schema=../../packages/cli/schema/cutover.schema.json',
      )
      expect(validatorCodes(source)).toEqual([])
      expect(validate(parse(source)), JSON.stringify(validate.errors)).toBe(true)
    }
  })

  it.each(Object.entries(BAD))('rejects what the validator rejects: %s', (_name, source) => {
    expect(validatorCodes(source).length).toBeGreaterThan(0)
    expect(validate(parse(source))).toBe(false)
  })

  it.each(Object.entries(CROSS_REFERENCES))(
    'leaves cross-references to the validator: %s',
    (_name, source) => {
      expect(validatorCodes(source).length).toBeGreaterThan(0)
      expect(validate(parse(source))).toBe(true)
    },
  )
})
