import { hostsStep } from '@cutover/hosts'
import { phpStep, textStep, type StepKind } from '@cutover/rewrite'

/** Every step kind the `cutover` command knows, in the order the docs list them. */
export const stepKinds: readonly StepKind<any>[] = [textStep, phpStep, hostsStep]
