import { scanLeftovers, type Context, type Edit, type Leftover } from '@cutover/rewrite'

/** Why an occurrence at `[start, end)` was left, when the caller knows. */
export type SqlLeftoverReason = (start: number, end: number) => string

/**
 * The leftovers of a SQL text: old addresses and other-profile variants no edit covers, and
 * near-misses (`'oas.staff.extra'`), each with `reason`. Variants are looked for as whole dotted
 * tokens, so `oas.staff` inside `oas.staff.extra` is a near-miss, not an occurrence.
 */
export function sqlLeftovers(
  text: string,
  ctx: Context,
  edits: readonly Edit[],
  reason: SqlLeftoverReason,
): Leftover[] {
  return scanLeftovers(text, ctx, edits, {
    reason,
    variantBoundary: 'token',
    explainNearMisses: true,
  })
}
