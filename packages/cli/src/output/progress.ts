import { showControls, type TxObserver } from '@cutover/rewrite'
import type { Io } from '../io.js'

/** A one-line progress display on stderr, rewritten in place; a no-op when disabled. */
export interface Progress {
  /** Shows `text` (with the elapsed time), at most every 100 ms unless `force`. */
  update(text: string, force?: boolean): void
  /** Clears the line, if anything was shown. */
  done(): void
  /** Writes a whole line to stderr (`--verbose`), above the progress line. */
  note(line: string): void
}

const CLEAR = '\r\u001b[K'

/**
 * The progress line of a command: only when stderr is a terminal and `--quiet` (or `--json`,
 * whose output a script reads) is not given, so pipes and logs never receive control codes.
 */
export function progressLine(io: Io, opts: { quiet?: unknown; json?: unknown }): Progress {
  const enabled = (io.stderrIsTTY ?? io.isTTY) && !opts.quiet && !opts.json
  if (!enabled)
    return {
      update: () => undefined,
      done: () => undefined,
      note: (line) => void io.stderr.write(showControls(line) + '\n'),
    }
  const started = Date.now()
  let last = 0
  let shown = false
  return {
    update(text, force = false) {
      const now = Date.now()
      if (!force && shown && now - last < 100) return
      last = now
      shown = true
      io.stderr.write(`${CLEAR}${text}, ${((now - started) / 1000).toFixed(1)}s`)
    },
    done() {
      if (shown) io.stderr.write(CLEAR)
      shown = false
    },
    note(line) {
      io.stderr.write(`${shown ? CLEAR : ''}${showControls(line)}\n`)
      shown = false
    },
  }
}

/** Files considered, matched and the total, as the progress line says them. */
export function counted(
  verb: string,
  p: { considered: number; total: number },
  matched: string,
): string {
  return `${verb} ${p.considered}/${p.total} files, ${matched}`
}

/** How the progress line says each step of a file in a transaction. */
const DONE = { staged: 'staged', 'backed-up': 'backed up', renamed: 'installed' } as const

/**
 * Renders the events of an apply's transaction: the progress line, and with `verbose` each file
 * as it is staged and installed (the file the event names), and the validation.
 */
export function applyProgress(progress: Progress, verbose: boolean): TxObserver {
  return (event) => {
    if (event.type === 'validated') {
      if (verbose) progress.note(`validated ${event.files} staged file(s)`)
      return
    }
    if (event.type !== 'staged' && event.type !== 'backed-up' && event.type !== 'renamed') return
    const done = DONE[event.type]
    if (verbose && event.type !== 'backed-up') progress.note(`${event.target}: ${done}`)
    progress.update(
      `applying: ${done} ${event.done}/${event.total} files`,
      event.done === event.total,
    )
  }
}
