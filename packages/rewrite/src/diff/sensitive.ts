import { createHash } from 'node:crypto'
import { sortEdits, spliceEdits, type Edit } from '../edit/edit.js'

// Where sensitive values are, by position: the spans that edits writing a secret produce, the
// spans of the old values they replace, and values that look like credentials on a shown line.
// Masking never searches a whole output for a value (that turns `var/www/moodle/` into
// `var/www/(sensitive)/` when the secret is `moodle`, and breaks JSON for a secret `e`).

/** A half-open span `[start, end)` of a text. */
export interface Span {
  start: number
  end: number
}

/** Where the sensitive values of a file are, and what they are (for hashing and for other files' output). */
export interface SensitiveSpans {
  /** Spans of the file's text (as planned from) holding a value a sensitive edit replaces. */
  before: Span[]
  /** Spans of the new text holding what a sensitive edit wrote. */
  after: Span[]
  /** The old values sensitive edits replace (an old password). */
  old: string[]
  /** The texts secret edits write (the secret encoded for its literal). */
  written: string[]
}

/** Whether an edit writes a secret or replaces a sensitive value. */
export function isSensitive(e: Edit): boolean {
  return e.secret !== undefined || e.sensitive === true
}

/** An edit reduced to what offset mapping needs: its span and the length of its new text. */
interface Shift {
  start: number
  end: number
  length: number
}

/**
 * The sensitive spans of a text edited in passes (each pass's offsets index the previous pass's
 * output): old spans are mapped back to the first text, new ones forward to the last. A span a
 * later edit cuts into grows to cover that edit's text: masking errs on the side of hiding.
 */
export function sensitiveSpans(text: string, passes: readonly (readonly Edit[])[]): SensitiveSpans {
  const out: SensitiveSpans = { before: [], after: [], old: [], written: [] }
  const last = passes.findLastIndex((p) => p.some(isSensitive))
  if (last === -1) return out
  const inverses: Shift[][] = []
  let current = text
  for (let i = 0; i < passes.length; i++) {
    const pass = sortEdits(passes[i]!)
    if (pass.length === 0) continue
    const shifts = pass.map((e) => ({ start: e.start, end: e.end, length: e.text.length }))
    out.after = out.after.map((s) => mapSpan(s, shifts))
    const inverse: Shift[] = []
    let delta = 0
    for (const e of pass) {
      const at = e.start + delta
      inverse.push({ start: at, end: at + e.text.length, length: e.end - e.start })
      if (isSensitive(e)) {
        if (e.end > e.start) {
          let span: Span = { start: e.start, end: e.end }
          for (let k = inverses.length - 1; k >= 0; k--) span = mapSpan(span, inverses[k]!)
          out.before.push(span)
          // a secret written again over itself replaces no old value
          const old = current.slice(e.start, e.end)
          if (!(e.secret && old === e.text)) out.old.push(old)
        }
        if (e.text.length > 0) out.after.push({ start: at, end: at + e.text.length })
        if (e.secret && e.text.length > 0) out.written.push(e.text)
      }
      delta += e.text.length - (e.end - e.start)
    }
    inverses.push(inverse)
    // only a later pass's sensitive edits read this pass's output
    if (i < last) current = spliceEdits(current, pass)
  }
  out.before = merge(out.before)
  out.after = merge(out.after)
  return out
}

/** Maps a span through sorted edits; a boundary inside an edited span moves to that edit's edge (outwards). */
function mapSpan(span: Span, shifts: readonly Shift[]): Span {
  return {
    start: mapPos(span.start, shifts, 'start'),
    end: Math.max(mapPos(span.start, shifts, 'start'), mapPos(span.end, shifts, 'end')),
  }
}

function mapPos(p: number, shifts: readonly Shift[], side: 'start' | 'end'): number {
  let delta = 0
  for (const e of shifts) {
    if (e.start === e.end) {
      // an insertion at a span's start stays outside it, and so does one at its end
      if (e.start < p || (e.start === p && side === 'start')) {
        delta += e.length
        continue
      }
      break
    }
    if (e.end <= p) {
      delta += e.length - (e.end - e.start)
      continue
    }
    if (e.start < p) return side === 'start' ? e.start + delta : e.start + delta + e.length
    break
  }
  return p + delta
}

/** Sorted, overlapping or touching spans joined. */
export function merge(spans: readonly Span[]): Span[] {
  const sorted = [...spans]
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start || a.end - b.end)
  const out: Span[] = []
  for (const s of sorted) {
    const prev = out[out.length - 1]
    if (prev && s.start <= prev.end) prev.end = Math.max(prev.end, s.end)
    else out.push({ ...s })
  }
  return out
}

