import { SqlError } from './errors.js'
import { joinContinued, lexerLoaded, lexSql, type SqlToken } from './lexer.js'

/**
 * A small scanner for the tokens the sql step reads most: string literals (continued pieces
 * joined), dollar quotes and comments, the fast path in front of PostgreSQL's own lexer
 * ({@link lexSql}, a WebAssembly module of about 15 MB). It returns exactly what `lexSql` would
 * return for those tokens, or `undefined` when it is not sure, and then the caller asks
 * PostgreSQL's lexer. It is unsure of everything outside this plain subset:
 *
 * - `U&'…'`, `U&"…"` and `UESCAPE` anywhere in the text, a NUL, an unpaired surrogate, a control
 *   character other than a tab or a line break (libpg-query's scanner cannot return a token
 *   holding one and rejects the text);
 * - an empty text, which PostgreSQL's lexer rejects;
 * - a quote right after a one-letter word other than `E` (`B'…'`, `X'…'`, `N'…'`), a number
 *   followed by a letter (`1e5`, `0x1F`, `1_000`, trailing junk), a `$`
 *   that starts neither a parameter nor a dollar quote;
 * - in an `E'…'` string, a backslash before `0`–`7`, `x`, `u` or `U` (such escapes may spell
 *   bytes the server rejects), and a piece continued after a `--` comment (libpg-query's scanner
 *   reads that piece as a plain `'…'` string, without the escapes);
 * - anything unterminated, and `""` (a zero-length identifier).
 *
 * With `all`, it also returns the words and a few punctuation tokens (`(`, `)`, `,`, `[`, `]`,
 * `;`, `.`, `=`, `::`) and is unsure of every other operator, for the head of a function.
 * Like PostgreSQL's lexer as the step uses it, it assumes `standard_conforming_strings = on`:
 * a backslash in a `'…'` string is an ordinary character. `plain`: the caller knows that the
 * text is {@link plainText} (a part of a text that is, cut between tokens), and it is not looked
 * at again for what the scanner leaves to the lexer wherever it stands.
 */
export function scanSql(
  text: string,
  base = 0,
  all = false,
  plain = false,
): SqlToken[] | undefined {
  // PostgreSQL's lexer rejects an empty text (an empty function body)
  if (text.length === 0 || (!plain && UNSURE.test(text))) return undefined
  const out: SqlToken[] = []
  const n = text.length
  const push = (kind: SqlToken['kind'], start: number, end: number) =>
    out.push({ kind, start: start + base, end: end + base, text: text.slice(start, end) })
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13)) {
      i++
    } else if (c === 45 && text.charCodeAt(i + 1) === 45) {
      let j = i + 2
      while (j < n) {
        const d = text.charCodeAt(j)
        if (d === 10 || d === 13) break
        j++
      }
      push('comment', i, j)
      i = j
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const j = blockCommentEnd(text, i)
      if (j === -1) return undefined
      push('comment', i, j)
      i = j
    } else if (c === 39) {
      const j = stringEnd(text, i + 1, false)
      if (j === -1) return undefined
      push('string', i, j)
      i = j
    } else if (c === 34) {
      let j = i + 1
      for (;;) {
        const q = text.indexOf('"', j)
        if (q === -1) return undefined
        if (text.charCodeAt(q + 1) === 34) j = q + 2
        else {
          j = q + 1
          break
        }
      }
      if (j === i + 2) return undefined
      if (all) push('word', i, j)
      i = j
    } else if (c === 36) {
      const d = text.charCodeAt(i + 1)
      if (d >= 48 && d <= 57) {
        let j = i + 2
        while (isDigit(text.charCodeAt(j))) j++
        if (isIdent(text.charCodeAt(j))) return undefined
        if (all) push('other', i, j)
        i = j
        continue
      }
      let j = i + 1
      if (d !== 36) {
        if (!isIdentStart(d)) return undefined
        while (j < n && isIdent(text.charCodeAt(j)) && text.charCodeAt(j) !== 36) j++
        if (text.charCodeAt(j) !== 36) return undefined
      }
      const tag = text.slice(i, j + 1)
      const close = text.indexOf(tag, j + 1)
      if (close === -1) return undefined
      push('string', i, close + tag.length)
      i = close + tag.length
    } else if (isIdentStart(c)) {
      let j = i + 1
      while (j < n && isIdent(text.charCodeAt(j))) j++
      if (j === i + 1 && text.charCodeAt(j) === 39) {
        // a one-letter word before a quote is a prefix: E opens an escape string; B, X, N
        // open bit, hexadecimal and national strings, left to PostgreSQL's lexer
        if (c === 69 || c === 101) {
          const e = stringEnd(text, j + 1, true)
          if (e === -1) return undefined
          push('string', i, e)
          i = e
          continue
        }
        if (PREFIXES.includes(text[i]!)) return undefined
      }
      if (all) push('word', i, j)
      i = j
    } else if (isDigit(c)) {
      let j = i + 1
      while (isDigit(text.charCodeAt(j))) j++
      if (text.charCodeAt(j) === 46 && text.charCodeAt(j + 1) !== 46) {
        // a decimal number: its token is left to PostgreSQL's lexer
        if (all) return undefined
        j++
        while (isDigit(text.charCodeAt(j))) j++
      }
      // trailing junk, an exponent, a hexadecimal or an underscore: left to PostgreSQL's lexer
      if (isIdentStart(text.charCodeAt(j))) return undefined
      if (all) push('other', i, j)
      i = j
    } else if (!all) {
      i++
    } else if (c === 40 || c === 41 || c === 44 || c === 91 || c === 93 || c === 59) {
      push('other', i, i + 1)
      i++
    } else if (c === 46) {
      const d = text.charCodeAt(i + 1)
      if (d === 46 || isDigit(d)) return undefined
      push('other', i, i + 1)
      i++
    } else if (c === 61 && !isOp(text.charCodeAt(i + 1))) {
      push('other', i, i + 1)
      i++
    } else if (c === 58 && text.charCodeAt(i + 1) === 58 && !isOp(text.charCodeAt(i + 2))) {
      push('other', i, i + 2)
      i += 2
    } else {
      return undefined
    }
  }
  return joinContinued(out, text, base)
}

