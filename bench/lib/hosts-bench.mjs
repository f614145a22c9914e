// Section (c): /etc/hosts of 200,000 lines; the hosts step ensures every inventory name at its
// new address; augtool (Augeas' Hosts lens) does the same edit as the comparison.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkHosts, generateHosts } from './hosts.mjs'
import { hostsYaml, inventory } from './inventory.mjs'
import { series } from './measure.mjs'
import { applyChange } from './plan-check.mjs'

const STAMP = 'hosts-v1'

/** Generates (or reuses) the hosts file, the spec and the augtool script. */
export function setupHosts(work, lines, log) {
  const dir = join(work, `hosts-${lines}`)
  const stampFile = join(dir, 'stamp')
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== STAMP) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(join(dir, 'root', 'etc'), { recursive: true })
    log(`generating a hosts file of ${lines} lines ...`)
    writeFileSync(
      join(dir, 'expected.json'),
      JSON.stringify(generateHosts(join(dir, 'root', 'etc', 'hosts'), { lines })),
    )
    writeFileSync(stampFile, STAMP)
  }
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'))
  writeFileSync(
    join(dir, 'cutover.yaml'),
    `version: 1\n${hostsYaml()}steps:\n  - hosts: { files: [etc/hosts], ensure: new }\n`,
  )
  // what a sysadmin writes for Augeas: re-address the names that are there, append the others
  let k = 0
  const aug = inventory.map((h) =>
    expected.present.includes(h.name)
      ? `set /files/etc/hosts/*[canonical = '${h.name}']/ipaddr ${h.new}\n`
      : `set /files/etc/hosts/0${++k}/ipaddr ${h.new}\nset /files/etc/hosts/0${k}/canonical ${h.name}\n`,
  )
  writeFileSync(join(dir, 'ensure.aug'), aug.join('') + 'save\n')
  return { dir, expected }
}

/** Runs the hosts section; returns its rows. */
export function benchHosts({ dir }, { cli, runs, have, log, augTimeout = 60 }) {
  const fresh = () => {
    rmSync(join(dir, 'copy'), { recursive: true, force: true })
    mkdirSync(join(dir, 'copy', 'etc'), { recursive: true })
    copyFileSync(join(dir, 'root', 'etc', 'hosts'), join(dir, 'copy', 'etc', 'hosts'))
  }
  const hostsOf = (root) => readFileSync(join(dir, root, 'etc', 'hosts'), 'utf8')
  const tools = [
    {
      name: 'cutover plan (hosts ensure)',
      anchor: true,
      cmd: `node '${cli}' plan --spec cutover.yaml --root root --out plan.json > review.txt`,
      cwd: dir,
      after: () => {
        const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'))
        return checkHosts(
          plan.changes[0] ? applyChange(hostsOf('root'), plan.changes[0]) : hostsOf('root'),
        )
      },
    },
    {
      name: 'cutover apply --yes (plan + apply)',
      cmd: `node '${cli}' apply --spec cutover.yaml --root copy --state-dir state --yes --quiet`,
      cwd: dir,
      before: () => {
        fresh()
        rmSync(join(dir, 'state'), { recursive: true, force: true })
      },
      after: () => checkHosts(hostsOf('copy')),
    },
    {
      name: 'augtool (Hosts lens)',
      runs: 1,
      timeout: augTimeout * 1000,
      cmd: `augtool -A -r copy --transform 'Hosts incl /etc/hosts' -f ensure.aug > aug.out`,
      cwd: dir,
      skip: have.augtool ? undefined : 'skipped: augtool missing',
      before: fresh,
      after: () => checkHosts(hostsOf('copy')),
    },
  ]
  log('hosts: ensuring')
  return series(tools, runs, log)
}
