import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeText } from '@cutover/rewrite'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pieceHead, splitSql } from '../src/index.js'
import { eachPiece } from '../src/split.js'
import { corpusPath } from '@cutover/test-kit'

const corpus = corpusPath('sql')
const files = readdirSync(corpus).filter((f) => f.endsWith('.sql'))

const concat = (text: string) =>
  splitSql(text)
    .pieces.map((p) => text.slice(p.start, p.end))
    .join('')

describe('splitSql', () => {
  it('finds the corpus', () => expect(files.length).toBeGreaterThanOrEqual(17))

  it.each(files)('round-trips %s byte for byte', (f) => {
    const bytes = readFileSync(join(corpus, f))
    const { text } = decodeText(bytes)
    const { pieces, diagnostics } = splitSql(text)
    expect(diagnostics).toEqual([])
    for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.start).toBe(pieces[i - 1]!.end)
    expect(pieces[0]!.start).toBe(0)
    expect(pieces.at(-1)!.end).toBe(text.length)
    expect(
      Buffer.from(concat(text), 'utf8').equals(bytes.subarray(bytes[0] === 0xef ? 3 : 0)),
    ).toBe(true)
  })

  it.each(files)('streams the pieces of %s one by one as splitSql lists them', (f) => {
    const { text } = decodeText(readFileSync(join(corpus, f)))
    const seen: unknown[] = []
    expect(eachPiece(text, (p) => seen.push(p))).toEqual([])
    expect(seen).toEqual(splitSql(text).pieces)
  })

  it('reads the pagila data dump: COPY blocks end at \\.', () => {
    const { text } = decodeText(readFileSync(join(corpus, 'pagila_xzilla_pagila-data.sql')))
    const { pieces } = splitSql(text)
    const data = pieces.filter((p) => p.kind === 'copy-data')
    expect(data.length).toBeGreaterThan(10)
    for (const d of data) expect(text.slice(d.end - 3, d.end)).toBe('\\.\n')
    // every statement ends with its semicolon
    for (const p of pieces.filter((x) => x.kind === 'sql')) expect(text[p.end - 1]).toBe(';')
  })

  it('keeps quotes, dollar quotes, nested comments and BEGIN ATOMIC bodies in one statement', () => {
    const sql = [
      '\\restrict abc\n',
      "SELECT 'a;''b', E'c\\';d', \"x;\"\"y\", $q$ ; $$ ; $q$, $$;$$ /* a /* ; */ ; */; -- c;\n",
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\n',
      'COPY t (a) FROM stdin;\nx;y\t\\N\n\\.\n',
      '\\connect - other\n',
      'SELECT 1; -- tail\n',
    ].join('')
    const { pieces, diagnostics } = splitSql(sql)
    expect(diagnostics).toEqual([])
    expect(pieces.map((p) => p.kind)).toEqual([
      'meta',
      'sql',
      'sql',
      'sql',
      'copy-data',
      'meta',
      'sql',
      'trivia',
    ])
    expect(pieceHead(sql, pieces[2]!)).toEqual(['create', 'function', 'f'])
    expect(pieceHead(sql, pieces[6]!)).toEqual(['select', '1'])
    expect(sql.slice(pieces[2]!.codeStart, pieces[2]!.end)).toMatch(/^CREATE FUNCTION.*END;$/)
    expect(sql.slice(pieces[4]!.dataStart!, pieces[4]!.end)).toBe('x;y\t\\N\n\\.\n')
    expect(concat(sql)).toBe(sql)
  })

  it('reports what is not terminated, with its offset', () => {
    expect(splitSql("SELECT 'abc").diagnostics).toMatchObject([
      { code: 'UNTERMINATED_STRING', range: { start: 7 } },
    ])
    expect(splitSql('SELECT $x$ abc $y$').diagnostics).toMatchObject([
      { code: 'UNTERMINATED_DOLLAR_QUOTE', range: { start: 7 } },
    ])
    expect(splitSql('/* /* */').diagnostics).toMatchObject([
      { code: 'UNTERMINATED_COMMENT', range: { start: 0 } },
    ])
    expect(splitSql('COPY t FROM stdin;\nrow\n').diagnostics).toMatchObject([
      { code: 'UNTERMINATED_COPY' },
    ])
  })

  it('never loses a character, whatever the input (property)', () => {
    const token = fc.constantFrom(
      "'",
      "''",
      '"',
      '$$',
      '$a$',
      '$1',
      ';',
      '--',
      '\n',
      '/*',
      '*/',
      'E',
      '\\',
      '\\.',
      'COPY t FROM stdin',
      'BEGIN',
      'END',
      'CREATE FUNCTION',
      '(',
      ')',
      ' ',
      'x',
      '\r\n',
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (parts) => {
        const sql = parts.join('')
        expect(concat(sql)).toBe(sql)
      }),
    )
  })
})
