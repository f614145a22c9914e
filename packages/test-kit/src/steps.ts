import { applyEdits, type Context, type StepKind, type StepResult } from '@cutover/rewrite'
import { financeContext } from './context.js'

/** Plans one text with a step and returns its result with the edited text, `after`. */
export async function planText<O>(
  step: StepKind<O>,
  text: string,
  options: O,
  ctx: Context = financeContext(),
  path = 'x',
): Promise<StepResult & { after: string }> {
  const r = await step.plan({ path, text, encoding: 'utf8' }, options, ctx)
  const after = applyEdits(text, r.edits)
  return { ...r, after }
}

/** The lines that differ between two texts of the same line count, as [line number, before, after]. */
export function changedLines(before: string, after: string): Array<[number, string, string]> {
  const a = before.split('\n')
  const b = after.split('\n')
  if (a.length !== b.length) throw new Error(`line count changed: ${a.length} -> ${b.length}`)
  return a.flatMap((l, i) => (l === b[i] ? [] : [[i + 1, l, b[i]!] as [number, string, string]]))
}
