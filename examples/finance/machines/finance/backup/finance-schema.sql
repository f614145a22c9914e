--
-- PostgreSQL database dump
--

\restrict 7QbXv2mK9sLr4TzWc1NdPeYh

-- Dumped from database version 13.16 (Debian 13.16-0+deb11u1)
-- Dumped by pg_dump version 13.16 (Debian 13.16-0+deb11u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: amqp; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA amqp;


ALTER SCHEMA amqp OWNER TO postgres;

--
-- Name: amqp; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS amqp WITH SCHEMA amqp;


--
-- Name: EXTENSION amqp; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION amqp IS 'functions for AMQP 0.9.1 (RabbitMQ)';


--
-- Name: dblink; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public;


--
-- Name: EXTENSION dblink; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION dblink IS 'connect to other PostgreSQL databases from within a database';


--
-- Name: amqp_projects(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.amqp_projects() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- tell the archives (archives-db) that a project changed
    PERFORM amqp.publish(1, 'amq.topic', 'oas.projects',
        json_build_object('op', TG_OP, 'project', NEW.project_code, 'title', NEW.title)::text);
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
    -- staff changes go to timesheets, admin and the archives through RabbitMQ (10.0.10.107)
    FOREACH key IN ARRAY ARRAY['oas.staff','oas.projects'] LOOP
        PERFORM amqp.publish(1, 'amq.topic', key,
            json_build_object('op', TG_OP, 'staff', NEW.staff_id, 'name', NEW.full_name)::text);
    END LOOP;
    RAISE NOTICE 'published staff % with $1-style keys', NEW.staff_id;
    RETURN NEW;
END;
$_$;


ALTER FUNCTION public.amqp_staff() OWNER TO finance;

--
-- Name: pull_timesheets(date); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.pull_timesheets(since date) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO public.timesheet_hours (staff_id, project_code, work_date, hours)
    SELECT t.staff_id, t.project_code, t.work_date, t.hours
      FROM public.dblink('host=10.0.10.23 port=5432 dbname=timesheets user=finance password=Tr1al-2019',
                         format('SELECT staff_id, project_code, work_date, hours FROM hours WHERE work_date >= %L', since))
        AS t(staff_id integer, project_code text, work_date date, hours numeric);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;


ALTER FUNCTION public.pull_timesheets(since date) OWNER TO finance;

--
-- Name: sync_staff_from_hrdb(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.sync_staff_from_hrdb() RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM public.dblink_connect('hrdb', 'host=10.0.10.42 dbname=hrdb user=finance');
    INSERT INTO public.staff (staff_id, full_name, email)
    SELECT s.id, s.full_name, s.email
      FROM public.dblink('hrdb', 'SELECT id, full_name, email FROM staff') AS s(id integer, full_name text, email text)
    ON CONFLICT (staff_id) DO UPDATE SET full_name = EXCLUDED.full_name, email = EXCLUDED.email;
    PERFORM public.dblink_disconnect('hrdb');
END;
$$;


ALTER FUNCTION public.sync_staff_from_hrdb() OWNER TO finance;

--
-- Name: finance_dsn(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.finance_dsn() RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT 'host=10.0.10.48 dbname=finance user=finance'::text
$$;


ALTER FUNCTION public.finance_dsn() OWNER TO finance;

--
-- Name: touch_updated(); Type: FUNCTION; Schema: public; Owner: finance
--

CREATE FUNCTION public.touch_updated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated := now();
    RETURN NEW;
END;
$$;


ALTER FUNCTION public.touch_updated() OWNER TO finance;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: projects; Type: TABLE; Schema: public; Owner: finance
--

CREATE TABLE public.projects (
    project_code text NOT NULL,
    title text NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.projects OWNER TO finance;

--
-- Name: staff; Type: TABLE; Schema: public; Owner: finance
--

CREATE TABLE public.staff (
    staff_id integer NOT NULL,
    full_name text NOT NULL,
    email text,
    updated timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.staff OWNER TO finance;

--
-- Name: timesheet_hours; Type: TABLE; Schema: public; Owner: finance
--

CREATE TABLE public.timesheet_hours (
    staff_id integer NOT NULL,
    project_code text NOT NULL,
    work_date date NOT NULL,
    hours numeric(5,2) NOT NULL
);


ALTER TABLE public.timesheet_hours OWNER TO finance;

--
-- Data for Name: broker; Type: TABLE DATA; Schema: amqp; Owner: postgres
--

COPY amqp.broker (broker_id, host, port, vhost, username, password) FROM stdin;
1	10.0.10.107	5672	/finance	finance	\N
\.


--
-- Name: projects projects_pkey; Type: CONSTRAINT; Schema: public; Owner: finance
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (project_code);


--
-- Name: staff staff_pkey; Type: CONSTRAINT; Schema: public; Owner: finance
--

ALTER TABLE ONLY public.staff
    ADD CONSTRAINT staff_pkey PRIMARY KEY (staff_id);


--
-- Name: projects amqp_projects; Type: TRIGGER; Schema: public; Owner: finance
--

CREATE TRIGGER amqp_projects AFTER INSERT OR UPDATE ON public.projects FOR EACH ROW EXECUTE FUNCTION public.amqp_projects();


--
-- Name: staff amqp_staff; Type: TRIGGER; Schema: public; Owner: finance
--

CREATE TRIGGER amqp_staff AFTER INSERT OR UPDATE ON public.staff FOR EACH ROW EXECUTE FUNCTION public.amqp_staff();


--
-- Name: staff touch_updated; Type: TRIGGER; Schema: public; Owner: finance
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON public.staff FOR EACH ROW EXECUTE FUNCTION public.touch_updated();


--
-- PostgreSQL database dump complete
--

\unrestrict 7QbXv2mK9sLr4TzWc1NdPeYh

