import {
  applyEdits,
  type DecodedLiteral,
  type Diagnostic,
  type Edit,
  firstStartingAt,
  holds,
  type Leftover,
  plainLiteral,
  ValueBuilder,
  type ValueFixer,
} from '@cutover/rewrite'
import { spanAt, tokenizePhp, type PhpDocument, type PhpLiteralPart, type PhpToken } from './lex.js'

const SIMPLE: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  v: '\v',
  e: '\x1b',
  f: '\f',
  '\\': '\\',
  $: '$',
}

/** The value and length of the escape sequence at `p` (a backslash) of a double-quoted or heredoc literal; undefined for a backslash PHP keeps. */
function escapeAt(
  text: string,
  p: number,
  end: number,
  double: boolean,
): [string, number] | undefined {
  const c = text[p + 1]
  if (c === undefined || p + 1 >= end) return undefined
  if (c in SIMPLE) return [SIMPLE[c]!, 2]
  if (c === '"' && double) return ['"', 2]
  let m = /^[0-7]{1,3}/.exec(text.slice(p + 1, Math.min(end, p + 4)))
  if (m) return [String.fromCharCode(Number.parseInt(m[0], 8) & 0xff), 1 + m[0].length]
  if (c === 'x') {
    m = /^[0-9A-Fa-f]{1,2}/.exec(text.slice(p + 2, Math.min(end, p + 4)))
    if (m) return [String.fromCharCode(Number.parseInt(m[0], 16)), 2 + m[0].length]
  }
  if (c === 'u' && text[p + 2] === '{') {
    const close = text.indexOf('}', p + 3)
    if (close > 0 && close < end && /^[0-9A-Fa-f]+$/.test(text.slice(p + 3, close))) {
      const cp = Number.parseInt(text.slice(p + 3, close), 16)
      if (cp <= 0x10ffff) return [String.fromCodePoint(cp), close + 1 - p]
    }
  }
  return undefined
}

/**
 * The value of one literal part as PHP reads it: escapes decoded for its quoting, and the
 * indentation of a flexible heredoc (PHP 7.3+) removed from each of its lines. Escapes that make
 * bytes (`\xe9`) give the character of that code (files are text: patterns are characters).
 */
export function decodePhpPart(text: string, part: PhpLiteralPart): DecodedLiteral {
  const { start, end, quote } = part
  const indent = part.indent ?? ''
  const escapes = quote !== 'nowdoc' && holds(text, '\\', start, end)
  if (!escapes && !indent) return plainLiteral(text, part)
  const b = new ValueBuilder(text, part)
  let run = start
  let p = start
  const dedent = () => {
    // PHP removes the closing marker's indentation from every line of the body
    let q = p
    while (q < end && q - p < indent.length && (text[q] === ' ' || text[q] === '\t')) q++
    if (q > p) {
      b.raw(run, p)
      b.skip()
      p = run = q
    }
  }
  if (indent && (p === part.bodyStart || text[p - 1] === '\n')) dedent()
  while (p < end) {
    const c = text[p]
    if (c === '\\' && escapes) {
      const e =
        quote === 'single'
          ? (text[p + 1] === '\\' || text[p + 1] === "'") && p + 1 < end
            ? ([text[p + 1]!, 2] as [string, number])
            : undefined
          : escapeAt(text, p, end, quote === 'double')
      if (e) {
        b.raw(run, p)
        b.escape(e[0], p, p + e[1])
        p = run = p + e[1]
        continue
      }
    }
    p++
    if (c === '\n' && indent) dedent()
  }
  b.raw(run, end)
  return b.done(indent || undefined)
}

const LABEL_START = /^[A-Za-z_\u0080-\uffff]/
const LABEL_CHAR = /^[A-Za-z0-9_\u0080-\uffff]/

/**
 * Makes the replacement `encoded` of value range `[a, b)` (source `span`) keep PHP's reading of
 * the string around it: a raw `\` or `$` just before it that would join the replacement is
 * escaped; a simple interpolation (`$o`, `$o->p`) that the replacement would extend is braced
 * (`{$o}`); a `{` that would open an interpolation with the `$` after it is refused.
 */
