import { spawnSync } from 'node:child_process'
import { lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { snapshot } from '../tree.js'
import { at, BIN, cli, ENV, hashOf, OLD, SECRET, savedLine, tree } from './kit.js'

// `cutover plan --format markdown|html`: the review to share, rendered from the plan document,
// with the hash of the plan saved by --save; --out is the review's file.
describe('plan --format markdown|html', () => {
  it('writes the review to --out (0644 less the umask) and the plan to --save, the review naming its hash', () => {
    const dir = tree()
    // run under umask 027: the review is the page's mode less it
    const r = spawnSync(
      '/bin/sh',
      [
        '-c',
        `umask 027 && exec "$0" "$@"`,
        process.execPath,
        BIN,
        'plan',
        '--root',
        'root',
        '--format',
        'markdown',
        '--out',
        'review.md',
        '--save',
        'plan.json',
      ],
      { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, ...ENV } },
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const hash = hashOf(at(dir, 'plan.json'))
    expect(r.stdout).toBe(`Review written to review.md\n${savedLine('plan.json', hash)}`)
    expect(statSync(at(dir, 'review.md')).mode & 0o777).toBe(0o640)
    expect(statSync(at(dir, 'plan.json')).mode & 0o777).toBe(0o600)
    const md = readFileSync(at(dir, 'review.md'), 'utf8')
    expect(md).toContain(hash)
    expect(md).toContain(`cutover apply plan.json --expect ${hash}`)
    expect(md).toContain('etc/app.conf')
    expect(md).toContain(`-db = ${OLD}`)
    expect(md).not.toContain(SECRET)
    expect(md).not.toContain('old-pw')
  })

  it('prints Markdown alone on stdout, the saved line on stderr', () => {
    const dir = tree()
    const r = cli(dir, ['plan', '--root', 'root', '--format', 'markdown', '--save', 'plan.json'])
    expect(r.code).toBe(0)
    const hash = hashOf(at(dir, 'plan.json'))
    expect(r.err).toBe(savedLine('plan.json', hash))
    expect(r.out).toMatch(/^# /)
    expect(r.out).toContain(hash)
    expect(r.out).not.toContain('Plan saved to')
  })

  it('unsaved, the review still has the plan hash; --max-bytes keeps it under the limit', () => {
    const big = Array.from({ length: 400 }, (_, i) => `upstream${i} = ${OLD}:${8000 + i}\n`).join(
      '',
    )
    const dir = tree()
    writeFileSync(at(dir, 'root/etc/big.conf'), big)
    const full = cli(dir, ['plan', '--root', 'root', '--format', 'markdown'])
    expect(full.code).toBe(0)
    expect(full.out).toMatch(/sha256:[0-9a-f]{64}/)
    expect(Buffer.byteLength(full.out)).toBeGreaterThan(12_000)
    const cut = cli(dir, ['plan', '--root', 'root', '--format', 'markdown', '--max-bytes', '6000'])
    expect(cut.code).toBe(0)
    expect(Buffer.byteLength(cut.out)).toBeLessThanOrEqual(6000)
    expect(cut.out).toContain('etc/big.conf')
  })

  it('writes one HTML page to --out, replacing a link there without following it', () => {
    const dir = tree()
    writeFileSync(at(dir, 'victim'), 'keep me\n')
    symlinkSync(at(dir, 'victim'), at(dir, 'review.html'))
    const r = cli(dir, [
      'plan',
      '--root',
      'root',
      '--format',
      'html',
      '--out',
      'review.html',
      '--save',
      'plan.json',
    ])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(readFileSync(at(dir, 'victim'), 'utf8')).toBe('keep me\n')
    expect(lstatSync(at(dir, 'review.html')).isFile()).toBe(true)
    const html = readFileSync(at(dir, 'review.html'), 'utf8')
    expect(html).toMatch(/^<!doctype html>/i)
    expect(html).toContain(hashOf(at(dir, 'plan.json')))
    expect(html).not.toContain(SECRET)
  })

  it('refuses an HTML page to a terminal: it is a file to open', async () => {
    const dir = tree()
    const io = memoryIo({ cwd: dir, env: ENV, isTTY: true })
    const code = await run(
      ['plan', '--root', 'root', '--format', 'html', '--save', 'plan.json'],
      io,
    )
    expect(code).toBe(1)
    expect(io.err()).toBe('cutover: --format html writes a page: give --out FILE\n')
    expect(io.out()).toBe('')
    // not to a terminal, the page is what stdout carries
    const piped = cli(dir, ['plan', '--root', 'root', '--format', 'html'])
    expect(piped.code).toBe(0)
    expect(piped.out).toMatch(/^<!doctype html>/i)
  })
})

describe('plan --format markdown|html: usage errors, nothing planned or written', () => {
  const refused: Array<[string[], string]> = [
    [['--format', 'markdown', '--max-bytes', '10'], 'the review needs at least'],
    [
      ['--format', 'markdown', '--max-bytes', 'lots'],
      '--max-bytes takes a number of bytes such as 60000, got "lots"',
    ],
    [['--format', 'markdown', '--max-bytes', '0'], '--max-bytes takes a number of bytes'],
    [['--max-bytes', '60000'], '--max-bytes is for --format markdown'],
    [
      ['--format', 'html', '--out', 'r.html', '--max-bytes', '60000'],
      '--max-bytes is for --format markdown',
    ],
    [['--json', '--max-bytes', '60000'], '--max-bytes is for --format markdown'],
    [['--json', '--format', 'markdown'], '--json is --format json'],
    [['--format', 'markdown', '--show-sensitive'], '--show-sensitive shows the review only'],
    [
      ['--format', 'html', '--out', 'r.html', '--save', 'r.html'],
      '--out and --save both name r.html: --out is the html review, --save the plan',
    ],
    // a file that cannot be written: neither the plan nor the review is left behind
    [['--format', 'markdown', '--out', 'nodir/r.md'], 'cannot write'],
    [['--format', 'html', '--out', 'r.html', '--save', 'nodir/plan.json'], 'cannot write'],
  ]
  for (const [flags, message] of refused)
    it(flags.join(' '), () => {
      const dir = tree()
      const before = snapshot(dir)
      // --save: a review that cannot be made leaves no plan behind either
      const r = cli(dir, ['plan', '--root', 'root', '--save', 'plan.json', ...flags])
      expect(r.code).toBe(1)
      expect(r.out).toBe('')
      expect(r.err).toContain(message)
      expect(r.err).not.toMatch(/\n\s+at /)
      expect(snapshot(dir)).toEqual(before)
    })
})
