/** Half-open span of offsets into the decoded text. */
export interface IniSpan {
  start: number
  end: number
}

/** One `key = value` line: the section it is in, its key, and the span of its value's content. */
export interface IniEntry {
  section: string
  key: string
  keySpan: IniSpan
  /** The value's content: inside the quotes when quoted; without inline comment and trailing blanks otherwise. */
  value: IniSpan
  /** The quote around the value, if any. */
  quote: '"' | "'" | undefined
  /** 1-based line number. */
  line: number
}

/** An INI-like file (php.ini, my.cnf, odbc.ini, pg_service.conf, Matomo's global.ini.php, `.env`) as located spans. */
export interface IniDocument {
  /** Every line with its terminator; concatenated they are the text. */
  lines: Array<{
    start: number
    end: number
    kind: 'blank' | 'comment' | 'section' | 'entry' | 'other'
  }>
  entries: IniEntry[]
  sections: Array<{ name: string; span: IniSpan }>
  comments: IniSpan[]
}

/**
 * Parses INI-style text line by line; never throws and never re-serializes. Comments are lines
 * starting with `;` or `#`, and `;`/`#` after a blank in an unquoted value; keys may be bare
 * (`skip-name-resolve`); `[section]` headers may carry a trailing comment; in a `.env` line
 * `export NAME=value` the key is `NAME`.
 */
export function parseIni(text: string): IniDocument {
  const doc: IniDocument = { lines: [], entries: [], sections: [], comments: [] }
  let section = ''
  let at = 0
  let line = 0
  while (at < text.length) {
    line++
    const nl = text.indexOf('\n', at)
    const end = nl === -1 ? text.length : nl + 1
    let bodyEnd = nl === -1 ? text.length : nl
    if (bodyEnd > at && text[bodyEnd - 1] === '\r') bodyEnd--
    const kind = parseLine(text, at, bodyEnd, line, section, doc)
    if (kind === 'section') section = doc.sections[doc.sections.length - 1]!.name
    doc.lines.push({ start: at, end, kind })
    at = end
  }
  return doc
}

const isBlank = (c: string | undefined) => c === ' ' || c === '\t'
const EXPORT = /^export[ \t]+[A-Za-z_][A-Za-z0-9_]*$/

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end && isBlank(text[i])) i++
  return i
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && isBlank(text[end - 1])) end--
  return end
}

function parseLine(
  text: string,
  start: number,
  end: number,
  line: number,
  section: string,
  doc: IniDocument,
): IniDocument['lines'][number]['kind'] {
  const i = skipBlanks(text, start, end)
  if (i === end) return 'blank'
  const c = text[i]
  if (c === ';' || c === '#') {
    doc.comments.push({ start: i, end })
    return 'comment'
  }
  if (c === '[') {
    const close = text.indexOf(']', i)
    if (close === -1 || close >= end) return 'other'
    doc.sections.push({ name: text.slice(i + 1, close).trim(), span: { start: i + 1, end: close } })
    inlineComment(text, close + 1, end, doc)
    return 'section'
  }
  const eq = text.indexOf('=', i)
  if (eq === -1 || eq >= end) {
    // a bare key (my.cnf `skip-name-resolve`) or a directive (`!includedir …`)
    if (c === '!') return 'other'
    const keyEnd = inlineComment(text, i, end, doc)
    const k = trimEnd(text, i, keyEnd)
    doc.entries.push({
      section,
      key: text.slice(i, k),
      keySpan: { start: i, end: k },
      value: { start: k, end: k },
      quote: undefined,
      line,
    })
    return 'entry'
  }
  const keyEnd = trimEnd(text, i, eq)
  // a shell-style .env line `export NAME=value` assigns NAME
  const k = EXPORT.exec(text.slice(i, keyEnd)) ? skipBlanks(text, i + 'export'.length, keyEnd) : i
  const v = skipBlanks(text, eq + 1, end)
  const entry: IniEntry = {
    section,
    key: text.slice(k, keyEnd),
    keySpan: { start: k, end: keyEnd },
    value: { start: v, end: v },
    quote: undefined,
    line,
  }
  const q = text[v]
  if ((q === '"' || q === "'") && v < end) {
    const close = closingQuote(text, v + 1, end, q)
    if (close !== -1) {
      entry.quote = q
      entry.value = { start: v + 1, end: close }
      inlineComment(text, close + 1, end, doc)
      doc.entries.push(entry)
      return 'entry'
    }
  }
  entry.value = { start: v, end: trimEnd(text, v, inlineComment(text, v, end, doc)) }
  doc.entries.push(entry)
  return 'entry'
}

/** The offset of the quote closing a value, honouring `\"` inside double quotes; -1 when unclosed on the line. */
function closingQuote(text: string, i: number, end: number, q: string): number {
  for (; i < end; i++) {
    if (q === '"' && text[i] === '\\') i++
    else if (text[i] === q) return i
  }
  return -1
}

/** Records an inline comment (`;` or `#` at the start or after a blank) in `[i, end)`; returns where it starts (or `end`). */
function inlineComment(text: string, i: number, end: number, doc: IniDocument): number {
  for (let j = i; j < end; j++) {
    const c = text[j]
    if ((c === ';' || c === '#') && (j === i || isBlank(text[j - 1]))) {
      doc.comments.push({ start: j, end })
      return j
    }
  }
  return end
}
