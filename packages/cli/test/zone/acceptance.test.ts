import { FORWARD, REVERSE } from '@cutover/test-kit/zones'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { need } from '@cutover/test-kit'
import { afterAll, describe, expect, it } from 'vitest'
import { parseZone, recordType, spanText } from '@cutover/zone'
import { tempDir } from '@cutover/test-kit/temp'

// The zone step through the built command (run `pnpm build` first): the day before (pre) the
// TTLs go down, at cutover (live) the A records and their PTRs move, the trial (test) points
// back at the old machines, after (post) the TTLs go back up.
const bin = resolve(import.meta.dirname, '../../dist/bin.js')

const SPEC = `version: 1
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
  hrdb.thehumanjourney.net:    { old: 10.0.10.42, new: 10.0.10.43 }
profiles: [pre, test, live, post]
steps:
  - zone:
      files: [etc/bind/db.thehumanjourney.net]
      ttl: { pre: 300, post: 86400 }
      records: { test: old, live: new }
      reverse: [etc/bind/db.10.0.10]
      serial: date
`

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function machine(spec = SPEC) {
  const base = tempDir('cutover-zone-')
  dirs.push(base)
  mkdirSync(join(base, 'root/etc/bind'), { recursive: true })
  writeFileSync(join(base, 'root/etc/bind/db.thehumanjourney.net'), FORWARD)
  writeFileSync(join(base, 'root/etc/bind/db.10.0.10'), REVERSE)
  writeFileSync(join(base, 'cutover.yaml'), spec)
  const read = () => ({
    forward: readFileSync(join(base, 'root/etc/bind/db.thehumanjourney.net'), 'utf8'),
    reverse: readFileSync(join(base, 'root/etc/bind/db.10.0.10'), 'utf8'),
  })
  const cutover = (...argv: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...argv, '--root', 'root'], {
      cwd: base,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    })
    return { code: r.status, out: r.stdout, err: r.stderr }
  }
  return { base, read, cutover }
}

