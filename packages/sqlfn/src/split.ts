import type { Diagnostic } from '@cutover/rewrite'

/**
 * What a piece of a script is: an SQL statement (up to and including its `;`), a psql
 * meta-command line (`\connect`, `\restrict`), the data block of a `COPY … FROM stdin` (from the
 * end of the COPY statement through the `\.` line), or trailing comments and blanks.
 */
export type PieceKind = 'sql' | 'meta' | 'copy-data' | 'trivia'

/**
 * One piece of a script. Pieces are contiguous: `pieces[i].end === pieces[i + 1].start`, and
 * their texts concatenated give the input back. `codeStart` is the first offset after the
 * leading blanks and comments (`=== end` for trivia).
 */
export interface SqlPiece {
  kind: PieceKind
  start: number
  codeStart: number
  end: number
  /** For a `copy-data` piece, the offset where its rows begin (after the COPY line's newline). */
  dataStart?: number
}

/** The result of {@link splitSql}: never throws; unterminated constructs are diagnostics. */
export interface SplitResult {
  pieces: SqlPiece[]
  diagnostics: Diagnostic[]
}

const NL = 10
const isIdentStart = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128
const isIdentChar = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57) || c === 36
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11

/** Where a `/* … *\/` comment (nested as PostgreSQL nests them) starting at `i` ends, or -1. */
export function skipBlockComment(text: string, i: number): number {
  let depth = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      depth++
      i += 2
    } else if (c === 42 && text.charCodeAt(i + 1) === 47) {
      i += 2
      if (--depth === 0) return i
    } else i++
  }
  return -1
}

/** Where a quoted literal (`'…'` or `"…"`) whose opening quote is at `i` ends, or -1. */
export function skipQuoted(text: string, i: number, quote: 39 | 34, backslashes: boolean): number {
  const q = quote === 39 ? "'" : '"'
  let at = i + 1
  for (;;) {
    const close = text.indexOf(q, at)
    if (close === -1) return -1
    if (backslashes) {
      let k = close - 1
      let count = 0
      while (k > i && text.charCodeAt(k) === 92) {
        count++
        k--
      }
      if (count % 2 === 1) {
        at = close + 1
        continue
      }
    }
    if (text.charCodeAt(close + 1) === quote) {
      at = close + 2
      continue
    }
    return close + 1
  }
}

/** The dollar-quote tag (`$_$`, `$$`) starting at `i`, or undefined when `$` does not open one. */
export function dollarTag(text: string, i: number): string | undefined {
  let j = i + 1
  const first = text.charCodeAt(j)
  if (first === 36) return '$$'
  if (!isIdentStart(first)) return undefined
  while (j < text.length && isIdentChar(text.charCodeAt(j)) && text.charCodeAt(j) !== 36) j++
  return text.charCodeAt(j) === 36 ? text.slice(i, j + 1) : undefined
}

interface State {
  words: string[]
  parens: number
  begins: number
  routine: boolean
}

/**
 * Splits a psql script (pg_dump plain output) into {@link SqlPiece}s with offsets, as psql would:
 * `--` and nested block comments, `'…'`, `E'…'`, `"…"`, dollar quotes with tags, parentheses,
 * `BEGIN ATOMIC … END` bodies, psql meta-commands and `COPY … FROM stdin` data up to `\.`.
 * One pass over the text; no tree is built.
 */
export function splitSql(text: string): SplitResult {
  const pieces: SqlPiece[] = []
  const diagnostics = eachPiece(text, (p) => pieces.push(p))
  return { pieces, diagnostics }
}

/**
 * {@link splitSql} as a stream: `visit` gets each piece in order as soon as it ends (a large dump
 * is never held as a list of pieces); returns the diagnostics. When there are diagnostics, the
 * pieces visited so far are not the whole script.
 */
