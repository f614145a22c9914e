import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SpecError, createEngine, scanForInit, type Plan } from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { stepKinds } from '../src/steps.js'
import { makeTree } from './tree.js'
import { tempDir } from '@cutover/test-kit/temp'

// What the step kinds' init suggestions make of a scan (each kind registers its own).
describe('init with every step kind', () => {
  /** The kind a scan of a tree of `paths`, each holding an address, puts each path in. */
  async function kindsOf(paths: readonly string[]): Promise<Array<string | undefined>> {
    const dir = makeTree(Object.fromEntries(paths.map((p) => [p, '10.0.10.48\n'])))
    const scan = await scanForInit(dir, { kinds: stepKinds, files: ['**'] })
    const kindOf = new Map(scan.matched.map((f) => [f.target, f.kind]))
    return paths.map((t) => kindOf.get(t))
  }

  it('suggests a step per file kind', async () => {
    const paths = [
      'var/www/a/config.php',
      'etc/php/8.2/cli/php.ini',
      'srv/app.json',
      'srv/app.config.js',
      'etc/hosts',
      'etc/sudoers.d/x',
      'etc/postgresql/15/main/pg_hba.conf',
      'backup/x.sql',
      'etc/cron.d/x',
    ]
    expect(await kindsOf(paths)).toEqual([
      'php',
      'ini',
      'json',
      'js',
      'hosts',
      'sudoers',
      'pg_hba',
      'sql',
      'text',
    ])
  })

  it('claims a file by extension in any case, but hosts, sudoers and PostgreSQL files by their exact name', async () => {
    const paths = [
      'var/www/a/CONFIG.PHP',
      'etc/my.CNF',
      'srv/app.Json',
      'srv/app.TS',
      'backup/x.SQL',
      'etc/HOSTS',
      'etc/sudoers.d/HOSTS',
      'etc/SUDOERS',
      'etc/Sudoers.d/x',
      'etc/postgresql/PG_HBA.CONF',
      'etc/Pg_Service.conf',
    ]
    expect(await kindsOf(paths)).toEqual([
      'php',
      'ini',
      'json',
      'js',
      'sql',
      'text',
      'sudoers',
      'text',
      'text',
      'text',
      'text',
    ])
  })

  it('takes a name for an address from a hosts file, never a commented one', async () => {
    const dir = makeTree({
      'etc/hosts':
        '10.0.10.48\tfinance.example.org finance\n#10.0.10.63 tenders.example.org\n10.0.10.63 x\n',
      'etc/app.conf': '10.0.10.48 10.0.10.63',
    })
    const scan = await scanForInit(dir, { kinds: stepKinds })
    expect(scan.addresses.map((a) => [a.address, a.hostsName])).toEqual([
      ['10.0.10.48', 'finance.example.org'],
      ['10.0.10.63', 'x'],
    ])
  })
})

const example = resolve(import.meta.dirname, '../../../examples/finance')

/** A copy of the finance example (spec and machines) in a temporary directory. */
function copyFinance(): string {
  const dir = tempDir('cutover-init-')
  cpSync(example, dir, { recursive: true })
  return dir
}

/** What a person does after init: gives each address its name and new address, deletes the rest. */
function fillNames(
  starter: string,
  inventory: ReadonlyArray<{ name: string; old: string; new: string }>,
): string {
  return starter
    .split('\n')
    .flatMap((line) => {
      const m = /^ {2}(?:"[^"]*"|\S+): \{ old: ([0-9.]+), new: [0-9.]+ \}/.exec(line)
      if (!m) return [line]
      const host = inventory.find((h) => h.old === m[1])
      return host ? [`  ${host.name}: { old: ${host.old}, new: ${host.new} }`] : []
    })
    .join('\n')
}

/** The new text of every target a php or text step changes. */
function phpAndText(plan: Plan): Record<string, string> {
  return Object.fromEntries(
    plan.changes
      .filter((c) => c.kinds.some((k) => k === 'php' || k === 'text'))
      .map((c) => [c.target, c.afterText]),
  )
}

