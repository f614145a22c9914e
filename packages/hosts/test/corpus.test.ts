import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeText, encodeText } from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { parseHosts, printHosts, resolveHost, spanText } from '../src/index.js'
import { corpusPath } from '@cutover/test-kit'

const dir = corpusPath('hosts')
const files = readdirSync(dir).sort()

describe('corpus round-trip', () => {
  it('has the corpus files', () => {
    expect(files.length).toBeGreaterThanOrEqual(6)
  })

  for (const f of files) {
    it(`${f} prints back byte for byte`, () => {
      const bytes = readFileSync(join(dir, f))
      const { text, encoding } = decodeText(bytes)
      const doc = parseHosts(text)
      expect(encodeText(printHosts(doc), encoding).equals(bytes)).toBe(true)
      // every token is non-blank, inside its line, and the lines tile the text
      let at = 0
      const problems: string[] = []
      for (const l of doc.lines) {
        if (l.start !== at) problems.push(`gap at ${at}`)
        at = l.next
        for (const n of l.names)
          if (!/^[^\s#]+$/.test(spanText(doc, n))) problems.push(`bad token at ${n.start}`)
      }
      expect(problems).toEqual([])
      expect(at).toBe(text.length)
    })
  }

  it('reads the large blocklist as 42,5xx entries and no malformed line', () => {
    const doc = parseHosts(readFileSync(join(dir, 'anudeepND_blacklist_adservers.hosts'), 'utf8'))
    expect(doc.errors).toEqual([])
    expect(doc.lines.filter((l) => l.kind === 'entry').length).toBeGreaterThan(42_000)
    expect(resolveHost(doc, '012.2o7.net')).toBe('0.0.0.0')
  })

  it('reads the augeas /etc/hosts: commented-out entries are comments, aliases are names', () => {
    const doc = parseHosts(readFileSync(join(dir, 'augeas_root_etc_hosts'), 'utf8'))
    expect(doc.errors).toEqual([])
    expect(resolveHost(doc, 'galia')).toBe('127.0.0.1')
    expect(resolveHost(doc, 'granny')).toBeUndefined()
    expect(resolveHost(doc, 'ORANGE.watzmann.net')).toBe('172.31.122.14')
  })

  it('reports the template lines of cloud-init as malformed, with their ranges', () => {
    const text = readFileSync(join(dir, 'cloud-init_hosts.debian.tmpl'), 'utf8')
    const doc = parseHosts(text)
    const bad = doc.errors.map((e) => text.slice(e.range.start, e.range.end))
    expect(bad).toContain('{') // `{#`: the "#" starts a comment, as glibc reads it
    expect(resolveHost(doc, 'ip6-allnodes')).toBe('ff02::1')
    expect(resolveHost(doc, '{{fqdn}}')).toBe('127.0.1.1')
  })
})
