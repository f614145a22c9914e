import type { Range } from '@cutover/rewrite'
import type { AddressFamily } from './address.js'
import type { LineKind } from './table.js'

/** Half-open `[start, end)` offsets of a token in the document's text. */
export type Span = Range

/**
 * One line of a hosts file. `kind` says what it holds:
 * - `entry`: an address and at least one name (the canonical name, then aliases);
 * - `blank`: only whitespace; `comment`: whitespace, then a `#` comment;
 * - `invalid`: a first token that is no address, or an address without a name (see `doc.errors`).
 */
export interface HostsLine {
  kind: LineKind
  /** Offset of the line's first character. */
  start: number
  /** End of the line's content: the offset of its `\n` (or of the `\r` of a `\r\n`). */
  end: number
  /** Offset of the next line (after the line break); `end` when the text ends without one. */
  next: number
  /** The first token: the address of an entry, or what stood in its place. */
  address?: Span
  /** The family of an entry's address. */
  family?: AddressFamily
  /** Names of an entry: canonical name first, then aliases. Empty for other kinds. */
  names: Span[]
  /** From `#` to the end of the content, when the line has a comment. */
  comment?: Span
}
