import type { Range } from '@cutover/rewrite'

/** Thrown inside the parser at the first error of an entry; the entry is then kept unparsed. */
export class ParseFail extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly range: Range,
  ) {
    super(message)
  }
}

/** A word read from the source: its unescaped value and where it stands. */
export interface Word {
  value: string
  range: Range
  quoted: boolean
}

const BLANK = new Set([' ', '\t'])
/** Characters that end a user, host or alias name unless escaped. */
const NAME_STOP = new Set([' ', '\t', '\n', ',', ':', '=', '(', ')', '!', '"', '\\'])
/** Characters that end a command path or argument unless escaped. */
const CMND_STOP = new Set([' ', '\t', '\n', ',', ':', '#', '\\'])
/** Characters that end a Defaults value unless escaped. */
const VALUE_STOP = new Set([' ', '\t', '\n', ',', '\\'])
/** Escapes that sudo removes in words; any other backslash is kept as written. */
const ESCAPABLE = new Set([',', ':', '=', '\\', ' ', '\t', '#', '!', '(', ')', '"'])

/**
 * A cursor over one sudoers source. It never crosses an unescaped line break: that ends the
 * entry being read. A backslash before a line break is a continuation and reads as a blank.
 */
export class Reader {
  pos: number
  constructor(
    readonly src: string,
    start: number,
  ) {
    this.pos = start
  }

  peek(offset = 0): string | undefined {
    return this.src[this.pos + offset]
  }

  /** Length of a continuation (`\` + line break) at `at`, or 0. */
  continuation(at = this.pos): number {
    if (this.src[at] !== '\\') return 0
    if (this.src[at + 1] === '\n') return 2
    if (this.src[at + 1] === '\r' && this.src[at + 2] === '\n') return 3
    return 0
  }

  /** Skips blanks, `\r` before a line break, and continuations; returns whether any was skipped. */
  blanks(): boolean {
    const from = this.pos
    for (;;) {
      const c = this.src[this.pos]
      if (c !== undefined && BLANK.has(c)) this.pos++
      else if (c === '\r' && this.src[this.pos + 1] === '\n') this.pos++
      else if (this.continuation()) this.pos += this.continuation()
      else break
    }
    return this.pos > from
  }

  /** At the end of the entry's content: a line break, the end of the text, or a comment. */
  atEnd(): boolean {
    const c = this.peek()
    return (
      c === undefined ||
      c === '\n' ||
      (c === '#' && !/^#-?[0-9]/.test(this.src.slice(this.pos, this.pos + 3)))
    )
  }

  /** Consumes `text` when it comes next. */
  eat(text: string): boolean {
    if (!this.src.startsWith(text, this.pos)) return false
    this.pos += text.length
    return true
  }

  /**
   * Consumes a list separator (`,` or `:`) with the blanks around it; when none comes next,
   * consumes nothing and returns false.
   */
  separator(ch: string): boolean {
    const save = this.pos
    this.blanks()
    if (!this.eat(ch)) {
      this.pos = save
      return false
    }
    this.blanks()
    return true
  }

  expect(text: string, what: string): void {
    if (!this.eat(text)) this.fail('SYNTAX', `expected ${what}, got ${this.describe()}`)
  }

  /** What stands at the cursor, for messages. */
  describe(): string {
    if (this.atEnd()) return 'the end of the line'
    const m = /^[^\s]{1,20}/.exec(this.src.slice(this.pos))
    return `"${m ? m[0] : this.peek()}"`
  }

  fail(code: string, message: string, range?: Range): never {
    const end = Math.min(this.src.length, this.pos + 1)
    throw new ParseFail(code, message, range ?? { start: this.pos, end: Math.max(end, this.pos) })
  }

  /** Matches `re` (anchored with `^`, sticky semantics emulated) at the cursor without consuming. */
  match(re: RegExp): RegExpExecArray | null {
    return re.exec(this.src.slice(this.pos, this.pos + 256))
  }

  /** A double-quoted string; `\"` is unescaped, a continuation inside is dropped. */
  quoted(): Word {
    const start = this.pos
    this.pos++
    let value = ''
    for (;;) {
      const c = this.src[this.pos]
      if (c === undefined || c === '\n')
        this.fail('UNTERMINATED', 'unterminated quoted string', { start, end: this.pos })
      if (c === '"') break
      const k = this.continuation()
      if (k) {
        this.pos += k
        continue
      }
      if (c === '\\' && this.src[this.pos + 1] === '"') {
        value += '"'
        this.pos += 2
        continue
      }
      value += c
      this.pos++
    }
    this.pos++
    return { value, range: { start, end: this.pos }, quoted: true }
  }

  /** A user, group, host or alias name (or a quoted one). Undefined when none stands here. */
  name(): Word | undefined {
    if (this.peek() === '"') return this.quoted()
    if (this.peek() === '#' && !/^#-?[0-9]/.test(this.src.slice(this.pos, this.pos + 3)))
      return undefined
    return this.word(NAME_STOP)
  }

  /** A command path or argument: `#` starts a comment, even inside a word. */
  cmndWord(): Word | undefined {
    if (this.peek() === '^') return this.regex()
    return this.word(CMND_STOP)
  }

  /** A Defaults value: anything up to a blank or comma. */
  defaultsValue(): Word | undefined {
    if (this.peek() === '"') return this.quoted()
    return this.word(VALUE_STOP)
  }

  private word(stop: ReadonlySet<string>): Word | undefined {
    const start = this.pos
    let value = ''
    for (;;) {
      const c = this.src[this.pos]
      if (c === undefined || (c === '\r' && this.src[this.pos + 1] === '\n')) break
      if (c === '\\') {
        if (this.continuation()) break
        const n = this.src[this.pos + 1]
        if (n === undefined || n === '\n') break
        value += ESCAPABLE.has(n) ? n : c + n
        this.pos += 2
        continue
      }
      if (stop.has(c)) break
      value += c
      this.pos++
    }
    return this.pos > start ? { value, range: { start, end: this.pos }, quoted: false } : undefined
  }

  /** `^…$` ends at a `$` followed by a blank, `,`, `:`, a line break or the end. */
  private regex(): Word {
    const start = this.pos
    let i = this.pos + 1
    let value = '^'
    for (;;) {
      const c = this.src[i]
      if (c === undefined || c === '\n')
        this.fail('UNTERMINATED', 'unterminated regular expression: it must end with $', {
          start,
          end: i,
        })
      const k = this.continuation(i)
      if (k) {
        // sudo's lexer drops a continuation inside a regular expression with the indentation after it
        for (i += k; this.src[i] === ' ' || this.src[i] === '\t'; i++);
        continue
      }
      if (c === '\\' && this.src[i + 1] !== undefined && this.src[i + 1] !== '\n') {
        value += c + this.src[i + 1]
        i += 2
        continue
      }
      if (c === '$') {
        const n = this.src[i + 1]
        if (
          n === undefined ||
          n === ' ' ||
          n === '\t' ||
          n === ',' ||
          n === ':' ||
          n === '\n' ||
          n === '\r' ||
          (n === '\\' && this.continuation(i + 1))
        )
          break
      }
      value += c
      i++
    }
    this.pos = i + 1
    return { value: value + '$', range: { start, end: this.pos }, quoted: false }
  }
}
