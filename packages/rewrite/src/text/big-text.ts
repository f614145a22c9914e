import { createHash, type Hash } from 'node:crypto'
import type { Position } from './line-index.js'
import { encodeText, sha256, type TextEncoding } from './source.js'

// Helpers of the engine for large files (a 50 MB dump): each gives what a simpler call on the
// whole text gives, without another copy of the text (a latin1 string, an encoded Buffer, an
// array of every line start) that V8 would keep until its next full collection.

/** Characters hashed at once by {@link hashText}. */
const CHUNK = 1 << 20
const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/**
 * `sha256(encodeText(text, encoding))`, hashed chunk by chunk (cut between code points) so that
 * the bytes of a large text are never held at once.
 */
export function hashText(text: string, encoding: TextEncoding): string {
  if (text.length <= CHUNK) return sha256(encodeText(text, encoding))
  const hash = createHash('sha256')
  if (encoding === 'utf8-bom') hash.update(BOM)
  hashChunks(hash, text, encoding)
  return `sha256:${hash.digest('hex')}`
}

/** Hashes `text` (not ending inside a surrogate pair) chunk by chunk, as `encoding` encodes it. */
function hashChunks(hash: Hash, text: string, encoding: TextEncoding): void {
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + CHUNK, text.length)
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last < 0xdc00) end--
    const chunk = text.slice(at, end)
    if (encoding !== 'latin1') hash.update(chunk, 'utf8')
    // eslint-disable-next-line no-control-regex
    else if (/[^\u0000-\u00ff]/.test(chunk)) hash.update(encodeText(chunk, 'latin1'))
    else hash.update(chunk, 'latin1')
    at = end
  }
}

/**
 * The {@link LineIndex} positions of `offsets` in `text`, found in one sweep without an index of
 * every line: a large file with a few leftovers needs no array of a million line starts.
 */
export function positionsOf(text: string, offsets: readonly number[]): Map<number, Position> {
  const out = new Map<number, Position>()
  const sorted = [...new Set(offsets)].sort((a, b) => a - b)
  let line = 1
  let lineStart = 0
  let nl = text.indexOf('\n')
  for (const at of sorted) {
    while (nl !== -1 && nl < at) {
      line++
      lineStart = nl + 1
      nl = text.indexOf('\n', lineStart)
    }
    out.set(at, { line, col: at - lineStart + 1 })
  }
  return out
}

/** An edit as {@link EditedText} reads it: a span of the text and what replaces it. */
interface Replacement {
  start: number
  end: number
  text: string
}

/**
 * The text that one pass of edits (sorted, not overlapping: checked) makes of `base`, read
 * without being made: a slice, its line breaks, its hash, whether it equals another text. A
 * large file planned in one pass is then held once (its text and the edits), not twice.
 */
export class EditedText {
  readonly length: number
  /** For each edit, what the edits before it add to the length; one more entry for the end. */
  readonly #before: number[]

  constructor(
    readonly base: string,
    readonly edits: readonly Replacement[],
  ) {
    const before = [0]
    for (const e of edits)
      before.push(before[before.length - 1]! + e.text.length - (e.end - e.start))
    this.#before = before
    this.length = base.length + before[before.length - 1]!
  }

