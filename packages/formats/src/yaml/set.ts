import {
  type Context,
  type Diagnostic,
  type Edit,
  setEdits,
  sourceSpan,
  type ValueSpec,
} from '@cutover/rewrite'
import { isAlias, isMap, isScalar, isSeq, type Scalar } from 'yaml'
import { encodable, plainProblem, plainTypes, YAML_ENCODINGS } from './encode.js'
import { segment, YAML_ENCODING, type YamlDocument, type YamlScalar } from './parse.js'
import { scalarEdits } from './rewrite.js'

/** A `NAME=value` item of a sequence (compose's `environment:` as a list) that a path ends in. */
interface EnvItem {
  env: Scalar
  name: string
}

/**
 * The nodes at a dotted key path in each document (numeric segments index sequences); a last
 * segment that names no index of a sequence finds its `NAME=value` items.
 */
function nodesAt(doc: YamlDocument, path: string): unknown[] {
  const segs = path.split('.')
  const out: unknown[] = []
  for (const d of doc.documents) {
    let n: unknown = d.contents
    for (const [i, seg] of segs.entries()) {
      if (isMap(n)) n = n.items.find((p) => segment(p.key) === seg)?.value ?? missing(n, seg)
      else if (isSeq(n) && /^\d+$/.test(seg)) n = n.items[Number(seg)]
      else if (isSeq(n) && i === segs.length - 1) {
        for (const item of n.items)
          if (isScalar(item) && String(item.source ?? item.value).startsWith(`${seg}=`))
            out.push({ env: item, name: seg } satisfies EnvItem)
        n = undefined
      } else n = undefined
      if (n === undefined) break
    }
    if (n !== undefined) out.push(n)
  }
  return out
}

/** A key with no value (`key:`) is found, as null; an absent key is not. */
function missing(n: { items: Array<{ key: unknown }> }, seg: string): null | undefined {
  return n.items.some((p) => segment(p.key) === seg) ? null : undefined
}

/**
 * The edits of a step's `set` (key path to value): each dotted key path written in every document that has it, with
 * warnings for paths it cannot write (`SET_NOT_FOUND`, `SET_NOT_SCALAR`, `SET_UNSAFE`) and for
 * values it had to quote (`YAML_QUOTED`).
 */
export function planSet(
  doc: YamlDocument,
  text: string,
  set: Readonly<Record<string, ValueSpec>> | undefined,
  ctx: Context,
): { edits: Edit[]; diagnostics: Diagnostic[] } {
  const edits: Edit[] = []
  const diagnostics: Diagnostic[] = []
  const byStart = new Map(doc.scalars.filter((x) => !x.key).map((x) => [x.start, x]))
  const warn = (code: string, message: string, start = 0, end = start) =>
    diagnostics.push({ code, severity: 'warning', message, range: { start, end } })
  for (const [path, value] of Object.entries(set ?? {})) {
    const rule = `set.${path}`
    const found = nodesAt(doc, path)
    if (found.length === 0) warn('SET_NOT_FOUND', `set ${path}: no such path in this file`)
    for (const n of found) {
      if (n && typeof n === 'object' && 'env' in n) {
        const { env, name } = n as EnvItem
        const sc = env.srcToken ? byStart.get(env.srcToken.offset) : undefined
        if (sc) edits.push(...setEnvItem(sc, name, text, value, ctx, rule, doc.quote, diagnostics))
        continue
      }
      if (n === null) {
        warn('SET_NOT_SCALAR', `set ${path}: the key there has no value node; left unchanged`)
        continue
      }
      if (isMap(n) || isSeq(n) || isAlias(n)) {
        const what = isMap(n) ? 'a mapping' : isSeq(n) ? 'a sequence' : 'an alias'
        const [start, end] = n.range ?? [0, 0]
        warn(
          'SET_NOT_SCALAR',
          `set ${path}: the value there is ${what}, not a scalar; left unchanged`,
          start,
          end,
        )
        continue
      }
      const tok = isScalar(n) ? n.srcToken : undefined
      const sc = tok ? byStart.get(tok.offset) : undefined
      if (!sc) {
        // `key:` with no value: the value is written after the colon
        const at = isScalar(n) && n.range ? n.range[0] : undefined
        if (at === undefined) continue
        const q = quoteFor(doc.quote, raw(value, ctx))
        const open = `${/[ \t]/.test(text[at - 1] ?? '') ? '' : ' '}${q}`
        edits.push(
          ...setEdits(
            { start: at, end: at },
            '',
            value,
            [YAML_ENCODING[q === "'" ? 'single' : 'double']],
            YAML_ENCODINGS,
            ctx,
            rule,
            // `"v"#` is no comment: a `#` right after the value needs a blank before it
            { open, close: `${q}${text[at] === '#' ? ' ' : ''}` },
          ),
        )
        continue
      }
      edits.push(...setScalar(sc, text, value, ctx, rule, doc.quote, diagnostics))
    }
  }
  return { edits, diagnostics }
}

