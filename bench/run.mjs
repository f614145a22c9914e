#!/usr/bin/env node
// pnpm bench [-- --quick] [--files N] [--runs K] [--work DIR] [--only fleet,dump,hosts,ansible,machines]
//   [--ansible-files N] [--machine-files N] [--suite-times FILE] [--compare-with CLI] [--no-install]
//   [--help]: prints the options; an unknown option or a bad count exits 2 before anything starts
// Generates the inputs (seeded, under bench/.work unless --work), measures cutover and the tools a
// sysadmin would use instead back to back in the same run, prints the tables and, for a full
// run, writes bench/RESULTS.md. See bench/README.md.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { benchAnsible, setupAnsible } from './lib/ansible-bench.mjs'
import { benchDump, setupDump } from './lib/dump-bench.mjs'
import { benchFleet, setupFleet } from './lib/fleet-bench.mjs'
import { benchHosts, setupHosts } from './lib/hosts-bench.mjs'
import { benchMachines, setupMachines } from './lib/machines-bench.mjs'
import { median, timed } from './lib/measure.mjs'
import { row, table } from './lib/report.mjs'
import { ensureTools } from './lib/tools.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const repo = resolve(here, '..')
// the installed `cutover` command (its launcher sizes libuv's pool before Node starts it)
const cli = join(repo, 'packages/cli/dist/cutover.cjs')
const USAGE = `usage: pnpm bench [-- OPTIONS]   (or: node bench/run.mjs [OPTIONS])

  --quick              small inputs, fewer runs (a run of every section < 2 min)
  --files N            files of the fleet tree (default 100000; --quick 5000)
  --runs K             timed runs per tool after one warm-up (default 5; --quick 3)
  --work DIR           where the inputs are generated and kept (default bench/.work)
  --only LIST          sections to run, comma-separated: fleet,dump,hosts,ansible,machines
  --ansible-files N    files of the Ansible sample (default 1000; --quick 200)
  --machine-files N    files per machine of the across-machines section (default 2500; --quick 100)
  --suite-times FILE   the test suite's times to report (default bench/suite-times.json)
  --compare-with CLI   also compare the plan output with another build's bin.js
  --no-install         do not install missing tools (their rows are skipped)
  --skip-ansible       skip Ansible's rows (sections ansible and machines): ~2 min less
  -h, --help           print this and exit
`
const args = process.argv.slice(2).filter((a) => a !== '--')
let opts0
try {
  opts0 = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      files: { type: 'string' },
      runs: { type: 'string' },
      work: { type: 'string' },
      only: { type: 'string' },
      'ansible-files': { type: 'string' },
      'machine-files': { type: 'string' },
      'suite-times': { type: 'string' },
      'compare-with': { type: 'string' },
      'no-install': { type: 'boolean' },
      'skip-ansible': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values
} catch (e) {
  process.stderr.write(`bench: ${e.message} (node bench/run.mjs --help lists the options)\n`)
  process.exit(2)
}
if (opts0.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const flag = (name) => opts0[name.slice(2)] === true
/** The value of an option, a count checked to be a positive integer when `count`. */
const value = (name, fallback, count = false) => {
  const v = opts0[name.slice(2)]
  if (v === undefined) return fallback
  if (count && !/^[1-9][0-9]*$/.test(v)) {
    process.stderr.write(`bench: ${name} takes a positive whole number, not ${JSON.stringify(v)}\n`)
    process.exit(2)
  }
  return v
}
const quick = flag('--quick')
const files = Number(value('--files', quick ? 5000 : 100000, true))
const runs = Number(value('--runs', quick ? 3 : 5, true))
const work = resolve(value('--work', join(here, '.work')))
const only = value('--only', 'fleet,dump,hosts,ansible,machines').split(',').filter(Boolean)
const SECTIONS = ['fleet', 'dump', 'hosts', 'ansible', 'machines']
for (const o of only)
  if (!SECTIONS.includes(o)) {
    process.stderr.write(`--only: no section ${o} (the sections: ${SECTIONS.join(', ')})\n`)
    process.exit(2)
  }
// Ansible takes tens of seconds per run: its rows run once; the sample stays at 1,000 files
const ansibleFiles = Number(value('--ansible-files', quick ? 200 : 1000, true))
const machineFiles = Number(value('--machine-files', quick ? 100 : 2500, true))
// the machines section repeats cutover and the loop at most twice after the warm-up (quick: once, cold)
const machineRuns = quick ? 0 : Math.min(runs, 2)
const compareWith = value('--compare-with', undefined)
const suiteTimes = resolve(value('--suite-times', join(here, 'suite-times.json')))
const dumpFunctions = quick ? 2000 : 20000
const dumpMB = quick ? 5 : 50
const hostsLines = quick ? 20000 : 200000
const log = (m) => process.stderr.write(m + '\n')

mkdirSync(work, { recursive: true })
const have = ensureTools({ install: !flag('--no-install'), log })
const skipAnsible = flag('--skip-ansible')
if (skipAnsible) have['ansible-playbook'] = false
for (const [t, ok] of Object.entries(have))
  if (!ok)
    log(
      skipAnsible && t === 'ansible-playbook'
        ? `${t}: its rows are skipped (--skip-ansible)`
        : `${t}: not installed, its rows are skipped`,
    )
const started = new Date()
const load0 = loadavg()
const opts = { cli, runs, have, log }
const md = []
const targets = []
// wall time of each section (inputs generated or reused included), for the budget of a run
const sections = []
let sectionStart = performance.now()
const section = (name) => {
  const now = performance.now()
  const last = sections.at(-1)
  if (last) last.s = (now - sectionStart) / 1000
  if (name) sections.push({ name })
  sectionStart = now
}
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
  section('fleet')
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
    target('plan peak RSS ≤ 250 MB', plan.rss / 1024 <= 250, `${(plan.rss / 1024).toFixed(0)} MB`)
  const [copy, apply] = ['copy changed files + fsync', 'cutover apply'].map((n) => row(r.apply, n))
  if (copy?.median && apply?.median)
    target(
      `apply of ${r.changed} changed files ≤ 2× copying them with fsync`,
      apply.median <= 2 * copy.median,
      `${(apply.median / copy.median).toFixed(2)}× (${(apply.median / 1000).toFixed(2)} s vs ${(copy.median / 1000).toFixed(2)} s)`,
    )
}

