import {
  type Context,
  type DecodedLiteral,
  type Diagnostic,
  type Edit,
  type Leftover,
  type LiteralRules,
  sourceSpan,
} from '@cutover/rewrite'
import { decodeBlock, decodeDouble, decodeFolded } from './decode.js'
import { encodable, plainProblem, plainTypes, quoted, YAML_ENCODINGS } from './encode.js'
import { YAML_ENCODING, type YamlScalar } from './parse.js'

/** One change of a scalar's value: value range `[a, b)` becomes `to`. */
export interface ValueChange {
  a: number
  b: number
  find: string
  to: string
  rule: string
  once?: string
}

/** What the rules make of the scalars: edits, notes (`YAML_QUOTED`, `YAML_UNENCODABLE`) and what they could not write. */
export interface ScalarEdits {
  edits: Edit[]
  notes: Diagnostic[]
  refused: Leftover[]
}

const IPV4 = String.raw`(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`
/** `address:port:port` (a compose port binding): its host part is an address. */
const PORT_BINDING = new RegExp(String.raw`^(${IPV4}):\d*:\d+(?:-\d+)?(?:/[a-z]+)?$`)
/** `name:address` or `name=address` (a compose `extra_hosts` entry): its address part is an address. */
const HOST_ADDRESS = new RegExp(
  String.raw`^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z_-][A-Za-z0-9_.-]*)?[:=](${IPV4})$`,
)
/** `address/prefix` (a netplan interface address): its address part is an address. */
const WITH_PREFIX = new RegExp(String.raw`^(${IPV4})/\d{1,2}$`)
/** Keys whose values are addresses in the files this step is mostly for (compose, netplan). */
const ADDRESS_KEYS = new Set([
  'addresses',
  'dns',
  'gateway',
  'gateway4',
  'ip_range',
  'ipv4_address',
  'via',
])

/**
 * Whether value range `[a, b)` of scalar `s` is a place where only an address can stand (decision
 * of docs/design.md §5): the host part of `address:port:port`, the address of `address/prefix`,
 * the address part of `name:address` / `name=address` (not under `environment:`, whose
 * `NAME=value` items are variables), a value under `extra_hosts:` (its
 * mapping form), or the whole value of one of {@link ADDRESS_KEYS} (netplan's `addresses`,
 * `nameservers.addresses`, `via`; compose's `dns`, `ipv4_address`, ipam's `gateway`, …).
 */
export function addressPosition(s: YamlScalar, a: number, b: number): boolean {
  const v = s.literal.value
  const port = PORT_BINDING.exec(v) ?? WITH_PREFIX.exec(v)
  if (port && a === 0 && b === port[1]!.length) return true
  // a `NAME=value` item of compose's `environment:` list is a variable, not a host entry
  const host = s.path.includes('environment') ? null : HOST_ADDRESS.exec(v)
  if (host && b === v.length && a === v.length - host[1]!.length) return true
  if (a !== 0 || b !== v.length) return false
  const keys = s.path.filter((p): p is string => typeof p === 'string')
  const last = keys[keys.length - 1]
  const parent = s.path[s.path.length - 2]
  if (parent === 'extra_hosts' && typeof s.path[s.path.length - 1] === 'string') return true
  return last !== undefined && ADDRESS_KEYS.has(last)
}

/**
 * The changes the rules make to each scalar's value: a value that is a whole variant becomes the
 * active profile's; otherwise addresses, `replace` and `swap` match inside it, and a match in an
 * address position takes the address its pattern gives for one (`Pattern.address`).
 */
export function ruleChanges(s: YamlScalar, rules: LiteralRules, ctx: Context): ValueChange[] {
  const v = s.literal.value
  if (rules.variants.patterns.length) {
    const p = rules.variants.whole(v)
    if (p) {
      if (p.find === p.replace) return []
      return [{ a: 0, b: v.length, find: p.find, to: p.replace, rule: p.rule, ...once(p.once) }]
    }
  }
  if (rules.matcher.patterns.length === 0) return []
  const out: ValueChange[] = []
  for (const m of rules.matcher.scan(v).matches) {
    const p = m.pattern
    let to = p.replace
    if (p.kind === 'address' && addressPosition(s, m.start, m.end))
      to = p.address ?? (p.rule === 'addresses' ? newAddress(ctx, p.find) : undefined) ?? to
    if (to === p.find) continue
    out.push({ a: m.start, b: m.end, find: p.find, to, rule: p.rule, ...once(p.once) })
  }
  return out
}

function once(o: string | undefined): { once?: string } {
  return o ? { once: o } : {}
}

/** The inventory's new address of an old one (the address a name stands for). */
function newAddress(ctx: Context, old: string): string | undefined {
  return ctx.inventory.find((h) => h.old === old)?.new
}

/** `value` with `changes` (sorted, disjoint) made. */
function changed(value: string, changes: readonly ValueChange[]): string {
  let out = ''
  let at = 0
  for (const c of changes) {
    out += value.slice(at, c.a) + c.to
    at = c.b
  }
  return out + value.slice(at)
}

/**
 * A line of a scalar's content that starts with `---` or `...` and a blank (or ends there): at the
 * start of a line YAML reads it as a document marker, ending the scalar and its document.
 */