function raw(value: ValueSpec, ctx: Context): string {
  return typeof value === 'object' ? ctx.secret(value.secret) : value
}

/** The quote a new quoted scalar holding `v` gets: the file's, unless single quotes cannot hold `v`. */
function quoteFor(quote: '"' | "'", v: string): '"' | "'" {
  return quote === "'" && encodable('single', v) ? "'" : '"'
}

/** The edits that write `value` as the whole value of scalar `sc`, in its style where it can be. */
function setScalar(
  sc: YamlScalar,
  text: string,
  value: ValueSpec,
  ctx: Context,
  rule: string,
  quote: '"' | "'",
  diagnostics: Diagnostic[],
): Edit[] {
  const r = sc.literal.region
  const current = text.slice(r.start, r.end)
  const v = raw(value, ctx)
  const secret = typeof value === 'object'
  const set = (enc: keyof typeof YAML_ENCODING, around?: { open: string; close: string }) =>
    setEdits(r, current, value, [YAML_ENCODING[enc]], YAML_ENCODINGS, ctx, rule, around)
  if (sc.block) {
    diagnostics.push({
      code: 'SET_UNSAFE',
      severity: 'warning',
      message: `${rule}: the value there is a block scalar (| or >); left unchanged: edit it by hand`,
      range: { start: sc.start, end: sc.end },
    })
    return []
  }
  if (sc.style === 'double') return set('double')
  if (sc.style === 'single') {
    if (encodable('single', v)) return set('single')
    // single quotes cannot hold it: the scalar becomes double-quoted
    return [
      { start: sc.start, end: sc.start + 1, text: '"', rule },
      ...set('double'),
      { start: sc.end - 1, end: sc.end, text: '"', rule },
    ]
  }
  // the whole source of the scalar is replaced: a line break written plain would be folded
  const problem = secret
    ? 'a secret is always written quoted'
    : !encodable('plain', v)
      ? 'it holds a line break or a control character'
      : plainProblem(v, plainTypes(sc.literal.value), sc.flow)
  if (!problem) return set('plain')
  const q = quoteFor(quote, v)
  if (!secret)
    diagnostics.push({
      code: 'YAML_QUOTED',
      severity: 'warning',
      message: `${rule}: written quoted (${q}…${q}): as a plain scalar ${problem}`,
      range: { start: sc.start, end: sc.end },
    })
  return set(q === "'" ? 'single' : 'double', { open: q, close: q })
}

/**
 * The edits that write `value` after the `=` of a `NAME=value` item: a plain value as the rules'
 * changes are written (quoted whole when it must be); a secret in the item's quotes, a plain
 * item quoted whole for it.
 */
function setEnvItem(
  sc: YamlScalar,
  name: string,
  text: string,
  value: ValueSpec,
  ctx: Context,
  rule: string,
  quote: '"' | "'",
  diagnostics: Diagnostic[],
): Edit[] {
  const v = sc.literal.value
  const a = name.length + 1
  if (typeof value === 'string') {
    const change = { a, b: v.length, find: v.slice(a), to: value, rule }
    const r = scalarEdits(text, sc, v.slice(a) === value ? [] : [change], quote)
    diagnostics.push(...r.notes)
    for (const l of r.refused)
      diagnostics.push({
        code: 'SET_UNSAFE',
        severity: 'warning',
        message: `${rule}: ${l.reason}`,
        range: { start: l.start, end: l.end },
      })
    return r.edits.map((e) => ({ ...e, summary: `${rule} = ${value}` }))
  }
  const span = sourceSpan(sc.literal, a, v.length)
  if (!span || sc.block) {
    diagnostics.push({
      code: 'SET_UNSAFE',
      severity: 'warning',
      message: `${rule}: this item cannot hold a secret as it is written; left unchanged: edit it by hand`,
      range: { start: sc.start, end: sc.end },
    })
    return []
  }
  const current = text.slice(span.start, span.end)
  const q = sc.style === 'plain' ? quoteFor(quote, ctx.secret(value.secret)) : undefined
  const style = q ? (q === "'" ? 'single' : 'double') : sc.style
  if (!encodable(style, ctx.secret(value.secret)) && style !== 'double') {
    diagnostics.push({
      code: 'SET_UNSAFE',
      severity: 'warning',
      message: `${rule}: the secret holds a character this ${style}-quoted item cannot hold; left unchanged`,
      range: { start: sc.start, end: sc.end },
    })
    return []
  }
  const edits = setEdits(span, current, value, [YAML_ENCODING[style]], YAML_ENCODINGS, ctx, rule)
  if (!q) return edits
  // a plain item is quoted whole: the name and `=` need no escape in either style
  return [
    { start: sc.start, end: sc.start, text: q, rule },
    ...edits,
    { start: sc.end, end: sc.end, text: q, rule },
  ]
}