/** named-checkzone's exit code and output on a zone text. */
function checkzone(base: string, origin: string, text: string) {
  const p = join(base, `check-${origin}`)
  writeFileSync(p, text)
  const r = spawnSync('named-checkzone', [origin, p], { encoding: 'utf8' })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

/** Every record's owner, TTL field, type and rdata, as `name ttl TYPE rdata`. */
function records(text: string, origin: string): string[] {
  const doc = parseZone(text, { origin })
  return doc.entries.flatMap((e) =>
    e.kind === 'record'
      ? [
          `${e.name} ${e.ttl ? spanText(doc, e.ttl) : '-'} ${recordType(doc, e)} ${e.rdata.map((t) => spanText(doc, t)).join(' ')}`,
        ]
      : [],
  )
}

const today = (() => {
  const d = new Date()
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate()
})()

describe.runIf(need('named-checkzone'))('acceptance: the zone step through the CLI', () => {
  it('pre lowers only the inventory records’ TTLs, live moves A records and PTRs, each bumps the serial once; named-checkzone accepts every output; a second plan is empty', () => {
    const { base, read, cutover } = machine()
    const fwd = (t: string) => records(t, 'thehumanjourney.net.')

    const pre = cutover('apply', '--profile', 'pre', '--yes')
    expect(pre.code, pre.err).toBe(0)
    const afterPre = read()
    expect(fwd(afterPre.forward)).toEqual(
      fwd(FORWARD).map((r) =>
        r.startsWith('finance.') || r.startsWith('hrdb.')
          ? r.replace(/^(\S+) (-|3600) /, '$1 300 ')
          : r.replace(/ 2026010101 /, ` ${today}01 `),
      ),
    )
    // the SOA's negative-caching TTL and $TTL stay; the reverse zone is not touched by pre
    expect(afterPre.forward).toContain('$TTL 86400\n')
    expect(afterPre.forward).toContain('\t\t86400 )\t\t; negative caching TTL\n')
    expect(afterPre.reverse).toBe(REVERSE)
    expect(checkzone(base, 'thehumanjourney.net', afterPre.forward).code).toBe(0)
    expect(cutover('plan', '--profile', 'pre', '--detailed-exitcode').code).toBe(0)

    const live = cutover('apply', '--profile', 'live', '--yes')
    expect(live.code, live.err).toBe(0)
    const afterLive = read()
    const liveRecords = fwd(afterLive.forward)
    expect(liveRecords).toContain('finance.thehumanjourney.net. 300 A 10.0.10.49')
    expect(liveRecords).toContain('hrdb.thehumanjourney.net. 300 A 10.0.10.43')
    // mail is not an inventory name: its old address stays, a leftover with its reason
    expect(liveRecords).toContain('mail.thehumanjourney.net. - A 10.0.10.48')
    expect(live.out + live.err).toMatch(
      /the A record of mail\.thehumanjourney\.net\., which is not an inventory name/,
    )
    expect(live.out + live.err).toContain('ZONE_CNAME')
    expect(afterLive.forward).toContain(`\t\t${today}02\t; serial`)
    expect(records(afterLive.reverse, '10.0.10.in-addr.arpa.')).toEqual([
      `10.0.10.in-addr.arpa. - SOA ns1.thehumanjourney.net. hostmaster.thehumanjourney.net. ${today}01 3600 900 1209600 86400`,
      '10.0.10.in-addr.arpa. - NS ns1.thehumanjourney.net.',
      '2.10.0.10.in-addr.arpa. - PTR ns1.thehumanjourney.net.',
      '49.10.0.10.in-addr.arpa. - PTR finance.thehumanjourney.net.',
      '43.10.0.10.in-addr.arpa. - PTR hrdb.thehumanjourney.net.',
    ])
    for (const [origin, text] of [
      ['thehumanjourney.net', afterLive.forward],
      ['10.0.10.in-addr.arpa', afterLive.reverse],
    ] as const) {
      const c = checkzone(base, origin, text)
      expect(c.code, c.out).toBe(0)
    }
    const again = cutover('plan', '--profile', 'live', '--detailed-exitcode')
    expect(again.code, again.out + again.err).toBe(0)
  })

  it('records: { test: old, live: new } flips the records back and forth; rollback returns the original bytes', () => {
    const { read, cutover } = machine()
    expect(cutover('apply', '--profile', 'live', '--yes').code).toBe(0)
    const live = read()
    expect(live.forward).toContain('finance\tIN\tA\t10.0.10.49\n')
    expect(cutover('apply', '--profile', 'test', '--yes').code).toBe(0)
    const test = read()
    expect(test.forward).toContain('finance\tIN\tA\t10.0.10.48\n')
    expect(test.reverse).toContain('48\tIN\tPTR\tfinance.thehumanjourney.net.\n')
    expect(test.forward).toContain(`\t\t${today}02\t; serial`)
    expect(cutover('apply', '--profile', 'live', '--yes').code).toBe(0)
    expect(read().forward).toContain('finance\tIN\tA\t10.0.10.49\n')
    expect(read().forward).toContain(`\t\t${today}03\t; serial`)

    // each rollback undoes the last apply: three of them, and the files are as they were
    for (let i = 0; i < 3; i++) expect(cutover('rollback', '--yes').code).toBe(0)
    expect(read()).toEqual({ forward: FORWARD, reverse: REVERSE })
  })

  it('a plan that would make the zone invalid is refused before anything is written, naming the line', () => {
    // a text step that turns addresses into names (the mistake that made named-checkzone say "bad dotted quad")
    const { read, cutover } = machine(
      `${SPEC}  - text: { files: [etc/bind/db.thehumanjourney.net], addresses: names }\n`,
    )
    const r = cutover('apply', '--profile', 'live', '--yes')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(
      /etc\/bind\/db\.thehumanjourney\.net:17:\d+: PLANNED_INVALID [\s\S]*:17: near .finance\.thehumanjourney\.net.: bad dotted quad/,
    )
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(read()).toEqual({ forward: FORWARD, reverse: REVERSE })
  })

  it('verify --strict reports a name whose A record and etc/hosts disagree, and passes once the hosts step makes them agree', () => {
    const zoneOnly = SPEC
    const { base, cutover } = machine(zoneOnly)
    // a zone without the old address on another name, and the DNS server's own hosts file
    writeFileSync(
      join(base, 'root/etc/bind/db.thehumanjourney.net'),
      FORWARD.replace(/mail\t.*\n/, ''),
    )
    writeFileSync(
      join(base, 'root/etc/hosts'),
      '127.0.0.1\tlocalhost\n10.0.10.48\tfinance.thehumanjourney.net finance\n10.0.10.43\thrdb.thehumanjourney.net\n',
    )
    expect(cutover('apply', '--profile', 'live', '--yes').code).toBe(0)
    const v = cutover('verify', '--profile', 'live', '--strict')
    expect(v.code).toBe(1)
    expect(v.out + v.err).toContain(
      'the A record of finance.thehumanjourney.net. disagrees with etc/hosts, which gives it 10.0.10.48',
    )
    expect(v.out + v.err).not.toContain('hrdb.thehumanjourney.net. disagrees')

    writeFileSync(
      join(base, 'cutover.yaml'),
      `${zoneOnly}  - hosts: { files: [etc/hosts], ensure: new }\n`,
    )
    expect(cutover('apply', '--profile', 'live', '--yes').code).toBe(0)
    const ok = cutover('verify', '--profile', 'live', '--strict')
    expect(ok.code, ok.out + ok.err).toBe(0)
  })
})
