import { chmodSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo, type Io } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree, snapshot } from './tree.js'

function io(cwd: string, extra: Partial<Io> = {}) {
  return memoryIo({ cwd, env: {}, ...extra })
}

/** The `cutover.yaml:L:C: CODE` heads of an error report, in order. */
const heads = (err: string) =>
  err
    .split('\n')
    .filter((l) => l.startsWith('cutover.yaml:'))
    .map((l) => l.split(' ').slice(0, 2).join(' '))

describe('every spec error at once', () => {
  const SPEC = `version: 1
hosts:
  a.example.net: { old: 10.0.0.1, new: 10.0.0.2 }
  b.example.net: { old: 10.0.0.1, new: 10.0.0.3 }
  a.example.net: { old: 10.0.0.9, new: 10.0.0.8 }
  A.Example.net.: { old: 10.0.0.7, new: 10.0.0.8 }
profiles: [test, live, test]
variants:
  keys:
    - { test: k.test, live: k }
secrets:
  PW1: { env: PW1 }
  PW2: { env: PW2 }
  PW3: { env: PW3 }
  PW4: { env: PW4 }
steps:
  - php:
      files: ["etc/*.php"]
      set: { db_pass: { secret: PW1 }, again: { secret: PW1 } }
  - php:
      files: ["etc/*.php"]
      set: { db_pass2: { secret: PW2 }, db_pass3: { secret: PW3 } }
      profiles: [live]
  - text:
      files: ["etc/*.conf"]
      variants: [keys, nope]
      profiles: [live, prod]
  - php:
      files: ["etc/*.php"]
      set: { db_pass4: { secret: PW4 } }
`
  it('reports cross-checks, unknown references and every missing secret of the profile in one run', async () => {
    const dir = makeTree({ 'cutover.yaml': SPEC, 'root/etc/a.php': '<?php $db_pass = "x";\n' })
    const before = snapshot(dir)
    const live = io(dir, { env: { PW4: 'set' } })
    expect(await run(['plan', '--root', 'root', '--profile', 'live'], live)).toBe(1)
    expect(heads(live.err())).toEqual([
      'cutover.yaml:4:3: SPEC_VALUE', // the same old address as a.example.net
      'cutover.yaml:5:3: SPEC_DUPLICATE', // a.example.net twice
      'cutover.yaml:6:3: SPEC_DUPLICATE', // a.example.net again, in other case and with a final dot
      'cutover.yaml:7:11: SPEC_VALUE', // test listed twice
      'cutover.yaml:19:33: SPEC_SECRET', // PW1, once although read twice
      'cutover.yaml:22:34: SPEC_SECRET', // PW2
      'cutover.yaml:22:61: SPEC_SECRET', // PW3
      'cutover.yaml:26:24: SPEC_VALUE', // variant group nope
      'cutover.yaml:27:24: SPEC_VALUE', // profile prod
    ])
    expect(live.err()).toContain(
      'old address 10.0.0.1 of "b.example.net" is already the old address of "a.example.net"',
    )
    expect(live.err()).toContain('secret "PW3" is not set: export PW3 before planning or applying')
    expect(live.err()).toContain(
      '"A.Example.net." is the name "a.example.net" again (DNS names ignore case and a final dot)',
    )
    // a valid section is not reported as missing because another section has an error
    expect(live.err()).not.toMatch(
      /unknown profile "live"|unknown variant group "keys"|already the old address of "a.example.net"\n.*\n.*a\.example\.net: \{ old: 10\.0\.0\.9/,
    )
    expect(snapshot(dir)).toEqual(before)
  })

  it('asks only for the secrets of the steps of the profile planned', async () => {
    const spec = SPEC.replace(/  a\.example\.net: \{ old: 10\.0\.0\.9.*\n/, '')
      .replace(/  A\.Example.*\n/, '')
      .replace('b.example.net: { old: 10.0.0.1,', 'b.example.net: { old: 10.0.0.5,')
      .replace('[test, live, test]', '[test, live]')
      .replace(', nope]', ']')
      .replace('[live, prod]', '[live]')
    const dir = makeTree({ 'cutover.yaml': spec, 'root/etc/a.php': '<?php $db_pass = "x";\n' })
    const test = io(dir)
    expect(await run(['plan', '--root', 'root', '--profile', 'test'], test)).toBe(1)
    expect(test.err()).toMatch(/^cutover: invalid spec: 2 error\(s\)\n/)
    expect(heads(test.err())).toEqual([
      'cutover.yaml:17:33: SPEC_SECRET',
      'cutover.yaml:28:34: SPEC_SECRET',
    ])
    expect(test.err()).not.toMatch(/PW2|PW3/)
  })
})

describe('NEVER_MATCHED', () => {
  const SPEC = `version: 1
steps:
  - text:
      files: ["etc/*.conf"]
      replace: { mentat-alt: mentat-hub, mentat-altt: x, old-db: new-db }
      swap: [[a.example.net, b.example.net], [c.example.net, d.example.net]]
  - text:
      files: ["etc/none/*.conf"]
      replace: { zzz: yyy }
`
  const warnings = (out: string) => out.split('\n').filter((l) => l.startsWith('warning: '))

  it('warns of each replace key and swap pair that matches nothing in any file of its step, at the key in the spec', async () => {
    const dir = makeTree({
      'cutover.yaml': SPEC,
      'root/etc/a.conf':
        'host mentat-alt\nother a.example.net\n# mentat-alternative c.example.network\n',
      'root/etc/b.conf': 'db new-db\n',
    })
    const p = io(dir)
    expect(await run(['plan', '--root', 'root'], p)).toBe(0)
    expect(warnings(p.out())).toEqual([
      'warning: cutover.yaml:5:42: NEVER_MATCHED step 1 (text): replace key "mentat-altt" matches nothing in any file of the step',
      'warning: cutover.yaml:6:46: NEVER_MATCHED step 1 (text): swap [c.example.net, d.example.net] matches nothing in any file of the step',
      'warning: etc/none/*.conf: NO_FILES step 2 (text) matches no file',
    ])
    const json = io(dir)
    expect(await run(['plan', '--root', 'root', '--json'], json)).toBe(0)
    expect(JSON.parse(json.out()).notes).toContainEqual({
      target: 'cutover.yaml',
      line: 5,
      col: 42,
      code: 'NEVER_MATCHED',
      message: expect.stringContaining('"mentat-altt"'),
      severity: 'warning',
    })

    // once applied, a key whose new value is there has matched: only the typo is still reported
    expect(await run(['apply', '--root', 'root', '--yes'], io(dir))).toBe(0)
    const again = io(dir)
    expect(await run(['plan', '--root', 'root'], again)).toBe(0)
    expect(again.out()).toContain('No changes')
    expect(warnings(again.out()).map((w) => w.split(' ').slice(0, 3).join(' '))).toEqual([
      'warning: cutover.yaml:5:42: NEVER_MATCHED',
      'warning: cutover.yaml:6:46: NEVER_MATCHED',
      'warning: etc/none/*.conf: NO_FILES',
    ])
  })
})

describe('a symbolic link and its file, both in scope', () => {
  it('are planned once, as the file, with the link named in a note; apply then succeeds', async () => {
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nsteps:\n  - text:\n      files: ["etc/*.conf"]\n      replace: { old-db: new-db }\n',
      'root/etc/a.conf': 'db old-db\n',
    })
    symlinkSync('a.conf', join(dir, 'root/etc/b.conf'))
    const p = io(dir)
    expect(await run(['plan', '--root', 'root', '--json'], p)).toBe(0)
    const doc = JSON.parse(p.out())
    expect(doc.changes.map((c: { target: string }) => c.target)).toEqual(['etc/a.conf'])
    expect(doc.notes).toContainEqual({
      target: 'etc/a.conf',
      code: 'LINKED',
      message: 'also in scope as etc/b.conf (a symbolic link to it): planned once, here',
      severity: 'note',
    })
    const a = io(dir)
    expect(await run(['apply', '--root', 'root', '--yes'], a)).toBe(0)
    expect(a.err()).toBe('')
    expect(readFileSync(join(dir, 'root/etc/a.conf'), 'utf8')).toBe('db new-db\n')
    expect(readlinkSync(join(dir, 'root/etc/b.conf'))).toBe('a.conf')
  })

  it('get the edits of the steps of both paths in one change', async () => {
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nsteps:\n  - text:\n      files: ["etc/b.conf"]\n      replace: { old-db: new-db }\n  - text:\n      files: ["etc/a.conf"]\n      replace: { old-mq: new-mq }\n',
      'root/etc/a.conf': 'db old-db\nmq old-mq\n',
    })
    symlinkSync('a.conf', join(dir, 'root/etc/b.conf'))
    const p = io(dir)
    expect(await run(['plan', '--root', 'root'], p)).toBe(0)
    expect(p.out()).toContain('Plan: 1 file(s) to change')
    expect(p.out()).toContain('-db old-db\n-mq old-mq\n+db new-db\n+mq new-mq\n')
    expect(p.out()).not.toContain('b/etc/b.conf')
    expect(await run(['apply', '--root', 'root', '--yes'], io(dir))).toBe(0)
    expect(readFileSync(join(dir, 'root/etc/a.conf'), 'utf8')).toBe('db new-db\nmq new-mq\n')
  })

  it('init names the file once and writes no glob that takes the link too', async () => {
    const dir = makeTree({
      'root/etc/app/a.conf': 'db=10.0.0.1\n',
      'root/etc/other.conf': 'x=10.0.0.1\n',
    })
    symlinkSync('a.conf', join(dir, 'root/etc/app/b.conf'))
    const p = io(dir)
    expect(await run(['init', '--root', 'root', '--print'], p)).toBe(0)
    expect(p.out()).toContain('# 10.0.0.1: 2 places in 2 files\n')
    expect(p.out()).not.toContain('etc/app/b.conf')
    expect(p.out()).toContain('files: ["etc/app/a.conf", "etc/other.conf"]')
  })

  it('init collapses no files into a glob that would take such a link', async () => {
    const dir = makeTree({
      'root/etc/app/a.conf': 'db=10.0.0.1\n',
      'root/etc/app/c.conf': 'db=10.0.0.1\n',
      'root/etc/app/d.conf': 'db=10.0.0.1\n',
    })
    symlinkSync('a.conf', join(dir, 'root/etc/app/b.conf'))
    const p = io(dir)
    expect(await run(['init', '--root', 'root', '--print'], p)).toBe(0)
    expect(p.out()).toContain('files: ["etc/app/a.conf", "etc/app/c.conf", "etc/app/d.conf"]')
    // without the link, the same files are one glob
    const plain = makeTree({
      'root/etc/app/a.conf': 'db=10.0.0.1\n',
      'root/etc/app/c.conf': 'db=10.0.0.1\n',
    })
    const q = io(plain)
    expect(await run(['init', '--root', 'root', '--print'], q)).toBe(0)
    expect(q.out()).toContain('files: ["etc/app/*.conf"]')
  })
})

