import { SENSITIVE, showControls } from './diff.js'
import { LineIndex } from '../text/line-index.js'
import {
  continuedOnLine,
  credentialSpans,
  maskToolMessage,
  merge,
  tokenSpans,
  type Span,
} from './sensitive.js'
import type { Diagnostic, Range } from './diagnostic-data.js'

export type { Diagnostic, Range } from './diagnostic-data.js'

/**
 * Formats a diagnostic for people: `path:line:col: CODE message`, the source line, and a caret
 * under the range. `index` may be shared between calls on one text. The source line is shown
 * with values that look like credentials as `(sensitive)` (a syntax error on a password's line
 * must not print the password) and control characters made visible. `hide` names more to show
 * as `(sensitive)`: spans of the source (a secret an earlier step wrote), and values (old
 * passwords) as whole words of the line and of the message (the path is never masked), and the
 * values of keys named in `keys` (the keys the spec sets from a secret: their old values).
 */
export function formatDiagnostic(
  path: string,
  source: string | LineIndex,
  d: Diagnostic,
  hide?: { spans?: readonly Range[]; values?: readonly string[]; keys?: readonly string[] },
): string {
  const index = typeof source === 'string' ? new LineIndex(source) : source
  const { line, col } = index.position(d.range.start)
  const lineText = index.lineText(line)
  const lineStart = index.lineStart(line)
  const endOnLine = Math.min(d.range.end, lineStart + lineText.length)
  const values = hide?.values ?? []
  const spans = (hide?.spans ?? [])
    .map((s) => ({
      start: Math.max(0, s.start - lineStart),
      end: Math.min(lineText.length, s.end - lineStart),
    }))
    .filter((s) => s.end > s.start)
  const { text, at } = shownLine(
    lineText,
    merge([
      ...credentialSpans(lineText, path, hide?.keys),
      ...continuedOnLine(index.text, lineStart, lineStart + lineText.length, path),
      ...spans,
      ...tokenSpans(lineText, values),
    ]),
  )
  // the message may quote a hidden span's text (`got "VALUE"`): those texts are words it never shows
  const quoted = (hide?.spans ?? []).map((s) => index.text.slice(s.start, s.end))
  const message =
    values.length || quoted.length
      ? maskToolMessage(d.message, {
          values: [...values, ...quoted],
          lines: new Map(),
          keep: [path],
        })
      : d.message
  const from = at[col - 1]!
  const width = Math.max(1, at[col - 1 + Math.max(0, endOnLine - d.range.start)]! - from)
  const pad = text.slice(0, from).replace(/[^\t]/g, ' ')
  const sev = d.severity === 'warning' ? 'warning ' : ''
  return `${path}:${line}:${col}: ${sev}${d.code} ${message}\n  ${text}\n  ${pad}${'^'.repeat(width)}`
}

/** A line as shown, spans masked and controls made visible; `at[i]` is where its column `i` is shown. */
function shownLine(line: string, hide: readonly Span[]): { text: string; at: number[] } {
  const at: number[] = []
  let text = ''
  let k = 0
  for (let i = 0; i < line.length;) {
    const span = hide[k]
    if (span && i >= span.start) {
      for (; i < span.end; i++) at.push(text.length)
      text += SENSITIVE
      k++
      continue
    }
    at.push(text.length)
    text += showControls(line[i]!)
    i++
  }
  at.push(text.length)
  return { text, at }
}
