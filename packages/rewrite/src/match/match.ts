import { CutoverError } from '../errors.js'

/**
 * How the ends of a match must look (docs/design.md §3):
 * - `ipv4`: not preceded by a digit or `.`, not followed by a digit or by `.` and a digit;
 * - `label`: not preceded or followed by `[A-Za-z0-9_-]` (a dot separates labels);
 * - `token`: not preceded or followed by `[A-Za-z0-9_.-]` (whole dotted tokens);
 * - `none`: anywhere.
 * The ends of the scanned region count as boundaries.
 */
export type Boundary = 'ipv4' | 'label' | 'token' | 'none'

/** What a pattern stands for, so that leftovers can say why a near-miss matters. */
export type PatternKind = 'address' | 'variant' | 'name'

/** One literal to find and what to put in its place. `find === replace` consumes without editing. */
export interface Pattern {
  find: string
  replace: string
  rule: string
  boundary: Boundary
  kind: PatternKind
  /** Set when an edit by this pattern must happen only once on a file: see {@link Edit.once}. */
  once?: string
  /**
   * What the found literal becomes in an address position (a CIDR `A/24`, `A 255.255.255.0`, or
   * a position a step knows, such as the address of a compose `name:address` pair), where a name
   * cannot stand: the host's new address when `replace` is its name.
   */
  address?: string
}

/** A located occurrence of a pattern. */
export interface Match {
  start: number
  end: number
  pattern: Pattern
}

/** A dotted-quad IPv4 address, whole (package-internal: the spec's JSON Schema uses it too). */
export const IPV4 =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

/** True when `s` is a dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  return IPV4.test(s)
}

/** The boundary a `replace`/`swap` key gets: IPv4 rules for addresses, label rules otherwise. */
export function boundaryFor(find: string): Boundary {
  return isIPv4(find) ? 'ipv4' : 'label'
}

const isDigit = (c: number) => c >= 48 && c <= 57
const isLabelChar = (c: number) =>
  isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45

