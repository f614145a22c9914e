import type { Encoders, EncodingName } from '@cutover/rewrite'

/** One PHP token with its offsets into the decoded text; single-character tokens have `type` equal to their text. */
export interface PhpToken {
  type: string
  text: string
  start: number
  end: number
}

/** How a PHP string literal is quoted. */
export type PhpQuote = 'single' | 'double' | 'heredoc' | 'nowdoc'

/** A literal part of a PHP string: the whole content of a plain literal, or one piece between interpolations. */
export interface PhpLiteralPart {
  start: number
  end: number
  quote: PhpQuote
  whole: boolean
  encoding: EncodingName[]
  /** A flexible heredoc/nowdoc (PHP 7.3+): the closing marker's indentation, which PHP removes from every line of the body. */
  indent?: string
  /** Where the heredoc's body begins (its first line starts there). */
  bodyStart?: number
  /** A heredoc's or nowdoc's closing label (`EOT`). */
  label?: string
}

/**
 * A unit of PHP code for pattern matching: a significant token, or a whole string literal
 * (`'…'`, `"…$x…"`, heredoc, nowdoc) with its outer span and the span of its value.
 */
export type PhpUnit =
  | { kind: 'token'; token: PhpToken }
  | {
      kind: 'literal'
      start: number
      end: number
      quote: PhpQuote
      content: { start: number; end: number }
      interpolated: boolean
      indent?: string
      label?: string
    }

/** A PHP file as located spans: every token (they concatenate to the text), literal parts, comments, units. */
export interface PhpDocument {
  tokens: PhpToken[]
  parts: PhpLiteralPart[]
  units: PhpUnit[]
}

const ENCODING: Record<PhpQuote, EncodingName[]> = {
  single: ['php-single'],
  double: ['php-double'],
  heredoc: ['php-heredoc'],
  nowdoc: ['raw'],
}

