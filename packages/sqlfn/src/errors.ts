import { CutoverError } from '@cutover/rewrite'

/** The codes of the errors the sql package throws. */
export type SqlErrorCode = 'SQL_LEX' | 'DATABASE_URL' | 'DATABASE_CONNECT' | 'DATABASE_APPLY'

/** The SQL lexer is not ready, or a live database cannot be reached or written as planned. */
export class SqlError extends CutoverError<SqlErrorCode> {
  constructor(code: SqlErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'SqlError'
  }
}
