// Section (a): the fleet tree. cutover plan and apply against rg -l (the scanning floor), the
// rg + perl -pi + diff -ru pipeline, naive sed, and a copy of the changed files with fsync.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateFleet, needles } from './fleet.mjs'
import { hostsYaml } from './inventory.mjs'
import { series } from './measure.mjs'
import { checkPlan, checkTree } from './plan-check.mjs'
import { perlProgram, sedProgram } from './programs.mjs'

const STAMP = 'fleet-v1'

/** Generates (or reuses) the tree, its pristine copy for the rewriting tools, spec and programs. */
export function setupFleet(work, files, seed, log) {
  const dir = join(work, `fleet-${files}-${seed}`)
  const stampFile = join(dir, 'stamp')
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== STAMP) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    log(`generating ${files} files in ${dir}/tree ...`)
    const expected = generateFleet(join(dir, 'tree'), { files, seed })
    writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected))
    log('copying the tree for the tools that rewrite in place ...')
    spawnSync('cp', ['-a', join(dir, 'tree'), join(dir, 'copy')], { stdio: 'inherit' })
    writeFileSync(stampFile, STAMP)
  }
  writeFileSync(
    join(dir, 'cutover.yaml'),
    `version: 1\n${hostsYaml()}steps:\n  - php: { files: ["**/*.php"], addresses: names }\n  - ini: { files: ["**/*.ini"], addresses: names }\n  - json: { files: ["**/*.json"], addresses: names }\n  - text: { files: ["**/*.conf", "**/*.txt"], addresses: names }\n`,
  )
  writeFileSync(join(dir, 'needles.txt'), needles.join('\n') + '\n')
  writeFileSync(join(dir, 'rewrite.pl'), perlProgram())
  writeFileSync(join(dir, 'naive.sed'), sedProgram())
  return { dir, expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) }
}

/**
 * Puts back the files a tool may have rewritten in the copy, and flushes the page cache's dirty
 * pages (sed -i rewrites every file) so that writeback does not slow down the next tool.
 */
function restore(dir, expected) {
  for (const e of expected.listed)
    copyFileSync(join(dir, 'tree', e.path), join(dir, 'copy', e.path))
  spawnSync('sync')
}

/** Runs the fleet section; returns its rows. */
export function benchFleet({ dir, expected }, { cli, runs, have, log }) {
  const q = (s) => `'${s}'`
  const state = join(dir, 'state')
  const tree = join(dir, 'tree')
  const copy = join(dir, 'copy')
  restore(dir, expected)
  const tools = [
    {
      name: 'rg -l -F',
      anchor: true,
      cmd: `rg -l -F -f needles.txt tree > rg.out`,
      cwd: dir,
      ok: [0, 1],
      skip: have.rg ? undefined : 'skipped: ripgrep missing',
      after: () => ({
        note: `lists ${readFileSync(join(dir, 'rg.out'), 'utf8').split('\n').filter(Boolean).length} files`,
      }),
    },
    {
      name: 'cutover plan',
      cmd: `node ${q(cli)} plan --spec cutover.yaml --root tree --out plan.json > review.txt`,
      cwd: dir,
      after: () => checkPlan(join(dir, 'plan.json'), tree, expected),
    },
    {
      name: 'rg + perl -pi + diff -ru',
      cmd: `cd copy && { rg -l -F -f ../needles.txt -0 . | xargs -0 -r perl -pi ../rewrite.pl; } && { diff -ru ../tree . > ../perl.diff; test $? -le 1; }`,
      cwd: dir,
      skip: have.rg ? undefined : 'skipped: ripgrep missing',
      after: () => {
        const t = checkTree(tree, copy, expected)
        restore(dir, expected)
        return t
      },
    },
  ]
  // sed -i writes every file anew (~820 MB): run after the others, so that the page cache it
  // churns does not leave the tree cold for the tools measured against each other
  const sed = [
    {
      name: 'naive sed -i',
      runs: Math.min(runs, 2),
      cmd: `cd copy && find . -type f -print0 | xargs -0 sed -i -f ../naive.sed`,
      cwd: dir,
      after: () => {
        const t = checkTree(tree, copy, expected)
        restore(dir, expected)
        return t
      },
    },
  ]
  log('fleet: scanning and planning')
  const scan = [...series(tools, runs, log), ...series(sed, runs, log)]

  // apply: a plan of the copy, applied; the floor copies the same files with fsync
  let changed = []
  const applyTools = [
    {
      name: 'copy changed files + fsync',
      anchor: true,
      cmd: `node ${q(new URL('./fsync-copy.mjs', import.meta.url).pathname)} changed.txt copy`,
      cwd: dir,
      before: () => {
        if (!changed.length) prepareApply()
      },
      after: () => {
        for (const p of changed) rmSync(join(copy, p + '.bench-copy'), { force: true })
      },
    },
    {
      name: 'cutover apply',
      cmd: `node ${q(cli)} apply apply-plan.json --yes --quiet --state-dir state`,
      cwd: dir,
      before: () => prepareApply(),
      after: () => {
        const t = checkTree(tree, copy, expected)
        restore(dir, expected)
        rmSync(state, { recursive: true, force: true })
        return t
      },
    },
  ]
  function prepareApply() {
    restore(dir, expected)
    rmSync(state, { recursive: true, force: true })
    spawnSync(
      'node',
      [
        cli,
        'plan',
        '--spec',
        'cutover.yaml',
        '--root',
        'copy',
        '--out',
        'apply-plan.json',
        '--quiet',
      ],
      { cwd: dir, stdio: 'inherit' },
    )
    changed = JSON.parse(readFileSync(join(dir, 'apply-plan.json'), 'utf8')).changes.map(
      (c) => c.target,
    )
    writeFileSync(join(dir, 'changed.txt'), changed.join('\n') + '\n')
  }
  prepareApply()
  log(`fleet: applying ${changed.length} changed files`)
  const apply = series(applyTools, runs, log)
  return { scan, apply, changed: changed.length }
}
