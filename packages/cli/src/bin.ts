#!/usr/bin/env node
import { run } from './run.js'

// A reader that stops early (`cutover plan | head`) closes the pipe: the rest of the output is
// dropped, without a stack trace, and the command runs to its end (an apply is never cut short
// by its reader) and exits as it would have. Any other error of the stream is thrown as before.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e
  })

/**
 * The command's end: the launcher reports a rejection (an internal error) as it reports a bundle
 * that does not load.
 */
export const done = run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  stderrIsTTY: Boolean(process.stderr.isTTY),
  stdinIsTTY: Boolean(process.stdin.isTTY),
  confirm: async (question) => (await import('./confirm.js')).confirmOnTerminal(question),
}).then((code) => {
  process.exitCode = code
})