export function fixInterpolation(
  doc: PhpDocument,
  text: string,
  d: DecodedLiteral,
  a: number,
  b: number,
  span: { start: number; end: number },
  encoded: string,
): ReturnType<ValueFixer> {
  const part = d.region as PhpLiteralPart
  const q = part.quote
  if (
    part.label &&
    closesHeredoc(text, span.start, part.bodyStart ?? part.start, encoded, part.label)
  ) {
    return { refused: `a line of the replacement would close the heredoc (${part.label})` }
  }
  if (q === 'nowdoc') return { edits: [{ ...span, text: encoded }] }
  const rawChar = (i: number) =>
    i >= 0 && i < d.value.length && (!d.ends || d.ends[i]! - d.starts![i]! === 1)
      ? d.value[i]
      : undefined
  let { start, end } = span
  let out = encoded
  const extra: Array<{ start: number; end: number; text: string }> = []
  const before = rawChar(a - 1)
  if (before === '\\') {
    const joins =
      q === 'single'
        ? /^[\\']/.test(out)
        : new RegExp(`^(?:[ntrvef\\\\$0-7]|x[0-9A-Fa-f]|u\\{${q === 'double' ? '|"' : ''})`).test(
            out,
          )
    if (joins) {
      start -= 1
      out = `\\\\${out}`
    }
  }
  if (q === 'single') return { edits: [{ start, end, text: out }] }
  if (before === '$' && (LABEL_START.test(out) || out.startsWith('{'))) {
    start -= 1
    out = `\\$${out}`
  }
  if (out.endsWith('{')) {
    if (rawChar(b) === '$') {
      end += 1
      out = `${out}\\$`
    } else if (b === d.value.length && text[span.end] === '$') {
      return {
        refused:
          'the replacement ends with "{" and an interpolated variable follows: PHP would read "{$"',
      }
    }
  }
  // a simple interpolation right before this part: `$o`, `$o->p`, `$o?->p`
  const prev =
    span.start === part.start || d.value.slice(0, a).match(/^(?:->|\?->)$/)
      ? tokenBefore(doc, part.start)
      : undefined
  if (prev) {
    const lead = d.value.slice(0, a)
    const joined = lead + out
    const extends_ =
      prev.kind === 'variable'
        ? LABEL_CHAR.test(joined) ||
          joined.startsWith('[') ||
          /^(?:->|\?->)[A-Za-z_\u0080-\uffff]/.test(joined)
        : LABEL_CHAR.test(joined)
    if (extends_) {
      if (!prev.brace)
        return { refused: 'the replacement would extend the interpolated expression before it' }
      extra.push({ start: prev.brace.start, end: prev.brace.start, text: '{' })
      if (start === part.start) out = `}${out}`
      else extra.push({ start: part.start, end: part.start, text: '}' })
    }
  }
  return { edits: [...extra, { start, end, text: out }] }
}

/**
 * True when `encoded`, written at `at` in a heredoc or nowdoc body starting at `bodyStart`, has a
 * line PHP would read as the closing label (`EOT` after optional blanks): what follows it
 * would become code.
 */
export function closesHeredoc(
  text: string,
  at: number,
  bodyStart: number,
  encoded: string,
  label: string,
): boolean {
  const lineStart = Math.max(bodyStart, text.lastIndexOf('\n', at - 1) + 1)
  const lines = (text.slice(lineStart, at) + encoded).split('\n')
  return lines.some(
    (l) => /^[ \t]*/.exec(l)![0].length < l.length && l.replace(/^[ \t]*/, '').startsWith(label),
  )
}

/** The simple interpolation ending at `at` (inside a double-quoted string or heredoc), if any, and where a brace can open. */
function tokenBefore(
  doc: PhpDocument,
  at: number,
): { kind: 'variable' | 'property'; brace?: { start: number } } | undefined {
  const t = spanAt(doc.tokens, at - 1)
  if (!t || t.end !== at) return undefined
  const i = firstStartingAt(doc.tokens, t.start)
  if (t.type === 'T_VARIABLE') {
    const p = doc.tokens[i - 1]
    // `{$o}` and `${o}` already end where braces do
    return p && (p.type === 'T_CURLY_OPEN' || p.type === 'T_DOLLAR_OPEN_CURLY_BRACES')
      ? undefined
      : { kind: 'variable', brace: { start: t.start } }
  }
  if (t.type === 'T_STRING') {
    const op = doc.tokens[i - 1]
    const v = doc.tokens[i - 2]
    if (
      (op?.type === 'T_OBJECT_OPERATOR' || op?.type === 'T_NULLSAFE_OBJECT_OPERATOR') &&
      v?.type === 'T_VARIABLE'
    ) {
      return { kind: 'property', brace: { start: v.start } }
    }
  }
  return undefined
}

/** The shape of a string literal's tokens: code tokens as written, each literal run as one mark, `{$…}` braces dropped. */
function shape(tokens: readonly PhpToken[]): string {
  const out: string[] = []
  let depth = 0
  const closes: number[] = []
  for (const t of tokens) {
    if (t.type === 'T_ENCAPSED_AND_WHITESPACE' || t.type === 'T_CONSTANT_ENCAPSED_STRING') {
      if (out[out.length - 1] !== '\0') out.push('\0')
    } else if (t.type === 'T_CURLY_OPEN') {
      closes.push(++depth)
    } else if (t.type === '}' && closes[closes.length - 1] === depth) {
      closes.pop()
      depth--
    } else {
      if (t.type === '{' || t.type === 'T_DOLLAR_OPEN_CURLY_BRACES') depth++
      else if (t.type === '}') depth--
      out.push(
        t.type === 'T_START_HEREDOC' || t.type === 'T_END_HEREDOC' || t.type === '"'
          ? t.type
          : `${t.type}:${t.text}`,
      )
    }
  }
  return out.join(' ')
}

/**
 * Checks, with the lexer, that the rule edits inside each interpolating literal (double-quoted,
 * heredoc) leave the literal's interpolations as they were: a literal where they would not has
 * its rule edits dropped, with a `PHP_INTERPOLATION` warning and a leftover.
 */
export async function checkInterpolation(
  doc: PhpDocument,
  text: string,
  edits: readonly Edit[],
): Promise<{ edits: Edit[]; diagnostics: Diagnostic[]; refused: Leftover[] }> {
  if (
    !edits.some((e) => {
      const p = spanAt(doc.parts, e.start) ?? spanAt(doc.parts, e.start - 1)
      return p?.quote === 'double' || p?.quote === 'heredoc'
    })
  )
    return { edits: [...edits], diagnostics: [], refused: [] }
  const literals = doc.units.filter(
    (u) => u.kind === 'literal' && u.quote !== 'single' && u.quote !== 'nowdoc',
  ) as Array<{ start: number; end: number; interpolated: boolean }>
  const byLiteral = new Map<{ start: number; end: number; interpolated: boolean }, Edit[]>()
  const kept: Edit[] = []
  for (const e of edits) {
    const lit =
      spanAt(literals, e.start) ?? (e.end > e.start ? undefined : spanAt(literals, e.start - 1))
    if (!lit) kept.push(e)
    else byLiteral.set(lit, [...(byLiteral.get(lit) ?? []), e])
  }
  const diagnostics: Diagnostic[] = []
  const refused: Leftover[] = []
  // only a literal with interpolation, or an edit that writes or meets `$`, `{` or `\`, can change how PHP reads it
  const risky = (e: Edit) =>
    /[{$\\]/.test(e.text) || /[{$\\]/.test(text[e.start - 1] ?? '') || text[e.end] === '$'
  for (const [lit, list] of byLiteral) {
    if (!lit.interpolated && !list.some(risky)) {
      kept.push(...list)
      continue
    }
    const before = doc.tokens.slice(
      firstStartingAt(doc.tokens, lit.start),
      firstStartingAt(doc.tokens, lit.end),
    )
    const local = list.map((e) => ({ ...e, start: e.start - lit.start, end: e.end - lit.start }))
    const after = applyEdits(text.slice(lit.start, lit.end), local)
    const lexed = await tokenizePhp(`<?php ${after};`)
    const last = lexed[lexed.length - 1]
    const ok =
      last?.type === ';' &&
      last.end === after.length + 7 &&
      shape(lexed.slice(1, -1)) === shape(before)
    if (ok) {
      kept.push(...list)
      continue
    }
    const first = list.find((e) => e.summary) ?? list[0]!
    diagnostics.push({
      code: 'PHP_INTERPOLATION',
      severity: 'warning',
      message: `${first.summary ?? first.rule}: the replacement would change how PHP reads this string (an interpolated variable or escape); left unchanged, edit it by hand`,
      range: { start: first.start, end: first.end },
    })
    for (const e of list)
      if (e.end > e.start)
        refused.push({
          start: e.start,
          end: e.end,
          text: text.slice(e.start, e.end),
          reason: 'not rewritten: the replacement would change how PHP reads this string',
        })
  }
  return { edits: kept, diagnostics, refused }
}
