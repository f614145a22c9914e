import { mkdirSync, writeFileSync, chmodSync, chownSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkSudoers, lintSudoers, parseSudoers } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

describe('parse diagnostics', () => {
  it('keeps a bad line byte for byte and says where', () => {
    const src = 'root ALL = ALL\nwww-data ALL=(finance NOPASSWD: X\n# end\n'
    const doc = parseSudoers(src)
    expect(doc.entries.map((e) => e.type)).toEqual(['rule', 'unparsed', 'comment'])
    expect(doc.errors).toMatchObject([
      { code: 'SYNTAX', range: { start: src.indexOf('NOPASSWD') } },
    ])
  })
  it('tells comments from #include and #uid', () => {
    const doc = parseSudoers(
      '#includedir /etc/sudoers.d\n@include "/etc/x y"\n#0 ALL = ALL\n#comment\n#include_not\n',
    )
    expect(doc.entries.map((e) => e.type)).toEqual([
      'include',
      'include',
      'rule',
      'comment',
      'comment',
    ])
  })
})

describe('checkSudoers', () => {
  it('finds undefined, duplicate, badly named and cyclic aliases', () => {
    const src = [
      'Cmnd_Alias A = /bin/a, B',
      'Cmnd_Alias B = /bin/b, A',
      'Cmnd_Alias A = /bin/c',
      'User_Alias admins = alice',
      'admins ALL = UNDEFINED, A',
      '',
    ].join('\n')
    const ds = checkSudoers(parseSudoers(src))
    expect(ds.map((d) => d.code).sort()).toEqual([
      'ALIAS_CYCLE',
      'BAD_ALIAS_NAME',
      'DUPLICATE_ALIAS',
      'UNDEFINED_ALIAS',
    ])
    expect(ds.find((d) => d.code === 'DUPLICATE_ALIAS')).toMatchObject({
      range: { start: src.indexOf('A = /bin/c') },
    })
  })
  it('accepts a clean file', () => {
    expect(checkSudoers(parseSudoers('Cmnd_Alias A = /bin/a\nroot ALL = A\n'))).toEqual([])
  })
})

describe('lintSudoers', () => {
  it('warns about wildcard arguments, NOPASSWD: ALL and relative arguments', async () => {
    const src =
      'Cmnd_Alias P = /home/finance/synchCommand.sh . /home/finance/pullTimeSheets.sh * /x\nops ALL = NOPASSWD: ALL\nwww ALL = P\n'
    const ds = await lintSudoers(parseSudoers(src))
    expect(ds.map((d) => d.code).sort()).toEqual(['NOPASSWD_ALL', 'RELATIVE_PATH', 'WILDCARD_ARGS'])
    expect(ds.every((d) => d.severity === 'warning')).toBe(true)
    expect(ds.find((d) => d.code === 'NOPASSWD_ALL')).toMatchObject({
      range: { start: src.indexOf('ALL\nwww') },
    })
  })
  it('warns when the runas user can write the command under the root', async () => {
    const root = tempDir('sudoers-lint-')
    mkdirSync(join(root, 'etc'))
    mkdirSync(join(root, 'opt/app'), { recursive: true })
    writeFileSync(
      join(root, 'etc/passwd'),
      'root:x:0:0::/root:/bin/sh\nfinance:x:4242:4242::/home/finance:/bin/sh\n',
    )
    writeFileSync(join(root, 'etc/group'), 'finance:x:4242:\n')
    writeFileSync(join(root, 'opt/app/run.sh'), '#!/bin/sh\n')
    chmodSync(join(root, 'opt/app'), 0o755)
    chmodSync(join(root, 'opt/app/run.sh'), 0o755)
    const src = 'www-data ALL = (finance) /opt/app/run.sh\n'
    expect(await lintSudoers(parseSudoers(src), { root })).toEqual([])
    chownSync(join(root, 'opt/app/run.sh'), 4242, 4242)
    const ds = await lintSudoers(parseSudoers(src), { root })
    expect(ds).toMatchObject([
      { code: 'RUNAS_WRITABLE', severity: 'warning', range: { start: src.indexOf('/opt') } },
    ])
  })
})
