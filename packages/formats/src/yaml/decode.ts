import { type DecodedLiteral, type LiteralRegion, ValueBuilder } from '@cutover/rewrite'

/** How a YAML scalar is written: its `yaml` node type, in the words of the YAML spec. */
export type YamlStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded'

/**
 * Builds a decoded value from source runs, escapes and the text YAML makes of line breaks and
 * indentation: value text that is not a source run waits in `pending` and is mapped, as one
 * escape, to the source between the last run and the next one.
 */
class Decoder {
  readonly #b: ValueBuilder
  #pending = ''
  #from: number
  constructor(
    readonly text: string,
    region: LiteralRegion,
  ) {
    this.#b = new ValueBuilder(text, region)
    this.#from = region.start
  }
  /** Value text made by syntax (a fold, chomping), placed before the next run. */
  add(v: string): void {
    this.#pending += v
  }
  #flush(to: number): void {
    if (this.#pending) this.#b.escape(this.#pending, this.#from, to)
    else if (to > this.#from) this.#b.skip()
    this.#pending = ''
  }
  /** The source `[start, end)` as it is. */
  raw(start: number, end: number): void {
    if (end <= start) return
    this.#flush(start)
    this.#b.raw(start, end)
    this.#from = end
  }
  /** An escape sequence at `[start, end)` whose value is `v` (empty for an escaped line break). */
  escape(v: string, start: number, end: number): void {
    this.#flush(start)
    if (v) this.#b.escape(v, start, end)
    else this.#b.skip()
    this.#from = end
  }
  done(end: number): DecodedLiteral {
    this.#flush(end)
    return this.#b.done()
  }
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t'

/** One line of `[start, end)`: its text ends before `\r\n` or `\n`; `next` is where the next line starts. */
interface Line {
  start: number
  end: number
  next: number
}

function lines(text: string, start: number, end: number): Line[] {
  const out: Line[] = []
  let at = start
  for (;;) {
    const nl = text.indexOf('\n', at)
    if (nl === -1 || nl >= end) {
      out.push({ start: at, end, next: end })
      return out
    }
    out.push({ start: at, end: nl > at && text[nl - 1] === '\r' ? nl - 1 : nl, next: nl + 1 })
    at = nl + 1
  }
}

/**
 * The value of a plain or single-quoted scalar's content `region` (inside the quotes): lines
 * folded as YAML folds them (a line break between text is a space, n empty lines are n line
 * feeds, blanks around a break are dropped), `''` read as `'` in a single-quoted scalar.
 */
export function decodeFolded(text: string, region: LiteralRegion, single: boolean): DecodedLiteral {
  const d = new Decoder(text, region)
  const run = (s: number, e: number) => {
    if (!single) return d.raw(s, e)
    let at = s
    for (let q = text.indexOf("''", at); q !== -1 && q + 1 < e; q = text.indexOf("''", at)) {
      d.raw(at, q)
      d.escape("'", q, q + 2)
      at = q + 2
    }
    d.raw(at, e)
  }
  const ls = lines(text, region.start, region.end)
  if (ls.length === 1) {
    run(region.start, region.end)
    return d.done(region.end)
  }
  let end = ls[0]!.end
  while (end > ls[0]!.start && isBlank(text[end - 1])) end--
  run(ls[0]!.start, end)
  let sep = ' '
  for (let i = 1; i < ls.length; i++) {
    const l = ls[i]!
    let s = l.start
    while (s < l.end && isBlank(text[s])) s++
    let e = l.end
    if (i < ls.length - 1) while (e > s && isBlank(text[e - 1])) e--
    if (i < ls.length - 1 && s === e) {
      if (sep === '\n') d.add('\n')
      else sep = '\n'
      continue
    }
    d.add(sep)
    sep = ' '
    run(s, e)
  }
  return d.done(region.end)
}

const DOUBLE_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  '\t': '\t',
}

/**
 * The value of a double-quoted scalar's content `region` (inside the quotes): escapes decoded,
 * escaped line breaks removed with the blanks after them, other line breaks folded.
 */
export function decodeDouble(text: string, region: LiteralRegion): DecodedLiteral {
  const d = new Decoder(text, region)
  const { start, end } = region
  let run = start
  for (let i = start; i < end; i++) {
    const ch = text[i]!
    if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
      // a line break and the blanks and empty lines after it: one space, or a line feed per empty line
      let j = ch === '\r' ? i + 2 : i + 1
      let fold = ''
      for (;;) {
        const c = text[j]
        const crlf = j + 1 < end && c === '\r' && text[j + 1] === '\n'
        if (j < end && isBlank(c)) j++
        else if ((j < end && c === '\n') || crlf) {
          fold += '\n'
          j += crlf ? 2 : 1
        } else break
      }
      d.raw(run, i)
      d.escape(fold || ' ', i, j)
      run = j
      i = j - 1
    } else if (ch === '\\') {
      const next = text[i + 1] ?? ''
      let n = 2
      let v: string | undefined = DOUBLE_ESCAPES[next]
      if (v === undefined && (next === '\n' || (next === '\r' && text[i + 2] === '\n'))) {
        // an escaped line break joins the lines; the next line's leading blanks go too
        n = next === '\r' ? 3 : 2
        while (i + n < end && isBlank(text[i + n])) n++
        v = ''
      } else if (v === undefined && (next === 'x' || next === 'u' || next === 'U')) {
        const len = next === 'x' ? 2 : next === 'u' ? 4 : 8
        const hex = text.slice(i + 2, i + 2 + len)
        if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) continue
        const code = Number.parseInt(hex, 16)
        if (code > 0x10ffff) continue
        v = String.fromCodePoint(code)
        n = 2 + len
      }
      if (v === undefined) continue
      d.raw(run, i)
      d.escape(v, i, i + n)
      run = i + n
      i += n - 1
    } else if (isBlank(ch)) {
      // blanks before a line break are dropped
      let j = i
      while (j < end && isBlank(text[j])) j++
      if (j < end && (text[j] === '\n' || (text[j] === '\r' && text[j + 1] === '\n'))) {
        d.raw(run, i)
        d.escape('', i, j)
        run = j
      }
      i = j - 1
    }
  }
  d.raw(run, end)
  return d.done(end)
}

