import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { need } from '@cutover/test-kit'
import { freePort, startFleet, type TestFleet, type TestMachine } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAnyPlanDocument, isFleetPlan } from '@cutover/rewrite'
import { tempDir } from '@cutover/test-kit/temp'

const bin = resolve(import.meta.dirname, '../../dist/bin.js')

// `cutover plan` of three machines over real sshd: each planned on a mirror of what its plan reads.
describe.runIf(need('sshd'))('cutover plan of machines over ssh', () => {
  let fleet: TestFleet
  let dir: string
  beforeAll(async () => {
    fleet = await startFleet(3)
    dir = tempDir('cutover-ctl-')
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

  it('connects to and lists the machines at once, not one after the other', () => {
    // m1's listing waits for m3's to start: planned one machine after the other, m3 would not
    // be reached before m1's plan was done, and m1's `find` would give up waiting
    const marks = tempDir('cutover-marks-')
    const find = spawnSync('sh', ['-c', 'command -v find'], { encoding: 'utf8' }).stdout.trim()
    const [m1, , m3] = fleet.machines as [TestMachine, TestMachine, TestMachine]
    const wrap = (m: TestMachine, body: string) => {
      writeFileSync(join(m.bin, 'find'), `#!/bin/sh\n${body}\nexec ${find} "$@"\n`)
      chmodSync(join(m.bin, 'find'), 0o755)
    }
    try {
      wrap(
        m1,
        `i=0; while [ ! -e ${marks}/m3 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
if [ -e ${marks}/m3 ]; then echo seen >> ${marks}/m1; else echo alone >> ${marks}/m1; fi`,
      )
      wrap(m3, `touch ${marks}/m3`)
      const r = cutover('plan', '--ssh-config', fleet.sshConfig, '--json')
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      // one line for each `find` of m1's listing (one per directory above a prefix, and one per prefix)
      expect(readFileSync(join(marks, 'm1'), 'utf8')).toMatch(/^(?:seen\n)+$/)
      expect(JSON.parse(r.stdout).changes).toHaveLength(5)
    } finally {
      rmSync(join(m1.bin, 'find'), { force: true })
      rmSync(join(m3.bin, 'find'), { force: true })
      rmSync(marks, { recursive: true, force: true })
    }
  })

  it('ended by a signal while mirroring, removes the mirrors and the control sockets and ends the masters', async () => {
    // m1's listing waits (for the signal) once its mirror's directory is made
    const marks = tempDir('cutover-marks-')
    const temp = tempDir('cutover-tmp-')
    const find = spawnSync('sh', ['-c', 'command -v find'], { encoding: 'utf8' }).stdout.trim()
    const m1 = fleet.machines[0]!
    writeFileSync(
      join(m1.bin, 'find'),
      `#!/bin/sh\ntouch ${marks}/listing\ni=0; while [ ! -e ${marks}/go ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\nexec ${find} "$@"\n`,
    )
    chmodSync(join(m1.bin, 'find'), 0o755)
    const sockets = join(dir, '.cutover', 'ssh')
    const masters = () =>
      spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.includes('ControlMaster=yes') && l.includes(sockets))
    try {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        rmSync(join(marks, 'listing'), { force: true })
        const child = spawn(process.execPath, [bin, 'plan', '--ssh-config', fleet.sshConfig], {
          cwd: dir,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', TMPDIR: temp },
          stdio: 'ignore',
        })
        const ended = new Promise<NodeJS.Signals | null>((done) =>
          child.on('exit', (_code, sig) => done(sig)),
        )
        for (let i = 0; i < 600 && !existsSync(join(marks, 'listing')); i++)
          await new Promise((r) => setTimeout(r, 50))
        expect(existsSync(join(marks, 'listing'))).toBe(true)
        expect(readdirSync(temp).filter((n) => n.startsWith('cutover-mirror-'))).not.toEqual([])
        expect(masters()).not.toEqual([])
        child.kill(signal)
        // the process ends by the signal, as it would without the cleanup
        expect(await ended).toBe(signal)
        expect(readdirSync(temp)).toEqual([])
        expect(existsSync(sockets) ? readdirSync(sockets) : []).toEqual([])
        expect(masters()).toEqual([])
      }
    } finally {
      writeFileSync(join(marks, 'go'), '')
      rmSync(join(m1.bin, 'find'), { force: true })
      rmSync(marks, { recursive: true, force: true })
      rmSync(temp, { recursive: true, force: true })
    }
  }, 120_000)

  it('reports the first machine of the spec that cannot be reached, whichever fails first', async () => {
    // both refuse the connection (nothing listens on those ports); the plan names the first
    const closed = [await freePort(), await freePort()]
    const spec = join(dir, 'unreachable.yaml')
    writeFileSync(
      spec,
      `version: 1
machines:
  m1: { ssh: m1, root: ${fleet.machines[0]!.root} }
  first: { ssh: m2, port: ${closed[0]}, root: / }
  second: { ssh: m3, port: ${closed[1]}, root: / }
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - hosts: { files: [etc/hosts], ensure: new }
`,
    )
    for (let i = 0; i < 3; i++) {
      const r = cutover('plan', '--spec', spec, '--ssh-config', fleet.sshConfig)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^cutover: machine first \(m2\): /)
      expect(r.stderr).not.toContain('second')
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
  })
})
