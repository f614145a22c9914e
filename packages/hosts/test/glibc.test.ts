import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseHosts, planHosts, resolveHost } from '../src/index.js'

// Issue 15 §6: what `ensure: new` writes is read back by glibc itself. getent reads only the real
// /etc/hosts, so each lookup runs in a private mount namespace with the planned file bound over
// /etc/hosts (and an nsswitch.conf of `hosts: files`, so no lookup waits for DNS).

const KELVIN = '\u212a'

/** Why glibc lookups cannot run here, or undefined when they can. Under CI=true that is an error. */
function glibcUnavailable(): string | undefined {
  const missing = ['unshare', 'getent', 'mount'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
  )
  let why = missing.length ? `${missing.join(', ')} not installed` : undefined
  if (!why) {
    const probe = spawnSync('unshare', ['-m', 'true'], { encoding: 'utf8' })
    if (probe.status !== 0) why = `unshare -m fails (needs root): ${probe.stderr.trim()}`
  }
  if (why && process.env.CI === 'true')
    throw new Error(`glibc hosts lookups required in CI: ${why}`)
  return why
}
const unavailable = glibcUnavailable()

/** The addresses glibc gives `name` from `hostsFile` (`getent DB NAME`, first column, in order, unique). */
function getent(hostsFile: string, db: 'ahostsv4' | 'ahosts', name: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-nss-'))
  const nss = join(dir, 'nsswitch.conf')
  writeFileSync(nss, 'hosts: files\n')
  const r = spawnSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && exec getent "$3" "$4"',
      'sh',
      hostsFile,
      nss,
      db,
      name,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (r.status === 2) return []
  if (r.status !== 0) throw new Error(`getent ${db} ${name} failed: ${r.stderr}`)
  return [
    ...new Set(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]!),
    ),
  ]
}

describe('hosts: an IPv4-mapped IPv6 entry is the IPv4 address it maps', () => {
  it('glibc answers IPv4 lookups from ::ffff:10.0.10.48 (the premise)', (ctx) => {
    if (unavailable) ctx.skip(`glibc lookups skipped: ${unavailable}`)
    const dir = mkdtempSync(join(tmpdir(), 'cutover-glibc-'))
    writeFileSync(join(dir, 'hosts'), '::ffff:10.0.10.48 finance.thehumanjourney.net finance\n')
    expect(getent(join(dir, 'hosts'), 'ahostsv4', 'finance')).toEqual(['10.0.10.48'])
  })

  it('a mapped entry already at the new address needs nothing', () => {
    const doc = parseHosts('::ffff:10.0.10.49 finance.thehumanjourney.net\n')
    expect(
      planHosts(doc, { ensure: [{ name: 'finance.thehumanjourney.net', address: '10.0.10.49' }] }),
    ).toEqual({ edits: [], diagnostics: [] })
  })
})

describe('hosts: names compare as the resolver compares them (ASCII case folding only)', () => {
  it('resolveHost and planHosts fold ASCII only', () => {
    const doc = parseHosts(`10.0.10.77 ${KELVIN}afka\n`)
    expect(resolveHost(doc, 'kafka')).toBeUndefined()
    expect(resolveHost(doc, `${KELVIN}AFKA`)).toBe('10.0.10.77')
    expect(planHosts(doc, { remove: ['kafka'] }).edits).toEqual([])
  })
})
