import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { describeTimeout, toolEnv, toolTimeoutMs } from '@cutover/rewrite'
import type { Exec, ExecResult } from './machine.js'

/**
 * Runs a script with `sh -c` on this machine: the {@link Exec} of a local machine (and of tests).
 * The environment is rewrite's `toolEnv()` (the search path and the C locale: the caller's may
 * hold secrets), `stdin` is written to the script and closed, and a script still running after
 * `toolTimeoutMs()` is killed with SIGKILL (with every process it started) and rejects (`ETIMEDOUT`). Never rejects for a
 * non-zero exit; a script killed by a signal gives code 128 + its number, as a shell reports it.
 */
export const localExec: Exec = (script, options = {}) =>
  new Promise<ExecResult>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], {
      env: toolEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so that a timeout kills what the script started too (a `sleep`
      // holding the output pipes open would otherwise outlive the shell).
      detached: true,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    const ms = toolTimeoutMs()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, ms)
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    // A script that exits without reading its input closes the pipe: that is its business.
    child.stdin.on('error', () => {})
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) {
        const e = new Error(
          `a command (sh -c) ran longer than ${describeTimeout(ms)} and was killed (CUTOVER_TOOL_TIMEOUT_MS sets the limit, in milliseconds)`,
        )
        reject(Object.assign(e, { code: 'ETIMEDOUT', syscall: 'sh' }))
        return
      }
      resolve({
        code: code ?? 128 + signalNumber(signal),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
      })
    })
    child.stdin.end(options.stdin ?? Buffer.alloc(0))
  })

function signalNumber(signal: NodeJS.Signals | null): number {
  if (signal === null) return 0
  return (constants.signals as Record<string, number | undefined>)[signal] ?? 0
}
