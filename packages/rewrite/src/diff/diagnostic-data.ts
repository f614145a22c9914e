/** Half-open range `[start, end)` of offsets into a decoded text. */
export interface Range {
  start: number
  end: number
}

/** Bad input, as data: a stable `code`, a message saying what was expected, and where. */
export interface Diagnostic {
  code: string
  message: string
  range: Range
  severity?: 'error' | 'warning'
}
