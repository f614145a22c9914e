import { applyEdits } from '@cutover/rewrite'
import { expectValidEdits, type EditFormat } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import {
  ensureHost,
  parseHosts,
  planHosts,
  printHosts,
  type HostsDocument,
  removeHost,
  renameHost,
  resolveHost,
} from '../src/index.js'

/** hosts(5) is lenient: a malformed line stays as it is, so the result has no more than before. */
const HOSTS: EditFormat<HostsDocument> = {
  parse: parseHosts,
  print: printHosts,
  errors: (d) => d.errors,
  clean: false,
}

const FIN = 'finance.thehumanjourney.net'
const HR = 'hrdb.thehumanjourney.net'

const ensure = (text: string, name: string, address: string) => {
  const edits = ensureHost(parseHosts(text), name, address)
  return expectValidEdits(HOSTS, text, edits, (d) => ensureHost(d, name, address))
}

describe('ensureHost', () => {
  it('changes the address in place when every name of the line moves, keeping the comment', () => {
    const text =
      '127.0.0.1\tlocalhost\n10.0.10.48\tfinance.thehumanjourney.net finance   # finance db\n'
    const out = ensure(text, FIN, '10.0.10.49')
    expect(out).toBe(
      '127.0.0.1\tlocalhost\n10.0.10.49\tfinance.thehumanjourney.net finance   # finance db\n',
    )
    expect(resolveHost(parseHosts(out), 'finance')).toBe('10.0.10.49')
  })

  it('gives no edit when the name already resolves there', () => {
    expect(
      ensureHost(parseHosts('10.0.10.49 FINANCE.thehumanjourney.net\n'), FIN, '10.0.10.49'),
    ).toEqual([])
    expect(ensureHost(parseHosts('::1 x\n0::2 y\n'), 'y', '::2')).toEqual([])
  })

  it('splits a name off a line whose other names stay, and appends it to a # cutover block', () => {
    const text =
      '127.0.0.1 localhost\n10.0.10.50 hrdb.thehumanjourney.net payroll.thehumanjourney.net # shared\n'
    const out = ensure(text, HR, '10.0.10.51')
    expect(out).toBe(
      '127.0.0.1 localhost\n10.0.10.50 payroll.thehumanjourney.net # shared\n\n# cutover\n10.0.10.51 hrdb.thehumanjourney.net\n',
    )
    const doc = parseHosts(out)
    expect(resolveHost(doc, HR)).toBe('10.0.10.51')
    expect(resolveHost(doc, 'payroll.thehumanjourney.net')).toBe('10.0.10.50')
  })

  it('takes the short form of the name along when splitting', () => {
    const out = ensure('10.0.10.50\thrdb.thehumanjourney.net hrdb legacy\n', HR, '10.0.10.51')
    expect(out).toBe('10.0.10.50\tlegacy\n\n# cutover\n10.0.10.51\thrdb.thehumanjourney.net hrdb\n')
  })

  it('appends a missing name, then later names to the same block', () => {
    const one = ensure('127.0.0.1 localhost\n', FIN, '10.0.10.49')
    expect(one).toBe('127.0.0.1 localhost\n\n# cutover\n10.0.10.49 finance.thehumanjourney.net\n')
    const two = ensure(one + '# a note after the block\n', HR, '10.0.10.51')
    expect(two).toBe(
      '127.0.0.1 localhost\n\n# cutover\n10.0.10.49 finance.thehumanjourney.net\n10.0.10.51 hrdb.thehumanjourney.net\n# a note after the block\n',
    )
  })

  it('keeps CRLF line breaks and a missing final newline', () => {
    expect(ensure('127.0.0.1 localhost\r\n', FIN, '10.0.10.49')).toBe(
      '127.0.0.1 localhost\r\n\r\n# cutover\r\n10.0.10.49 finance.thehumanjourney.net\r\n',
    )
    expect(ensure('127.0.0.1 localhost', FIN, '10.0.10.49')).toBe(
      '127.0.0.1 localhost\n\n# cutover\n10.0.10.49 finance.thehumanjourney.net',
    )
    expect(ensure('', FIN, '10.0.10.49')).toBe(
      '# cutover\n10.0.10.49\tfinance.thehumanjourney.net\n',
    )
  })

  it('takes the name out of later lines that give it another address, and reports the conflict', () => {
    const text =
      '10.0.10.48 finance.thehumanjourney.net\n10.0.10.47 finance.thehumanjourney.net\n10.0.10.46 other finance.thehumanjourney.net\n'
    const plan = planHosts(parseHosts(text), { ensure: [{ name: FIN, address: '10.0.10.49' }] })
    expect(plan.diagnostics).toMatchObject([
      { code: 'HOST_CONFLICT', severity: 'warning', range: { start: 39, end: 49 } },
    ])
    const out = expectValidEdits(HOSTS, text, plan.edits, (d) => ensureHost(d, FIN, '10.0.10.49'))
    expect(out).toBe('10.0.10.49 finance.thehumanjourney.net\n10.0.10.46 other\n')
  })

  it('changes the first line of a name that is both wrong and later right, keeping the right one', () => {
    const out = ensure(
      '10.0.10.48 finance.thehumanjourney.net\n10.0.10.49 finance.thehumanjourney.net\n',
      FIN,
      '10.0.10.49',
    )
    expect(out).toBe(
      '10.0.10.49 finance.thehumanjourney.net\n10.0.10.49 finance.thehumanjourney.net\n',
    )
  })

  it('leaves the other address family alone and says so', () => {
    const text = 'fd00::48 finance.thehumanjourney.net\n10.0.10.48 finance.thehumanjourney.net\n'
    const plan = planHosts(parseHosts(text), { ensure: [{ name: FIN, address: '10.0.10.49' }] })
    expect(plan.diagnostics).toMatchObject([
      { code: 'HOST_OTHER_FAMILY', range: { start: 0, end: 8 } },
    ])
    expect(applyEdits(text, plan.edits)).toBe(
      'fd00::48 finance.thehumanjourney.net\n10.0.10.49 finance.thehumanjourney.net\n',
    )
  })

  it('keeps the first group in place when two ensured names of one line go to different addresses', () => {
    const text = '10.0.10.48 finance.thehumanjourney.net hrdb.thehumanjourney.net # both\n'
    const ensureBoth = [
      { name: FIN, address: '10.0.10.49' },
      { name: HR, address: '10.0.10.51' },
    ]
    const plan = planHosts(parseHosts(text), { ensure: ensureBoth })
    const out = expectValidEdits(
      HOSTS,
      text,
      plan.edits,
      (d) => planHosts(d, { ensure: ensureBoth }).edits,
    )
    expect(out).toBe(
      '10.0.10.49 finance.thehumanjourney.net # both\n\n# cutover\n10.0.10.51 hrdb.thehumanjourney.net\n',
    )
  })

  it('ignores names on malformed lines, which resolvers skip, and adds the name', () => {
    const out = ensure('10.0.10.480 finance.thehumanjourney.net\n', FIN, '10.0.10.49')
    expect(out).toBe(
      '10.0.10.480 finance.thehumanjourney.net\n\n# cutover\n10.0.10.49 finance.thehumanjourney.net\n',
    )
  })

  it('refuses an unusable address or name, and a name both ensured and removed', () => {
    const doc = parseHosts('')
    expect(() => ensureHost(doc, FIN, 'finance')).toThrow(
      expect.objectContaining({ code: 'BAD_ADDRESS' }),
    )
    expect(() => ensureHost(doc, 'a b', '10.0.0.1')).toThrow(
      expect.objectContaining({ code: 'BAD_NAME' }),
    )
    expect(() =>
      planHosts(doc, { ensure: [{ name: 'a', address: '10.0.0.1' }], remove: ['A'] }),
    ).toThrow(expect.objectContaining({ code: 'RULE_CONFLICT' }))
  })
})

