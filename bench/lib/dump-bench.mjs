// Section (b): a pg_dump of ~50 MB with ~20,000 plpgsql functions, planned by the sql step,
// against rg -c (the floor), perl -p + diff -u, and naive sed.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkText, tally } from './check.mjs'
import { generateDump } from './dump.mjs'
import { hostsYaml, inventory } from './inventory.mjs'
import { series } from './measure.mjs'
import { applyChange } from './plan-check.mjs'
import { perlProgram, sedProgram } from './programs.mjs'

const STAMP = 'dump-v2'

/** Generates (or reuses) the dump, its spec and the programs. */
export function setupDump(work, functions, mb, log) {
  const dir = join(work, `dump-${functions}-${mb}`)
  const stampFile = join(dir, 'stamp')
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== STAMP) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(join(dir, 'root'), { recursive: true })
    log(`generating a dump of ${functions} functions (~${mb} MB) ...`)
    writeFileSync(
      join(dir, 'expected.json'),
      JSON.stringify(generateDump(join(dir, 'root', 'dump.sql'), { functions, mb })),
    )
    writeFileSync(stampFile, STAMP)
  }
  writeFileSync(
    join(dir, 'cutover.yaml'),
    `version: 1\n${hostsYaml()}profiles: [test, live]\nvariants:\n  routing-keys:\n    - { test: oas.staff.test, live: oas.staff }\n    - { test: oas.projects.test, live: oas.projects }\nsteps:\n  - sql: { files: [dump.sql], functions: ["public.*"], tables: [amqp.broker], addresses: names, variants: [routing-keys] }\n`,
  )
  writeFileSync(
    join(dir, 'needles.txt'),
    [...inventory.map((h) => h.old), 'oas.staff', 'oas.projects'].join('\n') + '\n',
  )
  writeFileSync(join(dir, 'rewrite.pl'), perlProgram({ variants: true }))
  writeFileSync(join(dir, 'naive.sed'), sedProgram({ variants: true }))
  return {
    dir,
    expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')),
    bytes: statSync(join(dir, 'root', 'dump.sql')).size,
  }
}

function checkOutput(dir, file, expected) {
  const t = tally()
  checkText(
    t,
    readFileSync(join(dir, 'root', 'dump.sql'), 'latin1'),
    readFileSync(join(dir, file), 'latin1'),
    expected.listed[0],
  )
  return t
}

/** Runs the dump section; returns its rows. */
export function benchDump({ dir, expected }, { cli, runs, have, log }) {
  const tools = [
    {
      name: 'rg -c -F',
      anchor: true,
      cmd: 'rg -c -F -f needles.txt root/dump.sql > rg.out',
      cwd: dir,
      ok: [0, 1],
      skip: have.rg ? undefined : 'skipped: ripgrep missing',
    },
    {
      name: 'cutover plan (sql step)',
      cmd: `node '${cli}' plan --spec cutover.yaml --root root --profile test --out plan.json > review.txt`,
      cwd: dir,
      after: () => {
        const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'))
        const orig = readFileSync(join(dir, 'root', 'dump.sql'), 'latin1')
        const t = tally()
        checkText(
          t,
          orig,
          plan.changes[0] ? applyChange(orig, plan.changes[0]) : orig,
          expected.listed[0],
        )
        t.leftovers = plan.leftovers.length
        return t
      },
    },
    {
      name: 'perl -p + diff -u',
      cmd: 'perl -p rewrite.pl root/dump.sql > perl.sql && { diff -u root/dump.sql perl.sql > perl.diff; test $? -le 1; }',
      cwd: dir,
      after: () => checkOutput(dir, 'perl.sql', expected),
    },
    {
      name: 'naive sed',
      runs: Math.min(runs, 2),
      cmd: 'sed -f naive.sed root/dump.sql > sed.sql',
      cwd: dir,
      after: () => checkOutput(dir, 'sed.sql', expected),
    },
  ]
  log('dump: planning')
  return series(tools, runs, log)
}
