import { maskValues, s, type Schema } from '@cutover/rewrite'
import { SqlError } from './errors.js'
import type { Client, ClientConfig } from 'pg'
import { parseConninfo } from './rules.js'

/**
 * Where a live database is, as the `sql` step's `database:` key says: a connection URL (or a libpq
 * `host=… dbname=…` keyword/value string) read from
 * an environment variable or a spec secret (never written in the spec, never printed), or the
 * libpq environment (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`).
 */
export type DatabaseOptions = { url: { env: string } | { secret: string } } | { libpq: true }

const envName = s.string({
  describe: 'an environment variable name',
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
})
const secretName = s.refine(s.string({ describe: 'a secret name' }), (v, node, ctx, at) => {
  if (!ctx.refs.secrets.includes(v))
    return `unknown secret "${v}"; the spec's secrets: ${ctx.refs.secrets.join(', ') || 'none'}`
  ctx.secretUses?.push({ name: v, step: -1, range: s.rangeOf(node, at) })
  return undefined
})

/** Schema of {@link DatabaseOptions}. */
export const databaseOptions = s.refine(
  s.object(
    {
      url: s.refine(
        s.object(
          { env: envName, secret: secretName },
          {
            describe:
              '{ env: NAME } or { secret: NAME }: the variable or secret that holds a postgres:// URL',
          },
        ),
        (v) =>
          'env' in v === 'secret' in v
            ? 'give exactly one of env: NAME and secret: NAME'
            : undefined,
        (b) => ({
          ...b,
          oneOf: [
            { properties: { env: true }, required: ['env'] },
            { properties: { secret: true }, required: ['secret'] },
          ],
        }),
      ),
      libpq: s.refine(
        s.boolean(),
        (v) => (v ? undefined : 'libpq: true, or leave it out'),
        (b) => ({ ...b, const: true }),
      ),
    },
    { describe: 'a mapping with url: { env: NAME } or libpq: true' },
  ),
  (v) =>
    'url' in v === 'libpq' in v
      ? 'give exactly one of url: { env: NAME } and libpq: true'
      : undefined,
  (b) => ({
    ...b,
    oneOf: [
      { properties: { url: true }, required: ['url'] },
      { properties: { libpq: true }, required: ['libpq'] },
    ],
  }),
) as unknown as Schema<DatabaseOptions>

/** How to read the environment and secrets when connecting (plan, apply or recover time). */
export interface ConnectEnv {
  env: Readonly<Record<string, string | undefined>>
  secret(name: string): string
}

/** A node-postgres config from the options; the libpq variables of `env` fill what a URL leaves out. */
export function clientConfig(
  o: DatabaseOptions,
  e: ConnectEnv,
): { config: ClientConfig; secrets: string[] } {
  const env = e.env
  const timeout = Number(env.PGCONNECT_TIMEOUT ?? 10) * 1000
  const base: ClientConfig = {
    host: env.PGHOST,
    port: env.PGPORT ? Number(env.PGPORT) : undefined,
    database: env.PGDATABASE,
    user: env.PGUSER ?? env.USER,
    password: env.PGPASSWORD,
    connectionTimeoutMillis: Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
    application_name: 'cutover',
    ...(env.PGSSLMODE &&
    env.PGSSLMODE !== 'disable' &&
    env.PGSSLMODE !== 'prefer' &&
    env.PGSSLMODE !== 'allow'
      ? {
          ssl: {
            rejectUnauthorized: env.PGSSLMODE === 'verify-full' || env.PGSSLMODE === 'verify-ca',
          },
        }
      : {}),
  }
  if ('libpq' in o) return { config: base, secrets: env.PGPASSWORD ? [env.PGPASSWORD] : [] }
  const url = 'env' in o.url ? env[o.url.env] : e.secret(o.url.secret)
  const from = 'env' in o.url ? `environment variable ${o.url.env}` : `secret ${o.url.secret}`
  if (!url)
    throw new SqlError(
      'DATABASE_URL',
      `the database URL is not set: export ${'env' in o.url ? o.url.env : `the variable of ${from}`}`,
    )
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url.trim()))
    return conninfoConfig(url, base, from, env.PGPASSWORD)
  // node-postgres would throw a bare "Invalid URL" (an internal error to the user); never quote the URL: it may hold the password
  if (!URL.canParse(url.trim()))
    throw new SqlError(
      'DATABASE_URL',
      `the database URL of ${from} is not a valid URL (check its host, port and the percent-encoding of its user and password)`,
    )
  const secrets = [url, ...passwordOf(url), ...(env.PGPASSWORD ? [env.PGPASSWORD] : [])]
  return { config: { ...base, connectionString: url }, secrets }
}