describe('cutover init', () => {
  it("on the finance VM's files writes a spec that, names filled in, plans the example spec's php and text changes there", async () => {
    const dir = copyFinance()
    const io = memoryIo({ cwd: dir })
    const root = join(dir, 'machines/finance')
    expect(await run(['init', '--root', root, '--spec', 'init.yaml'], io)).toBe(0)
    expect(io.err()).toBe('')
    expect(io.out()).toMatch(/Wrote init\.yaml: \d+ address\(es\) in \d+ of \d+ file\(s\) scanned/)
    const starter = readFileSync(join(dir, 'init.yaml'), 'utf8')
    const ref = /^# yaml-language-server: \$schema=(.*)\n/.exec(starter)?.[1]
    expect(ref && readFileSync(resolve(dir, ref), 'utf8')).toContain(
      '"title": "cutover.yaml (version 1)"',
    )
    expect(starter).toContain(
      '"<name of 192.168.98.24>": { old: 192.168.98.24, new: 192.168.98.24 }',
    )
    expect(starter).toMatch(/# 10\.0\.10\.48: \d+ places in \d+ files\n(?: {2}# {3}\S+:\d+:\d+\n)*/)
    expect(starter).toContain('#   var/www/finance/config.php:6:20\n')
    expect(starter).toContain(
      '  - php:\n      files: ["var/www/finance/config.php"]\n      addresses: names\n',
    )

    const engine = createEngine({ steps: stepKinds })
    // unfilled, the starter is refused at the placeholder, so it can never be applied by mistake
    const placeholders = starter.match(/"<name of [0-9.]+>"/g) ?? []
    expect(placeholders.length).toBeGreaterThan(0)
    let refused: unknown
    try {
      engine.parseSpec(starter, 'init.yaml')
    } catch (e) {
      refused = e
    }
    expect(refused).toBeInstanceOf(SpecError)
    expect(
      (refused as SpecError).diagnostics.map((d) => [
        d.code,
        starter.slice(d.range.start, d.range.end),
      ]),
    ).toEqual(placeholders.map((p) => ['SPEC_VALUE', p]))

    const own = engine.parseSpec(readFileSync(join(dir, 'cutover.yaml'), 'utf8'), 'cutover.yaml')
    const filled = fillNames(starter, own.hosts)
    writeFileSync(join(dir, 'init.yaml'), filled)
    const mine = engine.parseSpec(filled, 'init.yaml')
    // the example's files are in their live state, and its secret step is given the current
    // password: what remains of the example's php and text steps is what init can know
    const env = { FINANCE_DB_PASSWORD: 'change-me-at-cutover', TIMESHEETS_DB_PASSWORD: 'another' }
    // the example's steps on the machine finance (those `on` others left out)
    const expected = phpAndText(
      await engine.plan(own, { root, profile: 'live', env, machine: 'finance' }),
    )
    const got = phpAndText(await engine.plan(mine, { root, env }))
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(5)
    expect(got).toEqual(expected)

    const viaCli = memoryIo({ cwd: dir })
    expect(
      await run(
        ['plan', '--spec', 'init.yaml', '--root', 'machines/finance', '--detailed-exitcode'],
        viaCli,
      ),
    ).toBe(2)
    expect(viaCli.out()).toContain("+define('DB_HOST', 'finance.thehumanjourney.net');")
  })

  it('never overwrites an existing spec', async () => {
    const dir = makeTree({ 'cutover.yaml': 'mine\n', 'root/etc/app.conf': 'db=10.0.10.48\n' })
    const io = memoryIo({ cwd: dir })
    expect(await run(['init', '--root', 'root'], io)).toBe(1)
    expect(io.err()).toContain('cutover: cutover.yaml exists; init never overwrites a spec')
    expect(readFileSync(join(dir, 'cutover.yaml'), 'utf8')).toBe('mine\n')
    const printed = memoryIo({ cwd: dir })
    expect(await run(['init', '--root', 'root', '--print'], printed)).toBe(0)
    expect(printed.out()).toContain('"<name of 10.0.10.48>": { old: 10.0.10.48, new: 10.0.10.48 }')
    expect(readFileSync(join(dir, 'cutover.yaml'), 'utf8')).toBe('mine\n')
  })

  it('scans the globs it is given, lists every file with --verbose, and suggests a step by kind', async () => {
    const dir = makeTree({
      'root/srv/app/settings.json': '{ "db": "10.1.2.3" }\n',
      'root/srv/app/app.ini': '[db]\nhost = 10.1.2.3\n',
      'root/srv/app/logo.png': 'not read 10.9.9.9',
      'root/srv/app/blob.conf': Buffer.from('10.8.8.8\u0000\u0001'),
      'root/srv/app/local.conf': 'listen 127.0.0.1\n',
      'root/etc/hosts': '127.0.0.1 localhost\n10.1.2.3\tdb.example.org db\n',
    })
    const io = memoryIo({ cwd: dir })
    expect(
      await run(['init', '--root', 'root', '--files', 'srv/**', 'etc/hosts', '--verbose'], io),
    ).toBe(0)
    expect(io.err().split('\n').sort()).toEqual(
      [
        'etc/hosts: 1 address',
        'srv/app/app.ini: 1 address',
        'srv/app/blob.conf: skipped: binary',
        'srv/app/local.conf: no address',
        'srv/app/logo.png: skipped: not a config file (by its extension)',
        'srv/app/settings.json: 1 address',
        '',
      ].sort(),
    )
    const spec = readFileSync(join(dir, 'cutover.yaml'), 'utf8')
    expect(spec).toContain(
      '  "db.example.org": { old: 10.1.2.3, new: 10.1.2.3 }   # name from a hosts file: check it\n',
    )
    expect(spec).toContain('  - ini:\n      files: ["srv/app/app.ini"]\n')
    expect(spec).toContain('  - json:\n      files: ["srv/app/settings.json"]\n')
    expect(spec).toContain('  - hosts:\n      files: ["etc/hosts"]\n      ensure: new\n')
    expect(spec).not.toContain('127.0.0.1')
    expect(existsSync(join(dir, 'cutover.yaml'))).toBe(true)
    const plan = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', 'root', '--detailed-exitcode'], plan)).toBe(2)
    expect(plan.out()).toContain('+{ "db": "db.example.org" }')
  })
})
