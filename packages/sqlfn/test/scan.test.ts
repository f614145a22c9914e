import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { decodeText, type Context } from '@cutover/rewrite'
import { corpusPath, financeContext } from '@cutover/test-kit'
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { lexSql, loadLexer, planSql, readLiteral, splitSql, type SqlOptions } from '../src/index.js'
import { readFunction, routineName } from '../src/functions.js'
import { functionValues } from '../src/rewrite.js'
import { scanSql } from '../src/scan.js'
import { pieceHead } from '../src/split.js'
// @ts-expect-error: the bench's generator is plain JavaScript without types
import { generateDump } from '../../../bench/lib/dump.mjs'
import { tempDir } from '@cutover/test-kit/temp'

beforeAll(async () => {
  await loadLexer()
})

afterEach(() => {
  delete process.env.CUTOVER_SQL_SCANNER
})

type Lexed = Array<{ kind: string; start: number; end: number; text: string }> | 'rejected'

/** PostgreSQL's lexer on `text`: its tokens (string and comment ones unless `all`), or `rejected`. */
function slow(text: string, all = false): Lexed {
  try {
    return lexSql(text).filter((t) => all || t.kind === 'string' || t.kind === 'comment')
  } catch {
    return 'rejected'
  }
}

/** The scanner agrees with PostgreSQL's lexer, or abstains; true when it answered. */
function agrees(text: string, all = false): boolean {
  const fast = scanSql(text, 0, all)
  if (!fast) return false
  const want = slow(text, all)
  expect(want, JSON.stringify(text)).not.toBe('rejected')
  expect(fast, JSON.stringify(text)).toEqual(want)
  // what the rewrite reads of a string: its decoded value and where each character comes from
  for (const t of fast.filter((x) => x.kind === 'string')) {
    const lit = readLiteral(t.text, t.start)
    if (!lit) continue
    const at = Array.from({ length: lit.value.length + 1 }, (_, i) => lit.at(i))
    expect(at.every((o) => o >= t.start && o <= t.end)).toBe(true)
  }
  return true
}

// well-formed pieces: what function bodies and INSERTs are made of
const PLAIN = [
  "'it''s'",
  "'host=10.0.10.48 dbname=finance'",
  "'oas.staff'",
  "E'a\\'b'",
  "e'\\\\'",
  "E'tab\\tx'",
  "'a\\b'",
  "'back\\'",
  '$$ x $$',
  '$a$ y $ $b$ z $a$',
  '$_$ q $_$',
  '$1',
  'a$b',
  '"quoted"',
  '"a""b"',
  '-- note\n',
  '/* c /* nested */ c */',
  '/* a */',
  'SELECT',
  'x',
  'ab',
  'E',
  'é',
  '😀',
  '10.0.10.48',
  '1..10',
  '42',
  '1.5',
  ':=',
  '::',
  '||',
  '(',
  ')',
  ',',
  ';',
  '=',
  '<>',
  '*/',
  ' ',
  '\t',
  '\n',
  '\r\n',
]
// what the scanner must leave to PostgreSQL's lexer, and raw pieces of quotes and comments
const ROUGH = [
  "U&'d\\0061t'",
  "UESCAPE '!'",
  "N'x'",
  "B'101'",
  "X'1F'",
  "E'\\x31'",
  "E'\\061'",
  "E'\\u0041'",
  "'",
  '"',
  '$',
  '$a$',
  '$$',
  '--',
  '/*',
  '\\',
  "\\'",
  '\\\\',
  '\\x31',
  'E',
  'e',
  "E'",
  '1e5',
  '0x1F',
  '1_000',
  '""',
  '\0',
  '\ud83d',
  '\x01',
  '\x1b',
  '\v',
  '\f',
  "E'a' -- c\n'",
  "'x'\n-- y\n'",
  "\\' x'",
]

const soup = (pieces: string[], sep = '') =>
  fc.array(fc.constantFrom(...pieces), { maxLength: 30 }).map((p) => p.join(sep))

