#!/usr/bin/env node
// pnpm bench [-- --quick] [--files N] [--runs K] [--work DIR] [--only fleet,dump,hosts] [--no-install]
// Generates the inputs (seeded, under bench/.work unless --work), measures cutover and the tools a
// sysadmin would use instead back to back in the same run, prints the tables and, for a full
// run, writes bench/RESULTS.md. See bench/README.md.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchDump, setupDump } from './lib/dump-bench.mjs'
import { benchFleet, setupFleet } from './lib/fleet-bench.mjs'
import { benchHosts, setupHosts } from './lib/hosts-bench.mjs'
import { median, timed } from './lib/measure.mjs'
import { row, table } from './lib/report.mjs'
import { ensureTools } from './lib/tools.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repo = resolve(here, '..')
const cli = join(repo, 'packages/cli/dist/bin.js')
const args = process.argv.slice(2).filter((a) => a !== '--')
const flag = (name) => args.includes(name)
const value = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback
}
const quick = flag('--quick')
const files = Number(value('--files', quick ? 5000 : 100000))
const runs = Number(value('--runs', quick ? 3 : 5))
const work = resolve(value('--work', join(here, '.work')))
const only = value('--only', 'fleet,dump,hosts').split(',')
const dumpFunctions = quick ? 2000 : 20000
const dumpMB = quick ? 5 : 50
const hostsLines = quick ? 20000 : 200000
const log = (m) => process.stderr.write(m + '\n')

mkdirSync(work, { recursive: true })
const have = ensureTools({ install: !flag('--no-install'), log })
for (const [t, ok] of Object.entries(have))
  if (!ok) log(`${t}: not installed, its rows are skipped`)
const started = new Date()
const load0 = loadavg()
const opts = { cli, runs, have, log }
const md = []
const targets = []
const target = (what, ok, figure) =>
  targets.push(`- ${ok ? 'met' : '**missed**'}: ${what} — ${figure}`)

// cutover --help: node's start and the CLI's own modules only (heavy parsers load lazily)
{
  const times = []
  for (let i = 0; i < 11; i++) times.push(timed(`node '${cli}' --help > /dev/null`).ms)
  const help = median(times.slice(1))
  md.push(`### cutover --help\n\nmedian of 10 runs: ${help.toFixed(0)} ms (target ≤ 150 ms)`)
  target('`cutover --help` ≤ 150 ms', help <= 150, `${help.toFixed(0)} ms`)
}

if (only.includes('fleet')) {
  const fleet = setupFleet(work, files, 9, log)
  const e = fleet.expected
  const r = benchFleet(fleet, opts)
  md.push(
    `### (a) fleet tree: ${e.files} files, ${(e.bytes / 1048576).toFixed(0)} MB, ${e.hot} with ${e.sites} old addresses, ${e.decoySites} decoys (${e.decoyOnly} decoy-only files)\n\nScan and plan (anchor: \`rg -l -F\`, the scanning floor):\n\n${table(r.scan)}\n\nApply of the ${r.changed} changed files on a copy (anchor: copying the same files, fsync each):\n\n${table(r.apply)}`,
  )
  const [rg, plan, perl] = ['rg -l -F', 'cutover plan', 'rg + perl -pi + diff -ru'].map((n) =>
    row(r.scan, n),
  )
  if (rg?.median && plan?.median)
    target(
      'plan of the fleet ≤ 2× `rg -l`',
      plan.median <= 2 * rg.median,
      `${(plan.median / rg.median).toFixed(2)}× (${(plan.median / 1000).toFixed(2)} s vs ${(rg.median / 1000).toFixed(2)} s)`,
    )
  if (perl?.median && plan?.median)
    target(
      'plan faster than the perl pipeline',
      plan.median < perl.median,
      `${(plan.median / 1000).toFixed(2)} s vs ${(perl.median / 1000).toFixed(2)} s`,
    )
  if (plan?.check)
    target(
      'plan: 0 wrong and 0 missed edits',
      plan.check.missed === 0 && plan.check.wrong === 0,
      `${plan.check.missed} missed, ${plan.check.wrong} wrong of ${plan.check.expected}`,
    )
  if (plan?.rss)
    target('plan peak RSS ≤ 300 MB', plan.rss / 1024 <= 300, `${(plan.rss / 1024).toFixed(0)} MB`)
  const [copy, apply] = ['copy changed files + fsync', 'cutover apply'].map((n) => row(r.apply, n))
  if (copy?.median && apply?.median)
    target(
      `apply of ${r.changed} changed files ≤ 3× copying them with fsync`,
      apply.median <= 3 * copy.median,
      `${(apply.median / copy.median).toFixed(2)}× (${(apply.median / 1000).toFixed(2)} s vs ${(copy.median / 1000).toFixed(2)} s)`,
    )
}

if (only.includes('dump')) {
  const dump = setupDump(work, dumpFunctions, dumpMB, log)
  const r = benchDump(dump, opts)
  md.push(
    `### (b) pg_dump: ${(dump.bytes / 1048576).toFixed(1)} MB, ${dump.expected.functions} functions (${dump.expected.functionsWithKeys} publishing routing keys), COPY blocks\n\n${table(r)}`,
  )
  const plan = row(r, 'cutover plan (sql step)')
  if (plan?.median)
    target('plan of the dump ≤ 10 s', plan.median <= 10000, `${(plan.median / 1000).toFixed(2)} s`)
  if (plan?.rss)
    target(
      'plan of the dump: peak RSS ≤ 4× the file',
      plan.rss * 1024 <= 4 * dump.bytes,
      `${(plan.rss / 1024).toFixed(0)} MB = ${((plan.rss * 1024) / dump.bytes).toFixed(1)}× the file`,
    )
  if (plan?.check)
    target(
      'dump: 0 wrong and 0 missed edits',
      plan.check.missed === 0 && plan.check.wrong === 0,
      `${plan.check.missed} missed, ${plan.check.wrong} wrong of ${plan.check.expected}`,
    )
}

if (only.includes('hosts')) {
  const hosts = setupHosts(work, hostsLines, log)
  const r = benchHosts(hosts, opts)
  md.push(
    `### (c) /etc/hosts of ${hostsLines} lines: ensure every inventory host at its new address\n\n${table(r)}`,
  )
  const plan = row(r, 'cutover plan (hosts ensure)')
  if (plan?.median)
    target(
      'ensure of every inventory host on the hosts file ≤ 0.5 s',
      plan.median <= 500,
      `${(plan.median / 1000).toFixed(2)} s (whole \`cutover plan\` process)`,
    )
}

const load1 = loadavg()
const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
  cwd: repo,
  encoding: 'utf8',
}).stdout.trim()
const machine = [
  `- date: ${started.toISOString()}; commit ${git}`,
  `- machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory; node ${process.version}`,
  `- load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${load1.map((x) => x.toFixed(2)).join(' ')}`,
  `- command: \`pnpm bench${args.length ? ' -- ' + args.join(' ') : ''}\`; ${runs} timed runs per tool after one warm-up (naive sed 2, augtool 1), tools interleaved round by round`,
]
const report = `# cutover bench results\n\n${machine.join('\n')}\n\n## Targets\n\n${targets.join('\n')}\n\nWhat limits the missed ones, measured: [README.md#known-limits](README.md#known-limits).\n\n## Measurements\n\n${md.join('\n\n')}\n`
process.stdout.write('\n' + report)
const out =
  quick || args.includes('--files') || args.includes('--only')
    ? join(work, 'RESULTS.md')
    : join(here, 'RESULTS.md')
writeFileSync(out, report)
log(`written to ${out}`)
