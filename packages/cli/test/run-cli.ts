import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'

/** What a run of the CLI gave: its exit code and what it wrote on stdout and stderr. */
export interface CliRun {
  code: number
  out: string
  err: string
}

export interface CliOptions {
  /** The directory relative paths of `argv` are read from (the CLI's cwd; default this process's). */
  cwd?: string
  /**
   * The CLI's environment: this process's with `env` added (as a spawned `cutover` inherits it),
   * or with `inherit: false` `env` and what the product reads from this process's environment
   * whatever io says ({@link PROCESS_ENV}).
   */
  env?: Record<string, string>
  inherit?: boolean
}

/**
 * What the product reads from `process.env` itself rather than from the CLI's `io.env`: the tools'
 * search path and timeout (php, visudo, named-checkzone), the SQL scanner, the transaction's phase
 * trace, the temporary directory, ssh's home. A spawned binary would see a test's value of one of these; a run in this process
 * would not, so a run that sets one differently spawns the binary.
 */
export const PROCESS_ENV = [
  'PATH',
  'HOME',
  'TMPDIR',
  'CUTOVER_TOOL_TIMEOUT_MS',
  'CUTOVER_SQL_SCANNER',
  'CUTOVER_TRACE_PHASES',
]

/**
 * Runs the `cutover` command in this process, `run(argv, io)` with its output captured, for a test
 * that checks what the command does rather than the process: each spawned run paid a node start and
 * the bundle's load (≈ 0.3–0.5 s of CPU). The tests of the binary itself (launcher, bundle, signals,
 * a crash's exit) spawn it.
 *
 * The CLI takes its directory and environment from `io`; what it reads from `process.env` instead
 * ({@link PROCESS_ENV}) must be this process's, and an injected fault (CUTOVER_FAULT_INJECT) kills
 * the process it runs in: such runs spawn the binary, and this refuses them. The tools it spawns
 * (a step's `validate:` command, php, visudo) start in this process's directory, not `cwd`: a
 * test whose command names a relative path spawns the binary too.
 */
export async function runCli(argv: readonly string[], o: CliOptions = {}): Promise<CliRun> {
  const own: Record<string, string> = {}
  for (const name of PROCESS_ENV) if (process.env[name] !== undefined) own[name] = process.env[name]
  const env = o.inherit === false ? { ...own, ...o.env } : { ...process.env, ...o.env }
  // recover and rollback of one root read it from process.env, not io.env: refused from either
  if (env.CUTOVER_FAULT_INJECT !== undefined || process.env.CUTOVER_FAULT_INJECT !== undefined)
    throw new Error('runCli: a run with CUTOVER_FAULT_INJECT would kill the test worker; spawn it')
  for (const name of PROCESS_ENV)
    if (env[name] !== process.env[name])
      throw new Error(`runCli: the CLI reads ${name} from process.env, not io.env; spawn it`)
  const io = memoryIo({ cwd: o.cwd ?? process.cwd(), env })
  const code = await run(argv, io)
  return { code, out: io.out(), err: io.err() }
}
