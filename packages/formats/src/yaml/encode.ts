import type { Encoders } from '@cutover/rewrite'
import { isScalar, isSeq, parse, parseDocument, Scalar } from 'yaml'
import { YAML_ENCODING } from './parse.js'
import type { YamlStyle } from './decode.js'

const DOUBLE: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '"': '\\"',
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  '\u0085': '\\N',
  '\u2028': '\\L',
  '\u2029': '\\P',
}

/** Characters a double-quoted scalar writes as escapes: `\`, `"`, controls, YAML 1.1 line breaks, a BOM. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\\"\x00-\x1f\x7f\u0085\u2028\u2029\ufeff]/g

/** Characters no other style can hold as they are (a tab can). */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x08\x0a-\x1f\x7f\u0085\u2028\u2029\ufeff]/

/** The content of a double-quoted scalar whose value is `v`. */
export function encodeDouble(v: string): string {
  return v.replace(NEEDS_ESCAPE, (c) => {
    const named = DOUBLE[c]
    if (named) return named
    const code = c.charCodeAt(0)
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** The encoders of the yaml step's literals, by encoding name (`yaml-double`, …). */
export const YAML_ENCODINGS: Encoders = {
  [YAML_ENCODING.plain]: (v) => v,
  [YAML_ENCODING.single]: (v) => v.replace(/'/g, "''"),
  [YAML_ENCODING.double]: encodeDouble,
  [YAML_ENCODING.literal]: (v) => v,
  [YAML_ENCODING.folded]: (v) => v,
}

/**
 * Whether `v` can be written inside a scalar of `style` as its encoder writes it: any value in a
 * double-quoted one; no line break or control character (a tab is fine) in the others, where
 * one would be folded, indented or refused by a reader.
 */
export function encodable(style: YamlStyle, v: string): boolean {
  return style === 'double' || !UNPRINTABLE.test(v)
}

/** The whole scalar `"v"` or `'v'` (double-quoted when single quotes cannot hold `v`). */
export function quoted(v: string, quote: '"' | "'"): string {
  return quote === "'" && encodable('single', v)
    ? `'${v.replace(/'/g, "''")}'`
    : `"${encodeDouble(v)}"`
}

/** The type a plain scalar `v` has for YAML 1.2's core schema and for YAML 1.1 (`22:22` is a number there). */
export function plainTypes(v: string): string {
  const type = (x: unknown) => (x === null ? 'null' : typeof x)
  try {
    return `${type(parse(v))}/${type(parse(v, { version: '1.1' }))}`
  } catch {
    return 'invalid'
  }
}

/**
 * Why `v` cannot be written as a plain scalar that has the type `was` had (see {@link plainTypes}),
 * in a flow collection when `flow`, or undefined when it can: it would not read back as that one
 * plain scalar (`a: b`, `x #y`, a leading `-`, `,` in a flow collection), or its type would change.
 */
export function plainProblem(v: string, was: string, flow: boolean): string | undefined {
  const line = v.replace(/\n/g, ' ')
  if (line === '' || line !== line.trim() || UNPRINTABLE.test(line))
    return 'it cannot be a plain scalar'
  const doc = parseDocument(flow ? `[${line}]` : line)
  const node = flow && isSeq(doc.contents) ? doc.contents.items[0] : doc.contents
  const whole =
    doc.errors.length === 0 &&
    (!flow || (isSeq(doc.contents) && doc.contents.items.length === 1)) &&
    isScalar(node) &&
    node.type === Scalar.PLAIN &&
    node.source === line
  if (!whole) return 'it would not read back as one plain scalar'
  const now = plainTypes(v)
  return now === was
    ? undefined
    : `it would be read as ${now.split('/')[0]} (YAML 1.2) / ${now.split('/')[1]} (YAML 1.1), not ${was.split('/')[0]} / ${was.split('/')[1]}`
}
