import { CutoverError } from '@cutover/rewrite'

/** The codes of the errors the command line throws itself (the engine's come as they are). */
export type CliErrorCode =
  | 'CONFIRM'
  | 'PLAN_HASH'
  | 'PLAN_INVALID'
  | 'PLAN_MISSING'
  | 'PLAN_ROOT'
  | 'PLAN_UNTRUSTED'
  | 'PLAN_WRITE'
  | 'SPEC_EXISTS'
  | 'SPEC_MISSING'
  | 'USAGE'

/** A command that cannot run as given: a usage error, a missing or untrusted file, no confirmation. */
export class CliError extends CutoverError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'CliError'
  }
}
