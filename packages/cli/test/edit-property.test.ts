import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  iniStep,
  jsonStep,
  jsStep,
  parseIni,
  parseJs,
  parseJson,
  phpLint,
  phpStep,
} from '@cutover/formats'
import { hostsStep, parseHosts } from '@cutover/hosts'
import {
  applyEdits,
  decodeText,
  EditConflictError,
  textStep,
  type Edit,
  type StepKind,
} from '@cutover/rewrite'
import { splitSql, sqlStep } from '@cutover/sqlfn'
import { parseSudoers, sudoersStep } from '@cutover/sudoers'
import { corpusPath, expectValidStepEdits, financeContext, need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// The contract of `Edit` and `applyEdits`, in the manner of magic-string's tests: random edits
// against a naive splice, overlaps refused naming both rules, and the output of every step kind
// (on corpus files and samples) in bounds, without overlap, re-read cleanly, and a fixed point.
// It lives with the CLI's tests because the CLI is the one package that sees every step kind.

/** A text cut into pieces, each kept or replaced: the source, the expected result and the edits. */
const pieces = fc.array(
  fc.record({
    kept: fc.string({ maxLength: 6 }),
    edit: fc.option(
      fc.record({ old: fc.string({ maxLength: 6 }), text: fc.string({ maxLength: 6 }) }),
    ),
  }),
  { maxLength: 12 },
)

const layout = pieces.map((parts) => {
  let source = ''
  let expected = ''
  const edits: Edit[] = []
  for (const [i, p] of parts.entries()) {
    source += p.kept
    expected += p.kept
    if (!p.edit) continue
    edits.push({
      start: source.length,
      end: source.length + p.edit.old.length,
      text: p.edit.text,
      rule: `r${i}`,
    })
    source += p.edit.old
    expected += p.edit.text
  }
  return { source, expected, edits }
})

/** Applies edits one at a time from the last to the first: the obvious way, for comparison. */
function naiveSplice(source: string, edits: readonly Edit[]): string {
  let out = source
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.text + out.slice(e.end)
  return out
}

/** Two edits that start at one offset where one is an insertion: their order is the caller's. */
const tied = (edits: readonly Edit[]) =>
  edits.some((a, i) => edits.some((b, j) => i !== j && a.start === b.start && a.start === a.end))

describe('Edit: random edits', () => {
  it('non-overlapping edits, in any order, apply like a naive splice and keep every other byte', () => {
    fc.assert(
      fc.property(
        layout.filter(({ edits }) => !tied(edits)),
        fc.nat(),
        ({ source, expected, edits }, seed) => {
          const shuffled = [...edits].sort(
            (a, b) => ((a.start * 31 + seed) % 7) - ((b.start * 31 + seed) % 7),
          )
          expect(applyEdits(source, shuffled)).toBe(expected)
          expect(naiveSplice(source, edits)).toBe(expected)
        },
      ),
    )
  })

  it('an edit overlapping another throws an EditConflictError naming both rules', () => {
    fc.assert(
      fc.property(
        layout.filter(({ edits }) => edits.some((e) => e.end > e.start)),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        ({ source, edits }, which, a, b) => {
          const spans = edits.filter((e) => e.end > e.start)
          const victim = spans[which % spans.length]!
          const width = victim.end - victim.start
          const start = victim.start + (a % width)
          const end = start + 1 + (b % (victim.end - start))
          const intruder: Edit = { start, end, text: 'x', rule: 'intruder' }
          let thrown: unknown
          try {
            applyEdits(source, [...edits, intruder])
          } catch (e) {
            thrown = e
          }
          expect(thrown).toBeInstanceOf(EditConflictError)
          const message = (thrown as Error).message
          expect(message).toContain(`"${victim.rule}"`)
          expect(message).toContain('"intruder"')
        },
      ),
    )
  })

  it('two rules inserting the same text at one offset throw naming both', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 4 }),
        (source, at, text) => {
          const offset = at % (source.length + 1)
          const insert = (rule: string): Edit => ({ start: offset, end: offset, text, rule })
          expect(() => applyEdits(source, [insert('first'), insert('second')])).toThrow(
            /rules "first" and "second" both insert the same text/,
          )
        },
      ),
    )
  })

  it('an edit outside the text throws naming its rule', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.integer({ min: 1, max: 5 }), (source, past) => {
        const e: Edit = { start: 0, end: source.length + past, text: '', rule: 'too-far' }
        expect(() => applyEdits(source, [e])).toThrow(EditConflictError)
        expect(() => applyEdits(source, [e])).toThrow(/rule "too-far"/)
      }),
    )
  })
})

// Every step kind's output. The inputs are corpus files (and samples for the kinds without a
// corpus folder) in which fast-check puts the finance address at some of the places a local host
// is named, so that each kind has something to rewrite.

const OLD = '10.0.10.48'
const LOCAL = /localhost|127\.0\.0\.1/g

