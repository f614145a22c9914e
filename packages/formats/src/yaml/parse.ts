import type { DecodedLiteral, Diagnostic, EncodingName } from '@cutover/rewrite'
import {
  type CST,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Scalar,
} from 'yaml'
import {
  type YamlBlockHeader,
  blockHeader,
  decodeBlock,
  decodeDouble,
  decodeFolded,
  type YamlStyle,
} from './decode.js'

export type { YamlBlockHeader, YamlStyle } from './decode.js'

/** One segment of a key path: a mapping key (as its string value) or a sequence index. */
export type YamlPathSegment = string | number

/** One scalar of a YAML file, located: a value or a mapping key. Offsets index the text. */
export interface YamlScalar {
  /** The whole token: quotes and a block scalar's header included (not its anchor or tag). */
  start: number
  end: number
  style: YamlStyle
  /**
   * The string the source spells (what `yaml` reads before a tag or the schema makes a number,
   * boolean or null of it: its `Scalar.source`), mapped to the source: `literal.region` is the
   * content (inside the quotes; a block scalar's lines after its header), `literal.value` equals
   * `value` unless `mapped` is false.
   */
  value: string
  literal: DecodedLiteral
  /**
   * False when the value read here differs from `yaml`'s (a case this reader gets wrong): such a
   * scalar is never edited.
   */
  mapped: boolean
  /** The type the document's schema gives the scalar (`string`, `number`, `boolean`, `null`, …). */
  type: string
  /** Where it is: keys of the mappings and indices of the sequences above it. */
  path: YamlPathSegment[]
  /** True for a mapping key (rules never edit keys). */
  key: boolean
  /** True inside a flow collection (`[a, b]`, `{a: b}`), where `,[]{}` end a plain scalar. */
  flow: boolean
  /** Index of its document in a multi-document file. */
  document: number
  /** A block scalar's header and the indentation of its parent (what its lines are read against). */
  block?: { header: YamlBlockHeader; indent: number }
}

/** A YAML file (one or more documents) as located scalars, comments and errors. */
export interface YamlDocument {
  /** Every scalar written in the file (aliases are not scalars), in source order. */
  scalars: YamlScalar[]
  /** Comments: `#` to the end of its line. */
  comments: Array<{ start: number; end: number }>
  /** The quote most quoted scalars of the file use (`"` when none is quoted, or on a tie). */
  quote: '"' | "'"
  /** Syntax errors (`YAML_SYNTAX`), as `yaml` reports them. */
  errors: Diagnostic[]
  /** The documents as `yaml` composes them (source tokens kept). */
  documents: Document.Parsed[]
}

/** The encoding name of each style's literals (their encoders are the yaml step's). */
export const YAML_ENCODING: Readonly<Record<YamlStyle, EncodingName>> = {
  plain: 'yaml-plain',
  single: 'yaml-single',
  double: 'yaml-double',
  literal: 'yaml-literal',
  folded: 'yaml-folded',
}

const STYLES: Readonly<Record<string, YamlStyle>> = {
  PLAIN: 'plain',
  QUOTE_SINGLE: 'single',
  QUOTE_DOUBLE: 'double',
  BLOCK_LITERAL: 'literal',
  BLOCK_FOLDED: 'folded',
}

/**
 * Parses a YAML file (every document of it) to locate its scalars through `yaml`'s source
 * tokens: each one's range, style, value mapped to the source, key path and type. Never throws:
 * syntax errors are data.
 */
