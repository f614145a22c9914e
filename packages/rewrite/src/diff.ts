import { structuredPatch } from 'diff'

/** Lines of the old and new text (1-based) whose content must not be shown. */
export interface SensitiveLines { before: ReadonlySet<number>; after: ReadonlySet<number> }

/** What a diff shows in place of a sensitive line. */
export const SENSITIVE = '(sensitive)'

/**
 * A unified diff of `before` and `after` with `a/PATH` and `b/PATH` headers (paths relative to
 * the root) and 3 lines of context. Lines listed in `sensitive` show `(sensitive)` instead of
 * their content. Returns `''` when the texts are equal. A missing final newline is marked as
 * `\ No newline at end of file`; CR of CRLF endings is kept out of the shown lines.
 */
export function unifiedDiff(path: string, before: string, after: string, sensitive?: SensitiveLines): string {
  if (before === after) return ''
  const patch = structuredPatch(`a/${path}`, `b/${path}`, before, after, '', '', { context: 3 })
  const out = [`--- a/${path}`, `+++ b/${path}`]
  for (const h of patch.hunks) {
    out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`)
    let oldLine = h.oldStart
    let newLine = h.newStart
    for (const raw of h.lines) {
      const sign = raw[0]
      let body = raw.slice(1)
      if (sign === '\\') {
        out.push(raw)
        continue
      }
      if (body.endsWith('\r')) body = body.slice(0, -1)
      const hidden =
        (sign === '-' && sensitive?.before.has(oldLine)) ||
        (sign === '+' && sensitive?.after.has(newLine)) ||
        (sign === ' ' && (sensitive?.before.has(oldLine) || sensitive?.after.has(newLine)))
      out.push(sign + (hidden ? SENSITIVE : body))
      if (sign !== '+') oldLine++
      if (sign !== '-') newLine++
    }
  }
  return out.join('\n') + '\n'
}

function range(start: number, lines: number): string {
  // diff reports an empty side as starting at the line before it; unified diff says `N,0`.
  if (lines === 0) return `${start},0`
  return lines === 1 ? `${start}` : `${start},${lines}`
}

/** Counts `+` and `-` lines of a unified diff (headers excluded). */
export function diffStat(diff: string): { added: number; removed: number } {
  let added = 0
  let removed = 0
  let inHunk = false
  for (const line of diff.split('\n')) {
    if (line.startsWith('@@ ')) inHunk = true
    if (!inHunk) continue
    if (line.startsWith('+')) added++
    else if (line.startsWith('-')) removed++
  }
  return { added, removed }
}
