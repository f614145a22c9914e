import { expect } from 'vitest'
import { LineIndex, SpecError, parseSpec, textStep } from '../src/index.js'

/** The step kinds the spec tests parse with. */
export const kinds = [textStep]

/** The diagnostics of a spec that must be rejected, each with its 1-based line and column. */
export function errorsOf(source: string) {
  try {
    parseSpec(source, 'cutover.yaml', kinds)
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError)
    const idx = new LineIndex(source)
    return (e as SpecError).diagnostics.map((d) => ({
      code: d.code,
      ...idx.position(d.range.start),
      message: d.message,
    }))
  }
  throw new Error('expected the spec to be rejected')
}
