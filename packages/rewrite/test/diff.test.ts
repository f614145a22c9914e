import { structuredPatch } from 'diff'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { quotePath, showControls, unifiedDiff } from '../src/index.js'
import { diffStat } from '../src/diff/diff.js'
import { checkEdits, spliceEdits, type Edit } from '../src/edit/edit.js'
import { EditedText } from '../src/text/big-text.js'

describe('unifiedDiff', () => {
  it('prints a/ b/ headers relative to the root and 3 lines of context', () => {
    const before = 'l1\nl2\nl3\nl4\nhost=10.0.10.48\nl6\n'
    const after = 'l1\nl2\nl3\nl4\nhost=finance\nl6\n'
    expect(unifiedDiff('etc/app.conf', before, after)).toBe(
      [
        '--- a/etc/app.conf',
        '+++ b/etc/app.conf',
        '@@ -2,5 +2,5 @@',
        ' l2',
        ' l3',
        ' l4',
        '-host=10.0.10.48',
        '+host=finance',
        ' l6',
        '',
      ].join('\n'),
    )
  })
  it('marks a missing final newline and hides CR', () => {
    const d = unifiedDiff('f', 'a\r\nb', 'a\r\nc')
    expect(d).toContain('-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file')
    expect(d).not.toContain('\r')
  })
  it('masks sensitive spans by position, the rest of their lines shown', () => {
    const before = 'a\npw=old # old\n'
    const after = 'a\npw=new # old\n'
    const d = unifiedDiff('old/f', before, after, {
      before: [{ start: 5, end: 8 }],
      after: [{ start: 5, end: 8 }],
    })
    expect(d).toContain('--- a/old/f\n+++ b/old/f\n')
    expect(d).toContain('-pw=(sensitive) # old\n+pw=(sensitive) # old\n')
    expect(d).not.toContain('new')
  })
  it('masks a span across lines on each line it covers, and columns a line function names', () => {
    const d = unifiedDiff('f', 'x\nk=a\nb\nc\n', 'x\nk=z\nb\nc\ntoken=t0k\n', {
      before: [{ start: 4, end: 7 }],
      line: (body) => (body.startsWith('token=') ? [{ start: 6, end: body.length }] : []),
    })
    expect(d).toContain('-k=(sensitive)\n+k=z\n (sensitive)\n c\n+token=(sensitive)\n')
  })
  it('is empty for equal texts and counts lines', () => {
    expect(unifiedDiff('f', 'x', 'x')).toBe('')
    expect(diffStat(unifiedDiff('f', '-- a\nb\n', '-- c\nb\nd\n'))).toEqual({
      added: 2,
      removed: 1,
    })
  })
})

