import type { Encoders, EncodingName } from '@cutover/rewrite'

/**
 * The form of a quoted value, which decides how a replacement is written into it:
 * `sql` (`'…'`, `'` doubled), `sql-e` (`E'…'`, backslash escapes), `dollar` (`$tag$…$tag$`,
 * raw), `copy` (a field of `COPY … FROM stdin` text format), `unicode` (`U&'…'`, left alone).
 */
export type LiteralForm = 'sql' | 'sql-e' | 'dollar' | 'copy' | 'unicode'

/**
 * A decoded value and where each of its characters came from: `at(i)` is the offset in the
 * source text of decoded character `i` (`at(value.length)` is the end of the content), so a span
 * of the value maps to the span of source that spells it, escapes included.
 */
export interface DecodedValue {
  value: string
  at(i: number): number
}

/**
 * One quoted piece of a string continued over lines (`'host=10.0.10.'` newline `'48'`, which
 * PostgreSQL reads as one literal `host=10.0.10.48`): `from` is the index in the value where the
 * piece's characters begin, `start`/`end` the source offsets of its content (between its quotes).
 */
export interface LiteralPiece {
  from: number
  start: number
  end: number
}

/** A quoted literal located in a source text, with its decoded value. */
export interface Literal extends DecodedValue {
  form: LiteralForm
  /** Offsets of the whole token, quotes included. */
  start: number
  end: number
  /** The dollar-quote tag, for the `dollar` form. */
  tag?: string
  /** The quoted pieces of a continued string, in order; absent for a string of one piece. */
  pieces?: LiteralPiece[]
}

/** Builds a {@link DecodedValue} from a value and an explicit source offset per character. */
function mapped(value: string, offsets: number[]): DecodedValue {
  return { value, at: (i) => offsets[i]! }
}

/** A value whose characters stand one for one at `base` (dollar quotes, plain content). */
export function identityValue(value: string, base: number): DecodedValue {
  return { value, at: (i) => base + i }
}

const SIMPLE_E: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/**
 * Reads the quoted literal token `token` found at offset `base`: its form and decoded value.
 * Returns undefined for tokens that are not character strings (bit strings, numbers).
 */
export function readLiteral(token: string, base: number): Literal | undefined {
  const c = token.charCodeAt(0)
  if (c === 36) {
    const tag = token.slice(0, token.indexOf('$', 1) + 1)
    const inner = token.slice(tag.length, token.length - tag.length)
    return {
      form: 'dollar',
      start: base,
      end: base + token.length,
      tag,
      ...identityValue(inner, base + tag.length),
    }
  }
  if (c === 39)
    return { form: 'sql', start: base, end: base + token.length, ...decodeStandard(token, 1, base) }
  if ((c === 69 || c === 101) && token.charCodeAt(1) === 39)
    return { form: 'sql-e', start: base, end: base + token.length, ...decodeEscape(token, 2, base) }
  if ((c === 85 || c === 117) && token.startsWith("&'", 1))
    return {
      form: 'unicode',
      start: base,
      end: base + token.length,
      ...decodeUnicode(token, 3, base),
    }
  return undefined
}

/**
 * The content spans `[start, end)` (token offsets) of the quoted pieces of a string token whose
 * first content character is at `open`: one, or several when the string is continued
 * (PostgreSQL's lexer joins `'a'`, blanks and `--` comments holding a line break, and `'b'` into
 * one token whose value is `ab`; the pieces after the first keep the first's escape rules).
 */
function pieceSpans(token: string, open: number, escapes: boolean): Array<[number, number]> {
  const last = token.length - 1
  // a continuation needs a line break between the pieces
  if (!token.includes('\n')) return [[open, last]]
  const out: Array<[number, number]> = []
  let i = open
  for (;;) {
    let j = i
    while (j < last) {
      const c = token.charCodeAt(j)
      if (escapes && c === 92) j += 2
      else if (c === 39 && token.charCodeAt(j + 1) === 39) j += 2
      else if (c === 39) break
      else j++
    }
    if (j >= last) {
      out.push([i, last])
      return out
    }
    out.push([i, j])
    let k = j + 1
    while (k < last) {
      const c = token.charCodeAt(k)
      if (c === 45 && token.charCodeAt(k + 1) === 45) {
        const nl = token.indexOf('\n', k)
        k = nl === -1 ? last : nl + 1
      } else if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) k++
      else break
    }
    // not another piece: the token ends here (what the lexer gives always ends with a quote)
    if (token.charCodeAt(k) !== 39 || k >= last) return out
    i = k + 1
  }
}

