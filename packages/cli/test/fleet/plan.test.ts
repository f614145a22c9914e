import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkAnyPlanDocument, isFleetPlan, machinePlan } from '@cutover/rewrite'
import { runCli } from '../run-cli.js'
import { makeTree, snapshot } from '../tree.js'

/** Runs `cutover` in this process, in `cwd`, with no color and no variable of this process's but those the product reads from process.env (PATH, HOME, …: run-cli's PROCESS_ENV). */
async function cutover(cwd: string, ...args: string[]) {
  const r = await runCli(args, { cwd, env: { NO_COLOR: '1' }, inherit: false })
  return { code: r.code, stdout: r.out, stderr: r.err }
}

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A controller directory with a fleet spec of three local-directory machines under machines/. */
function fleet(extraSpec = '') {
  const dir = makeTree({
    'machines/finance/etc/hosts': '10.0.10.48 finance.thehumanjourney.net\n',
    'machines/finance/var/www/finance/config.php': "<?php define('DB_HOST', '10.0.10.42');\n",
    'machines/timesheets/etc/hosts': '10.0.10.48 finance.thehumanjourney.net\n',
    'machines/timesheets/var/www/timesheets/config.php': "<?php $db = '10.0.10.42';\n",
    'machines/tenders/etc/hosts': '10.0.10.48 finance.thehumanjourney.net\n',
    // not in the php step's machines: left alone there, a leftover of the scan
    'machines/tenders/var/www/tenders/config.php': "<?php $db = '10.0.10.42';\n",
  })
  dirs.push(dir)
  const root = (m: string) => join(dir, 'machines', m)
  const spec = `version: 1
machines:
  finance: { root: ${root('finance')} }
  timesheets: { root: ${root('timesheets')} }
  tenders: { root: ${root('tenders')} }
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
  hrdb.thehumanjourney.net: { old: 10.0.10.42, new: 10.0.10.43 }
scan: { files: ["var/www/**"] }
steps:
  - php: { on: [finance, timesheets], files: ["var/www/*/config.php"], addresses: names }
  - text: { files: [etc/hosts], addresses: new }
${extraSpec}`
  writeFileSync(join(dir, 'cutover.yaml'), spec)
  return { dir, root }
}

