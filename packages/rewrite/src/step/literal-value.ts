import type { Edit } from '../edit/edit.js'
import { encodeValue, type Encoders } from '../edit/encode.js'
import type { LiteralRegion, LiteralRules } from './literal-rules.js'
import { leftoverMatcher, leftoverReason, type LeftoverReason } from './leftovers.js'
import type { Match } from '../match/match.js'
import type { Context, Leftover } from './step.js'

/**
 * The value of a literal region as the program reading the file sees it (escapes decoded,
 * a flexible heredoc's indentation removed), and where each of its characters comes from.
 * `starts[i]`/`ends[i]` are the source span of value character `i`; characters made by one
 * escape sequence share its span. `starts` is undefined when the value is the source text.
 */
export interface DecodedLiteral {
  region: LiteralRegion
  value: string
  starts?: Int32Array
  ends?: Int32Array
  /** Added after each newline of a replacement (a flexible heredoc's indentation). */
  indent?: string
}

/** Builds a {@link DecodedLiteral} from a decoder's raw runs, escape sequences and skipped text. */
export class ValueBuilder {
  #value: string[] = []
  #starts: number[] = []
  #ends: number[] = []
  #identity = true
  constructor(
    readonly text: string,
    readonly region: LiteralRegion,
  ) {}
  /** Appends the source text `[start, end)` as it is. */
  raw(start: number, end: number): void {
    if (end <= start) return
    this.#value.push(this.text.slice(start, end))
    for (let k = start; k < end; k++) {
      this.#starts.push(k)
      this.#ends.push(k + 1)
    }
  }
  /** Appends `s`, the value of the escape sequence at source `[start, end)`. */
  escape(s: string, start: number, end: number): void {
    this.#identity = false
    this.#value.push(s)
    for (let k = 0; k < s.length; k++) {
      this.#starts.push(start)
      this.#ends.push(end)
    }
  }
  /** Source text that is syntax, not value (a flexible heredoc's indentation). */
  skip(): void {
    this.#identity = false
  }
  done(indent?: string): DecodedLiteral {
    const value = this.#value.join('')
    const extra = indent ? { indent } : {}
    if (this.#identity) return { region: this.region, value, ...extra }
    return {
      region: this.region,
      value,
      starts: Int32Array.from(this.#starts),
      ends: Int32Array.from(this.#ends),
      ...extra,
    }
  }
}

/** A literal whose value is its source text. */
export function plainLiteral(text: string, region: LiteralRegion): DecodedLiteral {
  return { region, value: text.slice(region.start, region.end) }
}

/**
 * The source span of value range `[a, b)`, or undefined when an end falls inside the output of
 * one escape sequence (which cannot be rewritten in part).
 */
export function sourceSpan(
  d: DecodedLiteral,
  a: number,
  b: number,
): { start: number; end: number } | undefined {
  if (!d.starts || !d.ends) return { start: d.region.start + a, end: d.region.start + b }
  if (b <= a) {
    const at = a < d.value.length ? d.starts[a]! : d.region.end
    return { start: at, end: at }
  }
  if (a > 0 && d.starts[a] === d.starts[a - 1]) return undefined
  if (b < d.value.length && d.starts[b] === d.starts[b - 1]) return undefined
  return { start: d.starts[a]!, end: d.ends[b - 1]! }
}

/** The source span covering value range `[a, b)` (widened to whole escape sequences). */
function coveringSpan(d: DecodedLiteral, a: number, b: number): { start: number; end: number } {
  if (!d.starts || !d.ends) return { start: d.region.start + a, end: d.region.start + b }
  return {
    start: d.starts[a] ?? d.region.end,
    end: b > a ? d.ends[b - 1]! : (d.starts[a] ?? d.region.end),
  }
}

/** Encodes a replacement for a literal: its quoting (by `encoders`), then a flexible heredoc's indentation after each newline. */
export function encodeFor(d: DecodedLiteral, value: string, encoders: Encoders): string {
  const s = encodeValue(value, d.region.encoding, encoders)
  return d.indent ? s.replace(/\n/g, `\n${d.indent}`) : s
}

/** Adjusts the edit of one match for the syntax around it (PHP interpolation), or refuses it with a reason. */
export type ValueFixer = (
  d: DecodedLiteral,
  a: number,
  b: number,
  span: { start: number; end: number },
  encoded: string,
) => { edits: Array<{ start: number; end: number; text: string }> } | { refused: string }

/**
 * Edits for the rule keys on the decoded values of `literals`: a literal whose whole value is a
 * variant becomes the active profile's value; otherwise addresses, `replace` and `swap` match
 * inside the value (its ends count as boundaries). Each match is mapped back to the source and
 * its replacement encoded for the literal's quoting. A match that ends inside the output of one
 * escape sequence cannot be mapped: it is returned in `unmapped`, unchanged; a match `fix`
 * refuses is returned in `refused`.
 */
export function rewriteValues(
  literals: readonly DecodedLiteral[],
  rules: LiteralRules,
  fix?: ValueFixer,
): { edits: Edit[]; unmapped: Leftover[]; refused: Leftover[] } {
  const edits: Edit[] = []
  const unmapped: Leftover[] = []
  const refused: Leftover[] = []
  const add = (
    d: DecodedLiteral,
    a: number,
    b: number,
    find: string,
    replace: string,
    rule: string,
    once?: string,
  ) => {
    const span = sourceSpan(d, a, b)
    if (!span) {
      unmapped.push({
        ...coveringSpan(d, a, b),
        text: find,
        reason: `"${find}" ends inside an escape sequence of this literal and cannot be rewritten in part: edit it by hand`,
      })
      return
    }
    const summary = `${find} -> ${replace}`
    const encoded = encodeFor(d, replace, rules.encoders)
    const r = fix ? fix(d, a, b, span, encoded) : { edits: [{ ...span, text: encoded }] }
    if ('refused' in r) refused.push({ ...span, text: find, reason: `not rewritten: ${r.refused}` })
    else
      for (const e of r.edits)
        edits.push({
          ...e,
          rule,
          ...(e.end > e.start || e.text === encoded ? { summary } : {}),
          ...(once ? { once } : {}),
        })
  }
  for (const d of literals) {
    const v = d.value
    if (d.region.whole && rules.variants.patterns.length) {
      const p = rules.variants.whole(v)
      if (p) {
        if (p.find !== p.replace) add(d, 0, v.length, p.find, p.replace, p.rule, p.once)
        continue
      }
    }
    if (rules.matcher.patterns.length === 0) continue
    for (const m of rules.matcher.scan(v).matches) {
      if (m.pattern.find !== m.pattern.replace)
        add(d, m.start, m.end, m.pattern.find, m.pattern.replace, m.pattern.rule, m.pattern.once)
    }
  }
  return { edits, unmapped, refused }
}

/**
 * Leftovers found in the decoded values of `literals` whose value is not their source text
 * (the others are found by the scan of the source): old addresses and other profiles'
 * variants no edit covers, and near-misses of the value (`.10.0.10.48` written `\x2e10.0.10.48`).
 * Positions are the source spans of the occurrences.
 */
export function valueLeftovers(
  literals: readonly DecodedLiteral[],
  ctx: Context,
  edits: readonly Edit[],
  reason: LeftoverReason,
  fallback: string,
): Leftover[] {
  const matcher = leftoverMatcher(ctx)
  if (matcher.patterns.length === 0) return []
  const sorted = sortedSpans(edits)
  const covered = (s: number, e: number) => overlaps(sorted, s, e)
  const out: Leftover[] = []
  for (const d of literals) {
    if (!d.starts) continue
    const { matches, nearMisses } = matcher.scan(d.value)
    const where = (m: Match) => coveringSpan(d, m.start, m.end)
    for (const m of matches) {
      const span = where(m)
      if (m.pattern.rule !== 'leftover' || covered(span.start, span.end)) continue
      const partial =
        m.pattern.kind === 'variant' &&
        !(d.region.whole && m.start === 0 && m.end === d.value.length)
      const known = partial
        ? 'inside a longer string literal (variants match whole literals)'
        : reason(span.start, span.end)
      out.push({
        ...span,
        text: m.pattern.find,
        reason: leftoverReason(m.pattern, ctx, known ?? fallback, known !== undefined),
      })
    }
    for (const m of nearMisses) {
      const span = where(m)
      if (covered(span.start, span.end)) continue
      const token = aroundInValue(d.value, m)
      if (token === m.pattern.find) continue
      out.push({
        ...span,
        text: m.pattern.find,
        reason: `near-miss: "${m.pattern.find}" inside "${token}" (the literal's value) is not rewritten`,
      })
    }
  }
  return out
}

function aroundInValue(v: string, m: Match): string {
  let s = m.start
  let e = m.end
  while (s > 0 && /[A-Za-z0-9_.-]/.test(v[s - 1]!) && m.start - s < 40) s--
  while (e < v.length && /[A-Za-z0-9_.-]/.test(v[e]!) && e - m.end < 40) e++
  return v.slice(s, e)
}

/**
 * Drops the leftovers of a source scan that lie in a decoded literal (whose value, not source
 * text, counts: {@link valueLeftovers} reports those) and adds `extra`, sorted by position.
 */
export function mergeLeftovers(
  source: readonly Leftover[],
  literals: readonly DecodedLiteral[],
  extra: readonly Leftover[],
): Leftover[] {
  const decoded = literals
    .filter((d) => d.starts)
    .map((d) => d.region)
    .sort((a, b) => a.start - b.start)
  const inDecoded = (at: number) => {
    let lo = 0
    let hi = decoded.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const r = decoded[mid]!
      if (at < r.start) hi = mid - 1
      else if (at >= r.end) lo = mid + 1
      else return true
    }
    return false
  }
  const others = sortedSpans(extra)
  const kept = source.filter(
    (l) => !(decoded.length && inDecoded(l.start)) && !overlaps(others, l.start, l.end),
  )
  return [...kept, ...extra].sort((a, b) => a.start - b.start)
}

/**
 * Leftovers found in a decoded value carry the text as the file spells it (`\u0031\u0030.0.10.48`),
 * which is what the review shows and what the engine finds again at the leftover's place.
 */
export function asWritten(text: string, leftovers: Leftover[]): Leftover[] {
  for (const l of leftovers)
    if (l.end > l.start && text.slice(l.start, l.end) !== l.text)
      l.text = text.slice(l.start, l.end)
  return leftovers
}

/** Spans sorted by start, each with the largest end so far (for overlap tests by binary search). */
function sortedSpans(
  list: ReadonlyArray<{ start: number; end: number }>,
): Array<{ start: number; end: number; maxEnd: number }> {
  const out = [...list]
    .sort((a, b) => a.start - b.start)
    .map((x) => ({ start: x.start, end: x.end, maxEnd: x.end }))
  for (let i = 1; i < out.length; i++) out[i]!.maxEnd = Math.max(out[i]!.end, out[i - 1]!.maxEnd)
  return out
}

/** The index of the first item of `sorted` (by start) starting at or after `at` (binary search). */
export function firstStartingAt(sorted: ReadonlyArray<{ start: number }>, at: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]!.start < at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** True when `[s, e)` overlaps a span of `sorted` (an insertion at `s` counts). */
function overlaps(
  sorted: ReadonlyArray<{ start: number; end: number; maxEnd: number }>,
  s: number,
  e: number,
): boolean {
  // the last span starting before e: it, or one before it with a larger end, may reach past s
  for (let k = firstStartingAt(sorted, e) - 1; k >= 0 && sorted[k]!.maxEnd > s - 1; k--) {
    const x = sorted[k]!
    if (x.end > s || (x.start === s && x.end === s)) return true
    if (sorted[k]!.maxEnd <= s) break
  }
  return false
}

/** True when `text[start, end)` holds `ch` (without scanning past `end`). */
export function holds(text: string, ch: string, start: number, end: number): boolean {
  const code = ch.charCodeAt(0)
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === code) return true
  return false
}
