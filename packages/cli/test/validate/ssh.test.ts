import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutover, SSH_TEST_MS, strays, useFleet } from '../fleet/fleet-kit.js'
import { snapshot } from '../tree.js'

// A step's validate: command over real sshd runs on the machine the file is staged on: the
// command `only-m2` is in m2's own bin directory, first on the PATH of m2's sessions and on no
// other PATH (not the controller's, not m1's). What it records shows it saw the staged file (or
// the scratch root) on m2, with the new content.

const kit = useFleet(2, 'cutover-validate-ssh-')
const env = kit.env

const OLD = '10.0.0.1'
const NEW = '10.0.0.2'

/** The controller's directory with a spec of `steps`; each machine's tree written afresh. */
function fresh(steps: string[]): string {
  for (const [k, m] of kit.fleet.machines.entries()) {
    rmSync(m.root, { recursive: true, force: true })
    mkdirSync(join(m.root, 'etc/app'), { recursive: true })
    writeFileSync(join(m.root, 'etc/app/app.conf'), `# m${k + 1}\ndb = ${OLD}\n`)
  }
  const seen = join(kit.dir, 'seen')
  rmSync(seen, { recursive: true, force: true })
  mkdirSync(seen)
  // pass: records its arguments and the file it was given; fail: prints the file and exits 2;
  // tree: records the files under the directory it was given, and the directory
  writeFileSync(
    join(kit.fleet.machines[1]!.bin, 'only-m2'),
    [
      '#!/bin/sh',
      `seen=${seen}`,
      'mode=$1; shift',
      'printf "%s\\n" "$@" > "$seen/args"',
      'case $mode in',
      '  pass) cat "$1" > "$seen/file"; exit 0 ;;',
      '  fail) echo "checked on m2:"; cat "$1"; exit 2 ;;',
      '  tree) (cd "$1" && find . -type f -print) > "$seen/tree"; exit 0 ;;',
      '  slow) echo $$ > "$seen/pid"; exec sleep 120 ;;',
      'esac',
      'exit 9',
      '',
    ].join('\n'),
    { mode: 0o755 },
  )
  const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
  writeFileSync(
    join(ctl, 'cutover.yaml'),
    [
      'version: 1',
      'machines:',
      ...kit.fleet.machines.map((m) => `  ${m.name}: { ssh: ${m.name}, root: ${m.root} }`),
      'hosts:',
      `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
      'steps:',
      ...steps,
      '',
    ].join('\n'),
  )
  return ctl
}

/** Every machine's files but its state directory (an aborted apply's journal is there). */
const trees = () =>
  kit.fleet.machines.map((m) =>
    Object.fromEntries(
      Object.entries(snapshot(m.root)).filter(([p]) => !p.startsWith('var/lib/cutover/')),
    ),
  )
const seen = (name: string) => readFileSync(join(kit.dir, 'seen', name), 'utf8')
const m2 = () => kit.fleet.machines[1]!

/** Whether the process `pid` runs (exists and is not a zombie). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('validate: over ssh, on the machine the file belongs to', () => {
  it(
    "runs there on the staged file; a machine that lacks the command aborts every machine's part",
    async () => {
      // m1 has no only-m2: its check fails, so nothing is written on m2 either
      const everywhere = fresh([
        '  - text: { files: [etc/app/*.conf], addresses: new, validate: "only-m2 pass %s" }',
      ])
      const before = trees()
      const r = await cutover(['apply', '--yes'], everywhere, env())
      expect(r.code).toBe(1)
      expect(r.err).toContain(
        'cutover: not applied, nothing was changed on any machine:\n  m1: validation failed, nothing was written:\n  etc/app/app.conf: validate: only-m2 pass %s: only-m2: command not found\n',
      )
      expect(r.err).not.toMatch(/\n\s+at /)
      expect(trees()).toEqual(before)
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])

      // on m2 only: it runs there, given the file staged beside its target on m2
      const ctl = fresh([
        '  - text: { files: [etc/app/*.conf], addresses: new, on: [m2], validate: "only-m2 pass %s" }',
        '  - text: { files: [etc/app/*.conf], addresses: new, on: [m1] }',
      ])
      const plan = await cutover(['plan'], ctl, env())
      expect(plan.out).toContain('  validate: only-m2 pass %s: m2:etc/app/app.conf\n')
      const ok = await cutover(['apply', '--yes'], ctl, env())
      expect(ok.err).toBe('')
      expect(ok.code).toBe(0)
      const args = seen('args').split('\n').filter(Boolean)
      expect(args).toHaveLength(1)
      expect(args[0]).toMatch(
        new RegExp(`^${m2().root.replaceAll('.', '\\.')}/etc/app/\\.app\\.conf\\.cutover-\\S+$`),
      )
      expect(seen('file')).toBe(`# m2\ndb = ${NEW}\n`)
      for (const [k, m] of kit.fleet.machines.entries())
        expect(readFileSync(join(m.root, 'etc/app/app.conf'), 'utf8')).toBe(
          `# m${k + 1}\ndb = ${NEW}\n`,
        )
    },
    SSH_TEST_MS,
  )

  it(
    'a failure on one machine aborts the apply on every machine, naming the machine, the file, the command and its output',
    async () => {
      const ctl = fresh([
        '  - text: { files: [etc/app/*.conf], addresses: new }',
        '  - text: { files: [etc/app/*.conf], on: [m2], validate: "only-m2 fail %s" }',
      ])
      const before = trees()
      const r = await cutover(['apply', '--yes'], ctl, env())
      expect(r.code).toBe(1)
      expect(r.err).toContain(
        `cutover: not applied, nothing was changed on any machine:\n  m2: validation failed, nothing was written:\n  etc/app/app.conf: validate: only-m2 fail %s: exited with status 2:\n      checked on m2:\n      # m2\n      db = ${NEW}\n`,
      )
      expect(r.err).not.toContain('.cutover-')
      expect(trees()).toEqual(before)
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
    },
    SSH_TEST_MS,
  )

  it(
    'a command still running on the machine after CUTOVER_TOOL_TIMEOUT_MS aborts the apply within the limit, and is killed on the machine',
    async () => {
      const ctl = fresh([
        '  - text: { files: [etc/app/*.conf], addresses: new, on: [m2], validate: "only-m2 slow %s" }',
      ])
      const before = trees()
      const started = Date.now()
      const r = await cutover(['apply', '--yes'], ctl, {
        ...env(),
        CUTOVER_TOOL_TIMEOUT_MS: '5000',
      })
      const took = Date.now() - started
      expect(r.code).toBe(1)
      expect(r.err).toContain(
        '  m2: validation failed, nothing was written:\n  etc/app/app.conf: validate: only-m2 slow %s: did not finish within 5 s (CUTOVER_TOOL_TIMEOUT_MS)\n',
      )
      expect(trees()).toEqual(before)
      // killed, not waited for: sooner than the 120 s the command sleeps, however loaded the
      // machine
      expect(took).toBeLessThan(120_000)
      // the validator (its pid is the sleep's: it execs) is gone from the machine: a zombie
      // waiting for a parent to reap it counts as gone
      const pid = Number(seen('pid').trim())
      expect(pid).toBeGreaterThan(0)
      const deadline = Date.now() + 5000
      while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(running(pid)).toBe(false)
    },
    SSH_TEST_MS,
  )

  it(
    "the machine's timeout firing before the controller's own timer is reported as the timeout, not as the command's death of SIGKILL",
    async () => {
      // m2's timeout (the real one, first on its sessions' PATH) fires after 1 s for the
      // validator, the controller's timer at 600 s, past the test's own limit: the machine's
      // answer comes first, as it may on a loaded controller, and is the only one that can
      const real = execFileSync('/bin/sh', ['-c', 'command -v timeout'], { encoding: 'utf8' })
      const fake = join(m2().bin, 'timeout')
      writeFileSync(
        fake,
        `#!/bin/sh\n[ "$1" = --version ] && exec ${real.trim()} --version\ns=$3; shift 3\ncase "$*" in *only-m2*slow*) s=1 ;; esac\nexec ${real.trim()} -s KILL "$s" "$@"\n`,
        { mode: 0o755 },
      )
      try {
        const ctl = fresh([
          '  - text: { files: [etc/app/*.conf], addresses: new, on: [m2], validate: "only-m2 slow %s" }',
        ])
        const before = trees()
        const r = await cutover(['apply', '--yes'], ctl, {
          ...env(),
          CUTOVER_TOOL_TIMEOUT_MS: '600000',
        })
        expect(r.code).toBe(1)
        expect(r.err).toContain(
          '  m2: validation failed, nothing was written:\n  etc/app/app.conf: validate: only-m2 slow %s: did not finish within 600 s (CUTOVER_TOOL_TIMEOUT_MS)\n',
        )
        expect(trees()).toEqual(before)
      } finally {
        rmSync(fake, { force: true })
      }
    },
    SSH_TEST_MS,
  )

  it(
    '%d is a scratch root made on the machine, holding the staged file at its path, removed after',
    async () => {
      const ctl = fresh([
        '  - text: { files: [etc/app/*.conf], addresses: new, on: [m2], validate: "only-m2 tree %d" }',
      ])
      const r = await cutover(['apply', '--yes'], ctl, env())
      expect(r.err).toBe('')
      expect(r.code).toBe(0)
      expect(seen('tree')).toBe('./etc/app/app.conf\n')
      const dir = seen('args').trim()
      expect(dir.startsWith('/')).toBe(true)
      expect(dir.startsWith(m2().root)).toBe(false)
      expect(existsSync(dir)).toBe(false)
      expect(readFileSync(join(m2().root, 'etc/app/app.conf'), 'utf8')).toBe(`# m2\ndb = ${NEW}\n`)
    },
    SSH_TEST_MS,
  )
})