describe('scanSql against PostgreSQL’s lexer', () => {
  it('gives the string and comment tokens PostgreSQL’s lexer gives, or abstains (property)', () => {
    fc.assert(
      fc.property(soup([...PLAIN, ...ROUGH]), (text) => {
        agrees(text)
      }),
      { numRuns: 2000 },
    )
  })

  it('gives every token of a function head as PostgreSQL’s lexer does, or abstains (property)', () => {
    fc.assert(
      fc.property(soup([...PLAIN, ...ROUGH]), (text) => {
        agrees(text, true)
      }),
      { numRuns: 2000 },
    )
  })

  it('abstains on few well-formed soups, so it cannot pass by abstaining', () => {
    let lexed = 0
    let answered = 0
    fc.assert(
      // tokens apart: run together, a word and a quote or a parameter and a word (`x'…'`, `$1x`)
      // are what the scanner rightly leaves to the lexer
      fc.property(soup(PLAIN, ' '), (text) => {
        if (slow(text) === 'rejected') return
        lexed++
        if (agrees(text)) answered++
      }),
      { numRuns: 1000 },
    )
    expect(lexed).toBeGreaterThan(500)
    expect(answered / lexed).toBeGreaterThan(0.98)
  })

  it('joins continued strings as PostgreSQL does, keeping an E string’s escapes', () => {
    for (const text of [
      "SELECT 'host=10.0.10.'\n'48'",
      "SELECT 'a' -- note\n  -- more\n  'b', 'c'",
      "E'a'\n'\\'b'",
      "'a'  'b'",
      "'a' /* c */\n'b'",
    ])
      expect(agrees(text), text).toBe(true)
    expect(scanSql("E'a'\n'\\'b'")).toEqual([
      { kind: 'string', start: 0, end: 10, text: "E'a'\n'\\'b'" },
    ])
  })

  it('ends or continues a string after every kind of gap as PostgreSQL’s lexer does', () => {
    // the first character after a closing quote decides whether a continuation is looked for:
    // each one that may open the gap (a blank, `--`, a line break) and some that may not
    const gaps = [
      ' ',
      '\t',
      '\n',
      '\r',
      '\r\n',
      ' \n',
      '\t\n',
      '\t\r\n',
      ' \r',
      '-- c\n',
      ' -- c\n',
    ]
    const ends = ['', ',', ')', ';', '-\n', ' - \n', '/**/\n', '\n\n', '\n \t\n', '\r\r']
    let answered = 0
    for (const pre of ["'a'", "'it''s'", "E'a'", "E'\\\\'"])
      for (const gap of [...gaps, ...ends]) {
        const text = `SELECT ${pre}${gap}'b'`
        if (agrees(text)) answered++
      }
    // only an E string continued after a comment is left to the lexer
    expect(answered).toBe(4 * (gaps.length + ends.length) - 2 * 2)
  })

  it('abstains on what PostgreSQL’s lexer rejects or reads otherwise', () => {
    for (const text of [
      "'open",
      '/* open',
      '$a$ open',
      '""',
      '1abc',
      "E'\\xff'",
      "E'\\u00'",
      "U&'x'",
      "b'1'",
      "n'x'",
      "x'1f'",
      '',
      'a\0b',
    ])
      expect(scanSql(text), text).toBeUndefined()
    expect(scanSql('a := 1 + 2', 0, true)).toBeUndefined()
  })

  it('abstains where libpg-query’s scanner fails or splits: control characters, an E string continued after a comment', () => {
    for (const text of [
      "'a\x01b'",
      '-- a\x1b[0m',
      '$$\f$$',
      "'a'\n\v'b'",
      "E'a' -- c\n'\\' x' -- '",
      "E'a'\n-- c\n'b'",
    ]) {
      expect(scanSql(text), JSON.stringify(text)).toBeUndefined()
      expect(scanSql(text, 0, true), JSON.stringify(text)).toBeUndefined()
    }
    // the lexer reads `'\'` as a whole string there, and the rest as code
    expect(slow("E'a' -- c\n'\\' x' -- '")).not.toBe('rejected')
    expect(slow("'a\x01b'")).toBe('rejected')
  })
})

const corpus = corpusPath('sql')
const files = readdirSync(corpus).filter((f) => f.endsWith('.sql'))