describe('cutover plan of a fleet of local-directory machines', () => {
  it('shows one review naming the machine of every file; on: keeps a step to its machines', async () => {
    const { dir } = fleet()
    const before = snapshot(dir)
    const r = await cutover(dir, 'plan')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const summary = r.stdout.split('\n').filter((l) => /^ {2}\S/.test(l))
    expect(summary.map((l) => l.trim().split(/\s+/)[0])).toEqual([
      'finance:etc/hosts',
      'finance:var/www/finance/config.php',
      'timesheets:etc/hosts',
      'timesheets:var/www/timesheets/config.php',
      'tenders:etc/hosts',
      'tenders:var/www/tenders/config.php:1:14:',
    ])
    expect(r.stdout).toContain(
      '--- a/finance:var/www/finance/config.php\n+++ b/finance:var/www/finance/config.php\n',
    )
    expect(r.stdout).toContain('--- a/tenders:etc/hosts\n+++ b/tenders:etc/hosts\n')
    // the php step is not on tenders: its config is a leftover there, not a change
    expect(r.stdout).toMatch(
      /Leftovers: 1\n {2}tenders:var\/www\/tenders\/config\.php:1:14: 10\.0\.10\.42 — /,
    )
    expect(snapshot(dir)).toEqual(before)
  })

  it('--json and --out give the fleet plan document: machines, and a machine on each change and leftover', async () => {
    const { dir, root } = fleet()
    const r = await cutover(dir, 'plan', '--json')
    expect(r.code).toBe(0)
    const doc = checkAnyPlanDocument(JSON.parse(r.stdout), 'plan.json')
    if (!isFleetPlan(doc)) throw new Error('expected a fleet plan')
    expect(doc).not.toHaveProperty('root')
    expect(doc.machines).toEqual(
      ['finance', 'timesheets', 'tenders'].map((name) => ({ name, root: root(name) })),
    )
    expect(doc.changes.map((c) => `${c.machine}:${c.target}`)).toEqual([
      'finance:etc/hosts',
      'finance:var/www/finance/config.php',
      'timesheets:etc/hosts',
      'timesheets:var/www/timesheets/config.php',
      'tenders:etc/hosts',
    ])
    expect(doc.leftovers).toEqual([
      expect.objectContaining({
        machine: 'tenders',
        target: 'var/www/tenders/config.php',
        text: '10.0.10.42',
      }),
    ])
    expect(machinePlan(doc, 'tenders').root).toBe(root('tenders'))
    expect((await cutover(dir, 'plan', '--out', 'plan.json', '-q')).code).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'))).toEqual(JSON.parse(r.stdout))
  })

  it('--machine plans only those machines; an unknown name is refused', async () => {
    const { dir } = fleet()
    const r = await cutover(dir, 'plan', '--machine', 'tenders', '--machine', 'finance', '--json')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.machines.map((m: { name: string }) => m.name)).toEqual(['finance', 'tenders'])
    expect(new Set(doc.changes.map((c: { machine: string }) => c.machine))).toEqual(
      new Set(['finance', 'tenders']),
    )
    const bad = await cutover(dir, 'plan', '--machine', 'hrdb')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe(
      'cutover: unknown machine "hrdb" (--machine); cutover.yaml declares finance, timesheets, tenders\n',
    )
  })

  it('--machine with a spec without machines is refused, not ignored; nothing written', async () => {
    const dir = makeTree({ 'root/etc/hosts': '10.0.10.48 finance.thehumanjourney.net\n' })
    dirs.push(dir)
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text: { files: [etc/hosts], addresses: new }
`,
    )
    const before = snapshot(dir)
    for (const args of [['plan', '--out', 'plan.json'], ['verify']]) {
      const r = await cutover(dir, ...args, '--root', 'root', '--machine', 'finance')
      expect(r.code).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe(
        'cutover: --machine finance: cutover.yaml declares no machines (--machine chooses among the machines: of a spec)\n',
      )
    }
    expect(snapshot(dir)).toEqual(before)
  })

  it('--root with a fleet spec is refused, saying why; nothing written', async () => {
    const { dir } = fleet()
    const before = snapshot(dir)
    const r = await cutover(dir, 'plan', '--root', 'machines/finance', '--out', 'plan.json')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^cutover: --root cannot be used with cutover\.yaml: its machines: section gives each machine its own root/,
    )
    expect(existsSync(join(dir, 'plan.json'))).toBe(false)
    expect(snapshot(dir)).toEqual(before)
  })

  it('verify fails naming the machines, and passes once every machine is as the spec wants', async () => {
    const { dir } = fleet()
    const failed = await cutover(dir, 'verify')
    expect(failed.code).toBe(1)
    expect(failed.stdout).toContain('timesheets:etc/hosts')
    expect((await cutover(dir, 'verify', '--machine', 'tenders')).code).toBe(1)
    // tenders is done when its hosts file has the new address (its config is only a leftover)
    writeFileSync(
      join(dir, 'machines/tenders/etc/hosts'),
      '10.0.10.49 finance.thehumanjourney.net\n',
    )
    const ok = await cutover(dir, 'verify', '--machine', 'tenders')
    expect(ok.stdout).toBe('Verified: no changes.\n')
    expect(ok.code).toBe(0)
    expect((await cutover(dir, 'verify', '--machine', 'tenders', '--strict')).code).toBe(1)
  })

  it('a second plan after the apply is empty on every machine; verify passes', async () => {
    const { dir } = fleet()
    const applied = await cutover(dir, 'apply', '--yes', '-q')
    expect(applied.stderr).toBe('')
    expect(applied.code).toBe(0)
    const again = await cutover(dir, 'plan', '--detailed-exitcode')
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/^No changes: 6 file\(s\) in scope are as the spec wants them\.\n/)
    expect((await cutover(dir, 'verify')).code).toBe(0)
  })

  it('a file over --max-file-size is refused naming its machine and its path there', async () => {
    const { dir } = fleet()
    const r = await cutover(dir, 'plan', '--max-file-size', '38', '--machine', 'finance')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^cutover: finance: 2 file\(s\) in scope exceed the size limit of 38 bytes/,
    )
    expect(r.stderr).toContain('\n  var/www/finance/config.php: 39 bytes\n')
  })

  it('an error of one machine names it', async () => {
    const { dir } = fleet()
    writeFileSync(
      join(dir, 'machines/timesheets/var/www/timesheets/config.php'),
      "<?php $db = '10.0.10.42\n",
    )
    const r = await cutover(dir, 'plan')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^cutover: cannot rewrite: 1 error\(s\)\ntimesheets:var\/www\/timesheets\/config\.php:1:/,
    )
  })
})
