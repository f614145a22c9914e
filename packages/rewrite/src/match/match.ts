import { CutoverError } from '../errors.js'
import {
  addressSuffix,
  canonicalIPv6,
  formatIPv4,
  inNet,
  ipv4EndOk,
  ipv4Value,
  ipv6Needles,
  mapAddress,
  maskOf,
  netmaskOf,
  netNeedle,
  parseCidr,
  readIPv4,
  readIPv6,
  type Net,
} from './network.js'

/**
 * How the ends of a match must look (docs/design.md §3):
 * - `ipv4`: not preceded by a digit or `.`, not followed by a digit or by `.` and a digit;
 * - `label`: not preceded or followed by `[A-Za-z0-9_-]` (a dot separates labels);
 * - `token`: not preceded or followed by `[A-Za-z0-9_.-]` (whole dotted tokens);
 * - `none`: anywhere;
 * - `ipv6`: `find` is an IPv6 address, found in any spelling (`2001:DB8:0::10` is
 *   `2001:db8::10`): a whole run of hex digits, `:` and `.` that is that address.
 * The ends of the scanned region count as boundaries.
 */
export type Boundary = 'ipv4' | 'label' | 'token' | 'none' | 'ipv6'

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
  /**
   * A rule over every address of a network (`networks:`) rather than one literal: `find` is only
   * what a prefilter looks for (the network's leading octets). A match of it carries a pattern
   * of the address found, with this field still set.
   */
  network?: NetworkRule
  /** Why an occurrence of this pattern that no step rewrote matters (a leftover's reason). */
  leftover?: string
}

/**
 * The addresses of network `old` that are not `hosts` (inventory old addresses: their own
 * patterns rewrite them), mapped to the same host part in `new`. `mode` says where they are
 * rewritten: `new`, everywhere; `names`, only in an address position (a name cannot stand for an
 * address without one; elsewhere the address is consumed unchanged); `leftover`, nowhere (a
 * leftover scan).
 */
export interface NetworkRule {
  old: string
  new: string
  mode: 'new' | 'names' | 'leftover'
  hosts: ReadonlySet<string>
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
    case 'ipv6':
      // IPv6 patterns are found by value, never as a literal
      return false
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
  /** The network rules, parsed. */
  readonly #nets: Array<{ rule: Pattern; old: Net; new: Net }> = []
  /** The IPv6 patterns by their canonical address. */
  readonly #v6 = new Map<string, Pattern>()

  /** Throws a `RULE_CONFLICT` {@link CutoverError} when one literal is given two replacements. */
  constructor(patterns: readonly Pattern[]) {
    const seen = new Map<string, Pattern>()
    const unique: Pattern[] = []
    const needles: string[] = []
    for (const p of patterns) {
      if (p.find === '')
        throw new CutoverError('RULE_CONFLICT', `rule "${p.rule}" has an empty pattern`)
      if (p.network) {
        const old = parseCidr(p.network.old)
        const to = parseCidr(p.network.new)
        if (typeof old === 'string' || typeof to === 'string')
          throw new CutoverError('RULE_CONFLICT', `rule "${p.rule}": ${String(old)} ${String(to)}`)
        this.#nets.push({ rule: p, old, new: to })
        unique.push(p)
        needles.push(p.find)
        continue
      }
      if (p.boundary === 'ipv6') {
        const key = canonicalIPv6(p.find) ?? p.find
        const prior = this.#v6.get(key)
        if (prior && prior.replace !== p.replace)
          throw new CutoverError(
            'RULE_CONFLICT',
            `"${p.find}" is rewritten to "${prior.replace}" by rule "${prior.rule}" and to "${p.replace}" by rule "${p.rule}"`,
          )
        if (prior) continue
        this.#v6.set(key, p)
        unique.push(p)
        needles.push(...ipv6Needles(key))
        continue
      }
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
      needles.push(p.find)
    }
    this.patterns = unique
    this.#byFind = seen
    this.#lengths = [...new Set([...seen.keys()].map((f) => f.length))].sort((a, b) => b - a)
    // the network and IPv6 rules are found where their leading text is: the regex stops there
    this.#re = needles.length ? new RegExp(literalAlternation(needles), 'g') : undefined
  }

