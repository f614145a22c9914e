import { FORWARD, REVERSE } from '@cutover/test-kit/zones'
import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { applyEdits, checkEdits } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { afterAll, describe, expect, it } from 'vitest'
import {
  namedCheckzoneValidator,
  nextSerial,
  parseZone,
  planZone,
  setRecordTtl,
  zoneOrigin,
  ZoneError,
  type ZoneIntent,
} from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

const NAMES = ['finance.thehumanjourney.net', 'hrdb.thehumanjourney.net']
const TO_NEW = [
  { name: 'finance.thehumanjourney.net', from: '10.0.10.48', to: '10.0.10.49' },
  { name: 'hrdb.thehumanjourney.net', from: '10.0.10.42', to: '10.0.10.43' },
]
const day = new Date(Date.UTC(2026, 11, 4))

function plan(text: string, intent: ZoneIntent) {
  const doc = parseZone(text, { origin: 'thehumanjourney.net.' })
  const p = planZone(doc, { now: day, ...intent })
  checkEdits(text, p.edits)
  return { ...p, after: applyEdits(text, p.edits) }
}

const dir = tempDir('cutover-zone-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** named-checkzone's verdict on `text` as the target `name` (undefined: it loads). */
async function check(name: string, text: string): Promise<string | undefined> {
  const staged = join(dir, `staged-${Math.random().toString(36).slice(2)}`)
  writeFileSync(staged, text)
  return namedCheckzoneValidator.run(staged, `etc/bind/${name}`)
}

describe('zone edits', () => {
  it('lowers only the TTLs of the names given, adding a field spaced like the file, and bumps the serial once', () => {
    const { edits, after } = plan(FORWARD, { names: NAMES, ttl: 300 })
    const lines = after.split('\n')
    expect(lines[12]).toBe('finance\t300\tIN\tA\t10.0.10.48')
    expect(lines[13]).toBe('\t300\tIN\tTXT\t"v=spf1 a; -all" ; the old box')
    expect(lines[14]).toBe('HRDB.thehumanjourney.net.\t300\tIN\tA\t10.0.10.42')
    expect(lines[4]).toBe('\t\t2026120401\t; serial')
    // the SOA's timers, $TTL, and every other record are as they were
    const changed = lines.flatMap((l, i) => (l === FORWARD.split('\n')[i] ? [] : [i]))
    expect(changed).toEqual([4, 12, 13, 14])
    expect(edits.filter((e) => e.rule === 'zone.serial')).toHaveLength(1)
    // planning again on the result: nothing
    expect(plan(after, { names: NAMES, ttl: 300 }).edits).toEqual([])
  })

  it('moves the A records of the names, leaves the CNAME (noted) and the other name at the old address', () => {
    const { diagnostics, after } = plan(FORWARD, { names: NAMES, moves: TO_NEW })
    const lines = after.split('\n')
    expect(lines[12]).toBe('finance\tIN\tA\t10.0.10.49')
    expect(lines[14]).toBe('HRDB.thehumanjourney.net.\t3600\tIN\tA\t10.0.10.43')
    expect(lines[16]).toBe('mail\tIN\tA\t10.0.10.48\t; still on the old finance box')
    expect(lines[15]).toBe('www\tIN\tCNAME\tfinance')
    expect(diagnostics.map((d) => d.code)).toEqual(['ZONE_CNAME'])
    expect(diagnostics[0]!.message).toContain(
      'www.thehumanjourney.net. is a CNAME of finance.thehumanjourney.net.',
    )
    const back = TO_NEW.map((m) => ({ ...m, from: m.to, to: m.from }))
    const again = plan(after, { names: NAMES, moves: back, serial: 'increment' })
    expect(again.after.replace('2026120402', '2026120401')).toBe(
      FORWARD.replace('2026010101', '2026120401'),
    )
  })

  it('keeps the serial without other edits, and with serial: keep', () => {
    expect(plan(FORWARD, { names: ['nobody.example.'], ttl: 300 }).edits).toEqual([])
    const kept = plan(FORWARD, { names: NAMES, ttl: 300, serial: 'keep' })
    expect(kept.edits.some((e) => e.rule === 'zone.serial')).toBe(false)
  })

  it('never moves a date serial backwards', () => {
    expect(nextSerial(2026010101, 'date', day)).toBe(2026120401)
    expect(nextSerial(2026120401, 'date', day)).toBe(2026120402)
    expect(nextSerial(2099010100, 'date', day)).toBe(2099010101)
    expect(nextSerial(7, 'increment', day)).toBe(8)
    expect(nextSerial(4294967295, 'increment', day)).toBe(0)
  })

  it('sets $TTL only when asked, never the SOA timers', () => {
    const { after } = plan(FORWARD, { defaultTtl: 3600 })
    expect(after.split('\n')[1]).toBe('$TTL 3600')
    expect(after).toContain('\t\t86400 )\t\t; negative caching TTL')
  })

  it('adds no TTL field where $TTL already gives the record that TTL', () => {
    expect(plan(FORWARD, { names: ['finance.thehumanjourney.net'], ttl: 86400 }).edits).toEqual([])
    const doc = parseZone('a 300 IN A 10.0.0.1\n', { origin: 'x.' })
    expect(setRecordTtl(doc, doc.entries[0]!, 300)).toBeUndefined()
    expect(() => setRecordTtl(doc, doc.entries[0]!, -1)).toThrow(ZoneError)
  })

  it('tells the origin of a zone from its $ORIGIN, an absolute SOA owner, or its file name', () => {
    expect(zoneOrigin('etc/bind/zone', FORWARD)).toBe('thehumanjourney.net.')
    expect(zoneOrigin('db.x', 'example.org. IN SOA a. b. 1 2 3 4 5\n')).toBe('example.org.')
    expect(zoneOrigin('etc/bind/db.10.0.10', '@ IN SOA a. b. 1 2 3 4 5\n')).toBe(
      '10.0.10.in-addr.arpa.',
    )
    expect(zoneOrigin('etc/bind/db.example.net', '@ IN SOA a. b. 1 2 3 4 5\n')).toBe('example.net.')
    expect(zoneOrigin('etc/bind/zonefile', '@ IN SOA a. b. 1 2 3 4 5\n')).toBeUndefined()
  })
})

describe('reverse zones', () => {
  const rev = (text: string, moves = TO_NEW) => {
    const doc = parseZone(text, { origin: '10.0.10.in-addr.arpa.' })
    const p = planZone(doc, { moves, reverse: '10.0.10.in-addr.arpa.', now: day })
    return { ...p, after: applyEdits(text, p.edits) }
  }

  it('renames the PTR of a moved address in its own spelling, once; a second plan is empty', () => {
    const { after, edits } = rev(REVERSE)
    const lines = after.split('\n')
    expect(lines[5]).toBe('49\tIN\tPTR\tfinance.thehumanjourney.net.')
    expect(lines[6]).toBe('43.10.0.10.in-addr.arpa.\tIN\tPTR\thrdb.thehumanjourney.net.')
    expect(lines[2]).toBe('\t\t2026120401 3600 900 1209600 86400 )')
    expect(edits.filter((e) => e.rule === 'zone.serial')).toHaveLength(1)
    expect(rev(after).edits).toEqual([])
  })

  it('removes the PTR when the new address is in another zone, and adds the one missing', () => {
    const away = [{ name: 'finance.thehumanjourney.net', from: '10.0.10.48', to: '10.0.20.48' }]
    expect(rev(REVERSE, away).after).not.toContain('finance')
    const into = [{ name: 'oas.thehumanjourney.net', from: '10.0.20.60', to: '10.0.10.61' }]
    expect(rev(REVERSE, into).after.split('\n').at(-2)).toBe(
      '61\tIN\tPTR\toas.thehumanjourney.net.',
    )
  })

  it.runIf(need('named-checkzone'))('named-checkzone accepts every output', async () => {
    for (const [name, text] of [
      ['db.thehumanjourney.net', FORWARD],
      ['db.thehumanjourney.net', plan(FORWARD, { names: NAMES, ttl: 300 }).after],
      ['db.thehumanjourney.net', plan(FORWARD, { names: NAMES, moves: TO_NEW }).after],
      ['db.thehumanjourney.net', plan(FORWARD, { defaultTtl: 300 }).after],
      ['db.10.0.10', REVERSE],
      ['db.10.0.10', rev(REVERSE).after],
    ] as const)
      expect(await check(name, text), text).toBeUndefined()
  })

  it.runIf(need('named-checkzone'))(
    'named-checkzone rejects a broken zone naming the target and the line',
    async () => {
      const broken = FORWARD.replace(
        'finance\tIN\tA\t10.0.10.48',
        'finance\tIN\tA\tfinance.example.net',
      )
      const message = await check('db.thehumanjourney.net', broken)
      expect(message).toMatch(/etc\/bind\/db\.thehumanjourney\.net:13: .*bad dotted quad/)
      expect(message).not.toContain(dir)
    },
  )
})

/** Every record as named-checkzone loads it (`name TTL TYPE rdata`), or its error. */
function loaded(origin: string, text: string): string[] {
  const p = join(dir, `loaded-${Math.random().toString(36).slice(2)}`)
  writeFileSync(p, text)
  const r = spawnSync('named-checkzone', ['-D', '-o', '-', origin, p], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${r.stdout}${r.stderr}`)
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith(';'))
    .map((l) => l.trim().split(/\s+/).join(' '))
}

describe('the zone around the edits', () => {
  it.runIf(need('named-checkzone'))(
    'a TTL added where no $TTL is in effect keeps the TTL of the records after it (RFC 1035: they take the last one written)',
    () => {
      const old = [
        '$ORIGIN x.example.',
        '@\t86400\tIN\tSOA\tns.x.example. root.x.example. 1 3600 900 1209600 60',
        '\tIN\tNS\tns',
        'ns\tIN\tA\t10.0.0.1',
        'fin\tIN\tA\t10.0.10.48',
        'mail\tIN\tA\t10.0.10.50',
        'www\tIN\tA\t10.0.10.51',
        '',
      ].join('\n')
      const doc = parseZone(old)
      const p = planZone(doc, { names: ['fin.x.example'], ttl: 300, now: day })
      const after = applyEdits(old, p.edits)
      const ttls = (text: string) =>
        new Map(loaded('x.example', text).map((l) => [l.split(' ')[0]!, l.split(' ')[1]!]))
      const before = ttls(old)
      const now = ttls(after)
      expect(now.get('fin.x.example.')).toBe('300')
      for (const name of ['ns.x.example.', 'mail.x.example.', 'www.x.example.'])
        expect(now.get(name), name).toBe(before.get(name))
      expect(after.split('\n')[5]).toBe('mail\t86400\tIN\tA\t10.0.10.50')
      expect(after.split('\n')[6]).toBe('www\tIN\tA\t10.0.10.51')
      expect(planZone(parseZone(after), { names: ['fin.x.example'], ttl: 300 }).edits).toEqual([])
    },
  )

  it.runIf(need('named-checkzone'))(
    'a record that takes the SOA minimum (no $TTL, an SOA without TTL) is lowered even after a record that writes that TTL',
    () => {
      const old = [
        '$ORIGIN x.example.',
        '@\tIN\tSOA\tns.x.example. root.x.example. 1 3600 900 1209600 86400',
        '\tIN\tNS\tns',
        'ns\t300\tIN\tA\t10.0.0.1',
        'fin\tIN\tA\t10.0.10.48',
        'mail\tIN\tA\t10.0.10.50',
        '',
      ].join('\n')
      const p = planZone(parseZone(old), { names: ['fin.x.example'], ttl: 300, now: day })
      const loads = loaded('x.example', applyEdits(old, p.edits))
      expect(loads).toContain('fin.x.example. 300 IN A 10.0.10.48')
      expect(loads).toContain('mail.x.example. 86400 IN A 10.0.10.50')
    },
  )

  it('two PTRs of one owner removed together leave the next record its own owner', () => {
    const text = [
      '$ORIGIN 10.0.10.in-addr.arpa.',
      '@\t3600\tIN\tSOA\tns.x.example. root.x.example. 1 3600 900 1209600 60',
      '\tIN\tNS\tns.x.example.',
      '48\tIN\tPTR\tfin.x.example.',
      '\tIN\tPTR\tfin-old.x.example.',
      '50\tIN\tPTR\tmail.x.example.',
      '',
    ].join('\n')
    const moves = [
      { name: 'fin.x.example', from: '10.0.10.48', to: '10.0.20.48' },
      { name: 'fin-old.x.example', from: '10.0.10.48', to: '10.0.20.49' },
    ]
    const p = planZone(parseZone(text), { moves, reverse: '10.0.10.in-addr.arpa.', now: day })
    const after = applyEdits(text, p.edits).split('\n')
    expect(after.slice(3)).toEqual(['50\tIN\tPTR\tmail.x.example.', ''])
  })

  it('a reverse zone named for its network only (db.192 for 1.168.192.in-addr.arpa) has no origin from its name', () => {
    // the layout of Ubuntu's server guide: the zone 1.168.192.in-addr.arpa in db.192
    const db192 = [
      '$TTL\t604800',
      '@\tIN\tSOA\tns.example.com. root.example.com. ( 2 604800 86400 2419200 604800 )',
      '@\tIN\tNS\tns.',
      '10\tIN\tPTR\tns.example.com.',
      '',
    ].join('\n')
    expect(zoneOrigin('etc/bind/db.192', db192)).toBeUndefined()
    // where the PTRs are whole addresses under the name, the name tells the zone
    expect(zoneOrigin('etc/bind/db.192', db192.replace('10\t', '10.1.168\t'))).toBe(
      '192.in-addr.arpa.',
    )
    expect(zoneOrigin('etc/bind/db.10.0', db192.replace('10\t', '48.10\t'))).toBe(
      '0.10.in-addr.arpa.',
    )
  })
})
