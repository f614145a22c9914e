// Running a tool: wall time measured here, peak RSS from GNU time (the largest process of the
// command, children included), back to back with the other tools of the same section.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const TIME = '/usr/bin/time'
const rssFile = join(tmpdir(), `cutover-bench-rss-${process.pid}`)

/** Runs `cmd` with bash; returns wall ms, peak RSS in KB (when GNU time is there) and the exit code. */
export function timed(cmd, { cwd, ok = [0], timeout = 900_000 } = {}) {
  const withTime = existsSync(TIME)
  const argv = withTime
    ? [TIME, ['-f', '%M', '-o', rssFile, 'bash', '-c', cmd]]
    : ['bash', ['-c', cmd]]
  const t = performance.now()
  const r = spawnSync(argv[0], argv[1], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout,
    maxBuffer: 64 << 20,
    // a process group of its own: a timeout kills the tool itself, not only GNU time, which
    // neither forwards the signal nor waits (an augtool left running took a core from the
    // sections after it)
    detached: true,
  })
  const ms = performance.now() - t
  if (r.error?.code === 'ETIMEDOUT' || r.signal) {
    try {
      process.kill(-r.pid, 'SIGKILL')
    } catch {
      // the group has ended
    }
  }
  let rss
  if (withTime && existsSync(rssFile)) {
    rss = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop())
    rmSync(rssFile)
  }
  const code = r.status
  if (r.error?.code === 'ETIMEDOUT' || r.signal)
    return { ms, rss, code: null, error: `timed out after ${Math.round(timeout / 1000)} s` }
  if (!ok.includes(code))
    return {
      ms,
      rss,
      code,
      error: `exit ${code}: ${String(r.stderr).trim().split('\n').slice(-3).join(' / ')}`,
    }
  return { ms, rss, code }
}

/** The median of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * Runs every tool once to warm up (its result is kept for the correctness check), then `runs`
 * rounds in which each tool runs once, in turn, so that a change of load hits all alike.
 * A tool: { name, cmd, cwd?, ok?, runs?, before?(), after?(result, round), skip?, cold? }; a
 * `cold` tool's first run is timed too (with `runs: 0` it runs once: a tool too slow to run twice).
 */
export function series(tools, runs, log) {
  const out = new Map(
    tools.map((t) => [t.name, { tool: t, times: [], rss: 0, error: t.skip, check: undefined }]),
  )
  const once = (t, round) => {
    const o = out.get(t.name)
    if (o.error) return
    t.before?.(round)
    const r = timed(t.cmd, { cwd: t.cwd, ok: t.ok, timeout: t.timeout })
    if (r.error) {
      o.error = r.error
      log(`  ${t.name}: ${r.error}`)
      return
    }
    if (round > 0 || t.cold) o.times.push(r.ms)
    o.rss = Math.max(o.rss, r.rss ?? 0)
    const checked = t.after?.(r, round)
    if (round === 0) o.check = checked
    log(`  ${t.name}: ${round === 0 ? 'warm-up' : `run ${round}`} ${(r.ms / 1000).toFixed(2)} s`)
  }
  for (let round = 0; round <= runs; round++)
    for (const t of tools) if (round <= (t.runs ?? runs)) once(t, round)
  return [...out.values()].map((o) => ({
    name: o.tool.name,
    anchor: o.tool.anchor,
    note: o.tool.note,
    error: o.error,
    median: o.times.length ? median(o.times) : undefined,
    min: o.times.length ? Math.min(...o.times) : undefined,
    n: o.times.length,
    rss: o.rss,
    check: o.check,
    bytes: o.tool.bytes,
  }))
}
