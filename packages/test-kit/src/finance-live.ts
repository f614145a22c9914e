// The live database of issue 8's acceptance, loaded at run time: three amqp_* trigger functions
// (publishing through the amqp stub), a dblink function with a conninfo to the finance VM, an
// unrelated function, and the amqp.broker row by address.
import { AMQP_STUB } from './amqp-stub.js'
import type { PgServer } from './pg-server.js'

export const SECRET = "s3cr3t'pw"

const trigger = (name: string, keys: string[], extra = '') => `
CREATE FUNCTION public.${name}() RETURNS trigger LANGUAGE plpgsql ${extra} AS $$
DECLARE
    key text;
BEGIN
    -- was published from the finance VM at 10.0.10.48
    FOREACH key IN ARRAY ARRAY[${keys.map((k) => `'${k}'`).join(', ')}] LOOP
        PERFORM amqp.publish(1, 'amq.topic', key, row_to_json(NEW)::text);
    END LOOP;
    RETURN NEW;
END;
$$;`

export const LIVE_SCHEMA = `
DO $$ BEGIN CREATE ROLE finance; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE reporting; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
${AMQP_STUB}
INSERT INTO amqp.broker (host, vhost, username) VALUES ('10.0.10.107', '/', 'finance');
GRANT USAGE ON SCHEMA amqp TO finance;
GRANT INSERT ON amqp.published TO finance;
CREATE TABLE public.staff (staff_id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE public.projects (code text PRIMARY KEY);
CREATE TABLE public.timesheets (sheet_id integer PRIMARY KEY, hours numeric);
${trigger('amqp_staff', ['oas.staff', 'oas.projects'], 'SECURITY DEFINER SET search_path = public, amqp')}
ALTER FUNCTION public.amqp_staff() OWNER TO finance;
REVOKE ALL ON FUNCTION public.amqp_staff() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.amqp_staff() TO reporting;
COMMENT ON FUNCTION public.amqp_staff() IS 'publishes staff changes to RabbitMQ';
${trigger('amqp_projects', ['oas.projects'])}
${trigger('amqp_timesheets', ['oas.timesheets'])}
CREATE TRIGGER amqp_staff AFTER INSERT ON public.staff FOR EACH ROW EXECUTE FUNCTION public.amqp_staff();
CREATE TRIGGER amqp_projects AFTER INSERT ON public.projects FOR EACH ROW EXECUTE FUNCTION public.amqp_projects();
CREATE TRIGGER amqp_timesheets AFTER INSERT ON public.timesheets FOR EACH ROW EXECUTE FUNCTION public.amqp_timesheets();
CREATE FUNCTION public.sync_totals() RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
BEGIN
    SELECT t.total INTO total
      FROM public.dblink('host=10.0.10.48 dbname=finance user=finance password=''old pass''', 'SELECT sum(amount) FROM ledger') AS t(total numeric);
    RETURN total;
END;
$$;
CREATE FUNCTION public.default_key() RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff'::text $$;
`

export const SPEC = `version: 1
hosts:
  finance.thehumanjourney.net:  { old: 10.0.10.48, new: 10.0.10.49 }
  rabbitmq.thehumanjourney.net: { old: 10.0.10.107, new: 10.0.10.108 }
profiles: [test, live]
variants:
  routing-keys:
    - { test: oas.staff.test,      live: oas.staff }
    - { test: oas.projects.test,   live: oas.projects }
    - { test: oas.timesheets.test, live: oas.timesheets }
secrets:
  FINANCE_DB_PASSWORD: { env: FINANCE_DB_PASSWORD }
steps:
  - sql:
      database: { url: { env: FINANCE_PG_URL } }
      functions: ["public.amqp_*", "public.sync_*"]
      tables: [amqp.broker]
      addresses: names
      variants: [routing-keys]
      passwords:
        finance.thehumanjourney.net: { secret: FINANCE_DB_PASSWORD }
`

/**
 * A database for the live target's edge cases: an overloaded function (amqp_send with one and two
 * arguments), a table without a primary key holding the broker's address, and the broker row.
 */
export const OVERLOADS = `${AMQP_STUB}
CREATE FUNCTION public.amqp_send(key text) RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff' $$;
CREATE FUNCTION public.amqp_send(key text, n integer) RETURNS text LANGUAGE sql AS $$ SELECT 'oas.staff' || n $$;
CREATE TABLE amqp.hosts (host text, note text);
INSERT INTO amqp.hosts VALUES ('10.0.10.107', 'broker'), ('10.0.10.9', 'other');
INSERT INTO amqp.broker (host) VALUES ('10.0.10.107');`

/** Fires the three triggers once and returns the routing keys published (sorted), then clears them. */
export async function fire(pg: PgServer): Promise<string[]> {
  const n = Math.floor(Math.random() * 1e9)
  await pg.query(
    `INSERT INTO public.staff VALUES (${n}, 'Ada'); INSERT INTO public.projects VALUES ('P-${n}'); INSERT INTO public.timesheets VALUES (${n}, 7.5)`,
  )
  const rows = await pg.query<{ routing_key: string }>(
    'SELECT routing_key FROM amqp.published ORDER BY 1',
  )
  await pg.query('DELETE FROM amqp.published')
  return rows.map((r) => r.routing_key)
}

/** Definitions of the database's functions by name (schema.name(args)). */
export async function definitions(pg: PgServer): Promise<Record<string, string>> {
  const rows = await pg.query<{ name: string; def: string }>(`
    SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name, pg_get_functiondef(p.oid) AS def
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('public', 'amqp') ORDER BY 1`)
  return Object.fromEntries(rows.map((r) => [r.name, r.def]))
}

export async function brokerHost(pg: PgServer): Promise<string> {
  const [row] = await pg.query<{ host: string }>('SELECT host FROM amqp.broker WHERE broker_id = 1')
  return row!.host
}