function boundaryOk(
  b: Boundary,
  text: string,
  start: number,
  end: number,
  lo: number,
  hi: number,
): boolean {
  const before = start > lo ? text.charCodeAt(start - 1) : -1
  const after = end < hi ? text.charCodeAt(end) : -1
  switch (b) {
    case 'none':
      return true
    case 'ipv4': {
      if (before !== -1 && (isDigit(before) || before === 46)) return false
      if (after === -1) return true
      if (isDigit(after)) return false
      return !(after === 46 && end + 1 < hi && isDigit(text.charCodeAt(end + 1)))
    }
    case 'label':
      return !(before !== -1 && isLabelChar(before)) && !(after !== -1 && isLabelChar(after))
    case 'token':
      return (
        !(before !== -1 && (isLabelChar(before) || before === 46)) &&
        !(after !== -1 && (isLabelChar(after) || after === 46))
      )
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The source of a regex matching any of `literals` (non-empty, unique), and at each position the
 * longest of them there. Written as a trie (`old-(?:a(?:b)?|c)`): one alternative per next
 * character, an optional (greedy) tail where a shorter literal ends. A flat alternation of
 * every literal takes V8 time more than linear in their number to compile and to run (seconds
 * for a 50,000-key spec); the trie takes time linear in their total length. Package-internal.
 */
export function literalAlternation(literals: readonly string[]): string {
  const words = [...new Set(literals)].sort()
  // words[lo, hi) share their first `depth` characters
  const node = (lo: number, hi: number, depth: number): string => {
    const ends = words[lo]!.length === depth
    const alts: string[] = []
    for (let i = ends ? lo + 1 : lo; i < hi;) {
      const c = words[i]![depth]!
      let j = i + 1
      while (j < hi && words[j]![depth] === c) j++
      // the characters the whole group shares (sorted: the first and the last word tell)
      const first = words[i]!
      const last = words[j - 1]!
      let d = depth + 1
      while (d < first.length && d < last.length && first[d] === last[d]) d++
      alts.push(
        escapeRegExp(first.slice(depth, d)) +
          (d === first.length && j - i === 1 ? '' : node(i, j, d)),
      )
      i = j
    }
    if (alts.length === 0) return ''
    const body = alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`
    return ends ? `(?:${body})?` : body
  }
  return words.length ? node(0, words.length, 0) : ''
}

/**
 * A set of patterns matched in one pass, leftmost-longest, against an unchanged text: at each
 * position the longest pattern whose boundaries hold wins, and scanning resumes after it. This
 * makes swaps (a↔b) and profile flips correct and idempotent.
 */
export class Matcher {
  readonly patterns: readonly Pattern[]
  /** The patterns by their literal, and the lengths of the literals, longest first. */
  readonly #byFind: Map<string, Pattern>
  readonly #lengths: number[]
  readonly #re: RegExp | undefined

  /** Throws a `RULE_CONFLICT` {@link CutoverError} when one literal is given two replacements. */
  constructor(patterns: readonly Pattern[]) {
    const seen = new Map<string, Pattern>()
    const unique: Pattern[] = []
    for (const p of patterns) {
      if (p.find === '')
        throw new CutoverError('RULE_CONFLICT', `rule "${p.rule}" has an empty pattern`)
      const prior = seen.get(p.find)
      if (prior) {
        if (prior.replace !== p.replace) {
          throw new CutoverError(
            'RULE_CONFLICT',
            `"${p.find}" is rewritten to "${prior.replace}" by rule "${prior.rule}" and to "${p.replace}" by rule "${p.rule}"`,
          )
        }
        continue
      }
      seen.set(p.find, p)
      unique.push(p)
    }
    this.patterns = unique
    this.#byFind = seen
    this.#lengths = [...new Set(unique.map((p) => p.find.length))].sort((a, b) => b - a)
    this.#re = unique.length
      ? new RegExp(literalAlternation(unique.map((p) => p.find)), 'g')
      : undefined
  }

  /** The literals a raw-byte prefilter can look for: a text holding none of them has no match. */
  needles(): string[] {
    return this.patterns.filter((p) => p.find !== p.replace).map((p) => p.find)
  }

  /**
   * Scans `text[lo, hi)`. `matches` are the accepted occurrences (including identity ones);
   * `nearMisses` are occurrences of an address or variant literal whose boundaries failed
   * (e.g. `10.0.10.48` inside `10.0.10.480`), not overlapping an accepted match.
   */
  scan(text: string, lo = 0, hi = text.length): { matches: Match[]; nearMisses: Match[] } {
    const matches: Match[] = []
    const nearMisses: Match[] = []
    const re = this.#re
    if (!re || hi <= lo) return { matches, nearMisses }
    re.lastIndex = lo
    let nearEnd = lo
    for (;;) {
      const m = re.exec(text)
      if (!m || m.index >= hi) break
      const at = m.index
      let accepted: Pattern | undefined
      let missed: Pattern | undefined
      // the regex found the longest literal here; the others that occur here are its prefixes
      for (const n of this.#lengths) {
        const end = at + n
        if (n > m[0].length || end > hi) continue
        const p = this.#byFind.get(n === m[0].length ? m[0] : m[0].slice(0, n))
        if (!p) continue
        if (boundaryOk(p.boundary, text, at, end, lo, hi)) {
          accepted = p
          break
        }
        if (!missed && p.kind !== 'name') missed = p
      }
      if (accepted) {
        matches.push({ start: at, end: at + accepted.find.length, pattern: accepted })
        re.lastIndex = at + accepted.find.length
        continue
      }
      if (missed && at >= nearEnd) {
        nearMisses.push({ start: at, end: at + missed.find.length, pattern: missed })
        nearEnd = at + missed.find.length
      }
      re.lastIndex = at + 1
    }
    return { matches, nearMisses }
  }

  /** True when the whole of `text[lo, hi)` is one pattern (for whole-literal matching). */
  whole(text: string, lo = 0, hi = text.length): Pattern | undefined {
    const s = text.slice(lo, hi)
    return this.patterns.find((p) => p.find === s)
  }
}
