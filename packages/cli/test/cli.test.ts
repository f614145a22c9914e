import {
  chmodSync,
  existsSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo, type Io } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree, snapshot } from './tree.js'

const SPEC = `version: 1
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
  four.thehumanjourney.net:    { old: 10.0.10.4,  new: 10.0.10.5 }
profiles: [test, live]
variants:
  routing-keys:
    - { test: oas.staff.test, live: oas.staff }
steps:
  - text:
      files: ["root/etc/**/*.conf", "root/etc/*.ini"]
      addresses: names
      variants: [routing-keys]
  - text:
      files: ["root/etc/apache2/**/*.conf", "root/etc/hostname"]
      profiles: [live]
      replace: { mentat-alt: mentat-hub }
  - text:
      files: ["root/etc/network/interfaces"]
      swap: [[147.251.21.10, 147.251.21.11]]
`

const latin1 = Buffer.concat([
  Buffer.from('# caf'),
  Buffer.from([0xe9]),
  Buffer.from(' r\xe9seau\nhost 10.0.10.48\n', 'latin1'),
])
const FILES: Record<string, string | Buffer> = {
  'cutover.yaml': SPEC,
  'root/etc/app.conf':
    'db=10.0.10.48\nother=10.0.10.4\nurl=http://10.0.10.48:8080/x\nlist=10.0.10.4,10.0.10.48, 10.0.10.40\n' +
    'decoys 10.0.10.480 110.0.10.48 10.0.10.48.5 ip-10-0-10-48\nkey=oas.staff\n',
  'root/etc/win.ini': Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('[db]\r\nhost=10.0.10.48\r\n'),
  ]),
  'root/etc/legacy.conf': latin1,
  'root/etc/nonl.conf': 'server 10.0.10.4',
  'root/etc/apache2/sites-available/mentat.conf':
    'ServerName mentat-alt.cesnet.cz\nAlias /m /var/mentat-alt/\n# mentat-alternative old-mentat-alt\n',
  'root/etc/hostname': 'mentat-alt\n',
  'root/etc/network/interfaces':
    'iface eth0 inet static\n  address 147.251.21.10\n  gateway 147.251.21.1\n# peer 147.251.21.11 147.251.21.110\n',
}

function io(cwd: string, extra: Partial<Io> = {}) {
  return memoryIo({ cwd, env: {}, ...extra })
}

const read = (dir: string, p: string) => readFileSync(join(dir, p))

