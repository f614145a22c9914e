import { financeContext } from '@cutover/test-kit'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { SqlOptions } from '../src/index.js'

// The fast test projects share each worker's modules between files, and another file may have
// loaded the lexer already: this file imports the package afresh.
let planSql: typeof import('../src/index.js').planSql
let lexerLoaded: typeof import('../src/lexer.js').lexerLoaded
beforeAll(async () => {
  vi.resetModules()
  ;({ planSql } = await import('../src/index.js'))
  ;({ lexerLoaded } = await import('../src/lexer.js'))
})

const options: SqlOptions = { files: ['*.sql'], addresses: 'names', variants: ['routing-keys'] }
const fn = (body: string) =>
  `CREATE FUNCTION public.f(p_id integer, p_note text DEFAULT 'n/a'::text) RETURNS void\n    LANGUAGE plpgsql\n    AS $_$\nBEGIN\n${body}\nEND;\n$_$;\n`

describe('PostgreSQL’s lexer is loaded only when the scanner abstains', () => {
  it('plans plain functions without loading it, and loads it for a U& string', async () => {
    const plain = fn(
      "  PERFORM dblink_connect('host=10.0.10.48 dbname=finance'); -- was 10.0.10.48\n  PERFORM amqp.publish(1, 'amq.topic', 'oas.staff', E'it\\'s');",
    )
    const r = await planSql(plain, options, financeContext())
    expect(r.edits.map((e) => e.text)).toEqual(['finance.thehumanjourney.net', 'oas.staff.test'])
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      'old address: inside a comment in function public.f',
    ])
    expect(lexerLoaded()).toBe(false)

    const unicode = fn("  PERFORM U&'host=10.0.10.48', 'host=10.0.10.48';")
    const u = await planSql(unicode, options, financeContext())
    expect(lexerLoaded()).toBe(true)
    expect(u.edits.map((e) => [unicode.slice(e.start, e.end), e.text])).toEqual([
      ['10.0.10.48', 'finance.thehumanjourney.net'],
    ])
    expect(u.leftovers).toHaveLength(1)
  })
})
