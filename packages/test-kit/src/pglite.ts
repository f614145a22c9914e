import { afterAll } from 'vitest'

type Pg = import('@electric-sql/pglite').PGlite

/**
 * One in-process PostgreSQL (PGlite) for the tests of a file, started on first use and closed
 * after the last test. The function returned runs `use` inside a transaction that is rolled back
 * after, so each test sees the database empty.
 */
export function inProcessPg(): <T>(use: (db: Pg) => Promise<T>) => Promise<T> {
  let shared: Promise<Pg> | undefined
  afterAll(async () => {
    if (shared) await (await shared).close()
  })
  return async (use) => {
    shared ??= import('@electric-sql/pglite').then(({ PGlite }) => new PGlite())
    const db = await shared
    await db.exec('BEGIN')
    try {
      return await use(db)
    } finally {
      await db.exec('ROLLBACK')
    }
  }
}
