// Section (d): Ansible on the fleet sample, on this machine (ansible_connection=local). The
// review is `ansible-playbook --check --diff` against `cutover plan`; the apply is the real run
// against `cutover apply --yes` (which plans and applies in one process, as the playbook finds and
// replaces). Ansible's rows run once each (cold), as a run takes tens of seconds.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkReview, reviewedFiles, writeAnsible } from './ansible.mjs'
import { setupFleet } from './fleet-bench.mjs'
import { series } from './measure.mjs'
import { checkPlan, checkTree } from './plan-check.mjs'

/** Generates (or reuses) the sample in `work/ansible`, with the playbook and the inventory. */
export function setupAnsible(work, files, log) {
  const fleet = setupFleet(join(work, 'ansible'), files, 9, log)
  const env = writeAnsible(join(fleet.dir, 'ansible'))
  writeFileSync(
    join(fleet.dir, 'ansible', 'inventory.ini'),
    `localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_remote_tmp=${join(fleet.dir, 'ansible', 'remote-tmp')} root=${join(fleet.dir, 'copy')}\n`,
  )
  return { ...fleet, env }
}

function restore(dir, expected) {
  for (const e of expected.listed)
    copyFileSync(join(dir, 'tree', e.path), join(dir, 'copy', e.path))
  rmSync(join(dir, 'state'), { recursive: true, force: true })
}

/** Runs the section; returns { review, apply } rows. */
export function benchAnsible({ dir, expected, env }, { cli, runs, have, log }) {
  const q = (s) => `'${s}'`
  const copy = join(dir, 'copy')
  const tree = join(dir, 'tree')
  const skip = have['ansible-playbook'] ? undefined : 'skipped: ansible missing'
  const play = `${env} ansible-playbook -i ansible/inventory.ini ansible/site.yml`
  restore(dir, expected)
  const review = [
    {
      name: 'cutover plan',
      anchor: true,
      cold: runs === 0,
      cmd: `node ${q(cli)} plan --spec cutover.yaml --root copy --out plan.json > review.txt`,
      cwd: dir,
      after: () => checkPlan(join(dir, 'plan.json'), copy, expected),
    },
    {
      name: 'ansible-playbook --check --diff',
      cmd: `${play} --check --diff > ansible-review.out`,
      cwd: dir,
      runs: 0,
      cold: true,
      skip,
      after: () =>
        checkReview(reviewedFiles(join(dir, 'ansible-review.out'), { localhost: copy }), {
          localhost: expected,
        }),
    },
  ]
  const apply = [
    {
      name: 'cutover apply --yes',
      anchor: true,
      cold: runs === 0,
      cmd: `node ${q(cli)} apply --spec cutover.yaml --root copy --yes --quiet --state-dir state`,
      cwd: dir,
      before: () => restore(dir, expected),
      after: () => {
        const t = checkTree(tree, copy, expected)
        restore(dir, expected)
        return t
      },
    },
    {
      name: 'ansible-playbook (real run)',
      cmd: `${play} > ansible-apply.out`,
      cwd: dir,
      runs: 0,
      cold: true,
      skip,
      before: () => restore(dir, expected),
      after: () => {
        const t = checkTree(tree, copy, expected)
        restore(dir, expected)
        return t
      },
    },
  ]
  log('ansible: review')
  const r1 = series(review, runs, log)
  log('ansible: apply')
  const r2 = series(apply, runs, log)
  return { review: r1, apply: r2 }
}
