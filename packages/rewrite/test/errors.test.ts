import { describe, expect, it } from 'vitest'
import {
  CutoverError,
  EditConflictError,
  LockError,
  SecretError,
  StalePlanError,
  ValidationError,
  type ErrorCode,
} from '../src/index.js'
import { systemErrorCode } from '../src/errors.js'

describe('error codes', () => {
  it('each subclass carries its code and is a CutoverError', () => {
    const made: Array<[CutoverError, ErrorCode]> = [
      [new EditConflictError('x'), 'EDIT_CONFLICT'],
      [new StalePlanError('x'), 'STALE_PLAN'],
      [new ValidationError('x'), 'VALIDATION_FAILED'],
      [new LockError('x'), 'LOCKED'],
      [new SecretError('x'), 'SECRET'],
    ]
    for (const [e, code] of made) {
      expect(e).toBeInstanceOf(CutoverError)
      expect(e.code).toBe(code)
    }
  })

  it('a code outside the union does not compile, for the engine and for a package of its own', () => {
    // @ts-expect-error: not an engine code
    expect(new CutoverError('NO_SUCH_CODE', 'x').code).toBe('NO_SUCH_CODE')
    type Mine = 'MINE'
    // @ts-expect-error: not one of the given codes
    expect(new CutoverError<Mine>('TARGET', 'x').code).toBe('TARGET')
    expect(new CutoverError<Mine>('MINE', 'x').code).toBe('MINE')
  })

  it("a file-system call's errno code passes as it is; anything else is not one", () => {
    const errno = (code: string) => Object.assign(new Error('x'), { code })
    expect(systemErrorCode(errno('EBUSY'))).toBe('EBUSY')
    expect(systemErrorCode(errno('ERR_FS_FILE_TOO_LARGE'))).toBe('ERR_FS_FILE_TOO_LARGE')
    expect(systemErrorCode(new Error('x'))).toBeUndefined()
    expect(systemErrorCode(undefined)).toBeUndefined()
  })
})