describe('cutover plan/apply over a tree of text files', () => {
  it('rewrites byte-exactly, plan writes nothing, and a second plan is empty', async () => {
    const dir = makeTree(FILES)
    const before = snapshot(dir)
    const p = io(dir)
    expect(await run(['plan', '--root', '.', '--profile', 'test', '--detailed-exitcode'], p)).toBe(
      2,
    )
    expect(snapshot(dir)).toEqual(before)
    expect(p.out()).toContain('--- a/root/etc/app.conf\n+++ b/root/etc/app.conf')
    expect(p.out()).toMatch(
      /Leftovers: 4\n.*root\/etc\/app.conf:4:60 \(on disk 4:28\): 10.0.10.4 — near-miss: "10.0.10.4" inside "10.0.10.40".*\n.*root\/etc\/app.conf:5:8: 10.0.10.48 — near-miss: "10.0.10.48" inside "10.0.10.480"/,
    )

    const a = io(dir)
    expect(await run(['apply', '--root', '.', '--profile', 'test', '--yes'], a)).toBe(0)
    expect(read(dir, 'root/etc/app.conf').toString()).toBe(
      'db=finance.thehumanjourney.net\nother=four.thehumanjourney.net\nurl=http://finance.thehumanjourney.net:8080/x\n' +
        'list=four.thehumanjourney.net,finance.thehumanjourney.net, 10.0.10.40\n' +
        'decoys 10.0.10.480 110.0.10.48 10.0.10.48.5 ip-10-0-10-48\nkey=oas.staff.test\n',
    )
    expect(
      read(dir, 'root/etc/win.ini').equals(
        Buffer.concat([
          Buffer.from([0xef, 0xbb, 0xbf]),
          Buffer.from('[db]\r\nhost=finance.thehumanjourney.net\r\n'),
        ]),
      ),
    ).toBe(true)
    expect(
      read(dir, 'root/etc/legacy.conf').equals(
        Buffer.concat([
          Buffer.from('# caf'),
          Buffer.from([0xe9]),
          Buffer.from(' r\xe9seau\nhost finance.thehumanjourney.net\n', 'latin1'),
        ]),
      ),
    ).toBe(true)
    expect(read(dir, 'root/etc/nonl.conf').toString()).toBe('server four.thehumanjourney.net')
    // the live-only rename did not run under --profile test
    expect(read(dir, 'root/etc/hostname').toString()).toBe('mentat-alt\n')
    expect(read(dir, 'root/etc/network/interfaces').toString()).toBe(
      'iface eth0 inet static\n  address 147.251.21.11\n  gateway 147.251.21.1\n# peer 147.251.21.10 147.251.21.110\n',
    )
    const again = io(dir)
    expect(
      await run(['plan', '--root', '.', '--profile', 'test', '--detailed-exitcode'], again),
    ).toBe(0)
    expect(again.out()).toContain('No changes for profile test')

    const live = io(dir)
    expect(await run(['apply', '--root', '.', '--profile', 'live', '--yes'], live)).toBe(0)
    expect(read(dir, 'root/etc/apache2/sites-available/mentat.conf').toString()).toBe(
      'ServerName mentat-hub.cesnet.cz\nAlias /m /var/mentat-hub/\n# mentat-alternative old-mentat-alt\n',
    )
    expect(read(dir, 'root/etc/hostname').toString()).toBe('mentat-hub\n')
    expect(read(dir, 'root/etc/app.conf').toString()).toContain('key=oas.staff\n')
    // the swap was applied once (by the test transaction) and is not undone by the live one
    expect(read(dir, 'root/etc/network/interfaces').toString()).toContain('address 147.251.21.11')
    expect(
      await run(['plan', '--root', '.', '--profile', 'live', '--detailed-exitcode'], io(dir)),
    ).toBe(0)
    expect(await run(['verify', '--root', '.', '--profile', 'live'], io(dir))).toBe(0)
    expect(await run(['verify', '--root', '.', '--profile', 'live', '--strict'], io(dir))).toBe(1)
    expect(await run(['verify', '--root', '.', '--profile', 'test'], io(dir))).toBe(1)
  })

  it('reports every error of an invalid spec with line:col, exits 1 and writes nothing', async () => {
    const dir = makeTree({
      ...FILES,
      'cutover.yaml': SPEC.replace('addresses: names', 'addresses: nams').replace(
        'profiles: [live]',
        'profiles: [prod]',
      ),
    })
    const before = snapshot(dir)
    const p = io(dir)
    expect(await run(['apply', '--root', '.', '--profile', 'test', '--yes'], p)).toBe(1)
    expect(p.err()).toContain('cutover: invalid spec: 2 error(s)')
    expect(p.err()).toContain(
      'cutover.yaml:12:18: SPEC_VALUE expected "names" or "new" or "none", got "nams"',
    )
    expect(p.err()).toContain(
      'cutover.yaml:16:18: SPEC_VALUE unknown profile "prod"; the spec declares: test, live',
    )
    expect(p.err()).not.toMatch(/at .*\.js:\d+/)
    expect(snapshot(dir)).toEqual(before)
  })

  it('needs --profile when the spec has profiles, and --yes without a terminal', async () => {
    const dir = makeTree(FILES)
    const p = io(dir)
    expect(await run(['plan', '--root', '.'], p)).toBe(1)
    expect(p.err()).toBe('cutover: --profile is required: the spec declares test, live\n')
    const q = io(dir)
    expect(await run(['apply', '--root', '.', '--profile', 'test'], q)).toBe(1)
    expect(q.err()).toContain('pass --yes')
    const r = io(dir, { stdinIsTTY: true, confirm: async () => false })
    expect(await run(['apply', '--root', '.', '--profile', 'test'], r)).toBe(1)
    expect(read(dir, 'root/etc/nonl.conf').toString()).toBe('server 10.0.10.4')
    const y = io(dir, { stdinIsTTY: true, confirm: async () => true })
    expect(await run(['apply', '--root', '.', '--profile', 'test'], y)).toBe(0)
    expect(read(dir, 'root/etc/nonl.conf').toString()).toBe('server four.thehumanjourney.net')
  })

  it('saves a plan mode 0600, applies exactly it, and refuses it once stale', async () => {
    const dir = makeTree(FILES)
    const p = io(dir)
    expect(
      await run(['plan', '--root', '.', '--profile', 'test', '--out', 'plan.json', '--quiet'], p),
    ).toBe(0)
    expect(statSync(join(dir, 'plan.json')).mode & 0o777).toBe(0o600)
    const doc = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'))
    expect(doc).toMatchObject({
      version: 1,
      profile: 'test',
      spec: expect.stringMatching(/^sha256:/),
    })
    expect(doc.changes.map((c: { target: string }) => c.target)).toEqual([
      'root/etc/app.conf',
      'root/etc/legacy.conf',
      'root/etc/network/interfaces',
      'root/etc/nonl.conf',
      'root/etc/win.ini',
    ])
    expect(doc.leftovers[1]).toEqual({
      target: 'root/etc/app.conf',
      line: 5,
      col: 8,
      text: '10.0.10.48',
      reason: 'near-miss: "10.0.10.48" inside "10.0.10.480" is not rewritten',
    })

    writeFileSync(join(dir, 'root/etc/nonl.conf'), 'server 10.0.10.4 # edited after planning')
    const before = snapshot(dir)
    const stale = io(dir)
    expect(await run(['apply', 'plan.json'], stale)).toBe(1)
    expect(stale.err()).toMatch(
      /the plan is stale, nothing was written:\n  root\/etc\/nonl.conf: changed since the plan \(planned sha256:[0-9a-f]+, now sha256:[0-9a-f]+\)/,
    )
    const after = snapshot(dir)
    for (const k of Object.keys(after)) if (k.startsWith('root/var/')) delete after[k]
    expect(after).toEqual(before)

    writeFileSync(join(dir, 'root/etc/nonl.conf'), 'server 10.0.10.4')
    const ok = io(dir)
    expect(await run(['apply', 'plan.json'], ok)).toBe(0)
    expect(read(dir, 'root/etc/nonl.conf').toString()).toBe('server four.thehumanjourney.net')
  })

  it('writes through a symlink, keeps the mode, and prints --json without colors', async () => {
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  f.example: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: [etc/app.conf], addresses: new }\n',
      'real/app.conf': 'host 10.0.10.48\n',
    })
    symlinkSync(join(dir, 'real/app.conf'), join(dir, 'etc-app.conf'))
    const { mkdirSync } = await import('node:fs')
    mkdirSync(join(dir, 'etc'))
    symlinkSync('../real/app.conf', join(dir, 'etc/app.conf'))
    chmodSync(join(dir, 'real/app.conf'), 0o640)
    const j = io(dir, { isTTY: true, env: { NO_COLOR: '1' } })
    expect(await run(['plan', '--root', '.', '--json'], j)).toBe(0)
    expect(j.out()).not.toContain('\u001b[')
    expect(JSON.parse(j.out()).changes[0]).toMatchObject({
      target: 'etc/app.conf',
      mode: '0640',
      kind: 'text',
    })
    const colored = io(dir, { isTTY: true })
    await run(['plan', '--root', '.'], colored)
    expect(colored.out()).toContain('\u001b[32m+host 10.0.10.49\u001b[0m')
    expect(await run(['apply', '--root', '.', '--yes'], io(dir))).toBe(0)
    expect(lstatSync(join(dir, 'etc/app.conf')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(dir, 'etc/app.conf'))).toBe('../real/app.conf')
    expect(readFileSync(join(dir, 'real/app.conf'), 'utf8')).toBe('host 10.0.10.49\n')
    expect(statSync(join(dir, 'real/app.conf')).mode & 0o777).toBe(0o640)
    expect(statSync(join(dir, 'var/lib/cutover')).mode & 0o777).toBe(0o700)
  })

  it('rolls back the last transaction and recovers from a crash after the journal', async () => {
    const dir = makeTree(FILES)
    expect(
      await run(['apply', '--root', '.', '--profile', 'test', '--yes', '--quiet'], io(dir)),
    ).toBe(0)
    expect(read(dir, 'root/etc/nonl.conf').toString()).toBe('server four.thehumanjourney.net')
    const rb = io(dir)
    expect(await run(['rollback', '--root', '.', '--yes'], rb)).toBe(0)
    expect(read(dir, 'root/etc/nonl.conf').toString()).toBe('server 10.0.10.4')
    expect(read(dir, 'root/etc/win.ini').equals(FILES['root/etc/win.ini'] as Buffer)).toBe(true)
    const rec = io(dir)
    expect(await run(['recover', '--root', '.'], rec)).toBe(0)
    expect(rec.out()).toBe('Nothing to recover.\n')
    expect(existsSync(join(dir, 'root/var/lib/cutover/lock'))).toBe(false)
  })
})