/** A block scalar's header, as `yaml` reads it. */
export interface YamlBlockHeader {
  mode: '|' | '>'
  /** The explicit indentation indicator, 0 when none. */
  indent: number
  chomp: '' | '-' | '+'
}

/** Reads a block scalar header (`|`, `>-`, `|2+`). */
export function blockHeader(source: string): YamlBlockHeader {
  let indent = 0
  let chomp: YamlBlockHeader['chomp'] = ''
  for (const ch of source.slice(1)) {
    if (!chomp && (ch === '-' || ch === '+')) chomp = ch
    else if (!indent && Number(ch)) indent = Number(ch)
  }
  return { mode: source[0] === '>' ? '>' : '|', indent, chomp }
}

/**
 * The value of a block scalar whose lines are `region` (after the header line): `base` is the
 * indentation of its parent (`yaml`'s token indent). Indentation, folding (`>`) and chomping as
 * YAML reads them; the line of each character of the value is kept.
 */
export function decodeBlock(
  text: string,
  region: LiteralRegion,
  header: YamlBlockHeader,
  base: number,
): DecodedLiteral {
  const d = new Decoder(text, region)
  // each line: where it starts, its indentation (spaces) and its content (a CR kept, as yaml splits)
  const ls = lines(text, region.start, region.end).map((l) => {
    let c = l.start
    while (text[c] === ' ' && c < l.end) c++
    return { start: l.start, indent: c - l.start, content: c, end: l.end, empty: c === l.end }
  })
  let chompStart = ls.length
  for (let i = ls.length - 1; i >= 0 && ls[i]!.empty; i--) chompStart = i
  if (chompStart === 0) {
    if (header.chomp === '+' && ls.length > 0) d.add('\n'.repeat(Math.max(1, ls.length - 1)))
    return d.done(region.end)
  }
  let trim = base + header.indent
  let contentStart = 0
  for (let i = 0; i < chompStart; i++) {
    const l = ls[i]!
    if (l.empty) {
      if (header.indent === 0 && l.indent > trim) trim = l.indent
    } else {
      if (header.indent === 0) trim = l.indent
      contentStart = i
      break
    }
  }
  for (let i = ls.length - 1; i >= chompStart; i--) if (ls[i]!.indent > trim) chompStart = i + 1
  for (let i = 0; i < contentStart; i++) d.add(' '.repeat(Math.max(0, ls[i]!.indent - trim)) + '\n')
  let sep = ''
  let prevMore = false
  for (let i = contentStart; i < chompStart; i++) {
    const l = ls[i]!
    const from = l.start + Math.min(l.indent, trim)
    if (header.mode === '|') {
      d.add(sep)
      d.raw(from, l.end)
      sep = '\n'
    } else if (l.indent > trim || text[l.content] === '\t') {
      if (sep === ' ') sep = '\n'
      else if (!prevMore && sep === '\n') sep = '\n\n'
      d.add(sep)
      d.raw(from, l.end)
      sep = '\n'
      prevMore = true
    } else if (l.empty) {
      if (sep === '\n') d.add('\n')
      else sep = '\n'
    } else {
      d.add(sep)
      d.raw(from, l.end)
      sep = ' '
      prevMore = false
    }
  }
  if (header.chomp === '+') {
    let tail = ''
    for (let i = chompStart; i < ls.length; i++)
      tail += '\n' + ' '.repeat(Math.max(0, ls[i]!.indent - trim))
    d.add(tail.endsWith('\n') ? tail : `${tail}\n`)
  } else if (header.chomp === '') d.add('\n')
  return d.done(region.end)
}
