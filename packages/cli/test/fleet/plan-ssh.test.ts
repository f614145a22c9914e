import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAnyPlanDocument, isFleetPlan } from '@cutover/rewrite'

const bin = resolve(import.meta.dirname, '../../dist/bin.js')

// `cutover plan` of three machines over real sshd: each planned on a mirror of what its plan reads.
describe.runIf(need('sshd'))('cutover plan of machines over ssh', () => {
  let fleet: TestFleet
  let dir: string
  beforeAll(async () => {
    fleet = await startFleet(3)
    dir = mkdtempSync(join(tmpdir(), 'cutover-ctl-'))
    for (const m of fleet.machines) {
      const put = (path: string, text: string) => {
        mkdirSync(dirname(join(m.root, path)), { recursive: true })
        writeFileSync(join(m.root, path), text)
      }
      put('etc/hosts', `127.0.0.1 localhost\n10.0.10.48 finance.thehumanjourney.net ${m.name}\n`)
      put('var/www/app/config.php', "<?php define('DB_HOST', '10.0.10.42');\n")
      put('etc/app/unrelated.conf', 'nothing to do here\n')
    }
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1
machines:
${fleet.machines.map((m) => `  ${m.name}: { ssh: ${m.name}, root: ${m.root} }`).join('\n')}
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
  hrdb.thehumanjourney.net: { old: 10.0.10.42, new: 10.0.10.43 }
steps:
  - php: { on: [m1, m3], files: ["var/www/*/config.php"], addresses: names }
  - hosts: { files: [etc/hosts], ensure: new }
  - text: { files: ["etc/app/*.conf"], addresses: new }
`,
    )
  })
  afterAll(async () => {
    await fleet?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const cutover = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
    })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }

  it("records each machine's host key and shows the changes of the three machines", () => {
    const r = cutover('plan', '--ssh-config', fleet.sshConfig, '--json')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = checkAnyPlanDocument(JSON.parse(r.stdout), 'plan.json')
    if (!isFleetPlan(doc)) throw new Error('expected a fleet plan')
    expect(doc.machines).toEqual(
      fleet.machines.map((m) => ({
        name: m.name,
        ssh: m.name,
        root: m.root,
        hostKey: m.hostKeyFingerprint,
      })),
    )
    expect(doc.changes.map((c) => `${c.machine}:${c.target}`)).toEqual([
      'm1:etc/hosts',
      'm1:var/www/app/config.php',
      'm2:etc/hosts',
      'm3:etc/hosts',
      'm3:var/www/app/config.php',
    ])
    // the plan's bytes are the machine's: its hash is of the file there
    const review = cutover('plan', '--ssh-config', fleet.sshConfig)
    expect(review.code).toBe(0)
    expect(review.stdout).toContain(
      '--- a/m3:var/www/app/config.php\n+++ b/m3:var/www/app/config.php\n',
    )
    expect(review.stdout).toMatch(/^ {2}m2:etc\/hosts +hosts/m)
  })

  it('CUTOVER_SSH_CONFIG stands for --ssh-config; --machine limits the plan', () => {
    const r = spawnSync(process.execPath, [bin, 'plan', '--machine', 'm2', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CUTOVER_SSH_CONFIG: fleet.sshConfig },
    })
    expect(r.stderr).toBe('')
    const doc = JSON.parse(r.stdout)
    expect(doc.machines.map((m: { name: string }) => m.name)).toEqual(['m2'])
    expect(
      doc.changes.map((c: { machine: string; target: string }) => `${c.machine}:${c.target}`),
    ).toEqual(['m2:etc/hosts'])
    // the machine's files are as they were
    expect(readFileSync(join(fleet.machines[1]!.root, 'etc/hosts'), 'utf8')).toContain('10.0.10.48')
  })
})
