import { vi } from 'vitest'

/**
 * Runs `fn` with `CUTOVER_TRACE_PHASES` set to `env` (unset when undefined) and each write to
 * stderr pushed to `lines` instead of printed; the variable and stderr are as before afterwards.
 * The tests of the plan's stage trace and of the transaction's phase trace share it.
 */
export async function traced(
  env: string | undefined,
  lines: string[],
  fn: () => Promise<unknown>,
): Promise<string[]> {
  const old = process.env.CUTOVER_TRACE_PHASES
  if (env === undefined) delete process.env.CUTOVER_TRACE_PHASES
  else process.env.CUTOVER_TRACE_PHASES = env
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk))
    return true
  })
  try {
    await fn()
  } finally {
    write.mockRestore()
    if (old === undefined) delete process.env.CUTOVER_TRACE_PHASES
    else process.env.CUTOVER_TRACE_PHASES = old
  }
  return lines
}