/** The encoders of PHP's string literals (a nowdoc's is `raw`): the `php` step kind registers them. */
export const PHP_ENCODINGS: Encoders = {
  'php-single': (v) => v.replace(/[\\']/g, '\\$&'),
  'php-double': (v) =>
    v
      .replace(/[\\"$]/g, '\\$&')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t'),
  'php-heredoc': (v) => v.replace(/[\\$]/g, '\\$&'),
}

/** The encoding a value needs inside a literal of this quoting. */
export function phpEncoding(q: PhpQuote): EncodingName[] {
  return ENCODING[q]
}

type Lexer = { tokenGetAll(src: string): Array<string | [string, string, number]> }
let engine: Promise<Lexer> | undefined

/** Loads php-parser on first use only (it is not needed by `cutover --help` or other steps). */
async function lexer(): Promise<Lexer> {
  engine ??= import('php-parser').then((m) => {
    const Engine = (m as unknown as { default: new (o: object) => Lexer }).default
    return new Engine({
      parser: { php8: true, suppressErrors: true },
      lexer: { all_tokens: true, short_tags: false },
    })
  })
  return engine
}

/** Tokenizes PHP source with php-parser's lexer; every byte of `text` belongs to exactly one token. */
export async function tokenizePhp(text: string): Promise<PhpToken[]> {
  const raw = (await lexer()).tokenGetAll(text)
  const out: PhpToken[] = []
  let at = 0
  for (const t of raw) {
    const type = typeof t === 'string' ? t : t[0]
    const s = typeof t === 'string' ? t : t[1]
    out.push({ type, text: s, start: at, end: at + s.length })
    at += s.length
  }
  if (at < text.length)
    out.push({ type: 'T_INLINE_HTML', text: text.slice(at), start: at, end: text.length })
  return haltCompiler(out, text)
}

/**
 * PHP stops compiling at `__halt_compiler();` (or `__halt_compiler() ?>`): what follows is data
 * (an archive, a payload), one `T_HALT_DATA` token, never code or a literal.
 */
function haltCompiler(tokens: PhpToken[], text: string): PhpToken[] {
  const h = tokens.findIndex((t) => t.type === 'T_HALT_COMPILER')
  if (h < 0) return tokens
  let j = h + 1
  const skip = () => {
    while (j < tokens.length && TRIVIA.has(tokens[j]!.type)) j++
  }
  for (const want of ['(', ')']) {
    skip()
    if (tokens[j]?.type !== want) return tokens
    j++
  }
  skip()
  if (tokens[j]?.type !== ';' && tokens[j]?.type !== 'T_CLOSE_TAG') return tokens
  const at = tokens[j]!.end
  const out = tokens.slice(0, j + 1)
  if (at < text.length)
    out.push({ type: 'T_HALT_DATA', text: text.slice(at), start: at, end: text.length })
  return out
}

const TRIVIA = new Set(['T_WHITESPACE', 'T_COMMENT', 'T_DOC_COMMENT'])

/**
 * Parses PHP into a {@link PhpDocument}; never throws on odd input (unknown bytes stay inline
 * HTML). `units` is made on first use (only `set` needs it; most files are only searched for
 * literals).
 */
export async function parsePhp(text: string): Promise<PhpDocument> {
  const tokens = await tokenizePhp(text)
  const parts: PhpLiteralPart[] = []
  walkTokens(tokens, parts, undefined)
  parts.sort((a, b) => a.start - b.start)
  let units: PhpUnit[] | undefined
  return {
    tokens,
    parts,
    get units() {
      if (!units) walkTokens(tokens, [], (units = []))
      return units
    },
  }
}

/** Collects the literal parts of `tokens` and, when `units` is given, its units. */
function walkTokens(
  tokens: PhpToken[],
  parts: PhpLiteralPart[],
  units: PhpUnit[] | undefined,
): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.type === 'T_CONSTANT_ENCAPSED_STRING') {
      const quote: PhpQuote = t.text.startsWith("'") || /^[bB]'/.test(t.text) ? 'single' : 'double'
      const open = t.text.indexOf(quote === 'single' ? "'" : '"') + 1
      const start = t.start + open
      const end = t.end - 1
      // fields written out: an object spread here costs more than the rest of the loop
      parts.push({ start, end, quote, whole: true, encoding: ENCODING[quote] })
      units?.push({
        kind: 'literal',
        start: t.start,
        end: t.end,
        quote,
        content: { start, end },
        interpolated: false,
      })
    } else if (t.type === '"' || t.type === 'T_START_HEREDOC') {
      i = compound(tokens, i, parts, units)
    } else if (t.type === '`') {
      // a shell command, not a string: skip to its end
      let j = i + 1
      while (j < tokens.length && tokens[j]!.type !== '`') j++
      i = j
    } else if (
      units &&
      !TRIVIA.has(t.type) &&
      t.type !== 'T_INLINE_HTML' &&
      t.type !== 'T_HALT_DATA' &&
      t.type !== 'T_OPEN_TAG' &&
      t.type !== 'T_CLOSE_TAG'
    ) {
      units.push({ kind: 'token', token: t })
    }
  }
}

/** Reads an interpolated double-quoted string or a heredoc/nowdoc starting at `i`; returns its last token index. */
function compound(
  tokens: PhpToken[],
  i: number,
  parts: PhpLiteralPart[],
  units: PhpUnit[] | undefined,
): number {
  const open = tokens[i]!
  const heredoc = open.type === 'T_START_HEREDOC'
  const quote: PhpQuote = heredoc ? (/<<<\s*'/.test(open.text) ? 'nowdoc' : 'heredoc') : 'double'
  const closeType = heredoc ? 'T_END_HEREDOC' : '"'
  const pieces: PhpToken[] = []
  let depth = 0
  let interpolated = false
  let j = i + 1
  for (; j < tokens.length; j++) {
    const t = tokens[j]!
    if (depth === 0 && t.type === closeType) break
    if (t.type === 'T_CURLY_OPEN' || t.type === 'T_DOLLAR_OPEN_CURLY_BRACES') depth++
    else if (t.type === '}' && depth > 0) depth--
    if (depth === 0 && t.type === 'T_ENCAPSED_AND_WHITESPACE') pieces.push(t)
    else interpolated = true
    // a plain literal inside `{$a['key']}` is a string literal of its own
    if (depth > 0 && t.type === 'T_CONSTANT_ENCAPSED_STRING') {
      const q: PhpQuote = t.text.startsWith('"') ? 'double' : 'single'
      parts.push({
        start: t.start + 1,
        end: t.end - 1,
        quote: q,
        whole: true,
        encoding: ENCODING[q],
      })
    }
  }
  const close = tokens[Math.min(j, tokens.length - 1)]!
  let contentEnd = close.start
  let indent = ''
  if (heredoc) {
    // the newline (and indentation) before the closing marker is syntax, not value
    const body = tokens
      .slice(i + 1, j)
      .map((t) => t.text)
      .join('')
    const m = /\r?\n([ \t]*)$/.exec(body)
    contentEnd = m ? close.start - m[0].length : close.start
    indent = m?.[1] ?? /^[ \t]*/.exec(close.text)?.[0] ?? ''
  }
  const contentStart = open.end
  const label = heredoc
    ? /<<<[ \t]*["']?([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)/.exec(open.text)?.[1]
    : undefined
  const flexible = {
    ...(indent ? { indent } : {}),
    ...(label ? { label, bodyStart: contentStart } : {}),
  }
  for (const p of pieces) {
    const end = Math.min(p.end, Math.max(contentEnd, p.start))
    if (end > p.start)
      parts.push({
        start: p.start,
        end,
        quote,
        whole: !interpolated,
        encoding: ENCODING[quote],
        ...flexible,
      })
  }
  units?.push({
    kind: 'literal',
    start: open.start,
    end: close.end,
    quote,
    content: { start: contentStart, end: Math.max(contentStart, contentEnd) },
    interpolated,
    ...(indent ? { indent } : {}),
    ...(label ? { label } : {}),
  })
  return j
}

/** The span of `spans` (sorted, not overlapping: tokens, literal parts) holding offset `at` (binary search). */
export function spanAt<T extends { start: number; end: number }>(
  spans: readonly T[],
  at: number,
): T | undefined {
  let lo = 0
  let hi = spans.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const t = spans[mid]!
    if (at < t.start) hi = mid - 1
    else if (at >= t.end) lo = mid + 1
    else return t
  }
  return undefined
}
