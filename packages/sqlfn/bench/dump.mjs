// Generates a pg_dump-like schema of about `mb` megabytes holding `count` functions: every tenth
// is an amqp_* trigger function publishing routing keys, every seventh holds a dblink conninfo.
export function generateDump(count = 20000, mb = 50) {
  const pad = Math.max(0, Math.floor((mb * 1024 * 1024) / count) - 700)
  const filler = '    -- bookkeeping: ' + 'x'.repeat(60) + '\n'
  const lines = Math.max(0, Math.floor(pad / filler.length))
  const parts = [
    `--\n-- PostgreSQL database dump\n--\n\n\\restrict bench\n\nSET standard_conforming_strings = on;\nSELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\n`,
  ]
  for (let i = 0; i < count; i++) {
    const name = i % 10 === 0 ? `amqp_f${i}` : `calc_f${i}`
    const keys =
      i % 10 === 0
        ? `    FOREACH k IN ARRAY ARRAY['oas.staff','oas.projects'] LOOP PERFORM amqp.publish(1, 'amq.topic', k, NEW.id::text); END LOOP;\n`
        : ''
    const link =
      i % 7 === 0
        ? `    PERFORM public.dblink_connect('l${i}', 'host=10.0.10.48 port=5432 dbname=finance user=finance');\n`
        : ''
    parts.push(
      `--\n-- Name: ${name}(integer, text); Type: FUNCTION; Schema: public; Owner: finance\n--\n\nCREATE FUNCTION public.${name}(p_id integer, p_note text DEFAULT 'n/a'::text) RETURNS trigger\n    LANGUAGE plpgsql\n    AS $_$\nDECLARE\n    k text;\n    total numeric := 0;\nBEGIN\n${keys}${link}${filler.repeat(lines)}    SELECT sum(amount) INTO total FROM public.ledger WHERE staff_id = $1 AND note <> 'it''s ok';\n    RAISE NOTICE 'total for % is %', p_id, total;\n    RETURN NEW;\nEND;\n$_$;\n\n\nALTER FUNCTION public.${name}(p_id integer, p_note text) OWNER TO finance;\n\n`,
    )
  }
  parts.push(
    'COPY amqp.broker (broker_id, host, port, vhost, username, password) FROM stdin;\n1\t10.0.10.107\t5672\t/\tfinance\t\\N\n\\.\n\n\\unrestrict bench\n',
  )
  return parts.join('')
}
