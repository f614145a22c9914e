import { spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../packages/cli/test/run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js')

/** Runs the built `cutover` binary (an injected fault kills it); returns how it ended and its output. */
function spawned(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  })
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr }
}

/** Runs `cutover` in this process; returns exit code and output. */
const cutover = (args: string[], cwd: string) => runCli(args, { cwd, env: { NO_COLOR: '1' } })

describe('after a crash in the middle of an apply', () => {
  it('plan and verify name the interrupted transaction and cutover recover; staged files are never planned nor leftovers', async () => {
    const dir = tempDir('cutover-ux-crash-')
    mkdirSync(join(dir, 'root/etc'), { recursive: true })
    writeFileSync(
      join(dir, 'cutover.yaml'),
      'version: 1\nhosts:\n  db.example.net: { old: 10.0.0.1, new: 10.0.0.2 }\nscan:\n  files: ["etc/**"]\nsteps:\n  - text:\n      files: ["etc/**"]\n      addresses: names\n      swap: [[a.example.net, b.example.net]]\n',
    )
    for (const f of ['a.conf', 'b.conf'])
      writeFileSync(join(dir, 'root/etc', f), 'db 10.0.0.1\npeer a.example.net\n# not 10.0.0.10\n')
    const killed = spawned(['apply', '--root', 'root', '--yes', '--quiet'], dir, {
      CUTOVER_FAULT_INJECT: 'renamed:1',
    })
    expect(killed.signal).toBe('SIGKILL')
    const staged = readdirSync(join(dir, 'root/etc')).filter((n) => n.includes('.cutover-'))
    expect(staged.length).toBeGreaterThan(0)
    // a staged file is known by the journal too, whatever its name: one renamed in the journal
    // and on disk (as another version of cutover might name it) is not in scope either
    const txDir = join(
      dir,
      'root/var/lib/cutover/tx',
      readdirSync(join(dir, 'root/var/lib/cutover/tx'))[0]!,
    )
    const journal = JSON.parse(readFileSync(join(txDir, 'journal.json'), 'utf8')) as {
      targets: Array<{ temp: string }>
    }
    const moved = journal.targets.find((t) => existsSync(t.temp))!
    renameSync(moved.temp, join(dir, 'root/etc/staged-copy.conf'))
    moved.temp = realpathSync(join(dir, 'root/etc/staged-copy.conf'))
    writeFileSync(join(txDir, 'journal.json'), JSON.stringify(journal, null, 2) + '\n')

    const plan = await cutover(['plan', '--root', 'root'], dir)
    expect(plan.code).toBe(0)
    expect(plan.out).toMatch(
      /warning: root\/var\/lib\/cutover: INTERRUPTED transaction \S+ \(apply, 2 file\(s\)\) was interrupted \(prepared\): its files may be half applied; run `cutover recover --root root` before trusting this plan\n/,
    )
    // the staged copies are neither planned nor reported: only the two targets are
    expect(plan.out).toContain('(2 in scope')
    expect(plan.out).not.toContain('.cutover-')
    expect(plan.out).not.toContain('staged-copy')
    const doc = JSON.parse((await cutover(['plan', '--root', 'root', '--json'], dir)).out)
    expect(doc.notes[0]).toMatchObject({ code: 'INTERRUPTED', severity: 'warning' })
    expect(doc.changes.map((c: { target: string }) => c.target)).toEqual([
      'etc/a.conf',
      'etc/b.conf',
    ])
    expect(doc.leftovers.map((l: { target: string }) => l.target)).toEqual([
      'etc/a.conf',
      'etc/b.conf',
    ])

    const verify = await cutover(['verify', '--root', 'root'], dir)
    expect(verify.code).toBe(1)
    expect(verify.err).toMatch(/cutover: verify failed: 1 interrupted transaction\(s\)/)

    expect((await cutover(['recover', '--root', 'root'], dir)).code).toBe(0)
    expect(existsSync(join(dir, 'root/etc/staged-copy.conf'))).toBe(false)
    const after = await cutover(['plan', '--root', 'root'], dir)
    expect(after.out).not.toContain('INTERRUPTED')
  })
})

describe("the README's spec example", () => {
  it('is a valid spec, accept: included, that plans against an empty root', async () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8')
    const block = /## The spec[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toContain('accept:')
    const dir = tempDir('cutover-ux-readme-')
    mkdirSync(join(dir, 'root'))
    writeFileSync(join(dir, 'cutover.yaml'), block!)
    const plan = await cutover(['plan', '--root', 'root', '--profile', 'live'], dir)
    expect(plan.err).toBe('')
    expect(plan.code).toBe(0)
    expect(plan.out).toContain('warning: cutover.yaml:')
    expect(plan.out).toMatch(
      /ACCEPT_UNMATCHED accepted leftover "10\.0\.10\.48" in etc\/legacy\/\*\.conf matches no leftover of profile live/,
    )
  })
})
