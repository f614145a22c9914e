#!/usr/bin/env node
// node scripts/plan-snapshot.mjs OUT [BENCH_WORK] [--cli CLI] [--compare-with CLI]: the plan
// output (review text on stdout, stderr, exit code, and the --out plan JSON) of both examples in
// every profile and, given the work
// directory of a `pnpm bench` run, of the bench's fleet, dump and hosts inputs made there. Run it
// before and after a refactoring and compare with `diff -r`: issue 16 requires them byte-identical.
// What is random by design is normalized: the salts of masked hashes and secret fingerprints (a
// fresh salt per plan, so a hash cannot be matched across plans), and the order of the plan's
// `secrets` list (sorted here by name: it follows the order in which parallel reads finish). The
// path of the plan file becomes OUT (the saved file's hash, which covers both, `sha256:*`), and
// the checkout's and the bench's directories (the plan's absolute roots) become REPO and BENCH,
// so that two checkouts compare. `--cli` snapshots with
// another build's `packages/cli/dist/bin.js` (the inputs stay this checkout's); `--compare-with
// CLI` snapshots with this checkout's build into OUT/new and with CLI into OUT/base, compares
// them file by file and exits 1 when any differs.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const option = (name) => {
  const i = argv.indexOf(name)
  if (i < 0) return undefined
  const v = argv[i + 1]
  argv.splice(i, 2)
  return v === undefined ? '' : resolve(v)
}
const otherCli = option('--cli')
const compareWith = option('--compare-with')
const [out, benchWork] = argv
if (!out || otherCli === '' || compareWith === '') {
  process.stderr.write(
    'usage: node scripts/plan-snapshot.mjs OUT [BENCH_WORK] [--cli CLI] [--compare-with CLI]\n',
  )
  process.exit(2)
}
const env = {
  ...process.env,
  NO_COLOR: '1',
  FINANCE_DB_PASSWORD: 'example-secret',
  TIMESHEETS_DB_PASSWORD: 'example-secret-2',
}
const runs = []
for (const example of ['finance', 'mentat'])
  for (const profile of ['test', 'live'])
    runs.push({
      name: `${example}-${profile}`,
      cwd: repo,
      // each example is a fleet of local directories: its machines' roots are in the spec
      args: ['--spec', `examples/${example}/cutover.yaml`],
      profile,
    })
if (benchWork) {
  // the inputs of the bench run there, at whatever sizes it made them (the quick ones keep their
  // short names: bench-fleet, bench-dump, bench-hosts)
  const bench = resolve(benchWork)
  const kinds = [
    [/^fleet-(\d+)-9$/, 'bench-fleet', '5000', ['--spec', 'cutover.yaml', '--root', 'tree']],
    [
      /^dump-(\d+)-\d+$/,
      'bench-dump',
      '2000',
      ['--spec', 'cutover.yaml', '--root', 'root'],
      'test',
    ],
    [/^hosts-(\d+)$/, 'bench-hosts', '20000', ['--spec', 'cutover.yaml', '--root', 'root']],
  ]
  const dirs = existsSync(bench) ? readdirSync(bench).sort() : []
  for (const [re, name, quick, args, profile] of kinds) {
    const found = dirs.filter((d) => re.test(d))
    if (!found.length)
      throw new Error(
        `${bench}: no ${name.slice(6)} input (run pnpm bench -- --quick --work DIR first)`,
      )
    for (const d of found) {
      const size = re.exec(d)[1]
      runs.push({
        name: size === quick ? name : `${name}-${size}`,
        cwd: join(bench, d),
        args,
        ...(profile ? { profile } : {}),
      })
    }
  }
}
for (const r of runs)
  if (!existsSync(r.cwd))
    throw new Error(`${r.cwd}: no such directory (run pnpm bench -- --quick --work DIR first)`)
if (compareWith) {
  const own = join(repo, 'packages/cli/dist/bin.js')
  snapshot(own, join(out, 'new'))
  snapshot(compareWith, join(out, 'base'))
  const differ = readdirSync(join(out, 'new')).filter(
    (f) =>
      !existsSync(join(out, 'base', f)) ||
      !readFileSync(join(out, 'new', f)).equals(readFileSync(join(out, 'base', f))),
  )
  for (const f of readdirSync(join(out, 'base')))
    if (!existsSync(join(out, 'new', f))) differ.push(f)
  if (differ.length) {
    process.stderr.write(
      `differ from ${compareWith}: ${differ.join(' ')} (diff -r ${out}/base ${out}/new)\n`,
    )
    process.exit(1)
  }
  process.stderr.write(`${runs.length} plans byte-identical to ${compareWith}'s\n`)
} else snapshot(otherCli ?? join(repo, 'packages/cli/dist/bin.js'), out)

function snapshot(cli, out) {
  mkdirSync(out, { recursive: true })
  for (const r of runs) {
    const json = join(resolve(out), `${r.name}.plan.json`)
    const args = [
      cli,
      'plan',
      ...r.args,
      ...(r.profile ? ['--profile', r.profile] : []),
      '--out',
      json,
    ]
    const p = spawnSync('node', args, { cwd: r.cwd, env, encoding: 'utf8', maxBuffer: 1 << 30 })
    if (existsSync(json)) writeFileSync(json, places(normalize(readFileSync(json, 'utf8')), out))
    writeFileSync(join(out, `${r.name}.stdout`), places(p.stdout, out))
    writeFileSync(join(out, `${r.name}.stderr`), places(`${p.stderr}\nexit ${p.status}\n`, out))
    process.stderr.write(`${r.name}: exit ${p.status}\n`)
  }
}

function places(text, dir) {
  let t = text
    .replaceAll(resolve(dir), 'OUT')
    .replaceAll(repo, 'REPO')
    // the saved file's hash covers the salts and paths normalized in it
    .replace(/^(Plan saved to .*)$/gm, (line) => line.replace(/sha256:[0-9a-f]{64}/g, 'sha256:*'))
  if (benchWork) t = t.replaceAll(resolve(benchWork), 'BENCH')
  return t
}

function normalize(text) {
  const doc = JSON.parse(text)
  if (Array.isArray(doc.secrets))
    doc.secrets.sort((a, b) => JSON.stringify(a.name).localeCompare(JSON.stringify(b.name)))
  return JSON.stringify(doc, null, 2)
    .replace(/"salt": "[0-9a-f]+"/g, '"salt": "*"')
    .replace(/"fingerprint": "[0-9a-f]+"/g, '"fingerprint": "*"')
    .replace(/masked-sha256:[0-9a-f]+/g, 'masked-sha256:*')
}
