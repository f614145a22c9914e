import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// `apply` and `rollback` ask [y/N] on a terminal. The built binary runs under script(1), which
// gives it a real pseudo-terminal; the answer is typed into that terminal through script's stdin.
const repo = resolve(import.meta.dirname, '..')
const bin = join(repo, 'packages/cli/dist/bin.js')
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

function tree(): string {
  const dir = tempDir('cutover-tty-')
  mkdirSync(join(dir, 'root/etc'), { recursive: true })
  writeFileSync(join(dir, 'root/etc/app.conf'), 'server 10.0.10.4\n')
  writeFileSync(
    join(dir, 'cutover.yaml'),
    'version: 1\nhosts:\n  four.thehumanjourney.net: { old: 10.0.10.4, new: 10.0.10.5 }\nsteps:\n  - text: { files: ["etc/*.conf"], addresses: names }\n',
  )
  return dir
}

/** Runs `cutover ARGS` on a pseudo-terminal and types `answer` into it. */
function onTerminal(dir: string, args: string[], answer: string) {
  const cmd = [process.execPath, bin, ...args].map(quote).join(' ')
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    cwd: dir,
    input: answer,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  })
  if (r.error) throw r.error
  return { code: r.status, out: r.stdout.replace(/\r\n/g, '\n') }
}

const conf = (dir: string) => readFileSync(join(dir, 'root/etc/app.conf'), 'utf8')
const BEFORE = 'server 10.0.10.4\n'
const AFTER = 'server four.thehumanjourney.net\n'

describe('confirmation on a terminal', () => {
  it('apply: "n" applies nothing, "y" applies', () => {
    const dir = tree()
    const no = onTerminal(dir, ['apply', '--root', 'root'], 'n\n')
    expect(no.out).toContain('+server four.thehumanjourney.net')
    expect(no.out).toContain('Apply these 1 change(s)? [y/N] ')
    expect(no.out).toContain('cutover: not applied\n')
    expect(no.out).not.toContain('without a terminal')
    expect(no.code).toBe(1)
    expect(conf(dir)).toBe(BEFORE)

    const yes = onTerminal(dir, ['apply', '--root', 'root'], 'y\n')
    expect(yes.out).toContain('Apply these 1 change(s)? [y/N] ')
    expect(yes.out).toMatch(/Applied 1 file\(s\) in transaction /)
    expect(yes.code).toBe(0)
    expect(conf(dir)).toBe(AFTER)
  })

  it('apply --quiet still shows the plan it asks about', () => {
    const dir = tree()
    const no = onTerminal(dir, ['apply', '--root', 'root', '--quiet'], 'n\n')
    expect(no.out).toContain('+server four.thehumanjourney.net')
    expect(no.out.indexOf('+server four.thehumanjourney.net')).toBeLessThan(
      no.out.indexOf('Apply these 1 change(s)? [y/N] '),
    )
    expect(no.code).toBe(1)
    expect(conf(dir)).toBe(BEFORE)
    // with --yes nothing is asked, and --quiet prints no review
    const yes = onTerminal(dir, ['apply', '--root', 'root', '--quiet', '--yes'], '')
    expect(yes.code).toBe(0)
    expect(yes.out).not.toContain('+server')
    expect(conf(dir)).toBe(AFTER)
  })

  it('apply: the end of input or any other answer is a no', () => {
    const dir = tree()
    for (const answer of ['', '\n', 'yep\n', 'no\n']) {
      const r = onTerminal(dir, ['apply', '--root', 'root'], answer)
      expect(r.out, JSON.stringify(answer)).toContain('cutover: not applied\n')
      expect(r.code).toBe(1)
    }
    expect(conf(dir)).toBe(BEFORE)
  })

  it('rollback: "n" restores nothing, "y" restores', () => {
    const dir = tree()
    expect(onTerminal(dir, ['apply', '--root', 'root', '--yes'], '').code).toBe(0)
    expect(conf(dir)).toBe(AFTER)

    const no = onTerminal(dir, ['rollback', '--root', 'root'], 'n\n')
    expect(no.out).toContain('etc/app.conf')
    expect(no.out).toContain('Restore these 1 file(s)? [y/N] ')
    expect(no.out).toContain('cutover: not rolled back\n')
    expect(no.code).toBe(1)
    expect(conf(dir)).toBe(AFTER)

    const yes = onTerminal(dir, ['rollback', '--root', 'root'], 'Y\n')
    expect(yes.out).toMatch(/Rolled back 1 file\(s\) of \S+ in transaction /)
    expect(yes.code).toBe(0)
    expect(conf(dir)).toBe(BEFORE)
  })

  it('without a terminal both refuse unless --yes, and ask nothing', () => {
    const dir = tree()
    const run = (args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], {
        cwd: dir,
        input: 'y\n',
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      })
    const apply = run(['apply', '--root', 'root'])
    expect([apply.status, apply.stderr]).toEqual([
      1,
      'cutover: not applied: without a terminal, pass --yes to apply this plan\n',
    ])
    expect(apply.stdout).not.toContain('[y/N]')
    expect(conf(dir)).toBe(BEFORE)
    expect(run(['apply', '--root', 'root', '--yes']).status).toBe(0)
    const rollback = run(['rollback', '--root', 'root'])
    expect([rollback.status, rollback.stderr]).toEqual([
      1,
      'cutover: not rolled back: without a terminal, pass --yes\n',
    ])
    expect(conf(dir)).toBe(AFTER)
  })
})
