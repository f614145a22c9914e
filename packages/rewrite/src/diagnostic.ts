import { LineIndex } from './line-index.js'

/** Half-open range `[start, end)` of offsets into a decoded text. */
export interface Range { start: number; end: number }

/** Bad input, as data: a stable `code`, a message saying what was expected, and where. */
export interface Diagnostic {
  code: string
  message: string
  range: Range
  severity?: 'error' | 'warning'
}

/**
 * Formats a diagnostic for people: `path:line:col: CODE message`, the source line, and a caret
 * under the range. `index` may be shared between calls on one text.
 */
export function formatDiagnostic(path: string, source: string | LineIndex, d: Diagnostic): string {
  const index = typeof source === 'string' ? new LineIndex(source) : source
  const { line, col } = index.position(d.range.start)
  const lineText = index.lineText(line)
  const endOnLine = Math.min(d.range.end, index.lineStart(line) + lineText.length)
  const width = Math.max(1, endOnLine - d.range.start)
  const pad = lineText.slice(0, col - 1).replace(/[^\t]/g, ' ')
  const sev = d.severity === 'warning' ? 'warning ' : ''
  return `${path}:${line}:${col}: ${sev}${d.code} ${d.message}\n  ${lineText}\n  ${pad}${'^'.repeat(width)}`
}
