// Test harness: a real PostgreSQL reached over the wire protocol. By default PGlite served in
// process by @electric-sql/pglite-socket (one connection at a time: every helper here closes its
// connection before returning); with CUTOVER_TEST_PG_URL, a fresh database on that server,
// dropped at the end. Extensions PGlite lacks (amqp) are stubbed HERE, never in the product.
import { randomBytes } from 'node:crypto'
import { newPglite } from './pglite.js'

export interface PgServer {
  /** A postgres:// URL of the test database. */
  url: string
  /** PostgreSQL, or PGlite in process. */
  engine: string
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  close(): Promise<void>
}

async function withClient<T>(url: string, f: (c: import('pg').Client) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

function queryer(url: string): PgServer['query'] {
  return (sql, params) =>
    withClient(url, async (c) => (await c.query(sql, params as unknown[])).rows)
}

/** Starts the test database (see the file comment). */
export async function startPg(): Promise<PgServer> {
  const server = process.env.CUTOVER_TEST_PG_URL
  if (server) {
    const name = `cutover_test_${randomBytes(6).toString('hex')}`
    await withClient(server, (c) => c.query(`CREATE DATABASE ${name}`))
    const u = new URL(server)
    u.pathname = `/${name}`
    const url = u.toString()
    return {
      url,
      engine: 'PostgreSQL',
      query: queryer(url),
      close: () =>
        withClient(server, (c) => c.query(`DROP DATABASE ${name} WITH (FORCE)`)).then(
          () => undefined,
        ),
    }
  }
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const db = await newPglite()
  const socket = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' })
  await socket.start()
  const url = `postgres://postgres:pw@${socket.getServerConn()}/postgres`
  return {
    url,
    engine: 'PGlite',
    query: queryer(url),
    close: async () => {
      await socket.stop()
      await db.close()
    },
  }
}

/** Runs a script of several statements (simple query protocol). */
export async function exec(pg: PgServer, sql: string): Promise<void> {
  await pg.query(sql)
}
