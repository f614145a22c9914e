import type { SqlToken } from './lexer.js'
import { readLiteral, type Literal } from './literal.js'
import { plainText, sqlTokens } from './scan.js'
import { skipBlockComment } from './split.js'

/** A schema-qualified name; unqualified names are in `public`. */
export interface QualifiedName {
  schema: string
  name: string
}

/** A `CREATE [OR REPLACE] FUNCTION | PROCEDURE` statement located in a text. */
export interface SqlFunction extends QualifiedName {
  /** Argument types as written (`integer`, `text[]`, `character varying`), without names, defaults and OUT arguments. */
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
  /**
   * The statement is {@link plainText}: its dollar-quoted body, a part of it, is read without
   * being looked at again for what the scanner leaves to PostgreSQL's lexer.
   */
  plain?: boolean
}

/** `schema.name(type, …)`: how plans and leftovers name a function. */
export function functionSignature(f: SqlFunction): string {
  return `${f.schema}.${f.name}(${(f.argTypes ?? ['…']).join(', ')})`
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11
const isIdent = (c: number) =>
  (c >= 97 && c <= 122) ||
  (c >= 65 && c <= 90) ||
  c === 95 ||
  c >= 128 ||
  (c >= 48 && c <= 57) ||
  c === 36

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
    else if (c === 45 && text.charCodeAt(i + 1) === 45) {
      const e = text.indexOf('\n', i)
      i = e === -1 ? end : e + 1
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const e = skipBlockComment(text, i)
      i = e === -1 ? end : e
    } else break
  }
  return i
}

/**
 * Reads a qualified name after the statement's first `words` words (e.g. 2 for `CREATE FUNCTION`,
 * 3 for `COPY`'s 1, …) without a full lexer: cheap enough to run on every statement.
 */
export function nameAfter(
  text: string,
  from: number,
  end: number,
  words: number,
): QualifiedName | undefined {
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
export function routineName(
  text: string,
  codeStart: number,
  end: number,
  head: readonly string[],
): QualifiedName | undefined {
  if (head[0] !== 'create') return undefined
  if (head[1] === 'function' || head[1] === 'procedure') return nameAfter(text, codeStart, end, 2)
  if (
    head[1] === 'or' &&
    head[2] === 'replace' &&
    (head[3] === 'function' || head[3] === 'procedure')
  )
    return nameAfter(text, codeStart, end, 4)
  return undefined
}

/**
 * A predicate over `schema.name` from globs: the glob's schema and name are split at its first
 * `.` outside double quotes, and each is matched against the schema and the name on their own,
 * so a name holding a dot (`public."amqp.staff"`, read as `amqp.staff`) is selected by `*.*`,
 * `public.amqp.*`, `public.amqp.staff` and `public."amqp.staff"`. In a part, `*` matches any run of
 * characters, `?` one character, and `"…"` is taken literally (quotes removed, `""` is a quote).
 * A glob without a dot outside quotes matches the name in any schema (`amqp_*`, `"amqp.staff"`).
 */
export function nameGlobs(globs: readonly string[]): (q: QualifiedName) => boolean {
  const res = globs.map((g) => {
    const parts = splitGlob(g)
    return parts.length === 1 ? { name: parts[0]! } : { schema: parts[0]!, name: parts[1]! }
  })
  return (q) =>
    res.some(({ schema, name }) => name.test(q.name) && (!schema || schema.test(q.schema)))
}

/** A glob's one or two parts (split at the first `.` outside quotes) as anchored regular expressions. */
function splitGlob(glob: string): RegExp[] {
  const parts: string[] = ['']
  let quoted = false
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '"') {
      if (quoted && glob[i + 1] === '"') {
        parts[parts.length - 1] += '"'
        i++
        continue
      }
      quoted = !quoted
      continue
    }
    if (quoted) parts[parts.length - 1] += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    else if (c === '.' && parts.length === 1) parts.push('')
    else if (c === '*') parts[parts.length - 1] += '.*'
    else if (c === '?') parts[parts.length - 1] += '.'
    else parts[parts.length - 1] += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return parts.map((p) => new RegExp(`^${p}$`, 's'))
}

const MODES = new Set(['in', 'out', 'inout', 'variadic'])
// types of more than one word, which a leading name would otherwise be confused with
const MULTI_WORD =
  /^(double precision|character varying|char varying|national char(acter)?( varying)?|bit varying|(timestamp|time)( ?\(\d+\))? with(out)? time zone|interval \w+.*)(\[\])*$/

/** The argument types of a signature's tokens (between the parentheses), names and defaults dropped. */
function argTypesOf(tokens: readonly SqlToken[]): string[] {
  const args: SqlToken[][] = [[]]
  let depth = 0
  for (const t of tokens) {
    if (t.text === '(' || t.text === '[') depth++
    else if (t.text === ')' || t.text === ']') depth--
    if (depth === 0 && t.text === ',') args.push([])
    else if (t.kind !== 'comment') args[args.length - 1]!.push(t)
  }
  const out: string[] = []
  for (let a of args) {
    if (a.length === 0) continue
    const mode = a[0]!.text.toLowerCase()
    if (MODES.has(mode) && a.length > 1) {
      if (mode === 'out') continue
      a = a.slice(1)
    }
    const cut = a.findIndex((t) => t.text === '=' || t.text.toLowerCase() === 'default')
    if (cut !== -1) a = a.slice(0, cut)
    const words = a.map((t) =>
      t.kind === 'word' && !t.text.startsWith('"') ? t.text.toLowerCase() : t.text,
    )
    const tidy = (w: string[]) =>
      w
        .join(' ')
        .replace(/ ([()[\].,])/g, '$1')
        .replace(/([([.,]) /g, '$1')
    const joined = tidy(words)
    const named = words.length > 1 && a[0]!.kind === 'word' && !MULTI_WORD.test(joined)
    out.push(named ? tidy(words.slice(1)) : joined)
  }
  return out
}

/**
 * Reads the function defined by the statement `text[start, end)` with PostgreSQL's lexer: the
 * signature's argument types, the language and the body literal after `AS`. Needs
 * {@link loadLexer}; throws a `SQL_LEX` error when the lexer rejects the statement.
 */
export function readFunction(
  text: string,
  start: number,
  end: number,
  name: QualifiedName,
): SqlFunction {
  const statement = text.slice(start, end)
  const plain = plainText(statement)
  const tokens = sqlTokens(statement, start, true, plain)
  let body: Literal | undefined
  let depth = 0
  let language: string | undefined
  let args: { from: number; to: number } | undefined
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!
    if (t.text === '(') {
      if (depth++ === 0 && !args) args = { from: k + 1, to: -1 }
    } else if (t.text === ')') {
      if (--depth === 0 && args && args.to === -1) args.to = k
    } else if (depth === 0 && t.kind === 'word') {
      const w = t.text.toLowerCase()
      const next = tokens[k + 1]
      if (w === 'as' && next?.kind === 'string') body = readLiteral(next.text, next.start)
      else if (w === 'language' && next && !language)
        language = next.text.replace(/^'|'$/g, '').toLowerCase()
    }
  }
  const argTypes = args && args.to !== -1 ? argTypesOf(tokens.slice(args.from, args.to)) : undefined
  // the fields one by one: V8's clone of a spread was most of this function's own time
  return {
    schema: name.schema,
    name: name.name,
    argTypes,
    language,
    start,
    end,
    body,
    tokens,
    plain,
  }
}
