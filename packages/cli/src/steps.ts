import { iniStep, jsonStep, jsStep, phpStep } from '@cutover/formats'
import { hostsStep } from '@cutover/hosts'
import { textStep, type StepKind } from '@cutover/rewrite'
import { sqlStep } from '@cutover/sqlfn'
import { sudoersStep } from '@cutover/sudoers'

/** Every step kind the `cutover` command knows, in the order the docs list them. */
export const stepKinds: readonly StepKind<any>[] = [
  textStep,
  phpStep,
  iniStep,
  jsonStep,
  jsStep,
  hostsStep,
  sudoersStep,
  sqlStep,
]
