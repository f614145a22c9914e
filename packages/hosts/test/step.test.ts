import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SpecError, createEngine } from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { hostsStep } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

const engine = createEngine({ steps: [hostsStep] })

const INVENTORY = `version: 1
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
  hrdb.thehumanjourney.net:    { old: 10.0.10.50, new: 10.0.10.51 }
`

async function plan(steps: string, hosts: string) {
  const root = tempDir('cutover-hosts-step-')
  mkdirSync(join(root, 'etc'))
  writeFileSync(join(root, 'etc/hosts'), hosts)
  const spec = engine.parseSpec(`${INVENTORY}steps:\n${steps}`, 'cutover.yaml')
  const p = await engine.plan(spec, { root })
  return { ...p, after: p.changes[0]?.afterText ?? hosts }
}

function specErrors(steps: string): readonly unknown[] {
  try {
    engine.parseSpec(`${INVENTORY}steps:\n${steps}`, 'cutover.yaml')
  } catch (e) {
    if (e instanceof SpecError) return e.diagnostics
    throw e
  }
  return []
}

describe('hosts step options', () => {
  it('accepts ensure: new | old and { address, hosts }', () => {
    expect(specErrors('  - hosts: { files: [etc/hosts], ensure: new }\n')).toEqual([])
    expect(
      specErrors(
        '  - hosts: { files: [etc/hosts], ensure: { address: old, hosts: [hrdb.thehumanjourney.net] } }\n',
      ),
    ).toEqual([])
    expect(
      specErrors(
        '  - hosts: { files: [etc/hosts], remove: [legacy], swap: [[a, b]], replace: { 10.0.0.1: 10.0.0.2 } }\n',
      ),
    ).toEqual([])
  })

  it('rejects an unknown address choice, a name outside the inventory and an unknown key', () => {
    expect(specErrors('  - hosts: { files: [etc/hosts], ensure: newest }\n')).toMatchObject([
      { code: 'SPEC_VALUE' },
    ])
    expect(
      specErrors(
        '  - hosts: { files: [etc/hosts], ensure: { address: new, hosts: [nope.example] } }\n',
      ),
    ).toMatchObject([
      { code: 'SPEC_VALUE', message: expect.stringContaining('not a host of the inventory') },
    ])
    expect(specErrors('  - hosts: { files: [etc/hosts], addresses: names }\n')).toMatchObject([
      { code: 'SPEC_UNKNOWN_KEY' },
    ])
  })
})

describe('hosts step planning', () => {
  it('ensures a listed subset at the old address (the test profile situation)', async () => {
    const p = await plan(
      '  - hosts: { files: [etc/hosts], ensure: { address: old, hosts: [hrdb.thehumanjourney.net] } }\n',
      '127.0.0.1 localhost\n',
    )
    expect(p.after).toBe('127.0.0.1 localhost\n\n# cutover\n10.0.10.50 hrdb.thehumanjourney.net\n')
  })

  it('plans a file lacking every name (no byte prefilter when ensuring)', async () => {
    const p = await plan(
      '  - hosts: { files: [etc/hosts], ensure: new }\n',
      '127.0.0.1 localhost\n',
    )
    expect(p.after).toBe(
      '127.0.0.1 localhost\n\n# cutover\n10.0.10.49 finance.thehumanjourney.net\n10.0.10.51 hrdb.thehumanjourney.net\n',
    )
  })

  it('removes names, case-insensitively', async () => {
    const p = await plan(
      '  - hosts: { files: [etc/hosts], remove: [legacy-db] }\n',
      '127.0.0.1 localhost\n10.0.0.5 Legacy-DB\n',
    )
    expect(p.after).toBe('127.0.0.1 localhost\n')
  })

  it('swaps names in name fields only and rewrites an IPv4 key in address fields only', async () => {
    const hosts =
      '147.251.21.10 mentat-hub.cesnet.cz mentat-hub # mentat-alt\n147.251.21.11 mentat-alt.cesnet.cz mentat-alt\n'
    const p = await plan(
      '  - hosts:\n      files: [etc/hosts]\n      swap: [[mentat-hub, mentat-alt]]\n      replace: { 147.251.21.10: 147.251.21.12 }\n',
      hosts,
    )
    expect(p.after).toBe(
      '147.251.21.12 mentat-alt.cesnet.cz mentat-alt # mentat-alt\n147.251.21.11 mentat-hub.cesnet.cz mentat-hub\n',
    )
    expect(p.changes[0]!.passes[0]!.map((e) => e.rule).sort()).toEqual([
      'replace',
      'swap',
      'swap',
      'swap',
      'swap',
    ])
  })

  it('keeps malformed lines, reports them as warnings with line:col, and reports old addresses in comments', async () => {
    const p = await plan(
      '  - hosts: { files: [etc/hosts], ensure: new }\n',
      '10.0.10.49 finance.thehumanjourney.net # was 10.0.10.48\n10.0.10.51 hrdb.thehumanjourney.net\n10.0.10.9999 typo\n',
    )
    expect(p.changes).toEqual([])
    expect(p.notes).toMatchObject([
      { target: 'etc/hosts', line: 3, col: 1, code: 'BAD_ADDRESS', severity: 'warning' },
    ])
    expect(p.leftovers).toMatchObject([
      { line: 1, col: 46, text: '10.0.10.48', reason: 'old address: inside a comment' },
    ])
  })

  it('warns about a name mapped to two addresses before the change', async () => {
    const p = await plan(
      '  - hosts: { files: [etc/hosts], ensure: new }\n',
      '10.0.10.48 finance.thehumanjourney.net\n10.0.10.47 finance.thehumanjourney.net\n',
    )
    expect(p.notes).toMatchObject([{ line: 2, col: 1, code: 'HOST_CONFLICT' }])
    expect(p.after).toBe(
      '10.0.10.49 finance.thehumanjourney.net\n\n# cutover\n10.0.10.51 hrdb.thehumanjourney.net\n',
    )
  })
})
