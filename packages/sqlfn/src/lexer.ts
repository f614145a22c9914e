import { SqlError } from './errors.js'

/** A token of PostgreSQL's own lexer, with offsets into the text given to {@link lexSql}. */
export interface SqlToken {
  /** `string` (SCONST: `'…'`, `E'…'`, `U&'…'`, `$tag$…$tag$`), `comment`, `word`, `other`. */
  kind: 'string' | 'comment' | 'word' | 'other'
  start: number
  end: number
  /** The token's source text (for `word`, the lower-cased keyword or identifier as written). */
  text: string
}

type ScanSync = (sql: string) => {
  tokens: Array<{
    start: number
    end: number
    text: string
    tokenName: string
    keywordKind: number
  }>
}
let scanner: ScanSync | undefined

/**
 * Loads PostgreSQL's lexer (libpg-query, WebAssembly) once; {@link lexSql} needs it. Imported
 * lazily so that commands which never read SQL do not pay for it.
 */
export async function loadLexer(): Promise<void> {
  if (scanner) return
  const mod = await import('libpg-query')
  await mod.loadModule()
  scanner = mod.scanSync as unknown as ScanSync
}

/** True once {@link loadLexer} has resolved. */
export function lexerLoaded(): boolean {
  return scanner !== undefined
}

/** Byte offset (UTF-8) → character offset of `text`; undefined when `text` is ASCII. */
function byteToChar(text: string): Int32Array | undefined {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(text)) return undefined
  const map = new Int32Array(Buffer.byteLength(text, 'utf8') + 1)
  let b = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const width = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : 3
    for (let k = 0; k < width; k++) map[b + k] = i
    b += width
    if (width === 4) i++
  }
  map[b] = text.length
  return map
}

/**
 * Lexes `text` with PostgreSQL's scanner (the rules of the server: `''` and `E''` escapes,
 * nested dollar quotes, nested comments) and returns its tokens with character offsets plus
 * `base`. Throws a `SQL_LEX` {@link SqlError} on what the server would reject (an
 * unterminated quote). Call {@link loadLexer} first.
 */
export function lexSql(text: string, base = 0): SqlToken[] {
  if (!scanner)
    throw new SqlError('SQL_LEX', 'the PostgreSQL lexer is not loaded: await loadLexer() first')
  let raw
  try {
    raw = scanner(text).tokens
  } catch (cause) {
    throw new SqlError(
      'SQL_LEX',
      `PostgreSQL's lexer rejects this text: ${(cause as Error).message}`,
      { cause },
    )
  }
  const map = byteToChar(text)
  const out: SqlToken[] = []
  for (const t of raw) {
    const start = (map ? map[t.start]! : t.start) + base
    const end = (map ? map[t.end]! : t.end) + base
    const name = t.tokenName
    // a U&'…' string comes under another token name from libpg-query's scanner
    const kind =
      name === 'SCONST' || name === 'USCONST' || (name !== 'IDENT' && /^[uU]&'/.test(t.text))
        ? 'string'
        : name === 'SQL_COMMENT' || name === 'C_COMMENT'
          ? 'comment'
          : name === 'IDENT' || t.keywordKind > 0
            ? 'word'
            : 'other'
    out.push({ kind, start, end, text: map ? text.slice(start - base, end - base) : t.text })
  }
  return joinContinued(out, text, base)
}

/**
 * What may stand between the pieces of a continued string: PostgreSQL's `whitespace_with_newline`
 * (a `--` comment may end the first piece's line: `'host=10.0.10.' -- note` newline `'48'`).
 */
const CONTINUATION_GAP = /^[ \t\f]*(?:--[^\n\r]*)?[\n\r](?:[ \t\n\r\f\v]+|--[^\n\r]*[\n\r])*$/

/**
 * Joins string tokens that the server reads as one continued literal although libpg-query's
 * scanner gives them apart: pieces separated by a line break and `--` comment lines
 * (`'oas.'` newline `-- note` newline `'projects'` is `oas.projects`). The joined token spans
 * every piece and what lies between them.
 */
export function joinContinued(tokens: SqlToken[], text: string, base: number): SqlToken[] {
  const out: SqlToken[] = []
  for (let k = 0; k < tokens.length; k++) {
    let t = tokens[k]!
    const quoted = t.kind === 'string' && (t.text.startsWith("'") || /^[eE]'/.test(t.text))
    if (quoted) {
      for (;;) {
        let j = k + 1
        while (
          j < tokens.length &&
          tokens[j]!.kind === 'comment' &&
          tokens[j]!.text.startsWith('--')
        )
          j++
        const next = tokens[j]
        if (j === k + 1 || !next || next.kind !== 'string' || !next.text.startsWith("'")) break
        if (!CONTINUATION_GAP.test(text.slice(t.end - base, next.start - base))) break
        t = {
          kind: 'string',
          start: t.start,
          end: next.end,
          text: text.slice(t.start - base, next.end - base),
        }
        k = j
      }
    }
    out.push(t)
  }
  return out
}
