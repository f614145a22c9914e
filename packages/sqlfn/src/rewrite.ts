import type { Diagnostic, Edit } from '@cutover/rewrite'
import { readFunction, type QualifiedName, type SqlFunction } from './functions.js'
import { lexSql } from './lexer.js'
import { decodeCopyField, encodeFor, encodingsFor, readLiteral, type DecodedValue, type LiteralForm } from './literal.js'
import { rewriteValue, type SqlRules } from './rules.js'

/** A quoting layer around a value, innermost first: the literal's own form, then the body's. */
export interface Layer { form: LiteralForm; tag?: string }

/** A string value located in a text: its decoded value mapped to file offsets, and its layers. */
export interface LocatedValue extends DecodedValue {
  start: number
  end: number
  layers: Layer[]
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
    const start = v.at(e.start)
    const end = v.at(e.end)
    const text = encodeFor(e.text, v.layers)
    const range = { start, end: Math.max(end, start + 1) }
    if (text === undefined) {
      out.diagnostics.push({ code: 'SQL_UNENCODABLE', message: `the ${e.secret ? 'value of secret ' + e.secret : `value "${e.text}"`} cannot be written inside this ${v.layers.map((l) => l.tag ?? l.form).join(' in ')} literal`, range })
      continue
    }
    if (e.secret) {
      const encoding = encodingsFor(v.layers.map((l) => l.form))
      if (!encoding) {
        out.diagnostics.push({ code: 'SQL_SECRET_IN_DATA', message: `a password from secret ${e.secret} cannot be written into COPY data; use INSERT or a function`, range, severity: 'warning' })
        continue
      }
      out.edits.push({ start, end, text, rule: e.rule, summary: e.summary, secret: { name: e.secret, encoding: ['conninfo', ...encoding] }, sensitive: true })
      continue
    }
    out.edits.push({ start, end, text, rule: e.rule, summary: e.summary, ...(e.sensitive ? { sensitive: true } : {}), ...(e.once ? { once: e.once } : {}) })
  }
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
      return lit ? [{ ...lit, layers: [{ form: lit.form, ...(lit.tag ? { tag: lit.tag } : {}) }] }] : []
    })
  }
  if (fn.language && !SQL_LANGUAGES.has(fn.language)) {
    out.skipped = `in a ${fn.language} function body, which is not SQL`
    return []
  }
  const bodyLayer: Layer = { form: body.form, ...(body.tag ? { tag: body.tag } : {}) }
  const dollar = body.form === 'dollar'
  const base = dollar ? body.at(0) : 0
  const tokens = lexSql(body.value, base)
  const values: LocatedValue[] = []
  for (const t of tokens) {
    if (t.kind === 'comment') {
      out.comments.push(dollar ? { start: t.start, end: t.end } : { start: body.at(t.start), end: body.at(t.end) })
      continue
    }
    if (t.kind !== 'string') continue
    const lit = readLiteral(t.text, t.start)
    if (!lit) continue
    const at = compose(lit, dollar ? undefined : body)
    const layer: Layer = { form: lit.form, ...(lit.tag ? { tag: lit.tag } : {}) }
    values.push({ value: lit.value, at, start: dollar ? lit.start : body.at(lit.start), end: dollar ? lit.end : body.at(lit.end), layers: [layer, bodyLayer] })
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
export function rewriteFunctionDefinition(definition: string, rules: SqlRules, name: QualifiedName = { schema: 'public', name: '' }): Rewrite & { fn: SqlFunction } {
  const fn = readFunction(definition, 0, definition.length, name)
  return { ...rewriteFunction(fn, rules), fn }
}

/** Rewrites the literals of an `INSERT` statement at `text[start, end)` (pg_dump `--inserts`). */
export function rewriteInsert(text: string, start: number, end: number, rules: SqlRules): Rewrite {
  const out = emptyRewrite()
  for (const t of lexSql(text.slice(start, end), start)) {
    const lit = t.kind === 'string' ? readLiteral(t.text, t.start) : undefined
    if (!lit) continue
    out.values.push({ start: lit.start, end: lit.end })
    valueEdits({ ...lit, layers: [{ form: lit.form, ...(lit.tag ? { tag: lit.tag } : {}) }] }, rules, out)
  }
  return out
}

/**
 * Rewrites the rows of a `COPY … FROM stdin` text-format block `text[dataStart, end)` (the `\.`
 * line excluded): each field is decoded (`\N`, backslash escapes) and re-encoded where it changes.
 */
export function rewriteCopyData(text: string, dataStart: number, end: number, rules: SqlRules): Rewrite {
  const out = emptyRewrite()
  let line = dataStart
  while (line < end) {
    let eol = text.indexOf('\n', line)
    if (eol === -1 || eol > end) eol = end
    const lineEnd = eol > line && text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol
    if (text.startsWith('\\.', line) && lineEnd - line === 2) break
    let field = line
    while (field <= lineEnd) {
      let tab = text.indexOf('\t', field)
      if (tab === -1 || tab > lineEnd) tab = lineEnd
      const v = decodeCopyField(text, field, tab)
      if (v) {
        out.values.push({ start: field, end: tab })
        valueEdits({ ...v, start: field, end: tab, layers: [{ form: 'copy' }] }, rules, out)
      }
      field = tab + 1
    }
    line = eol + 1
  }
  return out
}

/** True when a COPY statement's options ask for CSV, which {@link rewriteCopyData} does not read. */
export function copyIsCsv(statement: string): boolean {
  return /\bcsv\b/i.test(statement.replace(/'[^']*'/g, ''))
}
