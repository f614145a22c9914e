import { keyScope, type KeyPath } from '@cutover/rewrite'

/** A span of a file's text, half-open. */
export interface Span {
  start: number
  end: number
}

/**
 * The scope of `keys:` where a key names a value wherever it stands, as `set` finds it: an
 * array key at any depth of a PHP file, a key in any section of an INI file. A path is in scope
 * when some tail of it starts with one of the keys; a value with no known path never is. Without
 * keys, everything is.
 */
export function keyScopeAnywhere(
  keys: readonly string[] | undefined,
): (path: KeyPath | undefined) => boolean {
  if (keys === undefined) return () => true
  const scope = keyScope(keys)
  return (path) => path !== undefined && path.some((_s, k) => scope(path.slice(k)))
}

/** Whether `at` lies inside one of `spans` (sorted by start, disjoint). */
export function insideSpans(spans: readonly Span[], at: number): boolean {
  let lo = 0
  let hi = spans.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (spans[mid]!.end <= at) lo = mid + 1
    else hi = mid
  }
  const s = spans[lo]
  return s !== undefined && s.start <= at && at < s.end
}
