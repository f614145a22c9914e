import { EditConflictError } from '../errors.js'
import { LineIndex } from '../text/line-index.js'

/**
 * The name of an encoding: how a value is quoted for the place it is written to (`php-single`,
 * `sql`, …). A step kind registers its encoders under these names (`StepKind.encodings`); `raw`
 * (the value as it is) is the only one the engine knows itself.
 */
export type EncodingName = string

/**
 * One replacement of the half-open span `[start, end)` of a text by `text`.
 * Offsets index the text the edit was computed against, never a partly rewritten one.
 */
export interface Edit {
  start: number
  end: number
  text: string
  /** The rule that made it, e.g. `addresses`, `replace`, `hosts.ensure`. */
  rule: string
  /** A short human summary, e.g. `10.0.10.48 -> finance.example.net`. Never holds a secret. */
  summary?: string
  /** Set when `text` holds a secret: the plan stores the name and encoding, never the value. */
  secret?: { name: string; encoding: EncodingName[] }
  /** Set when the replaced text is sensitive (an old password): diffs mask the line. */
  sensitive?: boolean
  /**
   * Set when the edit must happen only once on a file, because applying it again would undo it
   * (a swap is its own inverse): names that one-time move, e.g. `swap [db-a, db-b]`. The engine
   * records which of a file's edits of it were applied and does not plan them again while the
   * file still holds what they wrote; a step kind only has to say so.
   */
  once?: string
}

/** Sorts edits by position; insertions at one offset keep their given order. */
export function sortEdits<E extends Edit>(edits: readonly E[]): E[] {
  return edits
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.start - b.e.start || a.e.end - b.e.end || a.i - b.i)
    .map((x) => x.e)
}

/**
 * Checks that `edits` are within `source` and do not overlap; throws {@link EditConflictError}
 * naming both rules and the line:col otherwise. Two insertions at one offset are allowed.
 */
export function checkEdits(source: string, edits: readonly Edit[]): Edit[] {
  const sorted = sortEdits(edits)
  let index: LineIndex | undefined
  const where = (o: number) => {
    index ??= new LineIndex(source)
    const p = index.position(o)
    return `${p.line}:${p.col}`
  }
  let prev: Edit | undefined
  for (const e of sorted) {
    if (!(
      Number.isInteger(e.start) &&
      Number.isInteger(e.end) &&
      e.start >= 0 &&
      e.start <= e.end &&
      e.end <= source.length
    )) {
      throw new EditConflictError(
        `edit of rule "${e.rule}" has range [${e.start}, ${e.end}) outside the text of length ${source.length}`,
      )
    }
    if (prev && e.start < prev.end) {
      throw new EditConflictError(
        `rules "${prev.rule}" and "${e.rule}" both edit ${where(e.start)} ([${prev.start}, ${prev.end}) and [${e.start}, ${e.end})): make one of them more specific`,
      )
    }
    if (
      prev &&
      e.start === prev.end &&
      e.start === e.end &&
      prev.start === prev.end &&
      prev.text === e.text &&
      prev.rule !== e.rule
    ) {
      throw new EditConflictError(
        `rules "${prev.rule}" and "${e.rule}" both insert the same text at ${where(e.start)}`,
      )
    }
    prev = e
  }
  return sorted
}

/**
 * Applies `edits` (offsets into `source`) and returns the new text. Bytes outside the edits are
 * kept exactly. Throws {@link EditConflictError} on overlap or out-of-range edits.
 */
export function applyEdits(source: string, edits: readonly Edit[]): string {
  if (edits.length === 0) return source
  return spliceEdits(source, checkEdits(source, edits))
}

/** Applies edits already sorted and checked by {@link checkEdits} (not exported by the package). */
export function spliceEdits(source: string, sorted: readonly Edit[]): string {
  const parts: string[] = []
  let at = 0
  for (const e of sorted) {
    parts.push(source.slice(at, e.start), e.text)
    at = e.end
  }
  parts.push(source.slice(at))
  return parts.join('')
}

/**
 * Maps an offset of `source` through `edits` to the offset in the edited text, or `undefined`
 * when the offset falls strictly inside an edited span (its text was replaced).
 */
export function mapOffset(offset: number, sortedEdits: readonly Edit[]): number | undefined {
  let delta = 0
  for (const e of sortedEdits) {
    if (e.end <= offset && !(e.start === e.end && e.start === offset)) {
      delta += e.text.length - (e.end - e.start)
      continue
    }
    if (e.start <= offset && offset < e.end) return undefined
    if (e.start > offset || (e.start === e.end && e.start === offset)) break
  }
  return offset + delta
}