describe('removeHost', () => {
  it('removes an alias, a canonical name, and a line left without names', () => {
    const text = '127.0.0.1 localhost old\n10.0.0.5 old # gone\n10.0.0.6 old new\n'
    const out = expectValidEdits(HOSTS, text, removeHost(parseHosts(text), 'OLD'), (d) =>
      removeHost(d, 'old'),
    )
    expect(out).toBe('127.0.0.1 localhost\n10.0.0.6 new\n')
  })

  it('removes the last line of a file without a final newline, keeping it without one', () => {
    const out = expectValidEdits(
      HOSTS,
      '127.0.0.1 localhost\n10.0.0.5 old',
      removeHost(parseHosts('127.0.0.1 localhost\n10.0.0.5 old'), 'old'),
    )
    expect(out).toBe('127.0.0.1 localhost')
  })

  it('gives no edit for a name that is not there', () => {
    expect(removeHost(parseHosts('127.0.0.1 localhost # old\n'), 'old')).toEqual([])
  })
})

describe('renameHost', () => {
  it('renames whole name tokens only, case-insensitively, keeping the rest', () => {
    const text = '10.0.0.5\tmentat-alt mentat-alt.cesnet.cz # mentat-alt\n10.0.0.6 MENTAT-ALT\n'
    const out = expectValidEdits(
      HOSTS,
      text,
      renameHost(parseHosts(text), 'mentat-alt', 'mentat-hub'),
      (d) => renameHost(d, 'mentat-alt', 'mentat-hub'),
    )
    expect(out).toBe(
      '10.0.0.5\tmentat-hub mentat-alt.cesnet.cz # mentat-alt\n10.0.0.6 mentat-hub\n',
    )
  })
})

