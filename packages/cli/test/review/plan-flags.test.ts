import { readFileSync, statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { snapshot } from '../tree.js'
import { at, cliIn, hashOf, SECRET, savedLine, tree } from './kit.js'

// `cutover plan`'s saved line names the plan's hash, `--save` saves with any format, and the
// flags that contradict each other are usage errors before anything is planned.
describe('plan --out and --save', () => {
  it('says the saved file and its hash, sha256 of its bytes, and how to apply exactly it', async () => {
    const dir = tree()
    const r = await cliIn(dir, ['plan', '--root', 'root', '--out', 'plan.json'])
    expect(r.code).toBe(0)
    const hash = hashOf(at(dir, 'plan.json'))
    expect(r.out.endsWith(`Leftovers: none\n${savedLine('plan.json', hash)}`)).toBe(true)
    expect(r.out).not.toContain(SECRET)
    expect(statSync(at(dir, 'plan.json')).mode & 0o777).toBe(0o600)
  })

  it('the command of the saved line is one the shell runs as it reads: the name quoted when it needs it', async () => {
    const dir = tree()
    const v = await cliIn(dir, ['plan', '--root', 'root', '--save', "it's my plan.json"])
    expect(v.code).toBe(0)
    const hash = hashOf(at(dir, "it's my plan.json"))
    expect(v.out).toContain(
      `Plan saved to it's my plan.json, ${hash} (apply exactly it with: cutover apply 'it'\\''s my plan.json' --expect ${hash})\n`,
    )
  })

  it('--save is what --out does with the text format; both save the one plan, each said', async () => {
    const dir = tree()
    const r = await cliIn(dir, ['plan', '--root', 'root', '--out', 'a.json', '--save', 'b.json'])
    expect(r.code).toBe(0)
    const a = readFileSync(at(dir, 'a.json'))
    expect(readFileSync(at(dir, 'b.json'))).toEqual(a)
    const hash = hashOf(at(dir, 'a.json'))
    expect(r.out).toContain(savedLine('a.json', hash) + savedLine('b.json', hash))
  })

  it('--json prints the document alone, byte for byte what --save wrote, so its sha256 is the hash', async () => {
    const dir = tree()
    const r = await cliIn(dir, ['plan', '--root', 'root', '--json', '--save', 'plan.json'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toBe(readFileSync(at(dir, 'plan.json'), 'utf8'))
    expect(r.out).toBe(JSON.stringify(JSON.parse(r.out), null, 2) + '\n')
    // --format json is --json
    const f = await cliIn(dir, ['plan', '--root', 'root', '--format', 'json'])
    expect(f.code).toBe(0)
    expect(Object.keys(JSON.parse(f.out) as object)).toEqual(
      Object.keys(JSON.parse(r.out) as object),
    )
  })

  it('--quiet prints no saved line', async () => {
    const dir = tree()
    const r = await cliIn(dir, ['plan', '--root', 'root', '--quiet', '--save', 'plan.json'])
    expect(r.code).toBe(0)
    expect(r.out).toBe('')
    expect(JSON.parse(readFileSync(at(dir, 'plan.json'), 'utf8'))).toMatchObject({ version: 1 })
  })
})

describe('plan: flags that contradict each other are usage errors, nothing planned or written', () => {
  const refused: Array<[string[], string]> = [
    [
      ['--json', '--format', 'text'],
      '--json is --format json: it cannot be combined with --format text',
    ],
    [['--out', 'p.json', '--save', './p.json'], '--out and --save both name p.json'],
    [['--show-sensitive', '--save', 'p.json'], '--show-sensitive shows the review only'],
    [['--show-sensitive', '--format', 'json'], '--show-sensitive shows the review only'],
    [['--format', 'yaml'], "argument 'yaml' is invalid"],
  ]
  for (const [flags, message] of refused)
    it(flags.join(' '), async () => {
      const dir = tree()
      const before = snapshot(dir)
      const r = await cliIn(dir, ['plan', '--root', 'root', ...flags])
      expect(r.code).toBe(1)
      expect(r.out).toBe('')
      expect(r.err).toContain(message)
      expect(r.err).not.toMatch(/\n\s+at /)
      expect(snapshot(dir)).toEqual(before)
    })
})

describe('plan --help', () => {
  it('says what --out does per format and where --show-sensitive is refused', async () => {
    const r = await cliIn(tree(), ['plan', '--help'])
    expect(r.code).toBe(0)
    // read as one line: the help wraps its columns
    const help = r.out.replace(/\s+/g, ' ')
    expect(help).toContain(
      'with text or json: save the plan (mode 0600) for `cutover apply PLAN` (text says its hash); with markdown or html: write the review there',
    )
    expect(help).toContain('not with --out, --save, --json or --format markdown|html)')
  })
})
