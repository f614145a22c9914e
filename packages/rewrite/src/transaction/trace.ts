import { performance } from 'node:perf_hooks'

/*
 * A timing trace of the stages of a plan and the phases of an apply, for profiling: off unless
 * `CUTOVER_TRACE_PHASES` is set, then one line on stderr per mark (what stdout shows never
 * changes). Each line names the mark, the milliseconds since the process started, and the wall
 * and CPU (user + system, this process's threads) milliseconds since the previous mark.
 */

let last: { wall: number; cpu: NodeJS.CpuUsage } | undefined

/** Marks the end of a stage of a plan or a phase of an apply (see above); nothing unless the trace is on. */
export function tracePhase(name: string): void {
  if (!process.env.CUTOVER_TRACE_PHASES) return
  const now = { wall: performance.now(), cpu: process.cpuUsage() }
  const cpu = last ? process.cpuUsage(last.cpu) : now.cpu
  process.stderr.write(
    `cutover: phase ${name} at ${now.wall.toFixed(0)} ms (+${(now.wall - (last?.wall ?? 0)).toFixed(0)} ms, cpu +${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)\n`,
  )
  last = now
}
