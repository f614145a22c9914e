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
 * The plan document as `JSON.stringify(doc, null, 2) + '\n'` gives it, in pieces: one per
 * top-level field and one per element of its lists, so that a plan of many or large files is
 * written without ever being one string (V8 strings end at about 512 MB: `Invalid string
 * length`), and only one change's JSON is held at a time.
 */
export function* planJson(doc: AnyPlanDocument): Generator<string> {
  // small pieces go out together, about a megabyte at a time (a write each would be thousands)
  let batch: string[] = []
  let size = 0
  for (const piece of pieces(doc)) {
    batch.push(piece)
    size += piece.length
    if (size >= 1 << 20) {
      yield batch.join('')
      batch = []
      size = 0
    }
  }
  if (batch.length) yield batch.join('')
}

function* pieces(doc: AnyPlanDocument): Generator<string> {
  const entries = Object.entries(doc).filter(([, v]) => v !== undefined && typeof v !== 'function')
  yield '{'
  for (const [k, [key, value]] of entries.entries()) {
    const sep = k + 1 < entries.length ? ',' : ''
    if (Array.isArray(value) && value.length > 0) {
      yield `\n  ${JSON.stringify(key)}: [`
      for (const [i, item] of value.entries()) {
        // inside a JSON string a newline is escaped: every raw newline is structure, to indent
        yield `\n    ${JSON.stringify(item, null, 2).replaceAll('\n', '\n    ')}${i + 1 < value.length ? ',' : ''}`
      }
      yield `\n  ]${sep}`
    } else {
      yield `\n  ${JSON.stringify(key)}: ${JSON.stringify(value, null, 2).replaceAll('\n', '\n  ')}${sep}`
    }
  }
  yield entries.length ? '\n}\n' : '}\n'
}
