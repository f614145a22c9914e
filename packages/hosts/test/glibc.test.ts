import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseHosts, planHosts, resolveHost } from '../src/index.js'
import { getent, glibcUnavailable } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// Issue 15 §6: what `ensure: new` writes is read back by glibc itself (`getent` runs each lookup
// in a private mount namespace with the planned file bound over /etc/hosts).

const KELVIN = '\u212a'

const unavailable = glibcUnavailable()

describe('hosts: an IPv4-mapped IPv6 entry is the IPv4 address it maps', () => {
  it('glibc answers IPv4 lookups from ::ffff:10.0.10.48 (the premise)', (ctx) => {
    if (unavailable) ctx.skip(`glibc lookups skipped: ${unavailable}`)
    const dir = tempDir('cutover-glibc-')
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