if (only.includes('dump')) {
  section('dump')
  const dump = setupDump(work, dumpFunctions, dumpMB, log)
  const r = benchDump(dump, opts)
  md.push(
    `### (b) pg_dump: ${(dump.bytes / 1048576).toFixed(1)} MB, ${dump.expected.functions} functions (${dump.expected.functionsWithKeys} publishing routing keys), COPY blocks\n\n${table(r)}`,
  )
  const plan = row(r, 'cutover plan (sql step)')
  const perl = row(r, 'perl -p + diff -u')
  if (plan?.median)
    target('plan of the dump ≤ 10 s', plan.median <= 10000, `${(plan.median / 1000).toFixed(2)} s`)
  if (plan?.median && perl?.median)
    target(
      'plan of the dump ≤ 2× the `perl -p` + `diff -u` pipeline',
      plan.median <= 2 * perl.median,
      `${(plan.median / perl.median).toFixed(2)}× (${(plan.median / 1000).toFixed(2)} s vs ${(perl.median / 1000).toFixed(2)} s)`,
    )
  if (plan?.rss)
    target(
      'plan of the dump: peak RSS ≤ 3× the file',
      plan.rss * 1024 <= 3 * dump.bytes,
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
  section('hosts')
  const hosts = setupHosts(work, hostsLines, log)
  // augtool does not finish even the quick file: a shorter wait keeps --quick within 2 minutes
  const r = benchHosts(hosts, { ...opts, augTimeout: quick ? 10 : 60 })
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

const secs = (ms) => `${(ms / 1000).toFixed(2)} s`
const times = (slow, fast) =>
  `${(slow.median / fast.median).toFixed(1)}× (${secs(slow.median)} vs ${secs(fast.median)})`

if (only.includes('ansible')) {
  section('ansible')
  const a = setupAnsible(work, ansibleFiles, log)
  const e = a.expected
  const r = benchAnsible(a, { ...opts, runs: quick ? 0 : runs })
  md.push(
    `### (d) Ansible on this machine: ${e.files} files of the fleet sample, ${e.hot} with ${e.sites} old addresses, ${e.decoySites} decoys\n\nThe playbook per old address: \`find\` (the boundary-aware regexp over the whole file) and \`replace\` in the files found; pipelining, forks 4, no facts, \`ansible_connection=local\`. Ansible's rows run once (cold): a run takes tens of seconds.\n\nReview (anchor: \`cutover plan\`):\n\n${table(r.review)}\n\nApply (anchor: \`cutover apply --yes\`, planning and applying in one process, as the playbook finds and replaces):\n\n${table(r.apply)}`,
  )
  for (const [phase, rows, cut, ans] of [
    ['review', r.review, 'cutover plan', 'ansible-playbook --check --diff'],
    ['apply', r.apply, 'cutover apply --yes', 'ansible-playbook (real run)'],
  ]) {
    const c = row(rows, cut)
    const x = row(rows, ans)
    if (c?.median && x?.median)
      target(
        `Ansible (${e.files} files), ${phase}: cutover ≥ 50× faster`,
        x.median >= 50 * c.median,
        times(x, c),
      )
    for (const [who, t] of [
      ['cutover', c],
      ['Ansible', x],
    ])
      if (t?.check && 'missed' in t.check)
        target(
          `Ansible section, ${phase}: ${who} 0 missed and 0 wrong`,
          t.check.missed === 0 && t.check.wrong === 0,
          `${t.check.missed} missed, ${t.check.wrong} wrong of ${t.check.expected}${'done' in t.check && t.check.note ? ' (files)' : ''}`,
        )
  }
}

if (only.includes('machines')) {
  section('machines')
  const m = setupMachines(work, machineFiles, log)
  const r = benchMachines(m, { ...opts, runs: machineRuns })
  if (r.error) md.push(`### (e) across machines\n\n${r.error}`)
  else {
    const sessions = r.rows
      .map(
        (x) =>
          `${x.name}: ${x.split ?? '—'}; ${x.sessions ? `${x.sessions.logins} logins, ${x.sessions.sessions} sessions` : '—'}`,
      )
      .map((l) => `- ${l}`)
      .join('\n')
    md.push(
      `### (e) across machines: 4 sshd on 127.0.0.1 × ${machineFiles} files (seeds 10–13), ${r.changedFiles} files to change, ${(r.changedBytes / 1048576).toFixed(2)} MB\n\nOne Ansible inventory for the three tools (cutover: \`machines: { ansible: inventory.ini }\`), one ssh config (keys, known hosts) for all. Each row is its review and its apply, timed together; Ansible runs once (cold)${machineRuns ? `, the others ${machineRuns} times after a warm-up` : ', as every row under --quick'}. Bytes: wire bytes of every ssh connection of the tool (both directions, kex and MACs included), counted by a ProxyCommand of the shared ssh config, masters closed first; the ratio is both directions over the size of the files that change. Compression as each tool's default: cutover's master compresses, Ansible passes \`-C\`, the loop's plain \`ssh\` does not. A session's HOME is its machine's directory (${r.homeOk ? 'checked' : `**not** as set: ${r.home}`}): root's shell startup is not read.\n\n${table(r.rows)}\n\nReview + apply, logins and sessions (sshd's log) of the first run:\n\n${sessions}`,
    )
    const [cut, ans, loop] = r.rows
    if (cut?.median && ans?.median)
      target(
        'across machines: cutover ≥ 20× faster than Ansible',
        ans.median >= 20 * cut.median,
        times(ans, cut),
      )
    if (cut?.median && loop?.median)
      target(
        'across machines: cutover ≤ 1.5× the careful loop',
        cut.median <= 1.5 * loop.median,
        `${(cut.median / loop.median).toFixed(2)}× (${secs(cut.median)} vs ${secs(loop.median)})`,
      )
    if (cut?.bytes)
      target(
        'across machines: bytes over ssh ≤ 2× the files that change',
        cut.bytes.toMachine + cut.bytes.fromMachine <= 2 * r.changedBytes,
        `${((cut.bytes.toMachine + cut.bytes.fromMachine) / r.changedBytes).toFixed(2)}× (${(cut.bytes.toMachine / 1048576).toFixed(2)} MB to the machines, ${(cut.bytes.fromMachine / 1048576).toFixed(2)} MB back, for ${(r.changedBytes / 1048576).toFixed(2)} MB changed)`,
      )
    if (cut?.check && 'missed' in cut.check) {
      const rv = cut.check.review
      target(
        'across machines: cutover 0 missed and 0 wrong (review and apply)',
        cut.check.missed === 0 && cut.check.wrong === 0 && rv?.missed === 0 && rv?.wrong === 0,
        `apply ${cut.check.missed} missed, ${cut.check.wrong} wrong of ${cut.check.expected}; review ${rv ? `${rv.missed} missed, ${rv.wrong} wrong of ${rv.expected}` : 'not checked'}`,
      )
    }
  }
}

// The plan output of the inputs made above, byte for byte against another build's CLI (the
// snapshot script normalizes salts and paths): speed work must not change it
if (compareWith) {
  const snap = join(work, 'snapshot')
  const p = spawnSync(
    'node',
    [join(repo, 'scripts/plan-snapshot.mjs'), snap, work, '--compare-with', resolve(compareWith)],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  )
  const said = p.stderr.trim().split('\n').pop()
  // a plan that changed is a failure of the run, not only a missed line of the report
  if (p.status !== 0) process.exitCode = 1
  target(
    `plan output of the bench's inputs and the examples byte-identical to ${compareWith}`,
    p.status === 0,
    said,
  )
}

// The test suite's times are not measured here (the suite needs the machine alone): the lead
// writes them into a JSON file, { "full": { "seconds": S, "how": "…" }, "fast": { … } }
{
  const suite = existsSync(suiteTimes) ? JSON.parse(readFileSync(suiteTimes, 'utf8')) : {}
  for (const [key, what, limit] of [
    ['full', 'the full test suite (`vitest run`) < 4 min', 240],
    ['fast', '`pnpm test:fast` < 60 s', 60],
  ]) {
    const t = suite[key]
    if (t?.seconds !== undefined)
      target(what, t.seconds < limit, `${t.seconds} s${t.how ? ` (${t.how})` : ''}`)
    else
      targets.push(`- not measured: ${what} — no figure in ${suiteTimes.replace(repo + '/', '')}`)
  }
}

section()
// issue 22: a --quick run stays under 2 minutes, inputs generated or reused included; only a
// --quick run of every section measures it
{
  const what = 'a `--quick` run of every section < 2 min'
  const whole = (Date.now() - started.getTime()) / 1000
  if (!quick) targets.push(`- not measured: ${what} — this is not a --quick run`)
  else if (only.length < SECTIONS.length)
    targets.push(`- not measured: ${what} — this run has ${only.join(', ')} only`)
  else target(what, whole < 120, `${whole.toFixed(0)} s`)
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
  `- wall time by section: ${sections.map((x) => `${x.name} ${x.s.toFixed(0)} s`).join(', ')}; whole run ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`,
  `- command: \`pnpm bench${args.length ? ' -- ' + args.join(' ') : ''}\`; ${runs} timed runs per tool after one warm-up (naive sed 2, augtool 1, Ansible 1, across machines ${machineRuns}), tools interleaved round by round`,
]
const report = `# cutover bench results\n\n${machine.join('\n')}\n\n## Targets\n\n${targets.join('\n')}\n\nWhat limits the missed ones, measured: [README.md#known-limits](README.md#known-limits).\n\n## Measurements\n\n${md.join('\n\n')}\n`
process.stdout.write('\n' + report)
const out =
  quick || opts0.files !== undefined || opts0.only !== undefined
    ? join(work, 'RESULTS.md')
    : join(here, 'RESULTS.md')
writeFileSync(out, report)
log(`written to ${out}`)