export function parseYaml(text: string): YamlDocument {
  const documents = parseAllDocuments(text, { keepSourceTokens: true, prettyErrors: false })
  const list = Array.isArray(documents) ? documents : [documents]
  const scalars: YamlScalar[] = []
  const errors: Diagnostic[] = []
  list.forEach((doc, index) => {
    for (const e of doc.errors)
      errors.push({
        code: 'YAML_SYNTAX',
        message: `invalid YAML: ${e.message.split('\n')[0]}`,
        range: { start: e.pos[0], end: Math.max(e.pos[0], e.pos[1]) },
      })
    const walk = (n: unknown, path: YamlPathSegment[], key: boolean, flow: boolean) => {
      if (isScalar(n)) {
        const s = locate(text, n, path, key, flow, index)
        if (s) scalars.push(s)
      } else if (isMap(n)) {
        const inFlow = flow || n.flow === true
        // inside a complex key (`? [a, b]`, `? {a: b}`) every scalar is part of a key
        for (const p of n.items) {
          if (!isPair(p)) continue
          walk(p.key, path, true, inFlow)
          walk(p.value, [...path, segment(p.key)], key, inFlow)
        }
      } else if (isSeq(n)) {
        const inFlow = flow || n.flow === true
        n.items.forEach((item, i) => {
          // a flow sequence's `a: b` item is a pair
          if (isPair(item)) {
            walk(item.key, [...path, i], true, inFlow)
            walk(item.value, [...path, i, segment(item.key)], key, inFlow)
          } else walk(item, [...path, i], key, inFlow)
        })
      }
    }
    walk(doc.contents, [], false, false)
  })
  scalars.sort((a, b) => a.start - b.start)
  return {
    scalars,
    comments: comments(text, scalars),
    quote: quoteOf(scalars),
    errors,
    documents: list,
  }
}

/** A mapping key as a path segment: its string, or its source text when it is not a scalar. */
export function segment(key: unknown): string {
  if (isScalar(key)) return key.source ?? String(key.value)
  if (isAlias(key)) return `*${key.source}`
  return key == null ? '' : String(key)
}

function locate(
  text: string,
  n: Scalar,
  path: YamlPathSegment[],
  key: boolean,
  flow: boolean,
  document: number,
): YamlScalar | undefined {
  const tok = n.srcToken as CST.Token | undefined
  const style = STYLES[String(n.type)]
  if (!tok || !style || !n.range) return undefined
  const value = typeof n.source === 'string' ? n.source : String(n.value ?? '')
  const encoding = [YAML_ENCODING[style]]
  const type = n.value === null ? 'null' : typeof n.value
  const at = { path, key, flow, document, type, style }
  if (tok.type === 'block-scalar') {
    const end = n.range[1]
    const start = end - tok.source.length
    const header = tok.props[0]
    if (!header || header.type !== 'block-scalar-header') return undefined
    const region = { start, end, whole: true, encoding }
    const block = { header: blockHeader(header.source), indent: tok.indent }
    const literal = decodeBlock(text, region, block.header, block.indent)
    return { ...at, start: tok.offset, end, value, literal, mapped: literal.value === value, block }
  }
  if (
    tok.type !== 'scalar' &&
    tok.type !== 'single-quoted-scalar' &&
    tok.type !== 'double-quoted-scalar'
  )
    return undefined
  const start = tok.offset
  const end = start + tok.source.length
  const quoted = style !== 'plain'
  // an unterminated quoted scalar has no closing quote
  const close = quoted && end - start > 1 && text[end - 1] === text[start] ? 1 : 0
  const region = { start: quoted ? start + 1 : start, end: end - close, whole: true, encoding }
  const literal =
    style === 'double' ? decodeDouble(text, region) : decodeFolded(text, region, style === 'single')
  return { ...at, start, end, value, literal, mapped: literal.value === value }
}

/** Comments: a `#` outside every scalar token, at a line's start or after a blank, to the end of its line. */
function comments(
  text: string,
  scalars: readonly YamlScalar[],
): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = []
  let k = 0
  for (let at = text.indexOf('#'); at !== -1; at = text.indexOf('#', at + 1)) {
    while (k < scalars.length && scalars[k]!.end <= at) k++
    const s = scalars[k]
    // a block scalar's header may end with a comment
    const header =
      s && (s.style === 'literal' || s.style === 'folded') && at < s.literal.region.start
    if (s && s.start <= at && !header) {
      at = s.end - 1
      continue
    }
    const before = at > 0 ? text[at - 1]! : '\n'
    if (!/[ \t\r\n\ufeff]/.test(before)) continue
    let end = text.indexOf('\n', at)
    if (end === -1) end = text.length
    if (text[end - 1] === '\r') end--
    out.push({ start: at, end })
    at = end
  }
  return out
}

function quoteOf(scalars: readonly YamlScalar[]): '"' | "'" {
  let single = 0
  let double = 0
  for (const s of scalars) {
    if (s.style === 'single') single++
    else if (s.style === 'double') double++
  }
  return single > double ? "'" : '"'
}