const MARKER_LINE = /\n(?:---|\.\.\.)(?:[ \t\r\n]|$)/

/** The content of scalar `s` once `spans` (source edits inside its content) are made. */
function rewritten(
  text: string,
  s: YamlScalar,
  spans: ReadonlyArray<{ start: number; end: number; text: string }>,
): string {
  const r = s.literal.region
  let content = ''
  let at = r.start
  for (const e of spans) {
    content += text.slice(at, e.start) + e.text
    at = e.end
  }
  return content + text.slice(at, r.end)
}

/** The value of scalar `s` once `spans` (source edits inside its content) are made. */
function redecoded(
  text: string,
  s: YamlScalar,
  spans: ReadonlyArray<{ start: number; end: number; text: string }>,
): string {
  const content = rewritten(text, s, spans)
  const region = { start: 0, end: content.length, whole: true, encoding: s.literal.region.encoding }
  let d: DecodedLiteral
  if (s.block) d = decodeBlock(content, region, s.block.header, s.block.indent)
  else if (s.style === 'double') d = decodeDouble(content, region)
  else d = decodeFolded(content, region, s.style === 'single')
  return d.value
}

const STYLE_NAME = {
  plain: 'plain',
  single: 'single-quoted',
  double: 'double-quoted',
  literal: 'literal block (|)',
  folded: 'folded block (>)',
} as const

/**
 * The source edits that make `changes` to scalar `s`, encoded for its style. Each edit is checked
 * by reading the scalar back: the value must be the intended one. A plain scalar whose new value
 * would not read back as the same plain scalar, or would change type, is written whole, quoted
 * with `quote`, and noted (`YAML_QUOTED`); in the other styles such changes are refused (a
 * leftover) rather than written wrong.
 */
export function scalarEdits(
  text: string,
  s: YamlScalar,
  changes: readonly ValueChange[],
  quote: '"' | "'",
): ScalarEdits {
  const out: ScalarEdits = { edits: [], notes: [], refused: [] }
  if (changes.length === 0) return out
  const literal = s.literal
  const want = changed(literal.value, changes)
  const summary = (c: ValueChange) => `${c.find} -> ${c.to}`
  const spans: Array<{ start: number; end: number; text: string; c: ValueChange }> = []
  let problem: string | undefined
  for (const c of changes) {
    const span = sourceSpan(literal, c.a, c.b)
    if (!span) {
      out.refused.push({
        start: literal.starts?.[c.a] ?? literal.region.start,
        end: literal.ends?.[c.b - 1] ?? literal.region.end,
        text: c.find,
        reason: `"${c.find}" ends inside an escape sequence of this scalar and cannot be rewritten in part: edit it by hand`,
      })
      continue
    }
    if (!encodable(s.style, c.to)) {
      problem = `"${c.to}" holds a line break or control character`
      if (s.style === 'plain') continue
      const reason = `"${c.to}" cannot be written inside this ${STYLE_NAME[s.style]} scalar (a line break or control character): edit it by hand`
      out.refused.push({ ...span, text: c.find, reason: `not rewritten: ${reason}` })
      out.notes.push(unencodable(`${c.find} -> ${c.to} not made: ${reason}`, span))
      continue
    }
    spans.push({ ...span, text: YAML_ENCODINGS[YAML_ENCODING[s.style]]!(c.to), c })
  }
  if (out.refused.length) return out
  if (s.style === 'plain') problem ??= plainProblem(want, plainTypes(literal.value), s.flow)
  if (!problem && MARKER_LINE.test(rewritten(text, s, spans)))
    problem = 'a line of it would begin with a document marker (--- or ...)'
  if (!problem && redecoded(text, s, spans) !== want)
    problem = 'its lines would not fold back to the intended value'
  if (!problem) {
    for (const sp of spans)
      out.edits.push({
        start: sp.start,
        end: sp.end,
        text: sp.text,
        rule: sp.c.rule,
        summary: summary(sp.c),
        ...once(sp.c.once),
      })
    return out
  }
  if (s.style !== 'plain') {
    const reason = `in this ${STYLE_NAME[s.style]} scalar ${problem}: edit it by hand`
    for (const sp of spans) {
      out.refused.push({
        start: sp.start,
        end: sp.end,
        text: sp.c.find,
        reason: `not rewritten: ${reason}`,
      })
      out.notes.push(unencodable(`${summary(sp.c)} not made: ${reason}`, sp))
    }
    return out
  }
  const written = quoted(want, quote)
  const first = changes[0]!
  const withOnce = changes.find((c) => c.once)
  out.edits.push({
    start: s.start,
    end: s.end,
    text: written,
    rule: first.rule,
    summary: changes.map(summary).join(', '),
    ...once(withOnce?.once),
  })
  out.notes.push({
    code: 'YAML_QUOTED',
    severity: 'warning',
    message: `"${literal.value}" becomes ${written}, quoted: as a plain scalar ${problem}`,
    range: { start: s.start, end: s.end },
  })
  return out
}

/** The warning of a change a scalar's style cannot hold (it is left, as a leftover too). */
function unencodable(message: string, at: { start: number; end: number }): Diagnostic {
  return {
    code: 'YAML_UNENCODABLE',
    severity: 'warning',
    message,
    range: { start: at.start, end: at.end },
  }
}
