import { applyEdits, checkEdits, type Context, type Edit, type StepKind } from '@cutover/rewrite'
import { expect } from 'vitest'

/** How a test re-reads the text that edits produced: the format's parser and what it reports. */
export interface EditFormat<D> {
  parse(text: string): D
  /** The problems the parser found in a document (malformed lines, syntax errors). */
  errors(doc: D): readonly unknown[]
  /** When given, printing the parsed result gives it back byte for byte. */
  print?(doc: D): string
  /**
   * True: the result parses with no error at all. False (a lenient format that keeps malformed
   * lines as they are): the result has no more errors than the source had.
   */
  clean: boolean
}

/**
 * Checks edits the way every step kind's must hold and returns the edited text: in bounds and no
 * overlap (`checkEdits`), a clean re-parse of the result (see `EditFormat`), and `[]` when
 * `again`, the same intent planned on the result, runs.
 */
export function expectValidEdits<D>(
  format: EditFormat<D>,
  src: string,
  edits: readonly Edit[],
  again?: (doc: D) => readonly Edit[],
): string {
  checkEdits(src, edits)
  const out = applyEdits(src, edits)
  const doc = format.parse(out)
  if (format.print) expect(format.print(doc)).toBe(out)
  if (format.clean) expect(format.errors(doc)).toEqual([])
  else
    expect(format.errors(doc).length).toBeLessThanOrEqual(format.errors(format.parse(src)).length)
  if (again) expect(again(doc)).toEqual([])
  return out
}

/**
 * The contract of every step kind on one input, as {@link expectValidEdits} states it for edits
 * made by hand: plans `text` with `step`, checks the edits (in bounds, no overlap), re-reads the
 * result with `problems` (it has no more problems than the input had), and plans the result
 * again, which must edit nothing. Returns the edited text.
 */
export async function expectValidStepEdits<O>(
  step: StepKind<O>,
  file: { path: string; text: string },
  options: O,
  ctx: Context,
  problems: (text: string, path: string) => readonly unknown[] | Promise<readonly unknown[]>,
): Promise<string> {
  const first = await step.plan({ ...file, encoding: 'utf8' }, options, ctx)
  checkEdits(file.text, first.edits)
  const out = applyEdits(file.text, first.edits)
  const before = (await problems(file.text, file.path)).length
  expect((await problems(out, file.path)).length).toBeLessThanOrEqual(before)
  const again = await step.plan({ path: file.path, text: out, encoding: 'utf8' }, options, ctx)
  expect(again.edits).toEqual([])
  return out
}
