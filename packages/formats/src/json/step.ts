import { readFile } from 'node:fs/promises'
import {
  asWritten,
  commonKeys,
  type CommonOptions,
  type Context,
  type DecodedLiteral,
  decodeText,
  type Diagnostic,
  type Edit,
  type EncodingName,
  escapeNeedles,
  holds,
  LineIndex,
  literalNeedles,
  type LiteralRegion,
  literalRules,
  mergeLeftovers,
  plainLiteral,
  rewriteValues,
  ruleKeys,
  type RuleOptions,
  s,
  ruleFallback,
  scanLeftovers,
  setEdits,
  setSchema,
  type StepKind,
  type Validator,
  ValueBuilder,
  valueLeftovers,
  keyScope,
  outsideKeysReason,
  type KeyPath,
  type Encoders,
  type ValueSpec,
} from '@cutover/rewrite'

const JSON_ENCODING: EncodingName[] = ['json']

/** The encoder of a JSON string's content: the `json` step kind registers it. */
const JSON_ENCODINGS: Encoders = { json: (v) => JSON.stringify(v).slice(1, -1) }

type Jsonc = typeof import('jsonc-parser')
type JsonNode = import('jsonc-parser').Node
let loaded: Promise<Jsonc> | undefined

/** Loads jsonc-parser on first use (it ships as CommonJS: take the namespace from `default` when present). */
function jsonc(): Promise<Jsonc> {
  loaded ??= import('jsonc-parser').then((m) => (m as unknown as { default?: Jsonc }).default ?? m)
  return loaded
}

/** Options of the `json` step. */
export type JsonOptions = CommonOptions &
  RuleOptions & {
    /** `"a.b.c": value` writes the string (or scalar) at that path; numeric segments index arrays. */
    set?: Record<string, ValueSpec>
  }

/** A JSON (or JSON-with-comments) file as located spans. */
export interface JsonDocument {
  root: JsonNode | undefined
  /** String values (not keys): their content between the quotes. */
  strings: LiteralRegion[]
  /** The key path of each of `strings` (`['a', 0, 'b']`), as `set` and `keys:` name it. */
  paths: KeyPath[]
  keys: Array<{ start: number; end: number }>
  comments: Array<{ start: number; end: number }>
  errors: Diagnostic[]
}

/** Parses JSON or JSONC to locate string values, keys and comments; never throws (errors are data). */
export async function parseJson(text: string): Promise<JsonDocument> {
  const J = await jsonc()
  const errs: import('jsonc-parser').ParseError[] = []
  const root = J.parseTree(text, errs, {
    allowTrailingComma: true,
    disallowComments: false,
    allowEmptyContent: true,
  })
  const strings: LiteralRegion[] = []
  const paths: KeyPath[] = []
  const keys: Array<{ start: number; end: number }> = []
  const walk = (n: JsonNode, path: KeyPath) => {
    if (n.type === 'string') {
      const start = Math.min(n.offset + 1, text.length)
      // an unterminated string has no closing quote
      const end = Math.max(
        start,
        Math.min(
          text.length,
          n.offset + n.length - (text[n.offset + n.length - 1] === '"' && n.length > 1 ? 1 : 0),
        ),
      )
      if (n.parent?.type === 'property' && n.parent.children?.[0] === n) keys.push({ start, end })
      else {
        strings.push({ start, end, whole: true, encoding: JSON_ENCODING })
        paths.push(path)
      }
    }
    n.children?.forEach((c, i) => {
      if (n.type === 'array') walk(c, [...path, i])
      else if (n.type === 'property' && i === 1) walk(c, [...path, String(n.children![0]!.value)])
      else walk(c, path)
    })
  }
  if (root) walk(root, [])
  const comments: Array<{ start: number; end: number }> = []
  const scanner = J.createScanner(text, false)
  for (let k = scanner.scan(); k !== 17 /* EOF */; k = scanner.scan()) {
    // an unterminated comment's token may claim a character past the end
    if (k === 12 || k === 13)
      comments.push({
        start: scanner.getTokenOffset(),
        end: Math.min(text.length, scanner.getTokenOffset() + scanner.getTokenLength()),
      })
  }
  const errors = errs.map((e) => ({
    code: 'JSON_SYNTAX',
    message: `invalid JSON: ${J.printParseErrorCode(e.error)}`,
    range: { start: e.offset, end: e.offset + e.length },
  }))
  return { root, strings, paths, keys, comments, errors }
}

