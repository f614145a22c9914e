import { performance } from 'node:perf_hooks'
import type { Exec } from './machine.js'

/*
 * A timing trace of a machine's remote work, for profiling an apply over ssh: off unless
 * `CUTOVER_TRACE_PHASES` is set (as rewrite's phase trace), then one line on stderr per command
 * run on the machine (its start, its duration, its first words) and per {@link MachineTrace.mark}:
 * the SFTP requests sent since the previous line and the bursts they came in (a burst starts when
 * a request is sent with none in flight: each is at least one round trip). What stdout shows
 * never changes.
 */

/** Whether the trace is on. */
export const traceOn = (): boolean => Boolean(process.env.CUTOVER_TRACE_PHASES)

/** What an SFTP channel counts for the trace. */
export interface SftpCounts {
  requests: number
  bursts: number
}

/** The trace of one machine's connection. */
export class MachineTrace {
  private execs = 0
  private seen: SftpCounts = { requests: 0, bursts: 0 }
  constructor(
    private readonly name: string,
    private readonly counts: () => SftpCounts,
  ) {}

  /** `exec` with each command traced. */
  wrap(exec: Exec): Exec {
    return async (script, options) => {
      const n = ++this.execs
      const start = performance.now()
      try {
        return await exec(script, options)
      } finally {
        const words = script.replace(/^LC_ALL=C; export LC_ALL; /, '').replace(/\s+/g, ' ')
        this.line(
          `exec #${n} at ${start.toFixed(0)} ms took ${(performance.now() - start).toFixed(0)} ms: ${words.slice(0, 60)}`,
        )
      }
    }
  }

  /** A line naming `what`, with the SFTP requests since the previous line. */
  mark(what: string): void {
    this.line(what)
  }

  private line(what: string): void {
    const now = this.counts()
    const requests = now.requests - this.seen.requests
    const bursts = now.bursts - this.seen.bursts
    this.seen = { ...now }
    process.stderr.write(
      `cutover: ${this.name} ${what} (sftp +${requests} requests in ${bursts} bursts, at ${performance.now().toFixed(0)} ms)\n`,
    )
  }
}