/**
 * A libpq keyword/value connection string (`host=… port=… dbname=… user=… password=…`) as a
 * node-postgres config: node-postgres would read it as a URL path and take all of it, password
 * included, for the database name (and print it in every message naming the database).
 */
function conninfoConfig(
  conninfo: string,
  base: ClientConfig,
  from: string,
  pgPassword: string | undefined,
): { config: ClientConfig; secrets: string[] } {
  const pairs = parseConninfo(conninfo)
  // never quote the string: it may hold the password
  if (!pairs)
    throw new SqlError(
      'DATABASE_URL',
      `the database URL of ${from} is neither a postgres:// URL nor a libpq key=value connection string with host or dbname`,
    )
  const get = (key: string) => pairs.findLast((p) => p.key === key)?.value
  const port = get('port')
  const sslmode = get('sslmode')
  const timeout = Number(get('connect_timeout'))
  const config: ClientConfig = {
    ...base,
    host: get('host') ?? get('hostaddr') ?? base.host,
    port: port ? Number(port) : base.port,
    database: get('dbname') ?? base.database,
    user: get('user') ?? base.user,
    password: get('password') ?? base.password,
    ...(Number.isFinite(timeout) && timeout > 0 ? { connectionTimeoutMillis: timeout * 1000 } : {}),
    ...(sslmode === undefined
      ? {}
      : sslmode === 'disable' || sslmode === 'prefer' || sslmode === 'allow'
        ? { ssl: false }
        : { ssl: { rejectUnauthorized: sslmode === 'verify-full' || sslmode === 'verify-ca' } }),
  }
  const password = get('password')
  return {
    config,
    secrets: [conninfo, ...(password ? [password] : []), ...(pgPassword ? [pgPassword] : [])],
  }
}

function passwordOf(url: string): string[] {
  try {
    const p = new URL(url).password
    return p ? [p, decodeURIComponent(p)] : []
  } catch {
    return []
  }
}

/** `host:port/database as user`: where a client connects, without its password. */
export function describeClient(c: Client): string {
  const where = c.host?.startsWith('/')
    ? `socket ${c.host}`
    : `${c.host ?? 'localhost'}:${c.port ?? 5432}`
  return `PostgreSQL at ${where}, database ${c.database ?? '(default)'} as user ${c.user ?? '(default)'}`
}

/**
 * Connects with node-postgres (imported on first use). Throws a `SqlError` with code
 * `DATABASE_CONNECT` naming host, port, database and user, never the password, when the server
 * cannot be reached or refuses.
 */
export async function connectDatabase(o: DatabaseOptions, e: ConnectEnv): Promise<Client> {
  const { config, secrets } = clientConfig(o, e)
  const { default: pg } = await import('pg')
  const client = new pg.Client(config)
  // an idle connection that the server drops must not crash the process
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (cause) {
    await client.end().catch(() => undefined)
    const why = reason(cause, secrets)
    throw new SqlError('DATABASE_CONNECT', `cannot connect to ${describeClient(client)}: ${why}`)
  }
  return client
}

/** Why a connection failed, in words; only what the server said is masked (a 1-letter password must not garble the rest). */
function reason(e: unknown, secrets: readonly string[]): string {
  const err = e as { code?: string; message?: string; errors?: Array<{ message?: string }> }
  if (err.code === 'ECONNREFUSED')
    return 'connection refused (is the server running and listening there?)'
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'the host name does not resolve'
  if (err.code === 'ETIMEDOUT' || /timeout/i.test(err.message ?? ''))
    return 'the connection timed out'
  const msg = maskValues(
    err.message || err.errors?.map((x) => x.message).join('; ') || String(e),
    secrets,
  )
  return err.code && /^[0-9A-Z]{5}$/.test(err.code)
    ? `the server refused: ${msg} (SQLSTATE ${err.code})`
    : msg
}