/** A decoded value built piece by piece: `push` one character and the source offset it came from. */
function pieceBuilder(base: number) {
  let value = ''
  const offsets: number[] = []
  const pieces: LiteralPiece[] = []
  return {
    piece(start: number, end: number) {
      pieces.push({ from: value.length, start: base + start, end: base + end })
    },
    push(ch: string, at: number) {
      value += ch
      for (let k = 0; k < ch.length; k++) offsets.push(base + at)
    },
    done(end: number): DecodedValue & { pieces?: LiteralPiece[] } {
      offsets.push(base + end)
      return { ...mapped(value, offsets), ...(pieces.length > 1 ? { pieces } : {}) }
    },
  }
}

function decodeStandard(
  token: string,
  open: number,
  base: number,
): DecodedValue & { pieces?: LiteralPiece[] } {
  const spans = pieceSpans(token, open, false)
  const [first] = spans[0]!
  const end = spans[spans.length - 1]![1]
  if (spans.length === 1 && token.indexOf("''", first) === -1)
    return identityValue(token.slice(first, end), base + first)
  const b = pieceBuilder(base)
  for (const [from, to] of spans) {
    b.piece(from, to)
    for (let i = from; i < to; i++) {
      b.push(token[i]!, i)
      if (token.charCodeAt(i) === 39) i++
    }
  }
  return b.done(end)
}

/**
 * A `U&'…'` string with the default escape character: `\\XXXX`, `\\+XXXXXX` and `\\\\` decoded
 * (only to find leftovers: such a literal is never rewritten). A `UESCAPE` clause is not seen.
 */
function decodeUnicode(
  token: string,
  open: number,
  base: number,
): DecodedValue & { pieces?: LiteralPiece[] } {
  const spans = pieceSpans(token, open, false)
  const b = pieceBuilder(base)
  for (const [from, to] of spans) {
    b.piece(from, to)
    for (let i = from; i < to;) {
      const ch = token[i]!
      if (ch === "'") {
        b.push("'", i)
        i += 2
        continue
      }
      const u =
        ch === '\\'
          ? /^(?:([0-9A-Fa-f]{4})|\+([0-9A-Fa-f]{6}))/.exec(token.slice(i + 1, i + 8))
          : null
      if (u) {
        const cp = parseInt(u[1] ?? u[2]!, 16)
        b.push(cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd', i)
        i += 1 + u[0].length
        continue
      }
      if (ch === '\\' && token[i + 1] === '\\') {
        b.push('\\', i)
        i += 2
        continue
      }
      b.push(ch, i)
      i++
    }
  }
  return b.done(spans[spans.length - 1]![1])
}

function decodeEscape(
  token: string,
  open: number,
  base: number,
): DecodedValue & { pieces?: LiteralPiece[] } {
  const spans = pieceSpans(token, open, true)
  const b = pieceBuilder(base)
  for (const [from, to] of spans) {
    b.piece(from, to)
    decodeEscapeSpan(token, from, to, b.push)
  }
  return b.done(spans[spans.length - 1]![1])
}

function decodeEscapeSpan(
  token: string,
  open: number,
  end: number,
  push: (ch: string, at: number) => void,
): void {
  for (let i = open; i < end;) {
    const ch = token[i]!
    if (ch === "'") {
      push("'", i)
      i += 2
      continue
    }
    if (ch !== '\\') {
      push(ch, i)
      i++
      continue
    }
    const next = token[i + 1] ?? ''
    const simple = SIMPLE_E[next]
    if (simple) {
      push(simple, i)
      i += 2
      continue
    }
    const octal = /^[0-7]{1,3}/.exec(token.slice(i + 1, i + 4))
    if (octal) {
      push(String.fromCharCode(parseInt(octal[0], 8)), i)
      i += 1 + octal[0].length
      continue
    }
    const hex = /^x([0-9A-Fa-f]{1,2})/.exec(token.slice(i + 1, i + 4))
    if (hex) {
      push(String.fromCharCode(parseInt(hex[1]!, 16)), i)
      i += 1 + hex[0].length
      continue
    }
    const uni = /^(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))/.exec(token.slice(i + 1, i + 10))
    if (uni) {
      push(String.fromCodePoint(parseInt(uni[1] ?? uni[2]!, 16)), i)
      i += 1 + uni[0].length
      continue
    }
    push(next, i)
    i += 2
  }
}