/**
 * What the scanner leaves to PostgreSQL's lexer wherever it stands: Unicode escapes (`U&`,
 * `UESCAPE`), a NUL (the server's lexer reads C strings), the other control characters but a tab
 * and line breaks (libpg-query's scanner fails on a token holding one: a vertical tab or a form
 * feed between tokens would do, but is not worth telling apart) and an unpaired surrogate.
 */
const UNSURE =
  // eslint-disable-next-line no-control-regex
  /[uU]&|uescape|[\0-\x08\x0b\x0c\x0e-\x1f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/i

/**
 * True when `text` holds none of what the scanner leaves to PostgreSQL's lexer wherever it
 * stands (`UNSURE`); nor then does any part of it cut at tokens (a dollar-quoted body).
 */
export function plainText(text: string): boolean {
  return !UNSURE.test(text)
}

/**
 * The gap that continues a quoted string (PostgreSQL's `whitespace_with_newline`: blanks, an
 * optional `--` comment, a line break, then blanks and `--` comment lines) and the next piece's
 * opening quote.
 */
const CONTINUE = /[ \t\f]*(?:--[^\n\r]*)?[\n\r](?:[ \t\n\r\f\v]|--[^\n\r]*[\n\r])*'/y

/**
 * The end (after the closing quote) of a quoted string whose content starts at `i`, continued
 * pieces included, or -1 when it is unterminated or holds an escape the scanner leaves to
 * PostgreSQL's lexer. `escapes`: an `E'…'` string (its later pieces keep its escapes).
 */
function stringEnd(text: string, i: number, escapes: boolean): number {
  for (;;) {
    let j = i
    for (;;) {
      if (j >= text.length) return -1
      const c = text.charCodeAt(j)
      if (c === 39) {
        if (text.charCodeAt(j + 1) === 39) {
          j += 2
          continue
        }
        break
      }
      if (escapes && c === 92) {
        const d = text.charCodeAt(j + 1)
        if ((d >= 48 && d <= 55) || d === 120 || d === 117 || d === 85 || Number.isNaN(d)) return -1
        j += 2
        continue
      }
      j++
    }
    // the gap opens with a blank, a `--` or a line break: most strings are followed by none
    const next = text.charCodeAt(j + 1)
    if (next !== 32 && next !== 9 && next !== 12 && next !== 45 && next !== 10 && next !== 13)
      return j + 1
    CONTINUE.lastIndex = j + 1
    if (!CONTINUE.test(text)) return j + 1
    // libpg-query's scanner ends the string at a `--` comment and reads the next piece as a plain
    // string (the lexer's tokens are joined afterwards): an E string's escapes would not hold there
    if (escapes && text.slice(j + 1, CONTINUE.lastIndex).includes('--')) return -1
    i = CONTINUE.lastIndex
  }
}

/** The end of the (nested) block comment opening at `i`, or -1 when it is unterminated. */
function blockCommentEnd(text: string, i: number): number {
  let depth = 1
  let j = i + 2
  while (j < text.length) {
    const c = text.charCodeAt(j)
    if (c === 42 && text.charCodeAt(j + 1) === 47) {
      j += 2
      if (--depth === 0) return j
    } else if (c === 47 && text.charCodeAt(j + 1) === 42) {
      depth++
      j += 2
    } else j++
  }
  return -1
}

/** The one-letter prefixes of bit, hexadecimal and national strings. */
const PREFIXES = 'bBxXnN'
const isDigit = (c: number) => c >= 48 && c <= 57
const isIdentStart = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128
const isIdent = (c: number) => isIdentStart(c) || isDigit(c) || c === 36
/** PostgreSQL's operator characters. */
const isOp = (c: number) =>
  c < 128 && c >= 0 && '~!@#^&|`?+-*/%<>='.includes(String.fromCharCode(c))

/** How the scanner is used: `CUTOVER_SQL_SCANNER=off` (never) or `check` (both, compared). */
function scannerMode(): 'on' | 'off' | 'check' {
  const v = process.env.CUTOVER_SQL_SCANNER
  return v === 'off' || v === 'check' ? v : 'on'
}

/**
 * Thrown where PostgreSQL's lexer is needed and not loaded: {@link planSql} loads it and plans
 * the text again. A `SQL_LEX` error for other callers, as {@link lexSql} throws.
 */
export class LexerNeeded extends SqlError {
  constructor() {
    super('SQL_LEX', 'the PostgreSQL lexer is not loaded: await loadLexer() first')
  }
}

/** Thrown under `CUTOVER_SQL_SCANNER=check` when the scanner and PostgreSQL's lexer disagree. */
export class ScannerMismatch extends Error {}

/** True for the errors a statement's own handling must let through (not a lexer rejection). */
export function isScanAbort(e: unknown): boolean {
  return e instanceof LexerNeeded || e instanceof ScannerMismatch
}

function lexed(text: string, base: number, all: boolean): SqlToken[] {
  if (!lexerLoaded()) throw new LexerNeeded()
  const tokens = lexSql(text, base)
  return all ? tokens : tokens.filter((t) => t.kind === 'string' || t.kind === 'comment')
}

/**
 * The string and comment tokens of `text` (with `all`, every token) as {@link lexSql} gives
 * them: from {@link scanSql}'s fast path, else from PostgreSQL's lexer. `plain` as for
 * {@link scanSql}.
 */
export function sqlTokens(text: string, base = 0, all = false, plain = false): SqlToken[] {
  const mode = scannerMode()
  if (mode === 'off') return lexed(text, base, all)
  const fast = scanSql(text, base, all, plain)
  if (!fast) return lexed(text, base, all)
  if (mode === 'check') {
    let slow: SqlToken[] | Error
    try {
      slow = lexed(text, base, all)
    } catch (e) {
      if (e instanceof LexerNeeded) throw e
      slow = e as Error
    }
    const same =
      Array.isArray(slow) &&
      slow.length === fast.length &&
      slow.every(
        (t, k) =>
          t.kind === fast[k]!.kind &&
          t.start === fast[k]!.start &&
          t.end === fast[k]!.end &&
          t.text === fast[k]!.text,
      )
    if (!same)
      throw new ScannerMismatch(
        `CUTOVER_SQL_SCANNER=check: the scanner and PostgreSQL's lexer disagree on ${JSON.stringify(text.slice(0, 200))}`,
      )
  }
  return fast
}
