import { createHash } from 'node:crypto'
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
  return `sha256:${hash.digest('hex')}`
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
