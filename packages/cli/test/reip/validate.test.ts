import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { HOSTS, cutover, department, planApplyAgain, read } from './kit.js'

const OPTIONS = `options {
	listen-on port 53 { 127.0.0.1; 172.20.0.2; };
	allow-query { 127.0.0.1; 172.20.0.5; 172.20.0.10; };
};
`

const SPEC = `version: 1
${HOSTS}
steps:
  - text:
      files: [etc/bind/named.conf.options]
      addresses: new
      validate: named-checkconf %s
  - text:
      files: [etc/app.conf]
      addresses: names
`

describe('acceptance: validate: on a text step (named-checkconf)', () => {
  it('a staged file the command refuses aborts the apply: its output and the file are named, nothing is written', async () => {
    if (!need('named-checkconf')) return
    // a missing semicolon after the first block: named-checkconf refuses it, before and after
    const broken = OPTIONS.replace('172.20.0.2; };', '172.20.0.2; }')
    const dir = department(SPEC, {
      'etc/bind/named.conf.options': broken,
      'etc/app.conf': 'db = 172.20.0.5\n',
    })
    const r = await cutover(['apply', '--spec', 'cutover.yaml', '--root', 'root', '--yes'], dir)
    expect(r.code).toBe(1)
    expect(r.err).toContain('etc/bind/named.conf.options')
    expect(r.err).toContain('named-checkconf')
    expect(r.err).toMatch(/missing ';'/)
    expect(r.err).not.toMatch(/\n\s+at /)
    // the other file, valid on its own, is not installed either
    expect(read(dir, 'etc/bind/named.conf.options')).toBe(broken)
    expect(read(dir, 'etc/app.conf')).toBe('db = 172.20.0.5\n')
  })

  it('one it accepts lets the apply through; a second plan is empty', async () => {
    if (!need('named-checkconf')) return
    const dir = department(SPEC, {
      'etc/bind/named.conf.options': OPTIONS,
      'etc/app.conf': 'db = 172.20.0.5\n',
    })
    const { plan } = await planApplyAgain(dir)
    expect(plan.out).toContain('validate: named-checkconf %s')
    expect(read(dir, 'etc/bind/named.conf.options')).toBe(
      OPTIONS.replace('172.20.0.2;', '10.20.0.2;')
        .replace('172.20.0.5;', '10.20.0.5;')
        .replace('172.20.0.10;', '10.20.0.10;'),
    )
    expect(read(dir, 'etc/app.conf')).toBe('db = db-a.dept.example.edu\n')
  })
})