export function eachPiece(text: string, visit: (piece: SqlPiece) => void): Diagnostic[] {
  const diagnostics: Diagnostic[] = []
  let count = 0
  const n = text.length
  let start = 0
  let codeStart = -1
  let st: State = { words: [], parens: 0, begins: 0, routine: false }
  const push = (kind: PieceKind, end: number) => {
    count++
    visit({ kind, start, codeStart: codeStart === -1 ? end : codeStart, end })
    start = end
    codeStart = -1
    st = { words: [], parens: 0, begins: 0, routine: false }
  }
  const fail = (code: string, at: number, what: string) => {
    diagnostics.push({
      code,
      message: `${what} starting here is not terminated`,
      range: { start: at, end: Math.min(at + 2, n) },
    })
  }
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (isSpace(c)) {
      i++
      continue
    }
    if (c === 45 && text.charCodeAt(i + 1) === 45) {
      const e = text.indexOf('\n', i)
      i = e === -1 ? n : e + 1
      continue
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const e = skipBlockComment(text, i)
      if (e === -1) {
        fail('UNTERMINATED_COMMENT', i, 'a block comment')
        i = n
        break
      }
      i = e
      continue
    }
    if (codeStart === -1) {
      codeStart = i
      if (c === 92) {
        const e = text.indexOf('\n', i)
        i = e === -1 ? n : e + 1
        push('meta', i)
        continue
      }
    }
    if (c === 39 || c === 34) {
      const prev = i > 0 ? text.charCodeAt(i - 1) : 0
      const escape =
        c === 39 && (prev === 69 || prev === 101) && !(i > 1 && isIdentChar(text.charCodeAt(i - 2)))
      const e = skipQuoted(text, i, c, escape)
      if (e === -1) {
        fail(
          c === 39 ? 'UNTERMINATED_STRING' : 'UNTERMINATED_IDENTIFIER',
          i,
          c === 39 ? 'a string' : 'a quoted identifier',
        )
        i = n
        break
      }
      i = e
      continue
    }
    if (c === 36 && !(i > 0 && isIdentChar(text.charCodeAt(i - 1)))) {
      const tag = dollarTag(text, i)
      if (tag) {
        const e = text.indexOf(tag, i + tag.length)
        if (e === -1) {
          fail('UNTERMINATED_DOLLAR_QUOTE', i, `a dollar quote ${tag}`)
          i = n
          break
        }
        i = e + tag.length
        continue
      }
    }
    if (isIdentStart(c)) {
      let j = i + 1
      while (j < n && isIdentChar(text.charCodeAt(j))) j++
      word(st, text, i, j)
      i = j
      continue
    }
    if (c === 40) st.parens++
    else if (c === 41) st.parens--
    else if (c === 59 && st.parens <= 0 && st.begins <= 0) {
      const isCopy = st.words[0] === 'copy' && copyFromStdin(text, codeStart, i)
      i++
      push('sql', i)
      if (isCopy) {
        i = copyData(text, i, diagnostics, (piece) => {
          count++
          visit(piece)
        })
        start = i
      }
      continue
    }
    i++
  }
  if (start < n || count === 0) push(codeStart === -1 ? 'trivia' : 'sql', n)
  return diagnostics
}

function word(st: State, text: string, i: number, j: number): void {
  if (st.words.length < 4) {
    st.words.push(text.slice(i, j).toLowerCase())
    const w = st.words
    if (w.length >= 2 && w[0] === 'create')
      st.routine =
        w[1] === 'function' ||
        w[1] === 'procedure' ||
        (w[1] === 'or' && (w[3] === 'function' || w[3] === 'procedure'))
    return
  }
  if (!st.routine || j - i > 5) return
  // psql's rule for SQL-standard bodies: BEGIN … END (and CASE … END inside) hold semicolons
  const w = text.slice(i, j).toLowerCase()
  if (w === 'begin' || (w === 'case' && st.begins > 0)) st.begins++
  else if (w === 'end' && st.begins > 0) st.begins--
}

/**
 * The lower-cased first words (up to `max`) of a statement piece, e.g. `['create', 'function',
 * 'public', 'amqp_staff']`: quoted identifiers, strings and comments end the list.
 */
export function pieceHead(text: string, piece: SqlPiece, max = 4): string[] {
  const out: string[] = []
  const re = /\s*(?:--[^\n]*\n|\/\*[^]*?\*\/)?/y
  let i = piece.codeStart
  while (out.length < max && i < piece.end) {
    re.lastIndex = i
    re.exec(text)
    if (re.lastIndex > i) {
      i = re.lastIndex
      continue
    }
    let j = i
    while (j < piece.end && isIdentChar(text.charCodeAt(j))) j++
    if (j === i) {
      if (text.charCodeAt(i) === 46 || text.charCodeAt(i) === 40) {
        i++
        continue
      }
      break
    }
    out.push(text.slice(i, j).toLowerCase())
    i = j
  }
  return out
}

function copyFromStdin(text: string, from: number, to: number): boolean {
  return /\bfrom\s+stdin\b/i.test(text.slice(from, to))
}

/** Visits the data piece of a COPY FROM stdin that ended at `i`; returns where scanning resumes. */
function copyData(
  text: string,
  i: number,
  diagnostics: Diagnostic[],
  visit: (piece: SqlPiece) => void,
): number {
  const nl = text.indexOf('\n', i)
  const dataStart = nl === -1 ? text.length : nl + 1
  let at = dataStart
  let end = -1
  while (at < text.length) {
    if (text.charCodeAt(at) === 92 && text.charCodeAt(at + 1) === 46) {
      const c = text.charCodeAt(at + 2)
      if (c === NL || Number.isNaN(c) || (c === 13 && text.charCodeAt(at + 3) === NL)) {
        end = Number.isNaN(c) ? at + 2 : c === 13 ? at + 4 : at + 3
        break
      }
    }
    const e = text.indexOf('\n', at)
    if (e === -1) break
    at = e + 1
  }
  if (end === -1) {
    diagnostics.push({
      code: 'UNTERMINATED_COPY',
      message: 'COPY data is not terminated by a line "\\."',
      range: { start: dataStart, end: dataStart },
    })
    end = text.length
  }
  visit({ kind: 'copy-data', start: i, codeStart: dataStart, end, dataStart })
  return end
}
