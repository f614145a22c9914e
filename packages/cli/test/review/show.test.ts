import { chownSync, cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { makeTree, snapshot } from '../tree.js'
import { at, cliIn as cli, ENV, hashOf, NEW, OLD, SECRET, tree } from './kit.js'

const NOBODY = 65534

// `cutover show PLAN.json`: a saved plan rendered later, with the hash of the file's bytes.
describe('show PLAN.json', () => {
  async function saved(): Promise<string> {
    const dir = tree()
    expect((await cli(dir, ['plan', '--root', 'root', '--out', 'plan.json'])).code).toBe(0)
    return dir
  }

  it('renders the saved plan as Markdown with the hash of its file and how to apply exactly it', async () => {
    const dir = await saved()
    const hash = hashOf(at(dir, 'plan.json'))
    const r = await cli(dir, ['show', 'plan.json'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^# /)
    expect(r.out).toContain(hash)
    expect(r.out).toContain(`cutover apply plan.json --expect ${hash}`)
    expect(r.out).toContain('var/www/app/config')
    expect(r.out).toContain(`+db = ${NEW}`)
    expect(r.out).not.toContain(SECRET)
    // what it shows is the file: applying it with that hash works
    const applied = await cli(dir, ['apply', 'plan.json', '--expect', hash])
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
  })

  it('shows a plan another user saved (it applies nothing), and writes HTML to --out', async () => {
    const dir = await saved()
    chownSync(at(dir, 'plan.json'), NOBODY, NOBODY)
    const r = await cli(dir, ['show', 'plan.json', '--format', 'html', '--out', 'review.html'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toBe('Review written to review.html\n')
    const html = readFileSync(at(dir, 'review.html'), 'utf8')
    expect(html).toMatch(/^<!doctype html>/i)
    expect(html).toContain(hashOf(at(dir, 'plan.json')))
    expect(statSync(at(dir, 'review.html')).mode & 0o022).toBe(0)
  })

  it('refuses an HTML page to a terminal without --out', async () => {
    const dir = await saved()
    const io = memoryIo({ cwd: dir, env: ENV, isTTY: true })
    expect(await run(['show', 'plan.json', '--format', 'html'], io)).toBe(1)
    expect(io.err()).toBe('cutover: --format html writes a page: give --out FILE\n')
    expect(io.out()).toBe('')
  })

  // the review is made from the document, never from the plan in memory: made at plan time or
  // later from the saved file, it is the same review, byte for byte
  it('gives the review plan gave when it saved the plan, in both formats: one root, and a fleet with copied and exchanged files', async () => {
    const mentat = makeTree({})
    cpSync(resolve(import.meta.dirname, '../../../../examples/mentat'), join(mentat, 'mentat'), {
      recursive: true,
    })
    const cases: Array<[string, string[]]> = [
      [tree(), ['--root', 'root']],
      [join(mentat, 'mentat'), ['--profile', 'live']],
    ]
    for (const [dir, args] of cases) {
      const md = await cli(dir, ['plan', ...args, '--format', 'markdown', '--save', 'md.json'])
      expect(md.code, md.err).toBe(0)
      expect(md.out).toContain(hashOf(at(dir, 'md.json')))
      expect((await cli(dir, ['show', 'md.json'])).out).toBe(md.out)
      const page = await cli(dir, [
        'plan',
        ...args,
        ...['--format', 'html', '--out', 'plan.html', '--save', 'html.json'],
      ])
      expect(page.code, page.err).toBe(0)
      expect(
        (await cli(dir, ['show', 'html.json', '--format', 'html', '--out', 'show.html'])).code,
      ).toBe(0)
      const html = readFileSync(at(dir, 'plan.html'), 'utf8')
      expect(html).toContain(hashOf(at(dir, 'html.json')))
      expect(readFileSync(at(dir, 'show.html'), 'utf8')).toBe(html)
    }
  })

  it('shows the plan of a fleet, each file under its machine', async () => {
    const dir = makeTree({
      'cutover.yaml': [
        'version: 1',
        'machines:',
        '  alpha: { root: ./alpha }',
        '  beta: { root: ./beta }',
        'hosts:',
        `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
        'steps:',
        '  - text: { files: ["etc/*.conf"], addresses: new }',
        '',
      ].join('\n'),
      'alpha/etc/app.conf': `db = ${OLD}\n`,
      'beta/etc/app.conf': `db = ${OLD}\n`,
    })
    const p = await cli(dir, ['plan', '--out', 'plan.json'])
    expect(p.err).toBe('')
    expect(p.code).toBe(0)
    const r = await cli(dir, ['show', 'plan.json'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('alpha:etc/app.conf')
    expect(r.out).toContain('beta:etc/app.conf')
    expect(r.out).toContain(hashOf(at(dir, 'plan.json')))
  })

  it('refuses what is not a saved plan, a missing file and bad flags: exit 1, nothing written', async () => {
    const dir = await saved()
    writeFileSync(at(dir, 'notes.json'), '{"version": 2}')
    writeFileSync(at(dir, 'text.json'), 'hello')
    mkdirSync(at(dir, 'adir'))
    const before = snapshot(dir)
    for (const [args, message] of [
      [['show', 'notes.json'], 'notes.json: not a cutover plan'],
      [['show', 'text.json'], 'text.json: not a cutover plan'],
      [['show', 'gone.json'], 'cannot read the plan gone.json'],
      [['show', 'adir'], 'cannot read the plan adir'],
      [['show'], "missing required argument 'plan'"],
      [['show', 'plan.json', '--format', 'text'], "argument 'text' is invalid"],
      [
        ['show', 'plan.json', '--format', 'html', '--max-bytes', '100'],
        '--max-bytes is for --format markdown',
      ],
      [['show', 'plan.json', '--max-bytes', '10', '--out', 'r.md'], 'the review needs at least'],
      [
        ['show', 'plan.json', '--out', './plan.json'],
        '--out names the plan shown, plan.json: the review would replace it',
      ],
    ] as Array<[string[], string]>) {
      const r = await cli(dir, args)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.err, args.join(' ')).toContain(message)
      expect(r.err).not.toMatch(/\n\s+at /)
    }
    expect(snapshot(dir)).toEqual(before)
  })
})