describe('accepted leftovers (accept:) and verify --strict', () => {
  const SPEC = `version: 1
hosts:
  db.example.net: { old: 10.0.0.1, new: 10.0.0.2 }
profiles: [test, live]
scan:
  files: ["etc/**"]
steps:
  - text:
      files: ["etc/app.conf"]
      addresses: names
accept:
  - { path: "etc/legacy/*.conf", text: 10.0.0.1, reason: "the old VM's own config, retired with it" }
  - { path: "etc/app.conf", text: 10.0.0.1, reason: "documents the move", profiles: [live] }
  - path: etc/gone.conf
    text: 10.0.0.1
    reason: was fixed by hand
`
  const files = {
    'cutover.yaml': SPEC,
    'root/etc/app.conf': 'db 10.0.0.1\n',
    'root/etc/legacy/old.conf': 'listen 10.0.0.1\n',
  }

  it('lists them as accepted, in the review and the plan JSON, warns of an entry that matches none, and passes --strict', async () => {
    const dir = makeTree(files)
    expect(
      await run(['apply', '--root', 'root', '--profile', 'test', '--yes', '--quiet'], io(dir)),
    ).toBe(0)
    const p = io(dir)
    expect(await run(['plan', '--root', 'root', '--profile', 'test'], p)).toBe(0)
    expect(p.out()).toContain(
      'Leftovers: none\nAccepted leftovers: 1\n' +
        "  etc/legacy/old.conf:1:8: 10.0.0.1 — old address: in a file no step rewrites; accepted: the old VM's own config, retired with it\n",
    )
    expect(p.out()).toContain(
      'warning: cutover.yaml:14:5: ACCEPT_UNMATCHED accepted leftover "10.0.0.1" in etc/gone.conf matches no leftover of profile test: remove the entry if it is done\n',
    )
    // an entry of another profile is neither used nor reported
    expect(p.out()).not.toContain('cutover.yaml:13:')
    const json = io(dir)
    expect(await run(['plan', '--root', 'root', '--profile', 'test', '--json'], json)).toBe(0)
    expect(JSON.parse(json.out()).leftovers).toEqual([
      {
        target: 'etc/legacy/old.conf',
        line: 1,
        col: 8,
        text: '10.0.0.1',
        reason: 'old address: in a file no step rewrites',
        accepted: "the old VM's own config, retired with it",
      },
    ])
    const v = io(dir)
    expect(await run(['verify', '--root', 'root', '--profile', 'test', '--strict'], v)).toBe(0)
    expect(v.out()).toBe('Verified: no changes and no leftovers but 1 accepted for profile test.\n')
  })

  it('still fails --strict on a leftover no entry accepts', async () => {
    const dir = makeTree({ ...files, 'root/etc/other.conf': 'peer 10.0.0.1\n' })
    expect(
      await run(['apply', '--root', 'root', '--profile', 'test', '--yes', '--quiet'], io(dir)),
    ).toBe(0)
    const v = io(dir)
    expect(await run(['verify', '--root', 'root', '--profile', 'test', '--strict'], v)).toBe(1)
    expect(v.out()).toContain('Leftovers: 1\n  etc/other.conf:1:6: 10.0.0.1')
    expect(v.err()).toContain(
      'cutover: verify failed: 0 file(s) and 0 database object(s) would change, 1 leftover(s) (and 1 accepted)\n',
    )
  })

  it('rejects a malformed entry with its line:col', async () => {
    const dir = makeTree({
      ...files,
      'cutover.yaml': SPEC.replace('reason: was fixed by hand', 'why: was fixed by hand'),
    })
    const p = io(dir)
    expect(await run(['plan', '--root', 'root', '--profile', 'test'], p)).toBe(1)
    expect(heads(p.err())).toEqual([
      'cutover.yaml:14:5: SPEC_MISSING_KEY',
      'cutover.yaml:16:5: SPEC_UNKNOWN_KEY',
    ])
  })
})

