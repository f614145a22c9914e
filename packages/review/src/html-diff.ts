// The diffs of a review as the HTML page renders them: read into hunks (by their headers' line
// counts, so a removed `-- comment` line is never taken for a file header), cut to the page's
// limits, and handed to diff2html as its own structure (never as text for it to parse again).
import { showControls } from '@cutover/rewrite'
import type { DiffFile, DiffLine } from 'diff2html/lib/types.js'

/** One line of a hunk: its sign (` `, `-`, `+`, or `\` for "No newline at end of file") and text. */
interface HunkLine {
  sign: ' ' | '-' | '+' | '\\'
  text: string
}

interface Hunk {
  oldStart: number
  newStart: number
  lines: HunkLine[]
}

/** A diff read for the page: its hunks, or, for a diff without any, its lines as they are. */
export interface PageDiff {
  hunks: Hunk[]
  /** The lines of a diff that has no hunk (a whole file shown as its size and hash). */
  plain: string[]
  /** Lines and bytes (each line with its sign and line break) of the diff, hunk headers aside. */
  lines: number
  bytes: number
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/

/**
 * Reads a diff of the review: the `---`/`+++` header is left out (the page names the file). Only
 * a diff with that header whose every line after it belongs to a hunk is read as hunks; any other
 * text (a database row's statement, a whole file's size and hash) is shown line for line as it
 * is, so that no line of it, whatever it holds, is taken for a hunk and none is left out.
 */
export function readDiff(diff: string): PageDiff {
  const all = diff.endsWith('\n') ? diff.slice(0, -1).split('\n') : diff.split('\n')
  const header = all[0]?.startsWith('--- ') === true && all[1]?.startsWith('+++ ') === true
  const body = header ? all.slice(2) : all
  const hunks = (header && readHunks(body)) || []
  const plain = hunks.length === 0 ? body : []
  const lines = hunks.reduce((n, h) => n + h.lines.length, 0) + plain.length
  const bytes =
    hunks.reduce((n, h) => n + h.lines.reduce((m, l) => m + size(lineText(l)), 0), 0) +
    plain.reduce((n, l) => n + size(l), 0)
  return { hunks, plain, lines, bytes }
}

/** The hunks of a diff's body, each read by its header's line counts; undefined when a line is in none. */
function readHunks(body: string[]): Hunk[] | undefined {
  const hunks: Hunk[] = []
  let i = 0
  while (i < body.length) {
    const m = HUNK.exec(body[i]!)
    if (!m) return undefined
    let oldLeft = m[2] === undefined ? 1 : Number(m[2])
    let newLeft = m[4] === undefined ? 1 : Number(m[4])
    const hunk: Hunk = { oldStart: Number(m[1]), newStart: Number(m[3]), lines: [] }
    hunks.push(hunk)
    i++
    while (i < body.length && (oldLeft > 0 || newLeft > 0 || body[i]!.startsWith('\\'))) {
      const line = body[i]!
      const sign = line[0]
      if (sign === '\\') hunk.lines.push({ sign, text: line })
      else if (sign === '-' && oldLeft > 0) {
        hunk.lines.push({ sign, text: line.slice(1) })
        oldLeft--
      } else if (sign === '+' && newLeft > 0) {
        hunk.lines.push({ sign, text: line.slice(1) })
        newLeft--
      } else if (sign === ' ' && oldLeft > 0 && newLeft > 0) {
        hunk.lines.push({ sign, text: line.slice(1) })
        oldLeft--
        newLeft--
      } else return undefined
      i++
    }
    // a hunk shorter than its header says
    if (oldLeft > 0 || newLeft > 0) return undefined
  }
  return hunks
}

/** A hunk's line as the diff has it. */
function lineText(l: HunkLine): string {
  return l.sign === '\\' ? l.text : l.sign + l.text
}

/** The bytes a line takes in the diff, its line break included. */
function size(line: string): number {
  return Buffer.byteLength(line) + 1
}

/** What a diff keeps under a limit of lines and bytes, and what it leaves out. */
export interface CutDiff extends PageDiff {
  /** Lines and bytes left out (0 when the diff is whole). */
  cutLines: number
  cutBytes: number
}

/**
 * The diff's first lines within `maxLines` and `maxBytes` (whole lines, in order; a hunk cut in
 * two keeps its start, so its line numbers stay right).
 */
export function cutDiff(d: PageDiff, maxLines: number, maxBytes: number): CutDiff {
  if (d.lines <= maxLines && d.bytes <= maxBytes) return { ...d, cutLines: 0, cutBytes: 0 }
  let lines = 0
  let bytes = 0
  const fits = (line: string) => {
    const b = size(line)
    if (lines + 1 > maxLines || bytes + b > maxBytes) return false
    lines++
    bytes += b
    return true
  }
  const plain: string[] = []
  for (const l of d.plain) {
    if (!fits(l)) break
    plain.push(l)
  }
  const hunks: Hunk[] = []
  outer: for (const h of d.hunks) {
    const kept: Hunk = { ...h, lines: [] }
    for (const l of h.lines) {
      if (!fits(lineText(l))) {
        if (kept.lines.length > 0) hunks.push(kept)
        break outer
      }
      kept.lines.push(l)
    }
    hunks.push(kept)
  }
  return {
    hunks,
    plain,
    lines,
    bytes,
    cutLines: d.lines - lines,
    cutBytes: d.bytes - bytes,
  }
}

/** The diff as diff2html's structure of one file (its name is the page's business, not its). */
export function diffFile(d: PageDiff): DiffFile {
  let added = 0
  let deleted = 0
  const blocks = d.hunks.map((h) => {
    let oldN = h.oldStart
    let newN = h.newStart
    const lines = h.lines.map((l, i): DiffLine => {
      // shown as the terminal shows it (a review's diff already is)
      const content = showControls(lineText(l))
      if (l.sign === '-') {
        deleted++
        return { type: 'delete', oldNumber: oldN++, newNumber: undefined, content } as DiffLine
      }
      if (l.sign === '+') {
        added++
        return { type: 'insert', oldNumber: undefined, newNumber: newN++, content } as DiffLine
      }
      if (l.sign === '\\') {
        // the marker belongs to the line before it: on that line's side only (side by side, a
        // removed line's marker is on the left, an added line's on the right), without a number
        // (diff2html leaves out a removed or added line whose number is undefined, and writes an
        // empty string as an empty number cell)
        const before = h.lines[i - 1]?.sign
        const type = before === '-' ? 'delete' : before === '+' ? 'insert' : 'context'
        const none = type === 'context' ? undefined : ''
        return { type, oldNumber: none, newNumber: none, content } as unknown as DiffLine
      }
      return { type: 'context', oldNumber: oldN++, newNumber: newN++, content } as DiffLine
    })
    const count = (sign: string) => h.lines.filter((l) => l.sign === sign || l.sign === ' ').length
    return {
      oldStartLine: h.oldStart,
      newStartLine: h.newStart,
      header: `@@ -${h.oldStart},${count('-')} +${h.newStart},${count('+')} @@`,
      lines,
    }
  })
  return {
    oldName: 'a',
    newName: 'b',
    addedLines: added,
    deletedLines: deleted,
    isCombined: false,
    isGitDiff: false,
    language: '',
    blocks,
  }
}