/** Spans of `text` where a value of `values` occurs as a whole token (not inside a longer word). */
export function tokenSpans(text: string, values: readonly string[]): Span[] {
  const out: Span[] = []
  for (const v of values) {
    if (v.length === 0) continue
    for (let at = text.indexOf(v); at !== -1; at = text.indexOf(v, at + 1)) {
      if (isWord(text.charCodeAt(at - 1)) && isWord(v.charCodeAt(0))) continue
      if (isWord(text.charCodeAt(at + v.length)) && isWord(v.charCodeAt(v.length - 1))) continue
      out.push({ start: at, end: at + v.length })
    }
  }
  return merge(out)
}

function isWord(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127
  )
}

/** `text` with every span replaced by `mask`. */
export function maskSpans(text: string, spans: readonly Span[], mask: string): string {
  if (spans.length === 0) return text
  const parts: string[] = []
  let at = 0
  for (const s of merge(spans)) {
    parts.push(text.slice(at, s.start), mask)
    at = Math.max(at, s.end)
  }
  parts.push(text.slice(at))
  return parts.join('')
}

/**
 * The hash a plan records for a file holding sensitive values: `masked-sha256:` of a salt and the
 * text with the sensitive spans and every occurrence of the sensitive values replaced by a NUL
 * (a character no text file holds), and the file's encoding. Nothing of an old password is hashed, so no guess of it can
 * be confirmed against the plan; every other byte still is, so the stale check keeps working.
 */
export function maskedHash(
  text: string,
  spans: readonly Span[],
  values: readonly string[],
  salt: string,
  encoding: string,
): string {
  let masked = maskSpans(text, spans, '\u0000')
  for (const v of [...new Set(values)]
    .filter((v) => v.length > 0)
    .sort((a, b) => b.length - a.length))
    masked = masked.split(v).join('\u0000')
  return `masked-sha256:${createHash('sha256').update(`${salt}\u0000${encoding}\u0000`).update(masked, 'utf8').digest('hex')}`
}

const PGPASS = /(^|\/)\.?pgpass$/

/** Normalized key names (lower case, letters and digits) that name a credential. */
const CREDENTIAL_KEY = /(password|passwd|passphrase|pass|secret|token|apikey|secretkey)$/
// words that end like a credential but name something else: sudoers' NOPASSWD: tag, nsswitch's
// `passwd:` database, nginx's proxy_pass (an address a reviewer must see)
const NOT_CREDENTIAL =
  /(bypass|compass|surpass|trespass|nopasswd|nopass|nopassword|proxypass|^passwd)$/

function isCredentialKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '')
  return CREDENTIAL_KEY.test(k) && !NOT_CREDENTIAL.test(k)
}

