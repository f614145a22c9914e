import type { StepKind } from '@cutover/rewrite'
import { allStepKinds } from './kinds.js'

/** Every step kind the `cutover` command knows, in the order the docs list them (its registry's). */
export const stepKinds: readonly StepKind<any>[] = await allStepKinds()
