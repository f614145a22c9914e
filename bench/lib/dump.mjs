// Generates a pg_dump of about `mb` megabytes with `functions` plpgsql functions: every tenth an
// amqp_* trigger function publishing routing keys, every seventh reaching another database by a
// dblink conninfo string, COPY blocks of audit data (holding decoys), and the amqp.broker table.
// Sites (what must change, what must not) are recorded as for the fleet.
import { createHash } from 'node:crypto'
import { closeSync, openSync, writeSync } from 'node:fs'
import { decoysOf, inventory } from './inventory.mjs'
import { random } from './rand.mjs'

const STMTS = [
  "    SELECT sum(amount) INTO total FROM public.ledger WHERE staff_id = p_id AND note <> 'it''s ok';",
  '    UPDATE public.timesheet SET approved = true WHERE id = p_id AND approved IS NULL;',
  "    IF total > 1000 THEN RAISE NOTICE 'large total % for %', total, p_id; END IF;",
  "    INSERT INTO public.audit(kind, ref, at) VALUES ('calc', p_id, now());",
  "    PERFORM pg_notify('ledger', p_id::text);",
  '    -- bookkeeping rounds to cents before the totals are compared',
  '    total := round(total * 100) / 100;',
  '    FOR r IN SELECT * FROM public.project WHERE owner = p_id LOOP total := total + r.budget; END LOOP;',
]

/** Writes the dump to `path`; returns the expected description of its sites. */
export function generateDump(path, { functions = 20000, mb = 50, seed = 7 } = {}) {
  const rng = random(seed)
  const fd = openSync(path, 'w')
  const exp = createHash('sha256')
  const sites = []
  let offset = 0
  let pending = ''
  let pendingExp = ''
  const put = (s) => {
    pending += s
    pendingExp += s
  }
  const site = (was, want) => {
    sites.push([offset + pending.length, was, want])
    pending += was
    pendingExp += want
  }
  const flush = () => {
    writeSync(fd, pending)
    exp.update(pendingExp)
    offset += pending.length
    pending = ''
    pendingExp = ''
  }
  const decoys = inventory
    .flatMap((h) => decoysOf(h.old).slice(0, 3))
    .filter((d) => !inventory.some((h) => h.old === d))
  const perFunction = Math.floor((mb * 1048576 * 0.9) / functions)
  put(
    "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\nSET standard_conforming_strings = on;\nSELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\n\nCREATE SCHEMA amqp;\n\nCREATE TABLE amqp.broker (broker_id integer NOT NULL, host text NOT NULL, port integer, vhost text, username text, password text);\n\nCREATE TABLE public.audit_log (id integer, at timestamp with time zone, who text, what text);\n\n",
  )
  let functionsWithKeys = 0
  for (let i = 0; i < functions; i++) {
    const name = i % 10 === 0 ? `amqp_publish_${i}` : `calc_${i}`
    put(
      `--\n-- Name: ${name}(integer, text); Type: FUNCTION; Schema: public; Owner: finance\n--\n\nCREATE FUNCTION public.${name}(p_id integer, p_note text DEFAULT 'n/a'::text) RETURNS trigger\n    LANGUAGE plpgsql\n    AS $_$\nDECLARE\n    k text;\n    r record;\n    total numeric := 0;\nBEGIN\n`,
    )
    const start = pending.length
    if (i % 10 === 0) {
      functionsWithKeys++
      put("    FOREACH k IN ARRAY ARRAY['")
      site('oas.staff', 'oas.staff.test')
      put("','")
      site('oas.projects', 'oas.projects.test')
      put("'] LOOP PERFORM amqp.publish(1, 'amq.topic', k, NEW.id::text); END LOOP;\n")
    }
    if (i % 7 === 0) {
      const h = rng.pick(inventory)
      put(`    PERFORM public.dblink_connect('l${i}', 'host=`)
      site(h.old, h.name)
      put(" port=5432 dbname=finance user=finance');\n")
    }
    if (i % 13 === 0) {
      put("    RAISE NOTICE 'migrated from ")
      {
        const d = rng.pick(decoys)
        site(d, d)
      }
      put("';\n")
    }
    while (pending.length - start < perFunction - 400) put(rng.pick(STMTS) + '\n')
    put(
      `    RETURN NEW;\nEND;\n$_$;\n\n\nALTER FUNCTION public.${name}(p_id integer, p_note text) OWNER TO finance;\n\n`,
    )
    if (i % 1000 === 999) {
      put(
        '--\n-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: finance\n--\n\nCOPY public.audit_log (id, at, who, what) FROM stdin;\n',
      )
      for (let r = 0; r < 100; r++) {
        put(
          `${i * 100 + r}\t2024-0${1 + rng.int(9)}-1${rng.int(10)} 10:00:00+00\tstaff${rng.int(500)}\t`,
        )
        if (r % 50 === 0) {
          const d = rng.pick(decoys)
          site(d, d)
        } else put(`updated ledger row ${rng.int(100000)}`)
        put('\n')
      }
      put('\\.\n\n\n')
    }
    if (pending.length > 1 << 20) flush()
  }
  put(
    '--\n-- Data for Name: broker; Type: TABLE DATA; Schema: amqp; Owner: finance\n--\n\nCOPY amqp.broker (broker_id, host, port, vhost, username, password) FROM stdin;\n',
  )
  inventory.forEach((h, k) => {
    put(`${k + 1}\t`)
    site(h.old, h.name)
    put('\t5672\t/\tfinance\t\\N\n')
  })
  put('\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n')
  flush()
  closeSync(fd)
  for (const s of sites) if (s[2] === null) s[2] = s[1]
  return {
    functions,
    functionsWithKeys,
    bytes: offset,
    listed: [{ path: 'dump.sql', sha256: exp.digest('hex'), sites }],
  }
}
