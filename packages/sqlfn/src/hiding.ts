// Where a needle may be hidden from the raw bytes of a dump: the places the sql step reads the
// statements of although no needle is spelled there. Each is a loop over one character's
// occurrences (`indexOf`) instead of a regular expression tried at every offset of the text.

const isBlank = (c: number) => c === 32 || c === 9 || c === 12
const isBreak = (c: number) => c === 10 || c === 13

/** The offset of the line break that ends a `--` comment starting at `at`, or -1 when none does. */
function commentEnd(text: string, at: number): number {
  for (let i = at + 2; i < text.length; i++) if (isBreak(text.charCodeAt(i))) return i
  return -1
}

/**
 * Where a string may be continued: a quote, blanks, a line break, blanks and `--` comment lines,
 * a quote (PostgreSQL joins such pieces into one literal). A superset: the lexer decides. The
 * offsets of every quote where
 * `/'[ \t\f]*(?:--[^\n\r]*)?[\n\r](?:[ \t\n\r\f\v]|--[^\n\r]*[\n\r])*'/` matches, ascending.
 */
export function continuedAt(text: string): number[] {
  const out: number[] = []
  for (let q = text.indexOf("'"); q !== -1; q = text.indexOf("'", q + 1)) {
    let i = q + 1
    while (isBlank(text.charCodeAt(i))) i++
    if (text.charCodeAt(i) === 45 && text.charCodeAt(i + 1) === 45) {
      i = commentEnd(text, i)
      if (i === -1) continue
    }
    if (!isBreak(text.charCodeAt(i))) continue
    i++
    for (;;) {
      const c = text.charCodeAt(i)
      if (isBlank(c) || isBreak(c) || c === 11) i++
      else if (c === 45 && text.charCodeAt(i + 1) === 45) {
        const e = commentEnd(text, i)
        if (e === -1) break
        i = e + 1
      } else break
    }
    if (text.charCodeAt(i) === 39) out.push(q)
  }
  return out
}

/**
 * A backslash escape that may spell a needle's character in an `E'…'` string or a COPY field
 * (`\x31`, `\061`, `\.`), not COPY's end marker or NULL (`\.` or `\N` alone): the statements
 * holding one are read too. The offsets of every backslash where
 * `/\\(?![.N](?:[\t\r\n]|$))[^\r\n]/` matches, ascending.
 */
export function escapedAt(text: string): number[] {
  const out: number[] = []
  for (let at = text.indexOf('\\'); at !== -1; at = text.indexOf('\\', at + 1)) {
    const c = text.charCodeAt(at + 1)
    if (Number.isNaN(c) || isBreak(c)) continue
    if (c === 46 || c === 78) {
      const d = text.charCodeAt(at + 2)
      if (Number.isNaN(d) || d === 9 || isBreak(d)) continue
    }
    out.push(at)
  }
  return out
}
