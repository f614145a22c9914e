#!/usr/bin/env node
import { run } from './run.js'

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  stderrIsTTY: Boolean(process.stderr.isTTY),
  stdinIsTTY: Boolean(process.stdin.isTTY),
  confirm: async (question) => (await import('./confirm.js')).confirmOnTerminal(question),
})
process.exitCode = code
