import { applyEdits } from '@cutover/rewrite'
import { expectValidEdits, type EditFormat } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import {
  ensureAlias,
  ensureRule,
  parseRule,
  parseSudoers,
  removeAlias,
  removeRule,
  renameHost,
  SudoersSyntaxError,
  type SudoersDocument,
} from '../src/index.js'

/** The result of every edit parses with no error at all. */
const SUDOERS: EditFormat<SudoersDocument> = {
  parse: parseSudoers,
  errors: (d) => d.errors,
  clean: true,
}

const FINANCE =
  '/home/finance/synchCommand.sh . /home/finance/midnightScripts.sh /home/finance/.financeLock'
const PULL =
  '/home/finance/synchCommand.sh . /home/finance/pullTimeSheets.sh * /home/finance/.financeLock'
const base = [
  '# Cmnd alias specification',
  `Cmnd_Alias FINANCESCRIPT= ${FINANCE}`,
  'Defaults:www-data !requiretty',
  '',
  '# User www-data needs to run the above command as finance',
  'www-data ALL=(finance) NOPASSWD:FINANCESCRIPT',
  '',
].join('\n')

describe('ensureAlias', () => {
  it('is idempotent on an alias already defined with other spacing', () => {
    expect(
      ensureAlias(parseSudoers(base), 'Cmnd', 'FINANCESCRIPT', [FINANCE.replace(/ /g, '  ')]),
    ).toEqual([])
  })
  it('adds a new alias after the aliases of its type, never a duplicate', () => {
    const edits = ensureAlias(parseSudoers(base), 'Cmnd', 'PULLTSSCRIPT', [PULL])
    const out = expectValidEdits(SUDOERS, base, edits, (d) =>
      ensureAlias(d, 'Cmnd', 'PULLTSSCRIPT', [PULL]),
    )
    expect(out.split('\n')[2]).toBe(`Cmnd_Alias PULLTSSCRIPT = ${PULL}`)
    expect(out.match(/PULLTSSCRIPT =/g)).toHaveLength(1)
  })
  it('redefines in place, keeping what surrounds the members', () => {
    const edits = ensureAlias(parseSudoers(base), 'Cmnd', 'FINANCESCRIPT', ['/bin/true'])
    const out = expectValidEdits(SUDOERS, base, edits, (d) =>
      ensureAlias(d, 'Cmnd', 'FINANCESCRIPT', ['/bin/true']),
    )
    expect(out.split('\n')[1]).toBe('Cmnd_Alias FINANCESCRIPT= /bin/true')
    expect(out.replace('/bin/true', FINANCE)).toBe(base)
  })
  it('goes before the first rule and its comment when no alias exists', () => {
    const src = '# rules\nroot ALL = (ALL) ALL\n'
    const out = applyEdits(src, ensureAlias(parseSudoers(src), 'User', 'ADMINS', ['alice', 'bob']))
    expect(out).toBe('User_Alias ADMINS = alice, bob\n# rules\nroot ALL = (ALL) ALL\n')
  })
  it('follows CRLF and a missing final line break', () => {
    const src = 'Cmnd_Alias A = /bin/a\r\nroot ALL = A'
    const out = applyEdits(src, [
      ...ensureAlias(parseSudoers(src), 'Cmnd', 'B', ['/bin/b']),
      ...ensureRule(parseSudoers(src), 'root ALL = B'),
    ])
    expect(out).toBe(
      'Cmnd_Alias A = /bin/a\r\nCmnd_Alias B = /bin/b\r\nroot ALL = A\r\nroot ALL = B\r\n',
    )
  })
  it('throws a sudoers error naming the column for a malformed member', () => {
    expect(() => ensureAlias(parseSudoers(base), 'Cmnd', 'X', ['bin/ls'])).toThrow(
      SudoersSyntaxError,
    )
    expect(() => ensureAlias(parseSudoers(base), 'Cmnd', 'X', ['bin/ls'])).toThrow(
      /sudoers: .*column 1/,
    )
  })
})

describe('ensureRule', () => {
  it('recognises a rule present in another formatting', () => {
    const doc = parseSudoers(base)
    expect(ensureRule(doc, 'www-data ALL=(finance) NOPASSWD: FINANCESCRIPT')).toEqual([])
    expect(ensureRule(doc, 'www-data   ALL = ( finance )   NOPASSWD :FINANCESCRIPT')).toEqual([])
  })
  it('tells apart rules that sudo reads differently', () => {
    const doc = parseSudoers(base)
    expect(ensureRule(doc, 'www-data ALL=(finance) FINANCESCRIPT')).toHaveLength(1)
    expect(ensureRule(doc, 'www-data ALL=(root) NOPASSWD: FINANCESCRIPT')).toHaveLength(1)
  })
  it('adds after the last rule', () => {
    const rule = 'www-data ALL=(finance) NOPASSWD: PULLTSSCRIPT'
    const out = expectValidEdits(SUDOERS, base, ensureRule(parseSudoers(base), rule), (d) =>
      ensureRule(d, rule),
    )
    expect(out.endsWith(`NOPASSWD:FINANCESCRIPT\n${rule}\n`)).toBe(true)
  })
  it('rejects a malformed rule with its column', () => {
    const bad = 'www-data ALL=(finance NOPASSWD: X'
    try {
      parseRule(bad)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(SudoersSyntaxError)
      expect((e as SudoersSyntaxError).offset).toBeGreaterThan(20)
    }
  })
})

describe('remove and rename', () => {
  it('removes an alias line and a rule line', () => {
    const doc = parseSudoers(base)
    const out = applyEdits(base, [
      ...removeAlias(doc, 'Cmnd', 'FINANCESCRIPT'),
      ...removeRule(doc, 'www-data ALL = (finance) NOPASSWD: FINANCESCRIPT'),
    ])
    expect(out).toBe(
      '# Cmnd alias specification\nDefaults:www-data !requiretty\n\n# User www-data needs to run the above command as finance\n',
    )
  })
  it('removes one definition of a joined alias line', () => {
    const src = 'Host_Alias A = a1, a2 : B = b1 : C = c1\n'
    const doc = parseSudoers(src)
    expect(applyEdits(src, removeAlias(doc, 'Host', 'B'))).toBe('Host_Alias A = a1, a2 : C = c1\n')
    expect(applyEdits(src, removeAlias(doc, 'Host', 'A'))).toBe('Host_Alias B = b1 : C = c1\n')
    expect(applyEdits(src, removeAlias(doc, undefined, 'C'))).toBe(
      'Host_Alias A = a1, a2 : B = b1\n',
    )
  })
  it('renames hosts in rules, Host_Alias and Defaults@, not users or commands', () => {
    const src =
      'Host_Alias SRV = mentat-alt, www\nDefaults@mentat-alt log_year\nmentat-alt mentat-alt, !www = /usr/bin/mentat-alt\n'
    const out = applyEdits(src, renameHost(parseSudoers(src), 'mentat-alt', 'mentat-hub'))
    expect(out).toBe(
      'Host_Alias SRV = mentat-hub, www\nDefaults@mentat-hub log_year\nmentat-alt mentat-hub, !www = /usr/bin/mentat-alt\n',
    )
  })
})
