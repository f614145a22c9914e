/**
 * The codes of the errors the engine throws. Each package that throws a {@link CutoverError} of
 * its own names its codes the same way (e.g. `HostsErrorCode`, `SqlErrorCode`, the CLI's
 * `CliErrorCode`) and gives them as the type argument: a code outside the union does not compile.
 */
export type ErrorCode =
  | 'DIR_UNREADABLE'
  | 'EDIT_CONFLICT'
  | 'ENCODING'
  | 'ENGINE'
  | 'FAULT'
  | 'FILE_TOO_LARGE'
  | 'INPUT_INVALID'
  | 'LINK_LOOP'
  | 'LOCKED'
  | 'MACHINE'
  | 'METADATA'
  | 'NOTHING_TO_ROLL_BACK'
  | 'OUTSIDE_ROOT'
  | 'PLAN_INVALID'
  | 'PLAN_ROOT'
  | 'PROFILE'
  | 'RECOVER_DATABASE'
  | 'RECOVER_FLEET'
  | 'RECOVER_MOVED'
  | 'ROLLBACK_DATABASE'
  | 'ROLLBACK_STALE'
  | 'ROOT'
  | 'RULE_CONFLICT'
  | 'SECRET'
  | 'SPEC_INVALID'
  | 'STALE_PLAN'
  | 'STATE'
  | 'STATE_DIR'
  | 'TARGET'
  | 'TARGET_MOVED'
  | 'USER_WRITABLE'
  | 'VALIDATION_FAILED'
  | SystemErrorCode

/**
 * The code of a file-system call's error (`EBUSY`, `EXDEV`, `EROFS`, …) that the transaction
 * passes on as it is when a target cannot be replaced.
 */
export type SystemErrorCode = `E${Uppercase<string>}`

/**
 * The one family of errors cutover throws for misuse and for refusals.
 * Bad *input* is reported as {@link Diagnostic} data instead; these are for the caller.
 * `C` is the union of codes of the package that throws it (the engine's {@link ErrorCode} unless
 * given); it is never inferred from the code, so that a code outside the union is an error.
 */
export class CutoverError<C extends string = ErrorCode> extends Error {
  /** A stable code that tests and scripts match on. */
  readonly code: C
  constructor(code: NoInfer<C>, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CutoverError'
    this.code = code
  }
}

/** Two edits of one text overlap: names both rules and the position. */
export class EditConflictError extends CutoverError {
  constructor(message: string) {
    super('EDIT_CONFLICT', message)
    this.name = 'EditConflictError'
  }
}

/** The spec is invalid; `diagnostics` holds every problem found, each with a YAML range. */
export class SpecError extends CutoverError {
  readonly diagnostics: readonly import('./diff/diagnostic-data.js').Diagnostic[]
  readonly source: string
  readonly path: string
  constructor(
    path: string,
    source: string,
    diagnostics: readonly import('./diff/diagnostic-data.js').Diagnostic[],
  ) {
    super(
      'SPEC_INVALID',
      `${path}: ${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'} in the spec`,
    )
    this.name = 'SpecError'
    this.path = path
    this.source = source
    this.diagnostics = diagnostics
  }
}

/** A target changed since the plan was made; nothing was written. */
export class StalePlanError extends CutoverError {
  constructor(message: string) {
    super('STALE_PLAN', message)
    this.name = 'StalePlanError'
  }
}

/** A staged file failed its validator (visudo, php -l, …); nothing was written. */
export class ValidationError extends CutoverError {
  constructor(message: string) {
    super('VALIDATION_FAILED', message)
    this.name = 'ValidationError'
  }
}

/** Another cutover process holds the state directory's lock. */
export class LockError extends CutoverError {
  constructor(message: string) {
    super('LOCKED', message)
    this.name = 'LockError'
  }
}

/** A secret named by the spec or a plan is missing or different from when the plan was made. */
export class SecretError extends CutoverError {
  constructor(message: string) {
    super('SECRET', message)
    this.name = 'SecretError'
  }
}

/** Input files that a step cannot handle (parse errors with positions). */
export class InputError extends CutoverError {
  readonly diagnostics: readonly import('./diff/diagnostic-data.js').Diagnostic[]
  readonly path: string
  readonly source: string
  /** What formatting must show as `(sensitive)` (see `formatDiagnostic`): spans of `source`, values as words, and the values of keys named so. */
  readonly hide:
    | {
        spans?: ReadonlyArray<{ start: number; end: number }>
        values?: readonly string[]
        keys?: readonly string[]
      }
    | undefined
  constructor(
    path: string,
    source: string,
    diagnostics: readonly import('./diff/diagnostic-data.js').Diagnostic[],
    hide?: {
      spans?: ReadonlyArray<{ start: number; end: number }>
      values?: readonly string[]
      keys?: readonly string[]
    },
  ) {
    super('INPUT_INVALID', `${path}: cannot be rewritten safely`)
    this.name = 'InputError'
    this.path = path
    this.source = source
    this.diagnostics = diagnostics
    this.hide = hide
  }
}

/** The errno code of a file-system call's error (`EBUSY`, …), or undefined for any other error. */
export function systemErrorCode(e: unknown): SystemErrorCode | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code)
    ? (code as SystemErrorCode)
    : undefined
}