// `key = value`, `key: value`, `'key' => value`, `"key": value`, `$CFG->dbpass = value`,
// `$db['default']['password'] = value` (a quoted key closed by `]`); a quoted
// value may be unterminated on the line (a syntax error's line must not show it either)
const ASSIGN =
  /(?<![\w$])(?:"([^"\n]*)"|'([^'\n]*)'|([A-Za-z_$][\w$]*(?:(?:->|\.|::)[\w$]+)*))(?:(?<=\[\s*["'][^"'\n]*["'])\s*\])?\s*(=>|=(?!=)|:(?!:))\s*/g
const DEFINE = /\bdefine\s*\(\s*(["'])([^"'\n]*)\1\s*,\s*/gi
const URL_PASSWORD = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/@:'"]*:([^\s/'"]*)@/g

/** The span of the value starting at `at` in `line`: inside its quotes, or the bare token (to the line's end when `rest`). */
function valueAt(line: string, at: number, rest: boolean): Span | undefined {
  const q = line[at]
  if (q === '"' || q === "'" || q === '`') {
    let i = at + 1
    // a doubled quote is one quote of the value (YAML's and SQL's 'it''s')
    while (i < line.length && (line[i] !== q || line[i + 1] === q))
      i += line[i] === '\\' || line[i] === q ? 2 : 1
    return { start: at + 1, end: Math.min(i, line.length) }
  }
  if (q === '$' || q === ';' || q === '#' || q === undefined) return undefined
  // a call computes the value (SQL's crypt(…), PHP's getenv(…)): it holds no credential
  if (/^[\w.$]+\s*\(/.test(line.slice(at))) return undefined
  if (rest) {
    let end = line.length
    // an INI or shell comment after the value
    const comment = /\s[;#]/.exec(line.slice(at))
    if (comment) end = at + comment.index
    while (end > at && /\s/.test(line[end - 1]!)) end--
    return end > at ? { start: at, end } : undefined
  }
  const m = /^[^\s;,#'"(){}[\]]+/.exec(line.slice(at))
  if (!m || line[at + m[0].length] === '(') return undefined
  // a keyword of the language is no credential (`$cfg['AllowNoPassword'] = false;`, `= null`)
  if (/^(true|false|null)$/i.test(m[0])) return undefined
  return { start: at, end: at + m[0].length }
}

/**
 * Spans of one line (no line break) holding a value that looks like a credential: the value of a
 * key named like a password, secret, token or API key (PHP, INI, JSON, JS, `.env`, conninfo
 * `password=`), the password of a URL's userinfo, the password field of a `.pgpass` line; and
 * the value of a key named in `keys` (as written: the keys a spec sets from a secret).
 */
export function credentialSpans(line: string, path = '', keys: readonly string[] = []): Span[] {
  const out: Span[] = []
  const named = (key: string) =>
    isCredentialKey(key) || (keys.length > 0 && keys.includes(key.replace(/^\$/, '')))
  for (const m of line.matchAll(ASSIGN)) {
    const key = m[1] ?? m[2] ?? m[3] ?? ''
    if (!named(key.split(/->|\.|::/).pop()!)) continue
    const at = m.index + m[0].length
    // `key = value to the end` (INI, .env, YAML) for a bare key opening its line; not for code ($var, ->)
    const bare =
      m[3] !== undefined &&
      !/^\$|->|::/.test(m[3]) &&
      m[4] !== '=>' &&
      /^\s*$/.test(line.slice(0, m.index))
    const v = valueAt(line, at, bare && line[at] !== '"' && line[at] !== "'")
    // a number after a quoted key is data (a tsvector's 'secret':16), not a credential
    if (v && !(m[3] === undefined && /^\d+$/.test(line.slice(v.start, v.end)))) out.push(v)
  }
  for (const m of line.matchAll(DEFINE)) {
    if (!named(m[2]!)) continue
    const v = valueAt(line, m.index + m[0].length, false)
    if (v) out.push(v)
  }
  for (const m of line.matchAll(URL_PASSWORD)) {
    if (m[1]!.length === 0) continue
    const end = m.index + m[0].length - 1
    out.push({ start: end - m[1]!.length, end })
  }
  if (PGPASS.test(path) && !/^\s*#/.test(line)) {
    // host:port:database:user:password, `\:` and `\\` escaped
    let field = 0
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\\') i++
      else if (line[i] === ':' && ++field === 4) {
        if (i + 1 < line.length) out.push({ start: i + 1, end: line.length })
        break
      }
    }
  }
  return merge(out)
}

// A line can hold a credential only if it holds a URL's `://`, or if its letters, as
// isCredentialKey normalizes a key (lower case, everything but a-z and 0-9 dropped), hold one of
// the words every credential key name ends with: a key is part of its line, so its normalized
// name is part of the line's. The separators are what the normalization drops; İ (U+0130) and the
// Kelvin sign (U+212A) are the only characters outside ASCII that lower-case to a-z.
const dropped = '[^A-Za-z0-9\\u0130\\u212A\\n]*'
const letter = (c: string) =>
  c === 'i' ? '[iI\\u0130]' : c === 'k' ? '[kK\\u212A]' : `[${c}${c.toUpperCase()}]`
const CREDENTIAL_HINT = new RegExp(
  [
    ...['pass', 'secret', 'token', 'apikey'].map((w) => [...w].map(letter).join(dropped)),
    ':\\/\\/',
  ].join('|'),
  'g',
)

const ONE_HINT = new RegExp(CREDENTIAL_HINT.source)

/**
 * {@link credentialSpans} of one shown line (no keys of a spec): the same spans, found without
 * its patterns on a line that {@link CREDENTIAL_HINT} says cannot hold a credential (most lines
 * of a diff), as {@link fileCredentialSpans} skips such lines.
 */
export function lineCredentialSpans(line: string, path = ''): Span[] {
  return PGPASS.test(path) || ONE_HINT.test(line) ? credentialSpans(line, path) : []
}

/**
 * A span of a value that looks like a credential; `continued` when only the lines before its own
 * show that it is one (the value of a key on an earlier line: {@link credentialSpans} of its line
 * does not find it, so a diff must be told where it is).
 */
export interface CredentialSpan extends Span {
  continued?: true
}

/**
 * The spans of `text` holding values that look like credentials: {@link credentialSpans} of each
 * line, and the values whose key is on an earlier line ({@link continuedSpans}): a plan hashes the
 * file without them, so that a masked password cannot be confirmed by guessing against the file's
 * hash, and its diff hides the continued ones by position. Only the lines {@link CREDENTIAL_HINT}
 * finds are read (every line of a `.pgpass` file): on a 46 MB dump the others were most of a
 * plan's time. Sorted by start.
 */
export function fileCredentialSpans(text: string, path: string): CredentialSpan[] {
  const out: CredentialSpan[] = []
  let continued: CredentialSpan[] | undefined
  const reach: Reach = { block: 0, chain: 0, plain: 0, quote: { "'": 0, '"': 0 } }
  const scan = (start: number, end: number) => {
    const line = text.slice(start, end)
    // a key, a URL's userinfo, or a .pgpass field needs one of these; a define's key does not
    if (/[=:]/.test(line) || /define/i.test(line))
      for (const s of credentialSpans(line, path))
        out.push({ start: start + s.start, end: start + s.end })
    if (mayContinue(line, path)) continuedSpans(text, start, line, path, (continued ??= []), reach)
    if (nearDefine(text, start, line)) definedSpans(text, start, line, (continued ??= []))
    const q = openQuote(line, path)
    if (q && start >= reach.quote[q]!)
      reach.quote[q] = quotedLines(text, end + 1, q, (continued ??= []))
  }
  if (PGPASS.test(path)) {
    for (let start = 0; start <= text.length;) {
      const nl = text.indexOf('\n', start)
      scan(start, nl === -1 ? text.length : nl)
      if (nl === -1) break
      start = nl + 1
    }
  } else {
    let next = 0
    for (const m of text.matchAll(CREDENTIAL_HINT)) {
      if (m.index < next) continue
      const start = m.index === 0 ? 0 : text.lastIndexOf('\n', m.index - 1) + 1
      const nl = text.indexOf('\n', m.index)
      scan(start, nl === -1 ? text.length : nl)
      if (nl === -1) break
      next = nl + 1
    }
  }
  if (!continued?.length) return out
  // a stable sort: the spans of each line stay as credentialSpans gives them
  return [...out, ...continued].sort((a, b) => a.start - b.start)
}

/**
 * The values on the line `[start, end)` of `text` whose key is on an earlier line, as columns of
 * the line: the `continued` spans of {@link fileCredentialSpans} read from up to 64 lines before
 * it (for a line shown alone: an input error's source line).
 */
export function continuedOnLine(
  text: { slice(start: number, end: number): string; lastIndexOf(s: string, from: number): number },
  start: number,
  end: number,
  path: string,
): Span[] {
  let from = start
  for (let i = 0; i < 64 && from > 1; i++) from = text.lastIndexOf('\n', from - 2) + 1
  return fileCredentialSpans(text.slice(from, end), path)
    .filter((s) => s.continued && s.start >= start - from)
    .map((s) => ({ start: s.start - (start - from), end: s.end - (start - from) }))
}

// Values on a later line than their key (a diff's context line may show the value without its
// key): `"password":\n  "s3cret"` (JSON, JS), `$password =\n  's3cret';`, `'password' =>\n
// 's3cret'` (PHP), `define(\n  'DB_PASSWORD',\n  's3cret'\n)`; YAML and INI: a value on the next,
// more indented lines (`password:\n  s3cret`; in a .yml, .yaml, .ini or .cfg file also one that
// starts on the key's line and goes on there), block scalars (`password: |` or `>-` and the more
// indented lines after it), and a value continued by a final backslash (`password = a\` + the
// next line). A key's value on the line after it is masked when it is quoted, or, for a key that
// opens its line (YAML, INI), when that line is indented more than the key, reads as a plain
// scalar (not `key: value`, `- item`, a comment or a flow collection) and is no keyword
// (`null`, `true`, `false`, `~`) or number after a quoted key (JSON's data).

/** Paths whose plain values go on over more indented lines even when they start on the key's line. */
const CONTINUED_PLAIN = /\.(ya?ml|ini|cfg)$/i
// a YAML block scalar's header after a key, with optional tag and anchor: `|`, `>-`, `!vault |`
const BLOCK_HEADER = /^(?:[!&]\S*\s+)*[|>][1-9+-]{0,2}\s*(?:#.*)?$/
// what a more indented line after a key opens with when it is not a plain scalar's text: a
// sequence item, a complex key, a comment, a flow collection, an anchor, alias, tag or block
// header, a reserved indicator
const NOT_PLAIN = /^(?:[-?:](?:\s|$)|[#;[\]{}&*!|>%@`,])/
// a mapping entry (`key: value`, `key:`): a plain scalar holds no `: `
const MAPPING = /:(?:\s|$)/
const DEFINE_ACROSS = /\bdefine\s*\(\s*(["'])([^"'\n]*)\1\s*,\s*/gi

/**
 * Whether the value of a key on `line` (a line {@link CREDENTIAL_HINT} finds) may be on a later
 * line: the line ends after `=`, `:` or `=>`, or with a backslash or a YAML block header, or the
 * file's plain values go on over more indented lines. True for every line from which
 * {@link continuedSpans} reads the next ones (and some more); defines are {@link nearDefine}'s.
 */
function mayContinue(line: string, path: string): boolean {
  return (
    /(?:[=:>\\]|:\s*(?:[!&]\S*\s+)*[|>][1-9+-]{0,2}\s*(?:#.*)?)\s*$/.test(line) ||
    (CONTINUED_PLAIN.test(path) && /[=:]/.test(line))
  )
}

/** Whether a line (at `start` of `text`) may hold a define's key whose `define(` or value is on another line. */
function nearDefine(text: string, start: number, line: string): boolean {
  return (
    /["']/.test(line) &&
    (/define/i.test(line) || /define/i.test(text.slice(Math.max(0, start - 256), start)))
  )
}

interface Line {
  start: number
  /** Where its text ends (before `\r\n` or `\n`). */
  end: number
  /** The column of its first character that is not a blank (its length when blank). */
  indent: number
  /** Where the next line starts (past the text's end for the last line). */
  next: number
}

function lineAt(text: string, start: number): Line | undefined {
  if (start > text.length) return undefined
  const nl = text.indexOf('\n', start)
  let end = nl === -1 ? text.length : nl
  if (end > start && text.charCodeAt(end - 1) === 13) end--
  let i = start
  while (i < end && (text[i] === ' ' || text[i] === '\t')) i++
  return { start, end, indent: i - start, next: nl === -1 ? text.length + 1 : nl + 1 }
}

const blank = (l: Line) => l.start + l.indent === l.end

/** The first line at or after `start` that is not blank. */
function nonBlank(text: string, start: number): Line | undefined {
  let l = lineAt(text, start)
  while (l && blank(l)) l = lineAt(text, l.next)
  return l
}

/**
 * Where the lines that a block scalar, a backslash continuation and a plain value of an earlier
 * key (of one scan, in order) went on to end: the start of the line that ended each. A key on a
 * line inside one reads no lines of its own of that kind (nor plain lines inside a block scalar):
 * they would be the same lines, or fewer, with the same spans (a backslash continuation's lines
 * are the rest of the outer one's; a more indented block's or plain value's end no later than the
 * block's or plain value they are in), and reading them again for every such key was quadratic:
 * 2,000 lines of `password=a\` took 6 s and 20,000 ran out of memory.
 */
interface Reach {
  block: number
  chain: number
  plain: number
  /**
   * By quote: where the line that closed a quoted value going on over lines starts. Each line is
   * searched for the closing quote from its start, so a value a line before it opens closes there
   * too, with the same spans: it is not read again.
   */
  quote: Record<string, number>
}

/**
 * The credential spans of the lines after `line` (at `start` of `text`) that hold the value of a
 * key on it, marked `continued`; and those of a define whose `define(` is on an earlier line.
 */
function continuedSpans(
  text: string,
  start: number,
  line: string,
  path: string,
  out: CredentialSpan[],
  reach: Reach,
): void {
  const push = (l: Line, s: Span | undefined) => {
    if (s) out.push({ start: l.start + s.start, end: l.start + s.end, continued: true })
  }
  const textOf = (l: Line) => text.slice(l.start, l.end)
  const after = start + line.length + 1
  // plain lines after a key: none when an earlier key's block scalar or plain value read them
  const plainFrom = (from: number, column: number) => {
    if (start < reach.block || start < reach.plain) return
    reach.plain = Math.max(reach.plain, plainLines(text, from, column, push, textOf))
  }
  for (const m of line.matchAll(ASSIGN)) {
    const key = m[1] ?? m[2] ?? m[3] ?? ''
    if (!isCredentialKey(key.split(/->|\.|::/).pop()!)) continue
    const at = m.index + m[0].length
    // a key that opens its line (YAML, also as a sequence's item; INI): its value may go on over
    // more indented lines; not code's ($var, ->, ::, =>)
    const opens =
      m[4] !== '=>' &&
      !(m[3] !== undefined && /^\$|->|::/.test(m[3])) &&
      /^\s*(?:-\s+)*$/.test(line.slice(0, m.index))
    const column = m.index
    if (at >= line.length) {
      // the value is on the next line that is not blank
      const l = nonBlank(text, after)
      if (!l) continue
      const first = text[l.start + l.indent]
      if (first === '"' || first === "'" || first === '`')
        push(l, valueAt(textOf(l), l.indent, false))
      else if (opens && l.indent > column) {
        const t = textOf(l)
        if (m[3] === undefined) {
          // after a quoted key (JSON, YAML), one token; a number there is data, not a credential
          const v = NOT_PLAIN.test(t.slice(l.indent)) ? undefined : valueAt(t, l.indent, false)
          if (v && !/^\d+$/.test(t.slice(v.start, v.end))) push(l, v)
        } else {
          // a plain scalar (YAML) or a continued value (INI), a keyword is none
          const v = plain(t, l.indent)
          if (v && !/^(?:true|false|null|~)$/i.test(t.slice(v.start, v.end))) {
            push(l, v)
            plainFrom(l.next, column)
          }
        }
      }
      continue
    }
    if (!opens) continue
    const rest = line.slice(at).trimEnd()
    if (m[4] === ':' && BLOCK_HEADER.test(rest)) {
      if (start < reach.block) continue
      // a block scalar: every more indented line (blank ones too) is its text
      let l = lineAt(text, after)
      for (; l; l = lineAt(text, l.next)) {
        if (blank(l)) continue
        if (l.indent <= column) break
        push(l, { start: l.indent, end: l.end - l.start })
      }
      reach.block = l ? l.start : text.length + 1
    } else if (m[3] !== undefined && /(?:^|[^\\])(?:\\\\)*\\$/.test(rest)) {
      if (start < reach.chain) continue
      // a final backslash continues the value on the next line, and so on
      let l = lineAt(text, after)
      for (; l && !blank(l); l = lineAt(text, l.next)) {
        const t = textOf(l).trimEnd()
        push(l, { start: l.indent, end: t.length })
        if (!/(?:^|[^\\])(?:\\\\)*\\$/.test(t)) break
      }
      reach.chain = l ? l.next : text.length + 1
    } else if (CONTINUED_PLAIN.test(path) && !/^["'`[{|>]/.test(rest) && valueAt(line, at, true))
      plainFrom(after, column)
  }
}

/** The values of defines whose key is on `line` (at `start` of `text`) and whose `define(` or value is on another line, marked `continued`. */
function definedSpans(text: string, start: number, line: string, out: CredentialSpan[]): void {
  const from = Math.max(0, start - 256)
  const window = text.slice(from, Math.min(text.length, start + line.length + 512))
  for (const m of window.matchAll(DEFINE_ACROSS)) {
    const keyAt = from + m.index + m[0].indexOf(m[1]!)
    if (keyAt < start || keyAt >= start + line.length || !m[0].includes('\n')) continue
    if (!isCredentialKey(m[2]!)) continue
    const at = from + m.index + m[0].length
    const l = lineAt(text, text.lastIndexOf('\n', at - 1) + 1)!
    const v = valueAt(text.slice(l.start, l.end), at - l.start, false)
    if (v) out.push({ start: l.start + v.start, end: l.start + v.end, continued: true })
  }
}

/** Paths whose quoted strings may go on over several lines (PHP, YAML). */
const QUOTED_ACROSS = /\.(php|inc|ya?ml)$/i

/**
 * The quote of a credential's quoted value that `line` (not a comment) opens and does not close,
 * in a file whose strings may go on over lines (`$password = 'first line` + the next lines).
 */
function openQuote(line: string, path: string): string | undefined {
  if (!QUOTED_ACROSS.test(path) || !/["']/.test(line) || /^\s*(?:\/\/|\/?\*|#|;)/.test(line))
    return undefined
  for (const m of line.matchAll(ASSIGN)) {
    const key = m[1] ?? m[2] ?? m[3] ?? ''
    const at = m.index + m[0].length
    const q = line[at]
    if ((q !== '"' && q !== "'") || !isCredentialKey(key.split(/->|\.|::/).pop()!)) continue
    if (valueAt(line, at, false)!.end === line.length) return q
  }
  for (const m of line.matchAll(DEFINE)) {
    const at = m.index + m[0].length
    const q = line[at]
    if ((q === '"' || q === "'") && isCredentialKey(m[2]!))
      if (valueAt(line, at, false)!.end === line.length) return q
  }
  return undefined
}

/**
 * The lines from `start` on of a quoted value a line before them opened, up to its closing quote
 * `q` (`\` escapes, a doubled quote is one), marked `continued`. Returns where the closing line
 * starts (past the text's end when none closes it).
 */
function quotedLines(text: string, start: number, q: string, out: CredentialSpan[]): number {
  for (let l = lineAt(text, start); l; l = lineAt(text, l.next)) {
    let i = l.start
    while (i < l.end && (text[i] !== q || text[i + 1] === q))
      i += text[i] === '\\' || text[i] === q ? 2 : 1
    const close = Math.min(i, l.end)
    if (close > l.start + l.indent)
      out.push({ start: l.start + l.indent, end: close, continued: true })
    if (i < l.end) return l.start
  }
  return text.length + 1
}

/** The plain value starting at column `at` of a line after its key, if it reads as one. */
function plain(line: string, at: number): Span | undefined {
  const t = line.slice(at)
  if (NOT_PLAIN.test(t) || MAPPING.test(t)) return undefined
  return valueAt(line, at, true)
}

/**
 * A plain value's lines from `start` on: each more indented than the key's `column` that reads as
 * plain text. Returns the start of the line that ended them (past the text's end when none did).
 */
function plainLines(
  text: string,
  start: number,
  column: number,
  push: (l: Line, s: Span | undefined) => void,
  textOf: (l: Line) => string,
): number {
  for (let l = lineAt(text, start); l; l = lineAt(text, l.next)) {
    if (blank(l)) continue
    if (l.indent <= column) return l.start
    const v = plain(textOf(l), l.indent)
    if (!v) return l.start
    push(l, v)
  }
  return text.length + 1
}

/**
 * {@link fileCredentialSpans} of `after`, the text that `edits` (sorted, not overlapping, one
 * pass) make of `before`, given `spans`, those of `before`: a line no edit touches is the same
 * line in both, its spans moved by what the edits before it add or remove; only the lines that
 * edits touch are read again. On a large file with a few edits, most of the text is not scanned
 * a second time. A value whose key is on an earlier line depends on more than its line: when
 * `before` holds one, or an edited line or the line before the edited ones may be such a key, the
 * whole of `after` is read again.
 */
export function editedCredentialSpans(
  before: string,
  spans: readonly CredentialSpan[],
  after: { slice(start: number, end: number): string; toString(): string },
  edits: readonly Edit[],
  path: string,
): CredentialSpan[] {
  const whole = () => fileCredentialSpans(after.toString(), path)
  if (spans.some((s) => s.continued)) return whole()
  const out: CredentialSpan[] = []
  let k = 0
  // delta: what the edits before the current line add to its offsets
  let delta = 0
  let e = 0
  while (e < edits.length) {
    // the lines edits touch, from the start of the first one's line to the end of the last one's
    const from = edits[e]!.start === 0 ? 0 : before.lastIndexOf('\n', edits[e]!.start - 1) + 1
    let to = lineEnd(before, edits[e]!.end)
    let added = 0
    for (; e < edits.length && edits[e]!.start <= to; e++) {
      added += edits[e]!.text.length - (edits[e]!.end - edits[e]!.start)
      to = Math.max(to, lineEnd(before, edits[e]!.end))
    }
    for (; k < spans.length && spans[k]!.start < from; k++)
      out.push({ start: spans[k]!.start + delta, end: spans[k]!.end + delta })
    for (; k < spans.length && spans[k]!.start <= to; k++);
    const at = from + delta
    const touched = after.slice(at, to + delta + added)
    if (opensContinued(before, from, touched, path)) return whole()
    for (const x of fileCredentialSpans(touched, path))
      out.push({ start: x.start + at, end: x.end + at })
    delta += added
  }
  for (; k < spans.length; k++)
    out.push({ start: spans[k]!.start + delta, end: spans[k]!.end + delta })
  return out
}

/**
 * Whether edited lines (`touched`, of the new text; the text before them is `before`'s up to
 * `from`) may hold a key whose value is on a later line, or a value whose key is on an earlier
 * line: one of them or the last line before them that is not blank may open one (a value is on
 * the next line that is not blank, and every line of a longer one holds a span), or `define`
 * is written in them or up to 256 characters before them.
 */
function opensContinued(before: string, from: number, touched: string, path: string): boolean {
  for (let start = 0; start <= touched.length;) {
    const nl = touched.indexOf('\n', start)
    const line = touched.slice(start, nl === -1 ? touched.length : nl)
    if (opens(line, path)) return true
    if (nl === -1) break
    start = nl + 1
  }
  if (/define/i.test(touched) || /define/i.test(before.slice(Math.max(0, from - 256), from)))
    return true
  // the last line before them that is not blank
  let end = from - 1
  while (end > 0) {
    const start = before.lastIndexOf('\n', end - 1) + 1
    const line = before.slice(start, end)
    if (/\S/.test(line)) return opens(line, path)
    end = start - 1
  }
  return false
}

/** Whether a line may hold a key whose value is on a later line (defines aside). */
function opens(line: string, path: string): boolean {
  return ONE_HINT.test(line) && (mayContinue(line, path) || openQuote(line, path) !== undefined)
}

/** Where the line holding offset `at` ends (its line break, or the end of the text). */
function lineEnd(text: string, at: number): number {
  const nl = text.indexOf('\n', at)
  return nl === -1 ? text.length : nl
}

/** What a tool's message about one staged file must not show (see {@link maskToolMessage}). */
export interface ToolMessageMask {
  /** Values never shown: secrets (raw and as written), old values they replace. */
  values: readonly string[]
  /** Lines of the staged file that hold a sensitive value, and the columns (0-based) to hide. */
  lines: ReadonlyMap<string, readonly Span[]>
  /** Texts shown as they are (the target paths a message names). */
  keep: readonly string[]
}

/**
 * The lines of `text` holding a span of `spans`, each with the columns to hide. A line a span
 * crosses (a value with a line break) is hidden from the span's start on, and the next from its start.
 */
export function sensitiveLines(text: string, spans: readonly Span[]): Map<string, Span[]> {
  const out = new Map<string, Span[]>()
  for (const s of spans) {
    let start = s.start > 0 ? text.lastIndexOf('\n', s.start - 1) + 1 : 0
    let from = s.start
    for (;;) {
      const nl = text.indexOf('\n', start)
      const end = nl === -1 ? text.length : nl
      const line = text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end)
      const cols = { start: from - start, end: Math.min(s.end, end) - start }
      if (cols.end > cols.start && line.length > 0)
        out.set(line, merge([...(out.get(line) ?? []), cols]))
      if (nl === -1 || s.end <= nl + 1) break
      start = from = nl + 1
    }
  }
  return out
}

/**
 * A message of a tool that checked a staged file (php -l, visudo), as it may be shown: a line
 * that repeats a line of the file holding a sensitive value shows `(sensitive)` in the value's
 * place (a caret line under it stays under the same text); elsewhere the values, as whole words,
 * values that look like credentials, and a truncated quoted token (`"abc..."`, as PHP quotes the
 * unexpected token) that ends with the start of a value are hidden. The texts of `keep` (paths)
 * are never masked.
 */
export function maskToolMessage(
  message: string,
  mask: ToolMessageMask,
  shown = '(sensitive)',
): string {
  const values = [...new Set(mask.values.flatMap((v) => [v, ...v.split(/\r?\n/)]))].filter(
    (v) => v.length > 0,
  )
  const lines = message.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const keep = tokenSpans(
      line,
      mask.keep.filter((k) => k.length > 0),
    )
    const outside = (s: Span) => !keep.some((k) => s.start < k.end && k.start < s.end)
    const hide: Span[] = []
    const exact = mask.lines.get(line)
    if (exact) hide.push(...exact)
    hide.push(...tokenSpans(line, values).filter(outside), ...credentialSpans(line).filter(outside))
    for (const m of line.matchAll(/"([^"]*)\.\.\."/g)) {
      const q = m[1]!
      const at = m.index + 1
      for (const v of values) {
        for (let k = Math.min(v.length, q.length); k >= 1; k--) {
          if (q.endsWith(v.slice(0, k))) {
            hide.push({ start: at + q.length - k, end: at + q.length })
            break
          }
        }
      }
    }
    const spans = merge(hide)
    if (spans.length === 0) continue
    lines[i] = maskSpans(line, spans, shown)
    // a caret line under a masked line moves with the text it points at
    const caret = lines[i + 1]
    if (caret !== undefined && /^\s*\^~*\s*$/.test(caret)) {
      const at = caret.indexOf('^')
      const width = caret.trimEnd().length - at
      const move = (p: number) => {
        let d = 0
        for (const s of spans) {
          if (s.end <= p) d += shown.length - (s.end - s.start)
          else if (s.start < p) return s.start + d
        }
        return p + d
      }
      const from = move(at)
      const to = Math.max(from + 1, move(at + width))
      lines[i + 1] =
        caret.slice(0, Math.min(at, from)).padEnd(from, ' ') + '^' + '~'.repeat(to - from - 1)
    }
  }
  return lines.join('\n')
}
