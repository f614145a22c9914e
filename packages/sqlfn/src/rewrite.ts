import type { Diagnostic, Edit } from '@cutover/rewrite'
import { readFunction, type QualifiedName, type SqlFunction } from './functions.js'
import {
  decodeCopyField,
  encodeFor,
  encodingsFor,
  readLiteral,
  type DecodedValue,
  type LiteralForm,
  type LiteralPiece,
} from './literal.js'
import { rewriteValue, type SqlRules, type ValueEdit } from './rules.js'
import { sqlTokens } from './scan.js'

/** A quoting layer around a value, innermost first: the literal's own form, then the body's. */
export interface Layer {
  form: LiteralForm
  tag?: string
}

/** A string value located in a text: its decoded value mapped to file offsets, and its layers. */
export interface LocatedValue extends DecodedValue {
  start: number
  end: number
  layers: Layer[]
  /** The quoted pieces of a continued string (`'a'` newline `'b'`), offsets in the whole text. */
  pieces?: LiteralPiece[]
}

/** What rewriting one statement or data block found, for edits and for leftover reasons. */
export interface Rewrite {
  edits: Edit[]
  diagnostics: Diagnostic[]
  /** Spans of string values examined (offsets into the whole text). */
  values: Array<{ start: number; end: number }>
  /** Spans of comments inside function bodies. */
  comments: Array<{ start: number; end: number }>
  /** Why the values of a span were not examined (a body in a language that is not SQL). */
  skipped?: string
}

const SQL_LANGUAGES = new Set(['sql', 'plpgsql'])

/** Turns the {@link rewriteValue} changes of `v` into edits of the whole text, encoded for its layers. */
export function valueEdits(v: LocatedValue, rules: SqlRules, out: Rewrite): void {
  if (v.layers.some((l) => l.form === 'unicode')) return
  for (const e of rewriteValue(v.value, rules)) {
    for (const part of placed(v, e)) {
      const { start, end } = part
      const text = encodeFor(part.text, v.layers)
      const range = { start, end: Math.max(end, start + 1) }
      if (text === undefined) {
        out.diagnostics.push({
          code: 'SQL_UNENCODABLE',
          message: `the ${e.secret ? 'value of secret ' + e.secret : `value "${e.text}"`} cannot be written inside this ${v.layers.map((l) => l.tag ?? l.form).join(' in ')} literal`,
          range,
        })
        continue
      }
      if (e.secret && part.text !== '') {
        const encoding = encodingsFor(v.layers.map((l) => l.form))
        if (!encoding) {
          out.diagnostics.push({
            code: 'SQL_SECRET_IN_DATA',
            message: `a password from secret ${e.secret} cannot be written into COPY data; use INSERT or a function`,
            range,
            severity: 'warning',
          })
          continue
        }
        out.edits.push({
          start,
          end,
          text,
          rule: e.rule,
          summary: e.summary,
          secret: { name: e.secret, encoding: ['conninfo', ...encoding] },
          sensitive: true,
        })
        continue
      }
      out.edits.push({
        start,
        end,
        text,
        rule: e.rule,
        summary: e.summary,
        ...(e.sensitive ? { sensitive: true } : {}),
        ...(e.once ? { once: e.once } : {}),
      })
    }
  }
}

/**
 * Where a change of a value goes in the source: one span, or for a continued string whose change
 * straddles its pieces, one span per piece, so that the pieces and what lies between them stay:
 * the first piece's part takes the new text (less what it shares with the old text at either
 * end), the later pieces' parts are cut.
 */
function placed(
  v: LocatedValue,
  e: ValueEdit,
): Array<{ start: number; end: number; text: string }> {
  const pieces = v.pieces
  if (!pieces) return [{ start: v.at(e.start), end: v.at(e.end), text: e.text }]
  let { start: s, end: t, text } = e
  const pieceOf = (i: number) => pieces.findLastIndex((p) => p.from <= i)
  const endIn = (k: number, i: number) =>
    k + 1 < pieces.length && i >= pieces[k + 1]!.from ? pieces[k]!.end : v.at(i)
  const span = () => ({ first: pieceOf(s), last: t > s ? pieceOf(t - 1) : pieceOf(s) })
  let { first, last } = span()
  if (first !== last && !e.secret) {
    // the unchanged ends of a change need no edit: `oas.` + `staff` -> `oas.staff.test` is `.test` added to `staff`
    const old = v.value.slice(s, t)
    let a = 0
    while (a < old.length && a < text.length && old[a] === text[a]) a++
    let b = 0
    while (
      b < old.length - a &&
      b < text.length - a &&
      old[old.length - 1 - b] === text[text.length - 1 - b]
    )
      b++
    s += a
    t -= b
    text = text.slice(a, text.length - b)
    ;({ first, last } = span())
  }
  if (first === last) return [{ start: v.at(s), end: t > s ? endIn(last, t) : v.at(s), text }]
  const out = [{ start: v.at(s), end: pieces[first]!.end, text }]
  for (let k = first + 1; k < last; k++)
    if (pieces[k]!.end > pieces[k]!.start)
      out.push({ start: pieces[k]!.start, end: pieces[k]!.end, text: '' })
  out.push({ start: pieces[last]!.start, end: endIn(last, t), text: '' })
  return out
}

function compose(inner: DecodedValue, outer: DecodedValue | undefined): (i: number) => number {
  return outer ? (i) => outer.at(inner.at(i)) : (i) => inner.at(i)
}

/**
 * The string literals of a function's body as PostgreSQL's lexer finds them. A body quoted with
 * `'…'` is decoded first and its literals get two layers; a `$tag$` body's literals are plain SQL
 * literals. A SQL-standard body (no `AS`) yields the statement's own literals.
 */
