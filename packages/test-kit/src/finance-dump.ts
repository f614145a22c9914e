// The acceptance dump of issue 6, made at run time (kept outside the repository). Expected outputs
// come from the same template with only the intended values changed, so every other byte is
// compared too.

export interface DumpValues {
  staffKeys: [string, string]
  projectsKey: string
  financeHost: string
  /** The password as written inside the conninfo inside the SQL literal. */
  password: string
  brokerHost: string
}

export const original: DumpValues = {
  staffKeys: ['oas.staff', 'oas.projects'],
  projectsKey: 'oas.projects',
  financeHost: '10.0.10.48',
  password: "''old pass''",
  brokerHost: '10.0.10.107',
}

export const SECRET = "s3cr3t'pw"

export const testResult: DumpValues = {
  staffKeys: ['oas.staff.test', 'oas.projects.test'],
  projectsKey: 'oas.projects.test',
  financeHost: 'finance.thehumanjourney.net',
  password: "''s3cr3t\\''pw''",
  brokerHost: 'rabbitmq.thehumanjourney.net',
}

export const liveResult: DumpValues = {
  ...testResult,
  staffKeys: ['oas.staff', 'oas.projects'],
  projectsKey: 'oas.projects',
}

export const spec = `version: 1
hosts:
  finance.thehumanjourney.net:  { old: 10.0.10.48, new: 10.0.10.49 }
  rabbitmq.thehumanjourney.net: { old: 10.0.10.107, new: 10.0.10.108 }
profiles: [test, live]
variants:
  routing-keys:
    - { test: oas.staff.test,    live: oas.staff }
    - { test: oas.projects.test, live: oas.projects }
secrets:
  FINANCE_DB_PASSWORD: { env: FINANCE_DB_PASSWORD }
steps:
  - sql:
      files: ["backup/*-schema.sql"]
      functions: ["public.amqp_*", "public.sync_*"]
      tables: [amqp.broker]
      addresses: names
      variants: [routing-keys]
      passwords:
        finance.thehumanjourney.net: { secret: FINANCE_DB_PASSWORD }
`

export function financeDump(v: DumpValues): string {
  return `--
-- PostgreSQL database dump
--

\\restrict Hk2cVq8RrA0

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET client_min_messages = warning;

CREATE SCHEMA amqp;

ALTER SCHEMA amqp OWNER TO postgres;

CREATE EXTENSION IF NOT EXISTS amqp WITH SCHEMA amqp;

COMMENT ON EXTENSION amqp IS 'functions for AMQP 0.9.1 (RabbitMQ)';

CREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public;

--
-- Name: amqp_projects(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.amqp_projects() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM amqp.publish(1, 'amq.topic', '${v.projectsKey}', NEW.code);
    RETURN NEW;
END;
$$;


ALTER FUNCTION public.amqp_projects() OWNER TO finance;

--
-- Name: amqp_staff(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.amqp_staff() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$
DECLARE
    key text;
BEGIN
    -- was published from the finance VM at 10.0.10.48 /* not ; a statement */
    FOREACH key IN ARRAY ARRAY['${v.staffKeys[0]}','${v.staffKeys[1]}'] LOOP
        PERFORM amqp.publish(1, 'amq.topic', key, NEW.name);
    END LOOP;
    RAISE NOTICE 'it''s oas.staff.extra and $1';
    RETURN NEW;
END;
$_$;


ALTER FUNCTION public.amqp_staff() OWNER TO finance;

--
-- Name: default_key(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.default_key() RETURNS text
    LANGUAGE sql
    AS $$ SELECT 'oas.staff'::text $$;


--
-- Name: sync_totals(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.sync_totals() RETURNS numeric
    LANGUAGE plpgsql
    AS $$
DECLARE
    total numeric;
BEGIN
    SELECT t.total INTO total
      FROM public.dblink('host=${v.financeHost} dbname=finance user=finance password=${v.password}', 'SELECT sum(amount) FROM ledger') AS t(total numeric);
    PERFORM public.dblink_connect('archive', 'postgresql://finance@${v.financeHost}:5432/finance');
    RETURN total;
END;
$$;


CREATE TABLE public.projects (
    code text NOT NULL
);

CREATE TABLE public.staff (
    staff_id integer NOT NULL,
    name text NOT NULL
);

--
-- Data for Name: broker; Type: TABLE DATA; Schema: amqp; Owner: postgres
--

COPY amqp.broker (broker_id, host, port, vhost, username, password) FROM stdin;
1	${v.brokerHost}	5672	/	finance	\\N
\\.


CREATE TRIGGER amqp_projects AFTER INSERT OR UPDATE ON public.projects FOR EACH ROW EXECUTE FUNCTION public.amqp_projects();

CREATE TRIGGER amqp_staff AFTER INSERT OR UPDATE ON public.staff FOR EACH ROW EXECUTE FUNCTION public.amqp_staff();

--
-- PostgreSQL database dump complete
--

\\unrestrict Hk2cVq8RrA0
`
}