describe('the review', () => {
  it('lines up the summary: paths padded to the longest, kinds likewise, counts right-aligned', async () => {
    const long = Array.from({ length: 12 }, (_, i) => `h${i} 10.0.0.1`).join('\n') + '\n'
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  db.example.net: { old: 10.0.0.1, new: 10.0.0.2 }\nsteps:\n  - text: { files: ["etc/**"], exclude: [etc/hosts], addresses: names }\n  - hosts: { files: [etc/hosts], ensure: new }\n',
      'root/etc/a.conf': 'db 10.0.0.1\n',
      'root/etc/sub/longer-name.conf': long,
      'root/etc/hosts': '10.0.0.1 db.example.net\n',
    })
    const p = io(dir)
    expect(await run(['plan', '--root', 'root'], p)).toBe(0)
    const summary = p.out().split('\n\n')[0]
    expect(summary).toBe(
      [
        'Plan: 3 file(s) to change (3 in scope, 3 read)',
        '  etc/a.conf                text    +1  -1  addresses ×1',
        '  etc/hosts                 hosts   +1  -1  hosts.ensure ×1',
        '  etc/sub/longer-name.conf  text   +12 -12  addresses ×12',
      ].join('\n'),
    )
  })

  it("gives a leftover's position in the planned file and, where it differs, in the file on disk", async () => {
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  db.example.net: { old: 10.0.0.1, new: 10.0.0.2 }\nsteps:\n  - text: { files: ["etc/*.conf"], addresses: names }\n',
      'root/etc/a.conf': 'db 10.0.0.1 # not 10.0.0.10\n# 10.0.0.100\n',
    })
    const p = io(dir)
    expect(await run(['plan', '--root', 'root'], p)).toBe(0)
    expect(p.out()).toContain('  etc/a.conf:1:25 (on disk 1:19): 10.0.0.1 — near-miss')
    expect(p.out()).toContain('  etc/a.conf:2:3: 10.0.0.1 — near-miss')
    const json = io(dir)
    expect(await run(['plan', '--root', 'root', '--json'], json)).toBe(0)
    expect(
      JSON.parse(json.out()).leftovers.map((l: object) => ({ ...l, reason: undefined })),
    ).toEqual([
      {
        target: 'etc/a.conf',
        line: 1,
        col: 25,
        onDisk: { line: 1, col: 19 },
        text: '10.0.0.1',
        reason: undefined,
      },
      { target: 'etc/a.conf', line: 2, col: 3, text: '10.0.0.1', reason: undefined },
    ])
  })
})

