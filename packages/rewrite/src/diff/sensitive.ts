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
    while (i < line.length && line[i] !== q) i += line[i] === '\\' ? 2 : 1
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
 * The spans of `text` holding values that look like credentials ({@link credentialSpans} of each
 * line): a plan hashes the file without them, so that a masked password cannot be confirmed by
 * guessing against the file's hash. Only the lines {@link CREDENTIAL_HINT} finds are read (every
 * line of a `.pgpass` file): on a 46 MB dump the others were most of a plan's time.
 */
export function fileCredentialSpans(text: string, path: string): Span[] {
  const out: Span[] = []
  const scan = (start: number, end: number) => {
    const line = text.slice(start, end)
    // a key, a URL's userinfo, or a .pgpass field needs one of these
    if (/[=:]/.test(line))
      for (const s of credentialSpans(line, path))
        out.push({ start: start + s.start, end: start + s.end })
  }
  if (PGPASS.test(path)) {
    for (let start = 0; start <= text.length;) {
      const nl = text.indexOf('\n', start)
      scan(start, nl === -1 ? text.length : nl)
      if (nl === -1) break
      start = nl + 1
    }
    return out
  }
  let next = 0
  for (const m of text.matchAll(CREDENTIAL_HINT)) {
    if (m.index < next) continue
    const start = m.index === 0 ? 0 : text.lastIndexOf('\n', m.index - 1) + 1
    const nl = text.indexOf('\n', m.index)
    scan(start, nl === -1 ? text.length : nl)
    if (nl === -1) break
    next = nl + 1
  }
  return out
}

/**
 * {@link fileCredentialSpans} of `after`, the text that `edits` (sorted, not overlapping, one
 * pass) make of `before`, given `spans`, those of `before`: a line no edit touches is the same
 * line in both, its spans moved by what the edits before it add or remove; only the lines that
 * edits touch are read again. On a large file with a few edits, most of the text is not scanned
 * a second time.
 */
export function editedCredentialSpans(
  before: string,
  spans: readonly Span[],
  after: { slice(start: number, end: number): string },
  edits: readonly Edit[],
  path: string,
): Span[] {
  const out: Span[] = []
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
    for (const x of fileCredentialSpans(after.slice(at, to + delta + added), path))
      out.push({ start: x.start + at, end: x.end + at })
    delta += added
  }
  for (; k < spans.length; k++)
    out.push({ start: spans[k]!.start + delta, end: spans[k]!.end + delta })
  return out
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