export function functionValues(fn: SqlFunction, out: Rewrite): LocatedValue[] {
  const body = fn.body
  if (!body) {
    return fn.tokens.flatMap((t) => {
      const lit = t.kind === 'string' ? readLiteral(t.text, t.start) : undefined
      return lit
        ? [{ ...lit, layers: [{ form: lit.form, ...(lit.tag ? { tag: lit.tag } : {}) }] }]
        : []
    })
  }
  if (fn.language && !SQL_LANGUAGES.has(fn.language)) {
    out.skipped = `in a ${fn.language} function body, which is not SQL`
    return []
  }
  const bodyLayer: Layer = { form: body.form, ...(body.tag ? { tag: body.tag } : {}) }
  const dollar = body.form === 'dollar'
  const base = dollar ? body.at(0) : 0
  // a dollar-quoted body is a part of its statement, already found plain or not
  const tokens = sqlTokens(body.value, base, false, dollar && fn.plain === true)
  const values: LocatedValue[] = []
  for (const t of tokens) {
    if (t.kind === 'comment') {
      out.comments.push(
        dollar ? { start: t.start, end: t.end } : { start: body.at(t.start), end: body.at(t.end) },
      )
      continue
    }
    if (t.kind !== 'string') continue
    const lit = readLiteral(t.text, t.start)
    if (!lit) continue
    const at = compose(lit, dollar ? undefined : body)
    const layer: Layer = { form: lit.form, ...(lit.tag ? { tag: lit.tag } : {}) }
    const pieces =
      lit.pieces &&
      (dollar
        ? lit.pieces
        : lit.pieces.map((p) => ({ from: p.from, start: body.at(p.start), end: body.at(p.end) })))
    values.push({
      value: lit.value,
      at,
      start: dollar ? lit.start : body.at(lit.start),
      end: dollar ? lit.end : body.at(lit.end),
      layers: [layer, bodyLayer],
      ...(pieces ? { pieces } : {}),
    })
  }
  return values
}

function emptyRewrite(): Rewrite {
  return { edits: [], diagnostics: [], values: [], comments: [] }
}

/** Rewrites the literals of a located function's body (see {@link functionValues}). */
export function rewriteFunction(fn: SqlFunction, rules: SqlRules): Rewrite {
  const out = emptyRewrite()
  for (const v of functionValues(fn, out)) {
    out.values.push({ start: v.start, end: v.end })
    valueEdits(v, rules, out)
  }
  return out
}

/**
 * Rewrites one function definition as `pg_get_functiondef` or a dump prints it: edits index
 * `definition`. Pure apart from reading secrets; needs {@link loadLexer}. For live databases.
 */
export function rewriteFunctionDefinition(
  definition: string,
  rules: SqlRules,
  name: QualifiedName = { schema: 'public', name: '' },
): Rewrite & { fn: SqlFunction } {
  const fn = readFunction(definition, 0, definition.length, name)
  return { ...rewriteFunction(fn, rules), fn }
}

/** Rewrites the literals of an `INSERT` statement at `text[start, end)` (pg_dump `--inserts`). */
export function rewriteInsert(text: string, start: number, end: number, rules: SqlRules): Rewrite {
  const out = emptyRewrite()
  for (const t of sqlTokens(text.slice(start, end), start)) {
    const lit = t.kind === 'string' ? readLiteral(t.text, t.start) : undefined
    if (!lit) continue
    out.values.push({ start: lit.start, end: lit.end })
    valueEdits(
      { ...lit, layers: [{ form: lit.form, ...(lit.tag ? { tag: lit.tag } : {}) }] },
      rules,
      out,
    )
  }
  return out
}

/**
 * Rewrites the rows of a `COPY … FROM stdin` text-format block `text[dataStart, end)` (the `\.`
 * line excluded), split as PostgreSQL splits them: a backslash escapes the character after it
 * (`\<TAB>` is a tab inside a field, a backslash before a line break continues the row), so only
 * a bare tab ends a field and only a bare line break ends a row. Each field is decoded (`\N`,
 * backslash escapes), matched on its value and re-encoded where it changes.
 */
export function rewriteCopyData(
  text: string,
  dataStart: number,
  end: number,
  rules: SqlRules,
): Rewrite {
  const out = emptyRewrite()
  let i = dataStart
  while (i < end) {
    if (
      text.startsWith('\\.', i) &&
      (i + 2 === end ||
        text.charCodeAt(i + 2) === 10 ||
        (text.charCodeAt(i + 2) === 13 && text.charCodeAt(i + 3) === 10))
    )
      break
    let field = i
    for (;;) {
      const c = i < end ? text.charCodeAt(i) : 10
      if (c === 92) {
        i += 2
        continue
      }
      const crlf = c === 13 && text.charCodeAt(i + 1) === 10
      if (c !== 9 && c !== 10 && !crlf) {
        i++
        continue
      }
      const stop = Math.min(i, end)
      const v = decodeCopyField(text, field, stop)
      if (v) {
        out.values.push({ start: field, end: stop })
        valueEdits({ ...v, start: field, end: stop, layers: [{ form: 'copy' }] }, rules, out)
      }
      i += crlf ? 2 : 1
      if (c === 9) {
        field = i
        continue
      }
      break
    }
  }
  return out
}

/** True when a COPY statement's options ask for CSV, which {@link rewriteCopyData} does not read. */
export function copyIsCsv(statement: string): boolean {
  return /\bcsv\b/i.test(statement.replace(/'[^']*'/g, ''))
}
