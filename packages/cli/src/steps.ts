import { specJsonSchema, type StepKind } from '@cutover/rewrite'
import { allStepKinds } from './kinds.js'

/** Every step kind the `cutover` command knows, in the order the docs list them (its registry's). */
export const stepKinds: readonly StepKind<any>[] = await allStepKinds()

/**
 * The JSON Schema (draft 2020-12) of `cutover.yaml` for the step kinds this CLI registers,
 * generated from the same definitions the spec validator uses.
 */
export function cliSpecSchema(): Record<string, unknown> {
  return specJsonSchema(stepKinds)
}
