/** 1-based line and column of an offset. */
export interface Position {
  line: number
  col: number
}

/**
 * Maps offsets of a string to 1-based lines and columns and back.
 * Lines end at `\n`; a `\r` before it belongs to the line it ends.
 */
export class LineIndex {
  readonly #starts: number[]
  readonly text: string

  constructor(text: string) {
    this.text = text
    const starts = [0]
    let i = text.indexOf('\n')
    while (i !== -1) {
      starts.push(i + 1)
      i = text.indexOf('\n', i + 1)
    }
    this.#starts = starts
  }

  /** Number of lines (a final newline does not start a new line). */
  get lineCount(): number {
    const n = this.#starts.length
    return this.#starts[n - 1] === this.text.length && n > 1 ? n - 1 : n
  }

  /** 1-based line and column (in UTF-16 code units) of `offset`. */
  position(offset: number): Position {
    const starts = this.#starts
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 }
  }

  /** Offset of the start of 1-based `line`. */
  lineStart(line: number): number {
    return this.#starts[Math.max(0, Math.min(line - 1, this.#starts.length - 1))]!
  }

  /** The text of 1-based `line`, without its line break. */
  lineText(line: number): string {
    const start = this.lineStart(line)
    const next = this.#starts[line]
    let end = next === undefined ? this.text.length : next - 1
    if (end > start && this.text[end - 1] === '\r') end--
    return this.text.slice(start, end)
  }

  /** Offset of a 1-based line and column. */
  offset(pos: Position): number {
    return this.lineStart(pos.line) + pos.col - 1
  }
}