  /**
   * The texts a raw-byte prefilter can look for: a text holding none of them has no match of
   * the patterns `which` selects (by default those that rewrite something).
   */
  needles(which: (p: Pattern) => boolean = rewrites): string[] {
    const out: string[] = []
    for (const p of this.patterns) {
      if (!which(p)) continue
      if (p.boundary === 'ipv6') out.push(...ipv6Needles(canonicalIPv6(p.find) ?? p.find))
      else out.push(p.find)
    }
    return out
  }

  /**
   * Scans `text[lo, hi)`. `matches` are the accepted occurrences (including identity ones);
   * `nearMisses` are occurrences of an address or variant literal whose boundaries failed
   * (e.g. `10.0.10.48` inside `10.0.10.480`), not overlapping an accepted match.
   *
   * An address match in an address position (followed by `/len` or by blanks and a dotted
   * netmask) carries a pattern whose `replace` is the pattern's `address` when it has one; when
   * the prefix (or mask) is an old network's whose new prefix differs, the match takes it in too
   * and the replacement ends with the new network's.
   */
  scan(text: string, lo = 0, hi = text.length): { matches: Match[]; nearMisses: Match[] } {
    const matches: Match[] = []
    const nearMisses: Match[] = []
    const re = this.#re
    if (!re || hi <= lo) return { matches, nearMisses }
    const special = this.#nets.length > 0 || this.#v6.size > 0
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
      let found: Match | undefined = accepted
        ? { start: at, end: at + accepted.find.length, pattern: accepted }
        : undefined
      if (special) {
        // a literal wins a tie: an inventory host's own pattern over its network's
        const other = this.#networkAt(text, at, lo, hi) ?? this.#ipv6At(text, at, lo, hi)
        if (other && (!found || other.end > found.end)) found = other
      }
      if (found) {
        found = this.#position(text, found, lo, hi)
        matches.push(found)
        re.lastIndex = found.end
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
    const p = this.#byFind.get(s)
    if (p) return p
    if (this.#nets.length || this.#v6.size) {
      const m = this.#networkAt(s, 0, 0, s.length) ?? this.#ipv6At(s, 0, 0, s.length)
      if (m && m.end === s.length) return m.pattern
    }
    return undefined
  }

  /** An address of a network rule at `at`, not an inventory host's, with its pattern. */
  #networkAt(text: string, at: number, lo: number, hi: number): Match | undefined {
    if (this.#nets.length === 0) return undefined
    if (at > lo) {
      const b = text.charCodeAt(at - 1)
      if ((b >= 48 && b <= 57) || b === 46) return undefined
    }
    const r = readIPv4(text, at, hi)
    if (!r || !ipv4EndOk(text, r.end, hi)) return undefined
    for (const n of this.#nets) {
      if (!inNet(r.value, n.old)) continue
      const find = text.slice(at, r.end)
      const rule = n.rule.network!
      if (rule.hosts.has(find)) return undefined
      const mapped = mapAddress(r.value, n.old, n.new)
      // an address that does not fit the new network is left (the engine reports it)
      if (mapped === undefined && rule.mode !== 'leftover') return undefined
      const to = mapped === undefined ? find : formatIPv4(mapped)
      const pattern: Pattern = {
        find,
        replace: rule.mode === 'new' ? to : find,
        // an address the mapping leaves where it is (a network that only widens) is no leftover
        rule: rule.mode === 'leftover' && to === find ? 'unmoved' : n.rule.rule,
        boundary: 'ipv4',
        kind: 'address',
        network: rule,
        ...(rule.mode === 'leftover' ? {} : { address: to }),
        ...(n.rule.leftover !== undefined ? { leftover: n.rule.leftover } : {}),
      }
      return { start: at, end: r.end, pattern }
    }
    return undefined
  }

  /** An inventory IPv6 address at `at`, in whatever spelling, with its pattern. */
  #ipv6At(text: string, at: number, lo: number, hi: number): Match | undefined {
    if (this.#v6.size === 0) return undefined
    const r = readIPv6(text, at, lo, hi)
    const p = r && this.#v6.get(r.canonical)
    if (!r || !p) return undefined
    const find = text.slice(at, r.end)
    // the spelling found is what the match replaces; an identity stays an identity
    const replace = p.replace === p.find ? find : p.replace
    // an address that stays (no new6) keeps its spelling where only an address may stand
    const pattern: Pattern = { ...p, find, replace }
    if (p.address !== undefined && canonicalIPv6(p.address) === r.canonical) pattern.address = find
    return { start: at, end: r.end, pattern }
  }

  /** `m` as an address position makes it (see {@link scan}). */
  #position(text: string, m: Match, lo: number, hi: number): Match {
    const p = m.pattern
    if (p.kind !== 'address') return m
    const suffix = addressSuffix(text, m.end, hi, p.boundary === 'ipv6')
    const a = p.boundary === 'ipv4' ? ipv4Value(p.find) : undefined
    const own = a === undefined ? undefined : this.#nets.find((n) => inNet(a, n.old))
    if (
      suffix &&
      own &&
      p.network &&
      suffix.prefix < own.old.len &&
      ((a! & ~maskOf(suffix.prefix)) >>> 0 === 0 || a === own.old.base)
    ) {
      // a network wider than the old one (`172.20.0.0/16` of a /24, or its base with a shorter
      // prefix) holds addresses that do not move: moving it would move them too
      const { network: _, address: __, ...rest } = p
      return {
        ...m,
        pattern: {
          ...rest,
          replace: p.find,
          leftover: `network ${p.find}/${suffix.prefix} is wider than the old network ${p.network.old}: not moved (its other addresses do not move)`,
        },
      }
    }
    if (p.find === p.replace && p.address === undefined) return m
    if (!suffix) {
      // where only an address may stand without a suffix: an IPv6 zone (`addr%eth0`), brackets
      // before a port or in a URL (`[addr]:443`, `//[addr]/`), an IPv4-mapped IPv6 (`::ffff:A`)
      return p.address !== undefined && p.address !== p.replace && onlyAddress(text, m, lo, hi)
        ? { ...m, pattern: { ...p, replace: p.address } }
        : m
    }
    let to = p.address ?? p.replace
    const net = own && own.old.len !== own.new.len ? own : undefined
    if (net && suffix.prefix === net.old.len) {
      const gap = text.slice(m.end, suffix.suffixStart)
      const replace = to + gap + (suffix.mask ? netmaskOf(net.new.len) : String(net.new.len))
      return {
        start: m.start,
        end: suffix.end,
        pattern: { ...p, find: text.slice(m.start, suffix.end), replace, address: replace },
      }
    }
    if (net && p.network && a !== undefined) {
      // with a prefix of its own, the address keeps its host part (the broadcast rule of
      // mapAddress is for the old network's own prefix): `172.20.0.255/25` → `10.20.0.255/25`
      const host = (a & ~maskOf(net.old.len)) >>> 0
      to =
        (host & maskOf(net.new.len)) >>> 0 === 0 ? formatIPv4((net.new.base | host) >>> 0) : p.find
    }
    return to === p.replace ? m : { ...m, pattern: { ...p, replace: to } }
  }
}

