/**
 * A step's `validate:` command as words, without a shell: the text is split once into an argv
 * and its placeholders are filled in each word, so no variable, glob, pipe or redirection is ever
 * interpreted and a path holding blanks or quotes stays one argument.
 */

/** A command split into words, or why it cannot be (`at`: the 0-based offset in the text). */
export type SplitCommand = { argv: string[] } | { problem: string; at: number }

const BLANK = /[ \t\r\n]/

/**
 * Splits a command into words as a POSIX shell splits a simple command, and nothing more: blanks
 * (space, tab, newline) separate words; `'…'` keeps everything up to the next `'` as it is;
 * `"…"` keeps blanks and `'`, and a backslash in it escapes the next character; outside single
 * quotes a backslash escapes the next character (`\ ` is a blank inside a word). Quotes may
 * join parts of one word (`--name="a b"`); `''` is an empty word. An unterminated quote, a
 * backslash at the end or a command without words is a problem.
 */
export function splitCommand(command: string): SplitCommand {
  const argv: string[] = []
  let word: string | undefined
  let i = 0
  while (i < command.length) {
    const c = command[i]!
    if (BLANK.test(c)) {
      if (word !== undefined) argv.push(word)
      word = undefined
      i++
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1)
      if (end < 0) return { problem: 'a single quote is not closed', at: i }
      word = (word ?? '') + command.slice(i + 1, end)
      i = end + 1
    } else if (c === '"') {
      const open = i
      let text = ''
      i++
      for (;;) {
        if (i >= command.length) return { problem: 'a double quote is not closed', at: open }
        const d = command[i]!
        if (d === '"') break
        if (d === '\\') {
          if (i + 1 >= command.length) return { problem: 'a double quote is not closed', at: open }
          text += command[i + 1]
          i += 2
        } else {
          text += d
          i++
        }
      }
      word = (word ?? '') + text
      i++
    } else if (c === '\\') {
      if (i + 1 >= command.length)
        return { problem: 'a backslash ends the command: it escapes nothing', at: i }
      word = (word ?? '') + command[i + 1]
      i += 2
    } else {
      word = (word ?? '') + c
      i++
    }
  }
  if (word !== undefined) argv.push(word)
  if (argv.length === 0) return { problem: 'the command is empty', at: 0 }
  return { argv }
}

/** The placeholders of a `validate:` command's words: `%s`, `%d`, and `%%` for a `%`. */
const PLACEHOLDER = /%(.?)/gs

/** What each word of a command refers to: the staged file (`%s`), the scratch root (`%d`). */
export interface CommandUses {
  file: boolean
  dir: boolean
}

/**
 * The problem of a `validate:` command, or undefined when it is one: it must split into words
 * ({@link splitCommand}), every `%` must be `%s`, `%d` or `%%`, and it must name the staged file
 * (`%s`) or the scratch root holding it (`%d`), or it would check nothing of the file.
 */
export function commandProblem(command: string): string | undefined {
  const split = splitCommand(command)
  if ('problem' in split) return `${split.problem} (at character ${split.at + 1})`
  for (const w of split.argv) {
    for (const m of w.matchAll(PLACEHOLDER)) {
      if (m[1] !== 's' && m[1] !== 'd' && m[1] !== '%')
        return `"%${m[1] ?? ''}" in "${w}" is not a placeholder: %s is the staged file, %d a scratch root holding it, %% a %`
    }
  }
  const uses = commandUses(split.argv)
  if (!uses.file && !uses.dir)
    return 'the command names neither the staged file (%s) nor a scratch root holding it (%d), so it would not check the file'
  return undefined
}

/** Whether a command's words name the staged file and the scratch root. */
export function commandUses(argv: readonly string[]): CommandUses {
  const uses = { file: false, dir: false }
  for (const w of argv)
    for (const m of w.matchAll(PLACEHOLDER)) {
      if (m[1] === 's') uses.file = true
      if (m[1] === 'd') uses.dir = true
    }
  return uses
}

/** The words of a command with `%s` the staged file, `%d` the scratch root and `%%` a `%`. */
export function fillCommand(
  argv: readonly string[],
  paths: { file: string; dir?: string },
): string[] {
  return argv.map((w) =>
    w.replace(PLACEHOLDER, (all, p: string) =>
      p === 's' ? paths.file : p === 'd' ? (paths.dir ?? all) : p === '%' ? '%' : all,
    ),
  )
}