const COPY_ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
}

/**
 * Decodes one field of `COPY … FROM stdin` text format found at `text[start, end)`: backslash
 * escapes (`\\`, `\t`, `\n`, octal, `\x`). Returns undefined for `\N` (NULL).
 */
export function decodeCopyField(
  text: string,
  start: number,
  end: number,
): DecodedValue | undefined {
  if (end - start === 2 && text.startsWith('\\N', start)) return undefined
  const first = text.indexOf('\\', start)
  if (first === -1 || first >= end) return identityValue(text.slice(start, end), start)
  let value = ''
  const offsets: number[] = []
  for (let i = start; i < end;) {
    offsets.push(i)
    const ch = text[i]!
    if (ch !== '\\') {
      value += ch
      i++
      continue
    }
    const next = text[i + 1] ?? ''
    const simple = COPY_ESCAPES[next]
    if (simple) {
      value += simple
      i += 2
      continue
    }
    const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1, Math.min(i + 4, end)))
    if (octal) {
      value += String.fromCharCode(parseInt(octal[0], 8))
      i += 1 + octal[0].length
      continue
    }
    const hex = /^x([0-9A-Fa-f]{1,2})/.exec(text.slice(i + 1, Math.min(i + 4, end)))
    if (hex) {
      value += String.fromCharCode(parseInt(hex[1]!, 16))
      i += 1 + hex[0].length
      continue
    }
    value += next
    i += 2
  }
  offsets.push(end)
  return mapped(value, offsets)
}

/** Encodes a value for COPY text format: backslash, tab, newline and carriage return escaped. */
export function encodeCopy(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  )
}

/**
 * The encoders of SQL string literals (`'…'` and `E'…'`) and of a libpq conninfo value: the one
 * home of SQL quoting, used while planning and registered by the `sql` step kind for `apply`.
 */
export const SQL_ENCODINGS: Encoders = {
  sql: (v) => v.replace(/'/g, "''"),
  'sql-e': (v) => v.replace(/[\\']/g, (c) => (c === "'" ? "''" : '\\\\')),
  conninfo: (v) => (v === '' || /[\s'\\]/.test(v) ? `'${v.replace(/[\\']/g, '\\$&')}'` : v),
}

/**
 * The encodings (innermost first) that write a value into a literal of `form` nested in outer
 * layers, e.g. `['sql']` for `'…'` in a `$_$` body, `['sql', 'sql']` in a `'…'` body. Undefined
 * when no {@link EncodingName} chain exists (COPY fields, `U&'…'`).
 */
export function encodingsFor(forms: readonly LiteralForm[]): EncodingName[] | undefined {
  const out: EncodingName[] = []
  for (const f of forms) {
    if (f === 'sql' || f === 'sql-e') out.push(f)
    else if (f !== 'dollar') return undefined
  }
  return out
}

/**
 * Encodes `value` for literals of `forms` (innermost first). Returns undefined when the value
 * cannot be written there: a dollar-quoted layer whose closing tag the value would spell.
 */
export function encodeFor(
  value: string,
  forms: readonly { form: LiteralForm; tag?: string }[],
): string | undefined {
  let out = value
  for (const f of forms) {
    if (f.form === 'sql' || f.form === 'sql-e') out = SQL_ENCODINGS[f.form]!(out)
    else if (f.form === 'copy') out = encodeCopy(out)
    else if (f.form === 'dollar') {
      if (f.tag && out.includes(f.tag)) return undefined
    } else return undefined
  }
  return out
}
