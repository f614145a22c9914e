import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { applyEdits } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { parseZone, planZone } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

const dir = tempDir('cutover-zone-meaning-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The records named-checkzone loads from `text`, each as `name TTL class type rdata`. */
function loaded(text: string): string[] {
  const p = join(dir, 'zone')
  writeFileSync(p, text)
  const r = spawnSync('named-checkzone', ['-D', '-o', '-', 'x.example', p], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${r.stdout}${r.stderr}\n${text}`)
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith(';'))
    .map((l) => l.trim().split(/\s+/).join(' '))
}

const owner = fc.constantFrom('fin', 'FIN', 'fin.x.example.', '', 'mail', 'www', 'www.x.example.')
const ttl = fc.constantFrom(undefined, '300', '600', '1h', '86400')
const rr = fc.record({
  owner,
  ttl,
  type: fc.constantFrom('A', 'TXT'),
  last: fc.integer({ min: 1, max: 250 }),
})
const zone = fc.record({
  dollar: fc.constantFrom(undefined, '3600', '2h'),
  soaTtl: fc.constantFrom(undefined, '86400'),
  records: fc.array(rr, { minLength: 1, maxLength: 10 }),
})

type Zone = typeof zone extends fc.Arbitrary<infer Z> ? Z : never

/** A zone of x.example.: $TTL or none, an SOA with a TTL or none, records with a TTL or none. */
function text(z: Zone): string {
  const lines = ['$ORIGIN x.example.']
  if (z.dollar) lines.push(`$TTL ${z.dollar}`)
  lines.push(
    `@\t${z.soaTtl ? `${z.soaTtl}\t` : ''}IN\tSOA\tns.x.example. root.x.example. 1 3600 900 1209600 60`,
  )
  lines.push('\tIN\tNS\tns.example.org.')
  for (const r of z.records) {
    const data = r.type === 'A' ? `10.0.0.${r.last}` : `"t ${r.last}"`
    lines.push(`${r.owner}\t${r.ttl ? `${r.ttl}\t` : ''}IN\t${r.type}\t${data}`)
  }
  return `${lines.join('\n')}\n`
}

describe.runIf(need('named-checkzone'))('what a TTL plan means, as BIND loads the zone', () => {
  it('gives the records of the name the TTL and leaves every other record as it was', () => {
    fc.assert(
      fc.property(zone, fc.constantFrom(60, 300, 3600, 86400), (z, seconds) => {
        const before = text(z)
        const plan = planZone(parseZone(before), { names: ['fin.x.example'], ttl: seconds })
        const after = applyEdits(before, plan.edits)
        const fin = (l: string) => l.toLowerCase().startsWith('fin.x.example. ')
        const soa = (l: string) => / SOA /.test(l)
        const was = loaded(before)
        const now = loaded(after)
        for (const l of now.filter(fin)) expect(l.split(' ')[1], after).toBe(String(seconds))
        expect(
          now.filter((l) => !fin(l) && !soa(l)),
          after,
        ).toEqual(was.filter((l) => !fin(l) && !soa(l)))
        // planned again: nothing
        expect(
          planZone(parseZone(after), { names: ['fin.x.example'], ttl: seconds }).edits,
        ).toEqual([])
      }),
      { numRuns: 60 },
    )
  })

  // BIND gives a record the TTL of the records of its owner and type just before it ("TTL set
  // to prior TTL"), and the records after it that write none take that TTL
  it.each([
    [
      'a set whose second record writes another TTL',
      ['fin\tIN\tTXT\t"a"', 'fin\t300\tIN\tTXT\t"b"', 'mail\tIN\tA\t10.0.0.1'],
    ],
    [
      'an owner spelled in two cases: two runs for the loader',
      ['FIN\tIN\tA\t10.0.0.1', 'fin\t300\tIN\tA\t10.0.0.2', 'mail\tIN\tA\t10.0.0.3'],
    ],
    [
      'an owner spelled relative then absolute: one run',
      [
        'fin\t600\tIN\tA\t10.0.0.1',
        'fin.x.example.\t300\tIN\tA\t10.0.0.2',
        'mail\tIN\tA\t10.0.0.3',
      ],
    ],
    [
      'an owner spelled with an escape: one run for the loader',
      ['Fin\t600\tIN\tA\t10.0.0.1', '\\070in\t300\tIN\tA\t10.0.0.2', 'mail\tIN\tA\t10.0.0.3'],
    ],
    [
      'an owner spelled with an escape of a lower-case letter: one run',
      ['fin\t600\tIN\tA\t10.0.0.1', 'f\\105n\t300\tIN\tA\t10.0.0.2', 'mail\tIN\tA\t10.0.0.3'],
    ],
    [
      "a delegation's glue between its NS records: one run for the loader",
      [
        'sub\t600\tIN\tNS\tns1.sub',
        'ns1.sub\t300\tIN\tA\t10.0.0.8',
        'sub\tIN\tNS\tns2.sub',
        'ns2.sub\tIN\tA\t10.0.0.9',
        'fin\tIN\tA\t10.0.0.1',
        'mail\tIN\tA\t10.0.0.3',
      ],
    ],
  ])('%s: the records after it keep their TTL', (_, records) => {
    const before = [
      '$ORIGIN x.example.',
      '@\t86400\tIN\tSOA\tns.x.example. root.x.example. 1 3600 900 1209600 60',
      '\tIN\tNS\tns.example.org.',
      ...records,
      '',
    ].join('\n')
    const plan = planZone(parseZone(before), { names: ['fin.x.example'], ttl: 60 })
    const after = applyEdits(before, plan.edits)
    const mail = (l: string) => l.startsWith('mail.')
    const was = loaded(before).filter(mail)
    expect(was).toHaveLength(1)
    expect(loaded(after).filter(mail), after).toEqual(was)
  })
})
