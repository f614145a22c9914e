import { closeSync, openSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { ReadStream, WriteStream, isatty } from 'node:tty'

/**
 * Asks `question` on the terminal and resolves to true when the answer is `y` or `yes` (any
 * case); anything else, an empty line or the end of input is a no. The question is written to
 * and the answer read from the controlling terminal (`/dev/tty`), so that a review redirected to
 * a file still asks on the screen; without one, stdin and stderr when stdin is a terminal. With
 * no terminal at all the answer is no (the commands refuse before asking: they need --yes).
 */
export async function confirmOnTerminal(question: string): Promise<boolean> {
  const term = openTerminal()
  if (!term) return false
  const rl = createInterface({ input: term.input, terminal: false })
  try {
    term.output.write(question)
    const answer = await new Promise<string | undefined>((done) => {
      rl.once('line', done)
      rl.once('close', () => done(undefined))
    })
    if (answer === undefined) term.output.write('\n')
    return answer !== undefined && /^\s*y(es)?\s*$/i.test(answer)
  } finally {
    rl.close()
    term.close()
  }
}

interface Terminal {
  input: NodeJS.ReadableStream
  output: NodeJS.WritableStream
  close(): void
}

function openTerminal(): Terminal | undefined {
  const fds: number[] = []
  try {
    fds.push(openSync('/dev/tty', 'r'), openSync('/dev/tty', 'w'))
    if (fds.every((fd) => isatty(fd))) {
      const input = new ReadStream(fds[0]!)
      const output = new WriteStream(fds[1]!)
      return { input, output, close: () => (input.destroy(), output.destroy()) }
    }
  } catch {
    // no controlling terminal (a daemon, ssh without -t): try stdin below
  }
  for (const fd of fds) {
    try {
      closeSync(fd)
    } catch {
      // already closed
    }
  }
  if (!process.stdin.isTTY) return undefined
  return { input: process.stdin, output: process.stderr, close: () => process.stdin.pause() }
}
