import type { CommonOptions, RuleOptions } from '@cutover/rewrite'
import type { DatabaseOptions } from './pg-connect.js'
import type { PasswordOptions } from './rules.js'

/** Options of the `sql` step: `files:` (dumps) or `database:` (a live server), exactly one. */
export type SqlOptions = Omit<CommonOptions, 'files'> &
  RuleOptions & {
    /** Globs of dump files; absent when the step addresses a live database. */
    files?: string[]
    /** A live PostgreSQL database instead of files (see {@link DatabaseOptions}). */
    database?: DatabaseOptions
    /** Globs on `schema.name` of the functions whose bodies are rewritten (default: all). */
    functions?: string[]
    /** Globs on `schema.name` of the tables whose data rows (COPY, INSERT) are rewritten. */
    tables?: string[]
    /** conninfo host → password (usually `{ secret: NAME }`) set in connection strings to that host. */
    passwords?: PasswordOptions
  }
