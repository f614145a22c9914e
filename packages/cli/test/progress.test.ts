import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree } from './tree.js'

const SPEC = `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text:
      files: ["etc/**"]
      addresses: names
`

/** A root of `n` config files, every third one holding the old address. */
function tree(n: number): string {
  const files: Record<string, string> = { 'cutover.yaml': SPEC }
  for (let i = 0; i < n; i++)
    files[`etc/app${String(i).padStart(3, '0')}.conf`] =
      i % 3 === 0 ? `db=10.0.10.48\n` : `db=localhost\n`
  return makeTree(files, 'cutover-progress-')
}

const CLEAR = '\r\u001b[K'

describe('progress and --verbose', () => {
  it('plan shows a progress line on a terminal: files scanned, matched, elapsed; then clears it', async () => {
    const dir = tree(30)
    const io = memoryIo({ cwd: dir, isTTY: true })
    expect(await run(['plan', '--root', '.'], io)).toBe(0)
    expect(io.err()).toMatch(
      new RegExp(
        `^(?:\\r\\u001b\\[Kscanning \\d+/30 files, \\d+ to change, \\d+\\.\\ds)+\\r\\u001b\\[K$`,
      ),
    )
    expect(io.err()).toMatch(/scanning 30\/30 files, 10 to change, \d+\.\ds\r\u001b\[K$/)
    expect(io.out()).not.toContain(CLEAR)
  })

  it('prints none of it without a terminal, with --quiet, or with --json', async () => {
    const dir = tree(6)
    for (const [argv, tty] of [
      [['plan', '--root', '.'], false],
      [['plan', '--root', '.', '--quiet'], true],
      [['plan', '--root', '.', '--json'], true],
    ] as const) {
      const io = memoryIo({ cwd: dir, isTTY: tty })
      expect(await run([...argv], io)).toBe(0)
      expect(io.err()).toBe('')
    }
    const piped = memoryIo({ cwd: dir, isTTY: true, stderrIsTTY: false })
    expect(await run(['plan', '--root', '.'], piped)).toBe(0)
    expect(piped.err()).toBe('')
  })

  it('apply shows staging and installing on a terminal, and --verbose names every file', async () => {
    const dir = tree(9)
    const io = memoryIo({ cwd: dir, isTTY: true })
    expect(await run(['apply', '--root', '.', '--yes', '--verbose'], io)).toBe(0)
    const err = io.err()
    expect(err).toMatch(/applying: staged 3\/3 files, \d+\.\ds/)
    expect(err).toMatch(/applying: installed 3\/3 files, \d+\.\ds\r\u001b\[K$/)
    const lines = err
      .split(/\n/)
      .map((l) => l.replace(/^[^]*\r\u001b\[K/, ''))
      .filter(Boolean)
    for (const f of ['etc/app000.conf', 'etc/app003.conf', 'etc/app006.conf']) {
      expect(lines).toContain(`${f}: changed`)
      expect(lines).toContain(`${f}: staged`)
      expect(lines).toContain(`${f}: installed`)
    }
    expect(lines).toContain('etc/app001.conf: skipped: holds nothing the steps look for')
    expect(lines).toContain('validated 3 staged file(s)')
  })

  it('apply takes fault injection from the environment it is given, not the process', async () => {
    const dir = tree(3)
    const io = memoryIo({ cwd: dir, env: { CUTOVER_FAULT_INJECT: 'staged:1=EIO' } })
    expect(await run(['apply', '--root', '.', '--yes'], io)).toBe(1)
    expect(io.err()).toBe('cutover: EIO: i/o error (injected at staged:1)\n')
    expect(readFileSync(join(dir, 'etc/app000.conf'), 'utf8')).toBe('db=10.0.10.48\n')
  })

  it('--verbose names the file that was staged, not the n-th of the plan (staging runs in parallel)', async () => {
    const dir = tree(9)
    // the first file carries 20 extended attributes: its staged copy gets them one setfattr
    // process each, so it is staged well after the others, which only wait for their fsync
    for (let a = 0; a < 20; a++)
      execFileSync('setfattr', ['-n', `user.a${a}`, '-v', 'kept', join(dir, 'etc/app000.conf')])
    const said: string[] = []
    const io = memoryIo({ cwd: dir })
    const write = io.stderr.write
    io.stderr.write = (s: string) => {
      const m = /^etc\/(app\d+\.conf): staged$/m.exec(s)
      if (m) {
        // a file said staged is staged: its copy beside it has every attribute already
        const temp = readdirSync(join(dir, 'etc')).find((n) => n.startsWith(`.${m[1]}.cutover-`))
        const attrs = execFileSync('getfattr', ['-d', join(dir, 'etc', temp!)], {
          encoding: 'utf8',
        })
        const copied = attrs.split('\n').filter((l) => l.startsWith('user.a')).length
        said.push(
          `${m[1]}${m[1] === 'app000.conf' && copied < 20 ? ` (${copied}/20 attributes)` : ''}`,
        )
      }
      return write(s)
    }
    expect(await run(['apply', '--root', '.', '--yes', '--verbose'], io)).toBe(0)
    expect(said.sort()).toEqual(['app000.conf', 'app003.conf', 'app006.conf'])
  })

  it('verify --verbose lists every file considered and why, without a terminal too', async () => {
    const dir = tree(4)
    const io = memoryIo({ cwd: dir })
    expect(await run(['verify', '--root', '.', '--verbose'], io)).toBe(1)
    expect(
      io
        .err()
        .split('\n')
        .filter((l) => l.startsWith('etc/'))
        .sort(),
    ).toEqual([
      'etc/app000.conf: changed',
      'etc/app001.conf: skipped: holds nothing the steps look for',
      'etc/app002.conf: skipped: holds nothing the steps look for',
      'etc/app003.conf: changed',
    ])
    expect(io.err()).not.toContain(CLEAR)
  })

  it('init shows its scan on a terminal', async () => {
    const dir = tree(5)
    const io = memoryIo({ cwd: dir, isTTY: true })
    expect(await run(['init', '--root', '.', '--spec', 'new.yaml', '--files', 'etc/**'], io)).toBe(
      0,
    )
    expect(io.err()).toMatch(/scanning 5\/5 files, 2 with addresses, \d+\.\ds\r\u001b\[K$/)
  })
})
