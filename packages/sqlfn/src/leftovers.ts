import { leftoverMatcher, type Context, type Edit, type Leftover, type Match } from '@cutover/rewrite'

/** Why an occurrence at `[start, end)` was left, when the caller knows. */
export type SqlLeftoverReason = (start: number, end: number) => string

function tokenAround(text: string, m: Match): string {
  let s = m.start
  let e = m.end
  while (s > 0 && /[A-Za-z0-9_.-]/.test(text[s - 1]!) && m.start - s < 40) s--
  while (e < text.length && /[A-Za-z0-9_.-]/.test(text[e]!) && e - m.end < 40) e++
  return text.slice(s, e)
}

/** True when a span overlaps one of `sorted` edits (sorted by start), by binary search. */
function covered(sorted: readonly Edit[], s: number, e: number): boolean {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]!.end <= s) lo = mid + 1
    else hi = mid
  }
  for (let k = lo; k < sorted.length && sorted[k]!.start < e; k++) if (sorted[k]!.end > s || sorted[k]!.start === s) return true
  return false
}

/**
 * The leftovers of a SQL text: old addresses and other-profile variants no edit covers, and
 * near-misses (`'oas.staff.extra'`), each with `reason`. Variants are looked for as whole dotted
 * tokens, so `oas.staff` inside `oas.staff.extra` is a near-miss, not an occurrence. Edits are
 * looked up by binary search: a dump with thousands of edits stays linear.
 */
export function sqlLeftovers(text: string, ctx: Context, edits: readonly Edit[], reason: SqlLeftoverReason): Leftover[] {
  const matcher = leftoverMatcher(ctx, 'token')
  if (matcher.patterns.length === 0) return []
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end)
  const { matches, nearMisses } = matcher.scan(text)
  const out: Leftover[] = []
  for (const m of matches) {
    if (m.pattern.rule !== 'leftover' || covered(sorted, m.start, m.end)) continue
    const what = m.pattern.kind === 'address' ? 'old address' : `variant of another profile than "${ctx.profile}"`
    out.push({ start: m.start, end: m.end, text: m.pattern.find, reason: `${what}: ${reason(m.start, m.end)}` })
  }
  for (const m of nearMisses) {
    if (covered(sorted, m.start, m.end)) continue
    const token = tokenAround(text, m)
    if (token === m.pattern.find) continue
    out.push({ start: m.start, end: m.end, text: m.pattern.find, reason: `near-miss: "${m.pattern.find}" inside "${token}" is not rewritten (${reason(m.start, m.end)})` })
  }
  return out.sort((a, b) => a.start - b.start)
}