describe('sudoers lint warnings', () => {
  it('name their alias or rule and point at the argument; a warning in added text names its place in the planned file', async () => {
    const dir = makeTree({
      'cutover.yaml': `version: 1
steps:
  - sudoers:
      files: [etc/sudoers.d/app]
      aliases:
        PULL: ["/opt/sync.sh . /opt/pull.sh * /var/lock/app"]
        SLIP: ["/opt/sync.sh . /opt/slip.sh /var/lock/app"]
      rules:
        - "www-data ALL=(app) NOPASSWD: PULL, SLIP"
`,
      'root/etc/sudoers.d/app':
        '# Cmnd alias specification\nCmnd_Alias RUN= /opt/sync.sh . /opt/run.sh /var/lock/app\nops ALL=(ALL) NOPASSWD: ALL\n',
    })
    chmodSync(join(dir, 'root/etc/sudoers.d/app'), 0o440)
    const p = io(dir)
    expect(await run(['plan', '--root', 'root'], p)).toBe(0)
    expect(
      p
        .out()
        .split('\n')
        .filter((l) => l.startsWith('warning: etc/sudoers.d/app')),
    ).toEqual([
      'warning: etc/sudoers.d/app:2:30: RELATIVE_PATH Cmnd_Alias RUN: argument "." of "/opt/sync.sh" is relative: it resolves against the caller\'s working directory',
      'warning: etc/sudoers.d/app:3:1: RELATIVE_PATH Cmnd_Alias PULL: argument "." of "/opt/sync.sh" is relative: it resolves against the caller\'s working directory (in the added text, at 3:32 of the planned file)',
      'warning: etc/sudoers.d/app:3:1: WILDCARD_ARGS Cmnd_Alias PULL: "/opt/sync.sh . /opt/pull.sh * /var/lock/app" allows any arguments where "*" stands: the wildcard also matches spaces, options and other paths (in the added text, at 3:47 of the planned file)',
      'warning: etc/sudoers.d/app:3:1: RELATIVE_PATH Cmnd_Alias SLIP: argument "." of "/opt/sync.sh" is relative: it resolves against the caller\'s working directory (in the added text, at 4:32 of the planned file)',
      'warning: etc/sudoers.d/app:3:25: NOPASSWD_ALL the rule for ops: NOPASSWD with ALL lets these users run any command without a password',
    ])
  })
})