describe('unifiedDiff of a large text (computed window by window)', () => {
  // the same format, from one diff of the whole texts: windows must not show
  const whole = (before: string, after: string): string => {
    const range = (start: number, n: number) =>
      n === 0 ? `${Math.max(0, start - 1)},0` : n === 1 ? `${start}` : `${start},${n}`
    const out = ['--- a/f', '+++ b/f']
    for (const h of structuredPatch('a', 'b', before, after, '', '', { context: 3 }).hunks) {
      out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`)
      for (const l of h.lines) out.push(l.startsWith('\\') ? l : l.replace(/\r$/, ''))
    }
    return out.join('\n') + '\n'
  }
  const edit = fc.record({
    at: fc.nat({ max: 6999 }),
    kind: fc.constantFrom('change', 'insert', 'delete', 'append', 'truncate'),
    n: fc.integer({ min: 1, max: 30 }),
  })

  it('is the diff of the whole texts when its lines fill blocks of a thousand exactly', () => {
    // one hunk of 1,200 lines, then hunks that end a block of lines right at the end of the diff
    for (const [n, every] of [
      [600, 1],
      [2000, 10],
      [7000, 7],
    ] as const) {
      const lines = Array.from({ length: n }, (_, k) => `line ${k}`)
      const before = lines.join('\n') + '\n'
      const after = lines.map((l, k) => (k % every === 0 ? `${l} changed` : l)).join('\n') + '\n'
      const d = unifiedDiff('f', before, after)
      expect(d).toBe(whole(before, after))
      expect(d.endsWith('\n\n')).toBe(false)
    }
  })

  it('equals the diff of the whole texts, whatever the changes and where they are', () => {
    fc.assert(
      fc.property(
        fc.array(edit, { maxLength: 12 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        (edits, eol, finalEol) => {
          const lines = Array.from(
            { length: 7000 },
            (_, k) => `10.0.${k >> 8}.${k & 255}\thost-${k}.corp.example.net host-${k}`,
          )
          const before = lines.join(eol) + (finalEol ? eol : '')
          const after = [...lines]
          for (const e of edits) {
            const at = Math.min(e.at, after.length)
            if (e.kind === 'change') after[at] = `${after[at] ?? ''} changed`
            else if (e.kind === 'insert')
              after.splice(at, 0, ...Array.from({ length: e.n }, (_, k) => `new ${e.at} ${k}`))
            else if (e.kind === 'delete') after.splice(at, e.n)
            else if (e.kind === 'append')
              after.push(...Array.from({ length: e.n }, (_, k) => `appended ${k}`))
            else after.splice(after.length - e.n, e.n)
          }
          const next = after.join(eol) + (finalEol ? eol : '')
          expect(unifiedDiff('f', before, next)).toBe(before === next ? '' : whole(before, next))
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('a diff cannot be forged by what it shows', () => {
  const odd = fc.constantFrom(
    '\u001b[2K',
    '\u001b[1A',
    '\r',
    '\n',
    '\t',
    '\u0000',
    '\u007f',
    '\u009b31m',
    '\u202e',
    '\u2066',
    '--- a/x',
    '+++ b/x',
    '@@ -1 +1 @@',
    'host=10.0.10.48',
    'é',
    '"',
    '\\',
  )
  const text = fc.array(odd, { maxLength: 30 }).map((a) => a.join(''))
  it('holds no control character but newline and tab, and exactly one header pair per file', () => {
    fc.assert(
      fc.property(
        text,
        text,
        fc.array(
          fc.constantFrom('etc/a', '\u001b[2K', '\n', '\r', '\t', '"', '\\', ' x', '\u202e'),
          { minLength: 1, maxLength: 5 },
        ),
        (before, after, name) => {
          const d = unifiedDiff(name.join(''), before, after)
          expect(d).not.toMatch(
            /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/,
          )
          if (before === after) return
          const lines = d.split('\n')
          expect(lines[0]!.startsWith('--- ')).toBe(true)
          expect(lines[1]!.startsWith('+++ ')).toBe(true)
          // every other line is a hunk header or starts with a diff sign
          for (const l of lines.slice(2, -1)) expect(l).toMatch(/^(@@ |[-+ \\])/)
        },
      ),
      { numRuns: 300 },
    )
  })
  it('quotes a name like git: "\\033", "\\n", "\\"" and "\\\\" escaped, plain names as they are', () => {
    expect(quotePath('etc/app.conf')).toBe('etc/app.conf')
    expect(quotePath('é/x y')).toBe('é/x y')
    expect(quotePath('a\nb\u001b"c\\')).toBe('"a\\nb\\033\\"c\\\\"')
    expect(showControls('a\u001b[1mb\tc\u007f\u009b\u202e')).toBe('a^[[1mb\tc^?M-^[<U+202E>')
  })
})

describe('unifiedDiff of a text and its edits (the new text not made)', () => {
  const edit = fc.record({
    line: fc.nat({ max: 6999 }),
    col: fc.nat({ max: 40 }),
    length: fc.nat({ max: 120 }),
    text: fc.constantFrom('', 'x', 'finance.example.net', '\n', 'new line\n', '\nhost-1 corp\n'),
  })

  it('equals the diff of the text and the edited text made, whatever the edits', () => {
    fc.assert(
      fc.property(
        fc.array(edit, { maxLength: 40 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.boolean(),
        (raw, eol, finalEol, small) => {
          const n = small ? 40 : 7000
          const lines = Array.from(
            { length: n },
            (_, k) => `10.0.${k >> 8}.${k & 255}\thost-${k}.corp.example.net host-${k % 50}`,
          )
          const before = lines.join(eol) + (finalEol ? eol : '')
          const starts = [0]
          for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1))
            starts.push(i + 1)
          const edits: Edit[] = []
          for (const e of raw) {
            const start = Math.min(before.length, starts[e.line % starts.length]! + e.col)
            edits.push({
              start,
              end: Math.min(before.length, start + e.length),
              text: e.text,
              rule: 'r',
            })
          }
          let sorted: Edit[] = []
          try {
            sorted = checkEdits(before, edits)
          } catch {
            sorted = checkEdits(before, edits.slice(0, 1))
          }
          const made = spliceEdits(before, sorted)
          const mask = { after: sorted.length ? [{ start: 0, end: 1 }] : [], line: () => [] }
          expect(unifiedDiff('f', before, new EditedText(before, sorted), mask)).toBe(
            unifiedDiff('f', before, made, mask),
          )
        },
      ),
      { numRuns: 60 },
    )
  })
})
