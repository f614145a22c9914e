import {
  CutoverError,
  InputError,
  LineIndex,
  SpecError,
  formatDiagnostic,
  showControls,
} from '@cutover/rewrite'
import type { Io } from '../io.js'

/** A message naming files as a terminal may show it: each line's control characters made visible. */
export function visible(message: string): string {
  return message.split('\n').map(showControls).join('\n')
}

/** Formats an error for people: diagnostics with path:line:col and a caret; never a stack for a user mistake. */
export function describeError(e: unknown, io: Io): string {
  if (e instanceof SpecError || e instanceof InputError) {
    const kind = e instanceof SpecError ? 'invalid spec' : 'cannot rewrite'
    const index = new LineIndex(e.source) // one index of the file for all its diagnostics
    return [
      `cutover: ${kind}: ${e.diagnostics.length} error(s)`,
      ...e.diagnostics.map((d) =>
        formatDiagnostic(e.path, index, d, e instanceof InputError ? e.hide : undefined),
      ),
    ].join('\n')
  }
  if (e instanceof CutoverError) return `cutover: ${e.message}`
  const err = e as NodeJS.ErrnoException
  if (err && typeof err.code === 'string' && err.syscall) return `cutover: ${err.message}`
  return `cutover: internal error: ${err?.message ?? String(e)}${io.env.CUTOVER_DEBUG ? `\n${err?.stack ?? ''}` : ' (set CUTOVER_DEBUG=1 for details)'}`
}
