import { sortEdits, type Edit } from '@cutover/rewrite'
import { addressInPlaceOf } from './address.js'
import type { LineModel, NameModel } from './model.js'
import { endBefore, lastLine, lineFrom, lineStartAt, lineWhere } from './locate.js'
import type { HostsDocument, HostsLine } from './parse.js'

/** A line to append: an address and its names. */
export interface AppendRow {
  address: string
  names: string[]
  summary: string
}

/**
 * The edits of one modelled line given its final address: the whole line deleted when no name
 * is left, else the address replaced, removed names cut with the blanks before them (after them
 * for the canonical name), and renamed names replaced. Untouched bytes stay as they are.
 */
export function lineEdits(doc: HostsDocument, m: LineModel, address: string): Edit[] {
  const names = m.names
  if (names.every((n) => n.removed)) return [deleteLine(doc, m)]
  const edits: Edit[] = []
  if (address !== m.original) {
    const byRule = m.readdressed && address === m.address ? m.readdressed.rule : 'hosts.ensure'
    const moving = names.filter((n) => !n.removed && n.dest !== undefined).map((n) => n.text)
    const text = addressInPlaceOf(m.original, address)
    const once = m.readdressed && address === m.address ? m.readdressed.once : undefined
    edits.push({
      ...m.line.address!,
      text,
      rule: byRule,
      summary: `${moving.join(' ') || m.original}: ${m.original} -> ${text}`,
      ...(once ? { once } : {}),
    })
  }
  let i = 0
  while (i < names.length) {
    const n = names[i]!
    if (!n.removed) {
      if (n.renamed)
        edits.push({
          ...n.span,
          text: n.renamed.text,
          rule: n.renamed.rule,
          summary: `${doc.text.slice(n.span.start, n.span.end)} -> ${n.renamed.text}`,
          ...(n.renamed.once ? { once: n.renamed.once } : {}),
        })
      i++
      continue
    }
    let j = i
    while (j + 1 < names.length && names[j + 1]!.removed) j++
    const run = names.slice(i, j + 1)
    const start = i > 0 ? names[i - 1]!.span.end : n.span.start
    const end = i > 0 ? names[j]!.span.end : names[j + 1]!.span.start
    edits.push({ start, end, text: '', rule: n.removed, summary: removalSummary(run, m) })
    i = j + 1
  }
  return edits
}

function removalSummary(run: readonly NameModel[], m: LineModel): string {
  const what = run.map((n) => n.text).join(' ')
  const moving = run.filter((n) => n.dest !== undefined)
  if (moving.length === run.length)
    return `${what}: split off ${m.original} (moved to ${moving[0]!.dest})`
  return `${what}: removed from ${m.original}`
}

function deleteLine(doc: HostsDocument, m: LineModel): Edit {
  const { line } = m
  const rule = m.names[0]!.removed!
  const summary = `${m.names.map((n) => n.text).join(' ')}: line of ${m.original} removed`
  // the last line without a line break takes the break before it, so the file still ends without one
  if (line.next === line.end && line.start > 0)
    return { start: endBefore(doc.text, line.start), end: line.end, text: '', rule, summary }
  return { start: line.start, end: line.next, text: '', rule, summary }
}

/** Merges overlapping deletions (adjacent deleted lines at the end of a file) into one edit, in place. */
export function mergeDeletions(edits: Edit[]): void {
  const sorted = sortEdits(edits)
  const out: Edit[] = []
  for (const e of sorted) {
    const prev = out[out.length - 1]
    if (prev && prev.text === '' && e.text === '' && e.start < prev.end) {
      out[out.length - 1] = { ...prev, end: Math.max(prev.end, e.end) }
      continue
    }
    out.push(e)
  }
  edits.splice(0, edits.length, ...out)
}

/** The blank after the first address of the file (a tab unless the file uses a space). */
function separator(doc: HostsDocument): string {
  const first = lineWhere(doc.text, 0, (l) => l.address !== undefined)
  return first && doc.text[first.address!.end] === ' ' ? ' ' : '\t'
}

/** The last comment line whose text, trimmed, is `marker`. */
function markerLine(text: string, marker: string): HostsLine | undefined {
  if (marker === '' || marker.trim() !== marker) return undefined
  // forward searches (lastIndexOf is a slow loop in V8), then the lines found from the last
  const at: number[] = []
  for (let p = text.indexOf(marker); p !== -1; p = text.indexOf(marker, p + 1)) at.push(p)
  let seen = Infinity
  for (let k = at.length - 1; k >= 0; k--) {
    if (at[k]! >= seen) continue
    const line = lineFrom(text, lineStartAt(text, at[k]!))
    if (line.kind === 'comment' && text.slice(line.start, line.end).trim() === marker) return line
    seen = line.start
  }
  return undefined
}

/**
 * One insertion appending `rows`: after the last entry of the block opened by `marker` when the
 * file has one, else at the end in a new block (a blank line, the marker, the rows). Uses the
 * file's line break, and leaves a file without a final line break without one.
 */
export function appendEdit(
  doc: HostsDocument,
  rows: readonly AppendRow[],
  marker: string,
): Edit | undefined {
  if (rows.length === 0) return undefined
  const sep = separator(doc)
  const eol = doc.eol
  const body = rows.map((r) => `${r.address}${sep}${r.names.join(' ')}`)
  const summary = rows.map((r) => r.summary).join('; ')
  const text = doc.text
  const n = text.length
  let last = markerLine(text, marker)
  if (last) {
    while (last.next < n) {
      const following = lineFrom(text, last.next)
      if (following.kind !== 'entry') break
      last = following
    }
    const { next, end } = last
    if (next > end)
      return {
        start: next,
        end: next,
        text: body.map((b) => b + eol).join(''),
        rule: 'hosts.ensure',
        summary,
      }
    return { start: end, end, text: eol + body.join(eol), rule: 'hosts.ensure', summary }
  }
  let prefix = n > 0 && !doc.finalNewline ? eol : ''
  if (n > 0 && lastLine(text).kind !== 'blank') prefix += eol
  const added = `${prefix}${marker}${eol}${body.join(eol)}${doc.finalNewline ? eol : ''}`
  return { start: n, end: n, text: added, rule: 'hosts.ensure', summary }
}