/** `text` with the occurrences of a local host picked by `mask` replaced by the old finance address. */
function withOld(text: string, mask: readonly boolean[]): string {
  let i = 0
  return text.replace(LOCAL, (m) => (mask[i++ % Math.max(1, mask.length)] ? OLD : m))
}

/** The files of a corpus folder and its subfolders, up to `max` characters each (the largest SQL dumps are slow to plan many times). */
function corpus(folder: string, max = 200_000): Array<{ path: string; text: string }> {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
  return walk(corpusPath(folder))
    .map((f) => ({ path: relative(corpusPath(), f), text: decodeText(readFileSync(f)).text }))
    .filter((f) => f.text.length <= max)
}

/** The finance example's schema dump, whose functions name the old finance address. */
const FINANCE_SQL = {
  path: 'backup/finance-schema.sql',
  text: readFileSync(
    join(
      import.meta.dirname,
      '../../../examples/finance/machines/finance/backup/finance-schema.sql',
    ),
    'utf8',
  ),
}

const none = () => []

/** php -l's verdict on a text as a list of at most one problem (empty when php is missing). */
async function phpProblems(text: string): Promise<string[]> {
  const dir = tempDir('cutover-prop-')
  try {
    const file = join(dir, 'x.php')
    writeFileSync(file, text)
    const message = await phpLint.run(file, 'x.php')
    return message === undefined ? [] : [message]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const JS_SAMPLES = [
  `module.exports = { db: { host: 'localhost', port: 5432 } }\n`,
  `const url = "postgres://app@127.0.0.1/finance"\nexport default { url, backup: \`127.0.0.1\` }\n`,
  `// broker on localhost\nexport const amqp = { hosts: ['localhost', "127.0.0.1"] }\n`,
]

interface Kind {
  step: StepKind<any>
  options: object
  inputs: Array<{ path: string; text: string }>
  problems: (text: string, path: string) => readonly unknown[] | Promise<readonly unknown[]>
}

const kinds: Record<string, () => Kind> = {
  text: () => ({
    step: textStep,
    options: { files: ['**'], addresses: 'new' },
    inputs: [...corpus('interfaces'), ...corpus('hosts')],
    problems: none,
  }),
  php: () => ({
    step: phpStep,
    options: { files: ['**'], addresses: 'names' },
    inputs: corpus('php'),
    problems: (t) => (need('php') ? phpProblems(t) : []),
  }),
  ini: () => ({
    step: iniStep,
    options: { files: ['**'], addresses: 'new' },
    inputs: corpus('ini'),
    problems: (t) => parseIni(t).lines.filter((l) => l.kind === 'other'),
  }),
  json: () => ({
    step: jsonStep,
    options: { files: ['**'], addresses: 'names' },
    inputs: corpus('json'),
    problems: async (t) => (await parseJson(t)).errors,
  }),
  js: () => ({
    step: jsStep,
    options: { files: ['**'], addresses: 'names' },
    inputs: JS_SAMPLES.map((text, i) => ({ path: `app${i}.js`, text })),
    problems: async (t, path) => (await parseJs(t, path)).errors,
  }),
  hosts: () => ({
    step: hostsStep,
    options: { files: ['**'], ensure: 'new' },
    inputs: corpus('hosts'),
    problems: (t) => parseHosts(t).errors,
  }),
  sudoers: () => ({
    step: sudoersStep,
    options: { files: ['**'], rules: ['www-data ALL = (postgres) NOPASSWD: /usr/bin/true'] },
    inputs: corpus('sudoers'),
    problems: (t) => parseSudoers(t).errors,
  }),
  sql: () => ({
    step: sqlStep,
    options: { files: ['**'], addresses: 'names' },
    inputs: [FINANCE_SQL, ...corpus('sql', 100_000)],
    problems: (t) => splitSql(t).diagnostics,
  }),
}

describe("every step kind's edits", () => {
  for (const [name, make] of Object.entries(kinds)) {
    it(`${name}: in bounds, no overlap, a clean re-read, and nothing more to do on a second run`, async () => {
      const kind = make()
      expect(kind.inputs.length).toBeGreaterThan(0)
      const ctx = financeContext()
      const editable = kind.inputs.filter((f) => f.text.includes(OLD) || f.text.match(LOCAL))
      let edited = 0
      await fc.assert(
        fc.asyncProperty(
          // half of the runs on a file that names a host to rewrite, so that runs make edits
          fc.oneof(
            fc.constantFrom(...(editable.length ? editable : kind.inputs)),
            fc.constantFrom(...kind.inputs),
          ),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
          async (input, mask) => {
            const file = { path: input.path, text: withOld(input.text, mask) }
            const out = await expectValidStepEdits(
              kind.step,
              file,
              kind.options,
              ctx,
              kind.problems,
            )
            if (out !== file.text) edited++
          },
        ),
        { numRuns: name === 'php' || name === 'sql' ? 15 : 30 },
      )
      // the property is about edits: some of the runs must have made some
      expect(edited).toBeGreaterThan(0)
    })
  }
})
