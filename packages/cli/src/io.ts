/** Where the CLI reads and writes: the process's streams, or a test's buffers. */
export interface Io {
  stdout: { write(s: string): unknown }
  stderr: { write(s: string): unknown }
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  /** stdout is a terminal: colors and the progress line. */
  isTTY: boolean
  /** stderr is a terminal: the progress line (defaults to `isTTY`). */
  stderrIsTTY?: boolean
  /** stdin is a terminal: `apply` may ask for confirmation. */
  stdinIsTTY: boolean
  /**
   * Asks a yes/no question on the terminal and resolves to the answer (the `cutover` binary reads
   * it from /dev/tty, or stdin when that is a terminal). Without it, or without `stdinIsTTY`,
   * `apply` and `rollback` refuse unless `--yes`.
   */
  confirm?(question: string): Promise<boolean>
}

/** Collects output in memory, for tests. */
export function memoryIo(
  overrides: Partial<Io> = {},
): Io & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: {},
    cwd: process.cwd(),
    isTTY: false,
    stdinIsTTY: false,
    ...overrides,
    out: () => out,
    err: () => err,
  }
}
