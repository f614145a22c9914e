import { lexSql, type SqlToken } from './lexer.js'
import { readLiteral, type Literal } from './literal.js'
import { skipBlockComment } from './split.js'

/** A schema-qualified name; unqualified names are in `public`. */
export interface QualifiedName { schema: string; name: string }

/** A `CREATE [OR REPLACE] FUNCTION | PROCEDURE` statement located in a text. */
export interface SqlFunction extends QualifiedName {
  /** Argument types as PostgreSQL names them (`int4`, `text[]`), when the statement parses. */
  argTypes: string[] | undefined
  /** `plpgsql`, `sql`, … (lower case); undefined when the statement does not say. */
  language: string | undefined
  /** Offsets of the statement (from its first keyword through the `;`). */
  start: number
  end: number
  /** The body literal after `AS` (its value decoded), or undefined for a SQL-standard body. */
  body: Literal | undefined
  /** The statement's tokens from PostgreSQL's lexer, offsets into the whole text. */
  tokens: SqlToken[]
}

/** `schema.name(type, …)`: how plans and leftovers name a function. */
export function functionSignature(f: SqlFunction): string {
  return `${f.schema}.${f.name}(${(f.argTypes ?? ['…']).join(', ')})`
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11
const isIdent = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128 || (c >= 48 && c <= 57) || c === 36

/** Reads an identifier (plain → lower case; `"quoted"` → as written) at `i`; returns it and its end. */
function identAt(text: string, i: number): [string, number] | undefined {
  if (text.charCodeAt(i) === 34) {
    let j = i + 1
    let out = ''
    for (;;) {
      const q = text.indexOf('"', j)
      if (q === -1) return undefined
      out += text.slice(j, q)
      if (text.charCodeAt(q + 1) !== 34) return [out, q + 1]
      out += '"'
      j = q + 2
    }
  }
  let j = i
  while (j < text.length && isIdent(text.charCodeAt(j))) j++
  return j > i ? [text.slice(i, j).toLowerCase(), j] : undefined
}

function skipTrivia(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text.charCodeAt(i)
    if (isSpace(c)) i++
    else if (c === 45 && text.charCodeAt(i + 1) === 45) { const e = text.indexOf('\n', i); i = e === -1 ? end : e + 1 }
    else if (c === 47 && text.charCodeAt(i + 1) === 42) { const e = skipBlockComment(text, i); i = e === -1 ? end : e }
    else break
  }
  return i
}

/**
 * Reads a qualified name after the statement's first `words` words (e.g. 2 for `CREATE FUNCTION`,
 * 3 for `COPY`'s 1, …) without a full lexer: cheap enough to run on every statement.
 */
export function nameAfter(text: string, from: number, end: number, words: number): QualifiedName | undefined {
  let i = from
  for (let k = 0; k < words; k++) {
    i = skipTrivia(text, i, end)
    const w = identAt(text, i)
    if (!w) return undefined
    i = w[1]
  }
  i = skipTrivia(text, i, end)
  const first = identAt(text, i)
  if (!first) return undefined
  i = skipTrivia(text, first[1], end)
  if (text.charCodeAt(i) !== 46) return { schema: 'public', name: first[0] }
  const second = identAt(text, skipTrivia(text, i + 1, end))
  return second ? { schema: first[0], name: second[0] } : undefined
}

/** The name a `CREATE [OR REPLACE] FUNCTION|PROCEDURE` statement defines, from its head words. */
export function routineName(text: string, codeStart: number, end: number, head: readonly string[]): QualifiedName | undefined {
  if (head[0] !== 'create') return undefined
  if (head[1] === 'function' || head[1] === 'procedure') return nameAfter(text, codeStart, end, 2)
  if (head[1] === 'or' && head[2] === 'replace' && (head[3] === 'function' || head[3] === 'procedure')) return nameAfter(text, codeStart, end, 4)
  return undefined
}

/**
 * A predicate over `schema.name` from globs: `*` matches any run of characters but `.`, `?` one
 * character; a glob without a dot matches the name in any schema (`amqp_*`).
 */
export function nameGlobs(globs: readonly string[]): (q: QualifiedName) => boolean {
  const res = globs.map((g) => {
    const re = g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]')
    return { re: new RegExp(`^${re}$`), qualified: g.includes('.') }
  })
  return (q) => res.some(({ re, qualified }) => re.test(qualified ? `${q.schema}.${q.name}` : q.name))
}

type ParseSync = (sql: string) => { stmts?: Array<{ stmt?: Record<string, any> }> }
let parser: ParseSync | undefined

/** Loads PostgreSQL's parser (libpg-query) for the argument types of functions. */
export async function loadParser(): Promise<void> {
  if (parser) return
  const mod = await import('libpg-query')
  await mod.loadModule()
  parser = mod.parseSync as unknown as ParseSync
}

function typeName(t: any): string {
  const names: string[] = (t?.names ?? []).map((n: any) => n.String?.sval ?? '')
  const base = names[0] === 'pg_catalog' && names.length === 2 ? names[1]! : names.join('.')
  return base + '[]'.repeat(t?.arrayBounds?.length ?? 0)
}

function parseMeta(sql: string): { argTypes?: string[]; language?: string } {
  try {
    const stmt = parser?.(sql).stmts?.[0]?.stmt?.CreateFunctionStmt
    if (!stmt) return {}
    const params: any[] = stmt.parameters ?? []
    const argTypes = params
      .map((p) => p.FunctionParameter)
      .filter((p) => p && p.mode !== 'FUNC_PARAM_OUT' && p.mode !== 'FUNC_PARAM_TABLE')
      .map((p) => typeName(p.argType))
    const lang = (stmt.options ?? []).map((o: any) => o.DefElem).find((d: any) => d?.defname === 'language')
    return { argTypes, language: lang?.arg?.String?.sval?.toLowerCase() }
  } catch {
    return {}
  }
}

/**
 * Reads the function defined by the statement `text[start, end)` with PostgreSQL's lexer (spans)
 * and parser (argument types, language). Needs {@link loadLexer}; throws a `SQL_LEX` error when
 * the lexer rejects the statement.
 */
export function readFunction(text: string, start: number, end: number, name: QualifiedName): SqlFunction {
  const sql = text.slice(start, end)
  const tokens = lexSql(sql, start)
  const meta = parseMeta(sql)
  let body: Literal | undefined
  let depth = 0
  let language = meta.language
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!
    if (t.text === '(') depth++
    else if (t.text === ')') depth--
    else if (depth === 0 && t.kind === 'word') {
      const w = t.text.toLowerCase()
      const next = tokens[k + 1]
      if (w === 'as' && next?.kind === 'string') body = readLiteral(next.text, next.start)
      else if (w === 'language' && next && !language) language = next.text.replace(/^'|'$/g, '').toLowerCase()
    }
  }
  return { ...name, argTypes: meta.argTypes, language, start, end, body, tokens }
}
