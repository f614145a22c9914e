import type { Diagnostic } from '../diff/diagnostic.js'
import type { Edit } from '../edit/edit.js'
import { ipv4Value, mapAddress, parseCidr, type Net } from '../match/network.js'
import { Matcher, type Boundary, type Match, type Pattern } from '../match/match.js'
import { perContext } from './per-context.js'
import { leftoverPatterns, type Context, type Leftover, type RuleOptions } from './step.js'

/** Why a step left an occurrence alone, when it knows (e.g. `inside a comment`). */
export type LeftoverReason = (start: number, end: number) => string | undefined

const leftoverMatchers = perContext(
  (variantBoundary: Boundary, ctx) => new Matcher(leftoverPatterns(ctx, variantBoundary)),
)

/** The matcher of {@link leftoverPatterns} for a context, built once per context and boundary. */
export function leftoverMatcher(ctx: Context, variantBoundary: Boundary = 'token'): Matcher {
  return leftoverMatchers(variantBoundary, ctx)
}

/** The surrounding token of a near-miss, for the reason text (`10.0.10.480`, `oas.staff.extra`). */
function tokenAround(text: string, m: Match): string {
  let s = m.start
  let e = m.end
  while (s > 0 && /[A-Za-z0-9_.-]/.test(text[s - 1]!) && m.start - s < 40) s--
  while (e < text.length && /[A-Za-z0-9_.-]/.test(text[e]!) && e - m.end < 40) e++
  return text.slice(s, e)
}

/** Why a step left an occurrence that no rule of it covers, when the step says nothing more. */
const NO_RULE = 'no rule of this step rewrites it'

/**
 * The reason of a leftover of pattern `p`: what it is (an old address, an address of a network
 * that moves, an old name the spec renames, a variant of another profile) and `why` it stayed;
 * `known` tells whether `why` is the step's own word for this place (a comment) rather than a
 * fallback.
 */
export function leftoverReason(p: Pattern, ctx: Context, why: string, known = false): string {
  if (p.network)
    return why === NO_RULE
      ? `old address in network ${p.network.old} with no name in hosts:`
      : `old address in network ${p.network.old}: ${why}`
  if (p.leftover !== undefined) return known ? `${p.leftover} (${why})` : p.leftover
  const what =
    p.kind === 'address' ? 'old address' : `variant of another profile than "${ctx.profile}"`
  return `${what}: ${why}`
}

/**
 * The reason of a leftover that a step with rule keys leaves and does not explain: that it has
 * `addresses: none` (the default), or that none of its rules rewrites it.
 */
export function ruleFallback(o: Pick<RuleOptions, 'addresses'>): string {
  return (o.addresses ?? 'none') === 'none' ? 'this step has addresses: none' : NO_RULE
}

/**
 * Finds what a step left in its input: old addresses and other-profile variants that none of
 * its `edits` covers, and near-misses (`10.0.10.480`). `reason` explains an occurrence the step
 * chose to leave (a comment, code rather than a string); otherwise `fallback` is used.
 */
export function scanLeftovers(
  text: string,
  ctx: Context,
  edits: readonly Edit[],
  options: {
    reason?: LeftoverReason
    fallback?: string
    variantBoundary?: Boundary
    explainNearMisses?: boolean
  } = {},
): Leftover[] {
  const matcher = leftoverMatcher(ctx, options.variantBoundary)
  if (matcher.patterns.length === 0) return []
  const { matches, nearMisses } = matcher.scan(text)
  const sorted =
    edits.length > 1 ? [...edits].sort((a, b) => a.start - b.start || a.end - b.end) : edits
  const covered = (s: number, e: number) => isCovered(sorted, s, e)
  const out: Leftover[] = []
  for (const m of matches) {
    if (m.pattern.rule !== 'leftover' || covered(m.start, m.end)) continue
    const known = options.reason?.(m.start, m.end)
    const why = known ?? options.fallback ?? NO_RULE
    out.push({
      start: m.start,
      end: m.end,
      text: m.pattern.find,
      reason: leftoverReason(m.pattern, ctx, why, known !== undefined),
    })
  }
  for (const m of nearMisses) {
    if (covered(m.start, m.end)) continue
    const token = tokenAround(text, m)
    if (token === m.pattern.find) continue
    const why = options.explainNearMisses ? options.reason?.(m.start, m.end) : undefined
    out.push({
      start: m.start,
      end: m.end,
      text: m.pattern.find,
      reason: `near-miss: "${m.pattern.find}" inside "${token}" is not rewritten${why ? ` (${why})` : ''}`,
    })
  }
  return out.sort((a, b) => a.start - b.start)
}

/**
 * True when `[s, e)` overlaps one of `sorted` edits (by start), or an insertion sits at `s`.
 * Binary search: a dump with thousands of edits stays linear.
 */
function isCovered(sorted: readonly Edit[], s: number, e: number): boolean {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]!.end <= s) lo = mid + 1
    else hi = mid
  }
  for (let k = lo; k < sorted.length && sorted[k]!.start < e; k++)
    if (sorted[k]!.end > s || sorted[k]!.start === s) return true
  return false
}

/** The networks whose new prefix is longer than the old: some of their host parts do not fit. */
const narrowing = perContext((_: 'misfits', ctx) => {
  const nets = (ctx.networks ?? []).filter((n) => {
    const from = parseCidr(n.old)
    const to = parseCidr(n.new)
    return typeof from !== 'string' && typeof to !== 'string' && to.len > from.len
  })
  return nets.length
    ? new Matcher(
        leftoverPatterns({ ...ctx, inventory: [], renames: [], variants: {}, networks: nets }),
      )
    : undefined
})

/**
 * `NETWORK_FIT` errors for the addresses of `text` that a step rewriting addresses would map into
 * a new network they do not fit (its prefix is longer, and their host part is outside it): the
 * step cannot write them, and leaving them would be a silent half-migration.
 */
export function networkMisfits(text: string, ctx: Context): Diagnostic[] {
  const matcher = narrowing('misfits', ctx)
  if (!matcher) return []
  const hosts = new Set(ctx.inventory.map((h) => h.old))
  const out: Diagnostic[] = []
  for (const m of matcher.scan(text).matches) {
    const n = m.pattern.network
    if (!n || hosts.has(m.pattern.find)) continue
    const from = parseCidr(n.old) as Net
    const to = parseCidr(n.new) as Net
    const a = ipv4Value(m.pattern.find)
    if (a === undefined || mapAddress(a, from, to) !== undefined) continue
    out.push({
      code: 'NETWORK_FIT',
      message: `${m.pattern.find} (network ${n.old}) does not fit the new network ${n.new}: its host part is outside a /${to.len}; give it a host entry (hosts:) or a wider new network`,
      range: { start: m.start, end: m.start + m.pattern.find.length },
    })
  }
  return out
}