  /** Where the text of edit `k` starts in the edited text. */
  #at(k: number): number {
    return this.edits[k]!.start + this.#before[k]!
  }

  /** The edited text's characters `[a, b)`, as `toString().slice(a, b)` (0 <= a <= b <= length). */
  slice(a: number, b: number): string {
    const { edits, base } = this
    const n = edits.length
    const parts: string[] = []
    let at = a
    // the pieces before the first edit whose text ends after `a` end before `a`
    for (let k = this.#after(a); at < b; k++) {
      // the stretch of the base before edit k, then the edit's text
      const gapEnd = k < n ? this.#at(k) : this.length
      if (at < gapEnd) {
        const end = Math.min(b, gapEnd)
        parts.push(base.slice(at - this.#before[k]!, end - this.#before[k]!))
        at = end
      }
      if (k >= n || at >= b) break
      const s = this.#at(k)
      const end = Math.min(b, s + edits[k]!.text.length)
      if (end > at) parts.push(edits[k]!.text.slice(at - s, end - s))
      at = Math.max(at, end)
    }
    return parts.join('')
  }

  /** The first edit whose text ends after offset `a` of the edited text (or the count of edits). */
  #after(a: number): number {
    let lo = 0
    let hi = this.edits.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#at(mid) + this.edits[mid]!.text.length <= a) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** As `toString().indexOf(s, from)` for one character `s`. */
  indexOf(s: string, from = 0): number {
    const { edits, base } = this
    const n = edits.length
    let at = Math.max(0, from)
    for (let k = this.#after(at); ; k++) {
      const gapEnd = k < n ? this.#at(k) : this.length
      if (at < gapEnd) {
        const i = base.indexOf(s, at - this.#before[k]!)
        if (i !== -1 && i + this.#before[k]! < gapEnd) return i + this.#before[k]!
        at = gapEnd
      }
      if (k >= n) return -1
      const start = this.#at(k)
      const t = edits[k]!.text
      if (at < start + t.length) {
        const i = t.indexOf(s, at - start)
        if (i !== -1) return start + i
      }
      at = Math.max(at, start + t.length)
    }
  }

  /** As `toString().lastIndexOf(s, from)` for one character `s` (0 <= from). */
  lastIndexOf(s: string, from: number): number {
    const end = Math.min(from + 1, this.length)
    for (let w = 256; ; w *= 2) {
      const start = Math.max(0, end - w)
      const i = this.slice(start, end).lastIndexOf(s)
      if (i !== -1) return start + i
      if (start === 0) return -1
    }
  }

  /** As `toString().charCodeAt(i)`. */
  charCodeAt(i: number): number {
    return i < 0 || i >= this.length ? Number.NaN : this.slice(i, i + 1).charCodeAt(0)
  }

  /**
   * How many characters from offset `q` of the edited text are known to equal those from offset
   * `p` of the base without reading them: to the next edit when `q` is in a stretch of the base
   * and stands for `p`, else 0.
   */
  unchangedRun(p: number, q: number): number {
    const k = this.#after(q)
    const gapEnd = k < this.edits.length ? this.#at(k) : this.length
    if (q >= gapEnd || q - this.#before[k]! !== p) return 0
    return gapEnd - q
  }

  /** The pieces of the edited text in order: stretches of the base and the edits' texts. */
  *pieces(): Generator<string> {
    let from = 0
    for (const e of this.edits) {
      if (e.start > from) yield this.base.slice(from, e.start)
      if (e.text.length > 0) yield e.text
      from = e.end
    }
    if (from < this.base.length) yield this.base.slice(from)
  }

  /** Gives `visit` the offsets of the edited text's line breaks, ascending, until it returns false. */
  eachNewline(visit: (at: number) => boolean): void {
    const { base, edits } = this
    let from = 0
    // the next line break of the base at or after `from` (-1: none), kept across stretches
    let nl = -2
    for (let k = 0; k <= edits.length; k++) {
      const end = k < edits.length ? edits[k]!.start : base.length
      if (nl !== -1 && nl < from) nl = base.indexOf('\n', from)
      const shift = this.#before[k]!
      while (nl !== -1 && nl < end) {
        if (!visit(nl + shift)) return
        nl = base.indexOf('\n', nl + 1)
      }
      if (k === edits.length) return
      const t = edits[k]!.text
      const at = this.#at(k)
      for (let i = t.indexOf('\n'); i !== -1; i = t.indexOf('\n', i + 1)) if (!visit(at + i)) return
      from = edits[k]!.end
    }
  }

  /** The edited text, made. */
  toString(): string {
    return [...this.pieces()].join('')
  }

  /** Whether the edited text equals `text`. */
  equals(text: string): boolean {
    if (text.length !== this.length) return false
    if (text === this.base && this.edits.every((e) => e.text.length === e.end - e.start))
      return this.edits.every((e) => text.startsWith(e.text, e.start))
    return this.toString() === text
  }

  /** {@link hashText} of the edited text, hashed piece by piece. */
  hash(encoding: TextEncoding): string {
    if (this.length <= CHUNK) return hashText(this.toString(), encoding)
    const hash = createHash('sha256')
    if (encoding === 'utf8-bom') hash.update(BOM)
    // a piece that ends inside a surrogate pair keeps its high half for the next one
    let carry = ''
    for (let piece of this.pieces()) {
      if (carry) {
        piece = carry + piece
        carry = ''
      }
      const last = piece.charCodeAt(piece.length - 1)
      if (last >= 0xd800 && last < 0xdc00) {
        carry = piece.slice(-1)
        piece = piece.slice(0, -1)
      }
      hashChunks(hash, piece, encoding)
    }
    if (carry) hashChunks(hash, carry, encoding)
    return `sha256:${hash.digest('hex')}`
  }
}

/** The {@link positionsOf} of `offsets` in an edited text, from its line breaks. */
export function editedPositionsOf(
  text: EditedText,
  offsets: readonly number[],
): Map<number, Position> {
  const out = new Map<number, Position>()
  const sorted = [...new Set(offsets)].sort((a, b) => a - b)
  let s = 0
  let line = 1
  let lineStart = 0
  const upTo = (limit: number) => {
    for (; s < sorted.length && sorted[s]! <= limit; s++)
      out.set(sorted[s]!, { line, col: sorted[s]! - lineStart + 1 })
  }
  // an offset is on the line the breaks before it end
  text.eachNewline((nl) => {
    upTo(nl)
    if (s >= sorted.length) return false
    line++
    lineStart = nl + 1
    return true
  })
  upTo(Number.POSITIVE_INFINITY)
  return out
}