/** The escape of each character a JSON string may spell with a one-character escape. */
const JSON_NAMED_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
}

const JSON_ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
}

/** The value of a JSON string's content (escapes decoded), mapped to its source. */
function decodeJsonString(text: string, region: LiteralRegion): DecodedLiteral {
  if (!holds(text, '\\', region.start, region.end)) return plainLiteral(text, region)
  const first = text.indexOf('\\', region.start)
  const b = new ValueBuilder(text, region)
  let run = region.start
  for (let p = first; p < region.end; p++) {
    if (text[p] !== '\\') continue
    const c = text[p + 1] ?? ''
    let v: string | undefined
    let n = 2
    if (c in JSON_ESCAPES) v = JSON_ESCAPES[c]
    else if (
      c === 'u' &&
      /^[0-9A-Fa-f]{4}$/.test(text.slice(p + 2, p + 6)) &&
      p + 6 <= region.end
    ) {
      v = String.fromCharCode(Number.parseInt(text.slice(p + 2, p + 6), 16))
      n = 6
    }
    if (v === undefined || p + n > region.end) continue
    b.raw(run, p)
    b.escape(v, p, p + n)
    run = p + n
    p += n - 1
  }
  b.raw(run, region.end)
  return b.done()
}

/** The node at a dotted path (`a.b.0.c`), or undefined. */
export function jsonNodeAt(root: JsonNode | undefined, path: string): JsonNode | undefined {
  let n = root
  for (const seg of path.split('.')) {
    if (!n) return undefined
    if (n.type === 'array' && /^\d+$/.test(seg)) n = n.children?.[Number(seg)]
    else if (n.type === 'object')
      n = n.children?.find((p) => p.children?.[0]?.value === seg)?.children?.[1]
    else return undefined
  }
  return n
}

/**
 * The `json` step: rule keys apply to string values only (never keys or comments); variants
 * match whole strings; `set` writes a value by path. JSON with comments is accepted.
 */
