import { createHash } from 'node:crypto'
import type { AnyPlanDocument } from '@cutover/rewrite'

/**
 * The plan's hash, `sha256:` and 64 hex digits: sha256 of the bytes `cutover plan --out FILE`
 * writes for `doc` (the {@link planJson} pieces, hashed one by one, never joined), so it is
 * `sha256sum FILE` of the saved plan and of `cutover plan --json` output.
 */
export function planHash(doc: AnyPlanDocument): string {
  const h = createHash('sha256')
  for (const piece of planJson(doc)) h.update(piece, 'utf8')
  return `sha256:${h.digest('hex')}`
}

/**
 * The pieces of `planJson(doc)`, hashed as they are taken: a plan saved is serialized once, and
 * `hash()` is its hash once every piece has been taken (a plan of large files costs as much to
 * serialize as to write).
 */
export function hashedPlanJson(doc: AnyPlanDocument): {
  pieces: Generator<string>
  hash(): string
} {
  const h = createHash('sha256')
  let digest: string | undefined
  function* pieces(): Generator<string> {
    for (const piece of planJson(doc)) {
      h.update(piece, 'utf8')
      yield piece
    }
    digest = `sha256:${h.digest('hex')}`
  }
  return {
    pieces: pieces(),
    hash() {
      if (digest === undefined) throw new Error('the plan document was not taken whole')
      return digest
    },
  }
}

/**
 * Characters of the plan document written at once: a piece stays a string V8 makes in its young
 * generation (below 128 KiB), which the next scavenge frees. Pieces of a megabyte each went to
 * its large-object space and stayed there until a full collection, as did a change's whole JSON.
 */
const BATCH = 1 << 15

/**
 * The plan document as `JSON.stringify(doc, null, 2) + '\n'` gives it, in pieces of about
 * {@link BATCH} characters ({@link valuePieces}), so that a plan of many or large files is
 * written without ever being one string (V8 strings end at about 512 MB: `Invalid string
 * length`) and without a large string at all.
 */
export function* planJson(doc: AnyPlanDocument): Generator<string> {
  // small pieces go out together (a write each would be tens of thousands)
  let batch: string[] = []
  let size = 0
  for (const piece of pieces(doc)) {
    if (size + piece.length > BATCH && size > 0) {
      yield batch.join('')
      batch = []
      size = 0
    }
    batch.push(piece)
    size += piece.length
  }
  if (batch.length) yield batch.join('')
}

function* pieces(doc: AnyPlanDocument): Generator<string> {
  const entries = Object.entries(doc).filter(([, v]) => v !== undefined && typeof v !== 'function')
  yield '{'
  for (const [k, [key, value]] of entries.entries()) {
    const sep = k + 1 < entries.length ? ',' : ''
    yield `\n  ${JSON.stringify(key)}: `
    yield* valuePieces(value, '  ', 3)
    yield sep
  }
  yield entries.length ? '\n}\n' : '}\n'
}

/**
 * `JSON.stringify(value, null, 2)` with `indent` after each of its newlines, in pieces: a plain
 * object or array down to `depth` levels as its members (the document's lists, each change's
 * fields, the elements of those: a 50 MB dump's diff, then each of its thousands of edits),
 * deeper values and anything else whole. The text of a large change is then never one string,
 * nor copied once more to indent it.
 */
function* valuePieces(value: unknown, indent: string, depth: number): Generator<string> {
  const plain =
    depth > 0 &&
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function' &&
    (Array.isArray(value) ||
      Object.getPrototypeOf(value) === Object.prototype ||
      Object.getPrototypeOf(value) === null)
  if (typeof value === 'string' && value.length > STRING_PIECE) return yield* stringPieces(value)
  if (!plain) {
    // inside a JSON string a newline is escaped: every raw newline is structure, to indent
    yield JSON.stringify(value, null, 2).replaceAll('\n', `\n${indent}`)
    return
  }
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) return void (yield '[]')
    for (let i = 0; i < value.length; i++) {
      yield i === 0 ? `[\n${inner}` : `,\n${inner}`
      // as JSON.stringify writes them in a list: nothing to write is null
      const v: unknown = value[i]
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') yield 'null'
      else yield* valuePieces(v, inner, depth - 1)
    }
    yield `\n${indent}]`
    return
  }
  // as JSON.stringify writes an object: its own enumerable keys, but those with nothing to write
  const members = Object.entries(value).filter(
    ([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol',
  )
  if (members.length === 0) return void (yield '{}')
  for (const [i, [k, v]] of members.entries()) {
    yield `${i === 0 ? '{' : ','}\n${inner}${JSON.stringify(k)}: `
    yield* valuePieces(v, inner, depth - 1)
  }
  yield `\n${indent}}`
}

/** Characters of a long string escaped at once by {@link stringPieces}. */
const STRING_PIECE = 1 << 14

/**
 * `JSON.stringify(text)` in pieces: the string escaped {@link STRING_PIECE} characters at a time,
 * never cut between the halves of a surrogate pair (a half alone is escaped as `\udxxx`).
 */
function* stringPieces(text: string): Generator<string> {
  yield '"'
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + STRING_PIECE, text.length)
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last < 0xdc00) end--
    yield JSON.stringify(text.slice(at, end)).slice(1, -1)
    at = end
  }
  yield '"'
}
