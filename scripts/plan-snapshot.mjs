#!/usr/bin/env node
// node scripts/plan-snapshot.mjs OUT [BENCH_WORK]: the plan output (review text on stdout, stderr,
// exit code, and the --out plan JSON) of both examples in every profile and, given the work
// directory of a `pnpm bench -- --quick` run, of the bench's fleet, dump and hosts inputs. Run it
// before and after a refactoring and compare with `diff -r`: issue 16 requires them byte-identical.
// What is random by design is normalized: the salts of masked hashes and secret fingerprints (a
// fresh salt per plan, so a hash cannot be matched across plans), and the order of the plan's
// `secrets` list (sorted here by name: it follows the order in which parallel reads finish). The
// path of the plan file becomes OUT, and the checkout's and the bench's directories (the plan's
// absolute roots) become REPO and BENCH, so that two checkouts compare.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(repo, 'packages/cli/dist/bin.js')
const [out, benchWork] = process.argv.slice(2)
if (!out) {
  process.stderr.write('usage: node scripts/plan-snapshot.mjs OUT [BENCH_WORK]\n')
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
  const bench = resolve(benchWork)
  runs.push({
    name: 'bench-fleet',
    cwd: join(bench, 'fleet-5000-9'),
    args: ['--spec', 'cutover.yaml', '--root', 'tree'],
  })
  runs.push({
    name: 'bench-dump',
    cwd: join(bench, 'dump-2000-5'),
    args: ['--spec', 'cutover.yaml', '--root', 'root'],
    profile: 'test',
  })
  runs.push({
    name: 'bench-hosts',
    cwd: join(bench, 'hosts-20000'),
    args: ['--spec', 'cutover.yaml', '--root', 'root'],
  })
}
mkdirSync(out, { recursive: true })
for (const r of runs) {
  if (!existsSync(r.cwd))
    throw new Error(`${r.cwd}: no such directory (run pnpm bench -- --quick --work DIR first)`)
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
  if (existsSync(json)) writeFileSync(json, places(normalize(readFileSync(json, 'utf8'))))
  writeFileSync(join(out, `${r.name}.stdout`), places(p.stdout))
  writeFileSync(join(out, `${r.name}.stderr`), places(`${p.stderr}\nexit ${p.status}\n`))
  process.stderr.write(`${r.name}: exit ${p.status}\n`)
}

function places(text) {
  let t = text.replaceAll(resolve(out), 'OUT').replaceAll(repo, 'REPO')
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