/** Whether the address matched by `m` stands where a name cannot (see {@link Matcher.scan}). */
function onlyAddress(text: string, m: Match, lo: number, hi: number): boolean {
  const at = (i: number) => (i >= lo && i < hi ? text[i] : undefined)
  if (m.pattern.boundary === 'ipv6') {
    if (at(m.end) === '%') return true
    if (at(m.start - 1) !== '[' || at(m.end) !== ']') return false
    const before = at(m.start - 2)
    return at(m.end + 1) === ':' || before === '/' || before === '@'
  }
  return /::ffff:$/i.test(text.slice(Math.max(lo, m.start - 7), m.start))
}

/** Whether a pattern rewrites something: its literal changes, or it is a network's in a rewriting mode. */
function rewrites(p: Pattern): boolean {
  return p.network ? p.network.mode !== 'leftover' : p.find !== p.replace
}

/** The pattern of a network rule (see {@link NetworkRule}); undefined for a prefix shorter than 8. */
export function networkPattern(
  rule: NetworkRule,
  name: string,
  leftover?: string,
): Pattern | undefined {
  const old = parseCidr(rule.old)
  const needle = typeof old === 'string' ? undefined : netNeedle(old)
  if (needle === undefined) return undefined
  return {
    find: needle,
    replace: needle,
    rule: name,
    boundary: 'ipv4',
    kind: 'address',
    network: rule,
    ...(leftover !== undefined ? { leftover } : {}),
  }
}