describe('a dollar-quoted function body', () => {
  const values = (definition: string) => {
    const fn = readFunction(definition, 0, definition.length, { schema: 'public', name: 'f' })
    const out = { edits: [], diagnostics: [], values: [], comments: [] }
    return { plain: fn.plain, values: functionValues(fn, out).map((v) => [v.value, v.start]) }
  }
  const lexed = (definition: string) => {
    process.env.CUTOVER_SQL_SCANNER = 'off'
    const v = values(definition).values
    delete process.env.CUTOVER_SQL_SCANNER
    return v
  }

  it('is read as a part of its statement: looked at again for what the scanner leaves to the lexer only when the statement was not plain', () => {
    const plain = `CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM 'a', $q$b$q$; END $$;`
    expect(values(plain)).toEqual({ plain: true, values: lexed(plain) })
    expect(values(plain).values).toEqual([
      ['a', 77],
      ['b', 82],
    ])
    // U& in the head: the statement is not plain, and the U& string of the body is the lexer's
    const unicode = `CREATE FUNCTION public.f(a text DEFAULT U&'\\0041') RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM U&'\\0042', 'c'; END $$;`
    expect(values(unicode)).toEqual({ plain: false, values: lexed(unicode) })
    expect(values(unicode).values.map(([v]) => v)).toEqual(['B', 'c'])
  })
})

describe('scanSql on the corpus', () => {
  it('agrees with PostgreSQL’s lexer on every statement and function body of the corpus', () => {
    let statements = 0
    let answered = 0
    for (const f of files) {
      const { text } = decodeText(readFileSync(join(corpus, f)))
      for (const p of splitSql(text).pieces) {
        if (p.kind !== 'sql') continue
        const stmt = text.slice(p.codeStart, p.end)
        statements++
        if (agrees(stmt)) answered++
        agrees(stmt, true)
        const name = routineName(text, p.codeStart, p.end, pieceHead(text, p))
        if (!name) continue
        let body
        try {
          body = readFunction(text, p.codeStart, p.end, name).body
        } catch {
          continue
        }
        if (body?.form === 'dollar') agrees(body.value)
      }
    }
    expect(statements).toBeGreaterThan(4000)
    expect(answered / statements).toBeGreaterThan(0.95)
  })

  const ctx: Context = financeContext()
  // needles common in the corpus, so that many of its statements are read and rewritten
  const options: SqlOptions = {
    files: ['*.sql'],
    tables: ['*.*'],
    addresses: 'names',
    variants: ['routing-keys'],
    replace: { must: 'mustn', boat: 'ship', postgrest: 'pgrst', public: 'publik', anon: 'anonym' },
  } as SqlOptions

  async function both(text: string) {
    process.env.CUTOVER_SQL_SCANNER = 'off'
    const off = await planSql(text, options, ctx)
    process.env.CUTOVER_SQL_SCANNER = 'on'
    const on = await planSql(text, options, ctx)
    process.env.CUTOVER_SQL_SCANNER = 'check'
    const check = await planSql(text, options, ctx)
    expect(on).toEqual(off)
    expect(check).toEqual(off)
    return off
  }

  it('plans every corpus file alike with the scanner on, off and checked', async () => {
    let edits = 0
    for (const f of files) {
      const { text } = decodeText(readFileSync(join(corpus, f)))
      const r = await both(text)
      edits += r.edits.length
    }
    expect(edits).toBeGreaterThan(100)
  })

  it('plans a function the lexer rejects or splits otherwise than the server alike', async () => {
    const fn = (body: string) =>
      `CREATE FUNCTION public.f() RETURNS void\n    LANGUAGE plpgsql\n    AS $_$\nBEGIN\n${body}\nEND;\n$_$;\n`
    for (const body of [
      "  PERFORM dblink_connect('host=10.0.10.48\x1b dbname=finance');",
      "  PERFORM 'host=10.0.10.48', '\f';",
      "  PERFORM E'x' -- c\n'\\' host=10.0.10.48 ' -- '\n;",
    ])
      await both(fn(body))
  })

  it('plans a generated dump alike with the scanner on, off and checked', async () => {
    const dir = tempDir('scan-')
    try {
      generateDump(join(dir, 'dump.sql'), { functions: 400, mb: 1 })
      const text = readFileSync(join(dir, 'dump.sql'), 'utf8')
      const r = await both(text)
      expect(r.edits.length).toBeGreaterThan(50)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