export const jsonStep: StepKind<JsonOptions> = {
  name: 'json',
  init: [
    {
      group: 'json',
      files: ['**/*.[jJ][sS][oO][nN]'],
      rank: 50,
      order: 20,
      step: { why: 'JSON files: addresses inside strings become names', keys: 'addresses: names' },
    },
  ],
  encodings: JSON_ENCODINGS,
  options: s.object(
    { ...commonKeys, ...ruleKeys, set: setSchema('a dotted path such as a.b.c') },
    { required: ['files'] },
  ),
  // a match spelled with escapes holds no byte of its needle: a file with such an escape is read
  needles: (o, ctx) => {
    const n = literalNeedles(o, ctx)
    return [...n, ...escapeNeedles(n, ['\\u', '\\/'], JSON_NAMED_ESCAPES)]
  },
  async plan(file, o, ctx) {
    const text = file.text
    const doc = await parseJson(text)
    if (doc.errors.length) return { edits: [], diagnostics: doc.errors, leftovers: [] }
    const { edits: assigned, diagnostics } = planSet(doc, text, o, ctx)
    const covered = (e: { start: number; end: number }) =>
      assigned.some((a) => a.start < e.end && e.start < a.end)
    // rules match the string's value (escapes decoded), not its source text
    const literals = doc.strings.map((r) => decodeJsonString(text, r))
    const inScope = keyScope(o.keys)
    const outside = o.keys ? doc.strings.filter((_r, i) => !inScope(doc.paths[i]!)) : []
    const found = rewriteValues(
      o.keys ? literals.filter((_d, i) => inScope(doc.paths[i]!)) : literals,
      literalRules(o, ctx, JSON_ENCODINGS),
    )
    const edits = [...assigned, ...found.edits.filter((e) => !covered(e))]
    const inside = (list: Array<{ start: number; end: number }>, at: number) =>
      list.some((r) => r.start <= at && at < r.end)
    const reason = (start: number) =>
      inside(doc.comments, start)
        ? 'inside a comment'
        : inside(doc.keys, start)
          ? 'an object key, not a string value'
          : inside(outside, start)
            ? outsideKeysReason(o.keys!)
            : inside(doc.strings, start)
              ? undefined
              : 'not a string value'
    const fallback = ruleFallback(o)
    // keys are never rewritten, but an old address in one is a leftover whatever its spelling
    const keys = doc.keys.map((k) =>
      decodeJsonString(text, { ...k, whole: true, encoding: JSON_ENCODING }),
    )
    const decoded = keys.some((k) => k.starts) ? [...literals, ...keys] : literals
    const leftovers = mergeLeftovers(
      scanLeftovers(text, ctx, edits, { reason, fallback }),
      decoded,
      [
        ...valueLeftovers(decoded, ctx, edits, reason, fallback),
        ...found.unmapped.filter((l) => !covered(l)),
      ],
    )
    return { edits, diagnostics, leftovers: asWritten(text, leftovers) }
  },
  validators: [
    {
      name: 'json-parse',
      inProcess: true,
      async run(stagedPath, target) {
        // decoded as the plan decoded it (BOM off, latin1 when not UTF-8), so columns match the file's text
        const { text } = decodeText(await readFile(stagedPath))
        if (strictJson(text)) return undefined
        const { errors } = await parseJson(text)
        if (!errors.length) return undefined
        const p = new LineIndex(text).position(errors[0]!.range.start)
        return `${target}:${p.line}:${p.col}: ${errors[0]!.message}`
      },
    } satisfies Validator,
  ],
}

/**
 * Whether `text` is strict JSON (`JSON.parse`, native): the JSON-with-comments parser, which
 * allows more (comments, trailing commas, more white space, empty content), then finds no error
 * either, so the validator needs it only for text that is not (measured: the bench's 313 staged
 * JSON files, ≈ 0.5 ms each through it).
 */
function strictJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function planSet(
  doc: JsonDocument,
  text: string,
  o: JsonOptions,
  ctx: Context,
): { edits: Edit[]; diagnostics: Diagnostic[] } {
  const edits: Edit[] = []
  const diagnostics: Diagnostic[] = []
  for (const [path, value] of Object.entries(o.set ?? {})) {
    const rule = `set.${path}`
    const n = jsonNodeAt(doc.root, path)
    if (!n) {
      diagnostics.push({
        code: 'SET_NOT_FOUND',
        severity: 'warning',
        message: `set ${path}: no such path in this file`,
        range: { start: 0, end: 0 },
      })
    } else if (n.type === 'string') {
      edits.push(
        ...setEdits(
          { start: n.offset + 1, end: n.offset + n.length - 1 },
          text.slice(n.offset + 1, n.offset + n.length - 1),
          value,
          ['json'],
          JSON_ENCODINGS,
          ctx,
          rule,
        ),
      )
    } else if (n.type === 'object' || n.type === 'array') {
      diagnostics.push({
        code: 'SET_NOT_SCALAR',
        severity: 'warning',
        message: `set ${path}: the value there is ${n.type === 'object' ? 'an object' : 'an array'}, not a string; left unchanged`,
        range: { start: n.offset, end: n.offset + n.length },
      })
    } else {
      edits.push(
        ...setEdits(
          { start: n.offset, end: n.offset + n.length },
          text.slice(n.offset, n.offset + n.length),
          value,
          ['json'],
          JSON_ENCODINGS,
          ctx,
          rule,
          { open: '"', close: '"' },
        ),
      )
    }
  }
  return { edits, diagnostics }
}