describe('planHosts with renames and address rewrites', () => {
  it('combines a swap of names with an ensure on the same line without conflicting edits', () => {
    const text = '10.0.0.1 hub alt\n10.0.0.2 alt-db\n'
    const swap: Record<string, string> = { hub: 'alt', alt: 'hub' }
    const rename = (n: string) => (swap[n] ? { text: swap[n]!, rule: 'swap' } : undefined)
    const plan = planHosts(parseHosts(text), {
      rename,
      ensure: [{ name: 'alt', address: '10.0.0.9' }],
    })
    expect(applyEdits(text, plan.edits)).toBe(
      '10.0.0.1 hub\n10.0.0.2 alt-db\n\n# cutover\n10.0.0.9 alt\n',
    )
    expect(plan.diagnostics).toEqual([])
  })

  it('rewrites whole address fields only', () => {
    const text = '10.0.10.48 a\n10.0.10.480 b\n'
    const plan = planHosts(parseHosts(text), {
      readdress: (a) => (a === '10.0.10.48' ? { text: '10.0.10.49', rule: 'replace' } : undefined),
    })
    expect(plan.edits).toMatchObject([{ rule: 'replace' }])
    expect(applyEdits(text, plan.edits)).toBe('10.0.10.49 a\n10.0.10.480 b\n')
  })

  it('refuses to write a name into an address field', () => {
    const doc = parseHosts('10.0.10.48 a\n')
    expect(() =>
      planHosts(doc, { readdress: () => ({ text: 'finance.example.net', rule: 'replace' }) }),
    ).toThrow(expect.objectContaining({ code: 'BAD_ADDRESS' }))
  })

  it('warns when a rename makes a name map to two addresses', () => {
    const plan = planHosts(parseHosts('10.0.0.1 a\n10.0.0.2 b\n'), {
      rename: (n) => (n === 'b' ? { text: 'a', rule: 'replace' } : undefined),
    })
    expect(plan.diagnostics).toMatchObject([{ code: 'HOST_CONFLICT' }])
  })
})

describe('resolveHost', () => {
  it('resolves first match, case-insensitively, by family when asked', () => {
    const doc = parseHosts('::1 localhost\n127.0.0.1 localhost\n127.0.1.1 LocalHost\n')
    expect(resolveHost(doc, 'LOCALHOST')).toBe('::1')
    expect(resolveHost(doc, 'localhost', 'ipv4')).toBe('127.0.0.1')
    expect(resolveHost(doc, 'nowhere')).toBeUndefined()
  })
})
