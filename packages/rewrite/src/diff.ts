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
  const out = [`--- a/${path}`, `+++ b/${path}`]
  for (const h of hunks(before, after)) {
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

interface Hunk { oldStart: number; oldLines: number; newStart: number; newLines: number; lines: string[] }

/** From how many lines on a diff is computed window by window (see {@link windows}). */
const WINDOWED_FROM = 5000

function hunks(before: string, after: string): Hunk[] {
  const whole = () => structuredPatch('a', 'b', before, after, '', '', { context: 3 }).hunks
  if (before.length < 65536) return whole()
  const a = lineStarts(before)
  const b = lineStarts(after)
  if (a.length < WINDOWED_FROM) return whole()
  const cuts = windows(before, a, after, b)
  if (!cuts) return whole()
  const out: Hunk[] = []
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [a0, b0] = cuts[k]!
    const [a1, b1] = cuts[k + 1]!
    const x = before.slice(a[a0] ?? before.length, a[a1] ?? before.length)
    const y = after.slice(b[b0] ?? after.length, b[b1] ?? after.length)
    if (x === y) continue
    for (const h of structuredPatch('a', 'b', x, y, '', '', { context: 3 }).hunks) {
      out.push({ ...h, oldStart: h.oldStart + a0, newStart: h.newStart + b0 })
    }
  }
  return out
}

/** Offsets where each line starts (a final line without newline counts; an empty tail does not). */
function lineStarts(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) if (i + 1 < text.length) starts.push(i + 1)
  return starts
}

function lineEq(x: string, xs: number[], i: number, y: string, ys: number[], j: number): boolean {
  const xe = xs[i + 1] ?? x.length
  const ye = ys[j + 1] ?? y.length
  return xe - xs[i]! === ye - ys[j]! && x.startsWith(y.slice(ys[j], ye), xs[i])
}

/**
 * Cuts a large diff into windows that can be diffed apart: pairs of line numbers (0-based) in
 * the middle of runs of 20 or more equal lines, so that no hunk (3 lines of context) spans two
 * windows. Differences are skipped by a greedy look-ahead for the nearest line pair that is
 * equal along with the 2 lines after it. Returns undefined when the texts differ too much for
 * that (the whole diff is computed then).
 */
function windows(x: string, xs: number[], y: string, ys: number[]): Array<[number, number]> | undefined {
  const cuts: Array<[number, number]> = [[0, 0]]
  const eq = (i: number, j: number) => i < xs.length && j < ys.length && lineEq(x, xs, i, y, ys, j)
  let i = 0
  let j = 0
  let run = 0
  let changed = false
  while (i < xs.length && j < ys.length) {
    if (eq(i, j)) {
      i++
      j++
      if (++run === 20 && changed) {
        cuts.push([i - 10, j - 10])
        changed = false
      }
      continue
    }
    // a long equal run before this difference: cut in its middle too, so that the equal stretch
    // between two distant differences is a window of its own (equal, hence skipped)
    if (run >= 20 && cuts[cuts.length - 1]![0] < i - 10) cuts.push([i - 10, j - 10])
    run = 0
    changed = true
    let found = false
    for (let d = 1; d <= 200 && !found; d++) {
      for (let di = 0; di <= d; di++) {
        const ni = i + di
        const nj = j + d - di
        const atEnd = ni === xs.length && nj === ys.length
        if (atEnd || (eq(ni, nj) && (ni + 1 === xs.length || eq(ni + 1, nj + 1)) && (ni + 2 >= xs.length || eq(ni + 2, nj + 2)))) {
          i = ni
          j = nj
          found = true
          break
        }
      }
    }
    if (!found) return undefined
  }
  cuts.push([xs.length, ys.length])
  return cuts
}

function range(start: number, lines: number): string {
  // diff reports an empty side as starting at the line before it; unified diff says `N,0`.
  if (lines === 0) return `${Math.max(0, start - 1)},0`
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
