import { execFile } from 'node:child_process'

/** How long a spawned tool may run (or stay silent) before it is killed, unless `CUTOVER_TOOL_TIMEOUT_MS` says otherwise. */
const DEFAULT_TIMEOUT_MS = 60_000

/**
 * The timeout of a spawned tool in milliseconds: `CUTOVER_TOOL_TIMEOUT_MS` when it is a positive
 * integer, else one minute. Read at every call, so a test (or a slow machine) can change it.
 */
export function toolTimeoutMs(): number {
  const v = Number(process.env.CUTOVER_TOOL_TIMEOUT_MS)
  return Number.isInteger(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS
}

/** The timeout for a message: `60 s`, `0.2 s`. */
export function describeTimeout(ms: number): string {
  return `${ms / 1000} s`
}

/**
 * The environment of every spawned tool: the search path and the C locale, nothing else. The
 * caller's environment may hold secrets (the spec's `secret:` values come from it) and settings
 * that change a tool's output (`PHPRC`, `LANGUAGE`); a validator needs none of them.
 */
export function toolEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' }
}

/** What a tool run gave: its exit code (-1 when it could not start), its output, and whether it was killed for taking too long. */
export interface ToolRun {
  code: number
  stdout: string
  stderr: string
  timedOut: boolean
  missing: boolean
}

/**
 * Runs a tool with {@link toolEnv} (or `options.env`, no richer) and {@link toolTimeoutMs} (killed with SIGKILL: a hung tool
 * must not hold the apply and its lock for ever). Never rejects.
 */
export function runTool(
  cmd: string,
  args: readonly string[],
  options: { maxBuffer?: number; encoding?: BufferEncoding; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      [...args],
      {
        timeout: toolTimeoutMs(),
        killSignal: 'SIGKILL',
        env: options.env ?? toolEnv(),
        maxBuffer: options.maxBuffer ?? 1 << 20,
        encoding: options.encoding ?? 'utf8',
      },
      (err, stdout, stderr) => {
        const e = err as
          (Error & { code?: unknown; killed?: boolean; signal?: string | null }) | null
        const code = !e ? 0 : typeof e.code === 'number' ? e.code : -1
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr),
          timedOut:
            !!e &&
            e.killed === true &&
            e.signal === 'SIGKILL' &&
            e.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER',
          missing: e?.code === 'ENOENT',
        })
      },
    )
  })
}
