// Section (e): across machines. Four sshd on 127.0.0.1, each machine with its own root of
// generated files (seed per machine) and a pristine copy to restore between runs; one Ansible
// inventory that all three tools read (cutover through `machines: { ansible: inventory.ini }`).
// Rows: cutover plan + apply over ssh, the same playbook as section (d) over ssh, and the careful
// loop (rg + perl -p | diff -u as the review, then rg + perl -pi, machine after machine over ssh;
// not all-or-nothing). Bytes over ssh: every connection goes through a counting ProxyCommand of
// the shared ssh config; each tool's masters are closed before its bytes are read.
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { checkReview, writeAnsible } from './ansible.mjs'
import { generateFleet, needles } from './fleet.mjs'
import { hostsYaml } from './inventory.mjs'
import { series } from './measure.mjs'
import { tally } from './check.mjs'
import { checkMachinesPlan, checkTree } from './plan-check.mjs'
import { perlProgram } from './programs.mjs'
import { logMarks, proxyBytes, proxyMark, sessions, startMachines } from './sshd.mjs'

const STAMP = 'machines-v1'
const N = 4
const shq = (s) => `'${s.replaceAll("'", "'\\''")}'`

/** Generates (or reuses) the machines' roots and pristine copies below `work/machines-N`. */
export function setupMachines(work, perMachine, log) {
  const dir = join(work, `machines-${perMachine}`)
  const stampFile = join(dir, 'stamp')
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== STAMP) {
    rmSync(dir, { recursive: true, force: true })
    for (let i = 1; i <= N; i++) {
      const home = join(dir, `m${i}`)
      mkdirSync(home, { recursive: true })
      log(`generating ${perMachine} files for m${i} ...`)
      const expected = generateFleet(join(home, 'pristine'), { files: perMachine, seed: 9 + i })
      writeFileSync(join(home, 'expected.json'), JSON.stringify(expected))
      spawnSync('cp', ['-a', join(home, 'pristine'), join(home, 'root')], { stdio: 'inherit' })
    }
    writeFileSync(stampFile, STAMP)
  }
  const expected = {}
  for (let i = 1; i <= N; i++)
    expected[`m${i}`] = JSON.parse(readFileSync(join(dir, `m${i}`, 'expected.json'), 'utf8'))
  return { dir, perMachine, expected }
}

/** Runs the section; returns its rows and what the report needs. */
export function benchMachines({ dir, perMachine, expected }, { cli, runs, have, log }) {
  const missing = ['/usr/sbin/sshd', 'ssh', 'ansible-playbook'].filter((t) => !have[t])
  if (missing.some((t) => t !== 'ansible-playbook'))
    return { rows: [], error: `skipped: ${missing.join(', ')} missing` }
  const proxyLog = join(dir, 'proxy.log')
  const fleet = startMachines(dir, N, { log, proxyLog })
  try {
    return run(fleet)
  } finally {
    fleet.stop()
  }

  function run(fleet) {
    const { machines, sshConfig } = fleet
    const home = (m) => join(dir, m)
    // the login's HOME is the machine's directory: root's ~/.bashrc is not read
    const probe = spawnSync('ssh', ['-F', sshConfig, 'm1', 'echo "$HOME"'], { encoding: 'utf8' })
    const homeOk = probe.stdout.trim() === machines[0].home
    if (!homeOk) log(`warning: a session's HOME is ${probe.stdout.trim() || probe.stderr.trim()}`)

    writeFileSync(
      join(dir, 'inventory.ini'),
      '[bench]\n' +
        machines
          .map(
            (m) =>
              `${m.name} ansible_host=127.0.0.1 ansible_port=${m.port} ansible_user=root cutover_root=${m.root} root=${m.root}\n`,
          )
          .join('') +
        `\n[all:vars]\nansible_ssh_common_args='-F ${sshConfig}'\nansible_python_interpreter=/usr/bin/python3\n`,
    )
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1\nmachines: { ansible: inventory.ini }\n${hostsYaml()}steps:\n  - php: { files: ["**/*.php"], addresses: names }\n  - ini: { files: ["**/*.ini"], addresses: names }\n  - json: { files: ["**/*.json"], addresses: names }\n  - text: { files: ["**/*.conf", "**/*.txt"], addresses: names }\n`,
    )
    const env = writeAnsible(join(dir, 'ansible'))
    const names = machines.map((m) => m.name)
    const changedBytes = names.reduce(
      (a, n) =>
        a +
        expected[n].listed
          .filter((e) => e.sites.some((s) => s[1] !== s[2]))
          .reduce((b, e) => b + statSync(join(home(n), 'pristine', e.path)).size, 0),
      0,
    )
    const changedFiles = names.reduce(
      (a, n) => a + expected[n].listed.filter((e) => e.sites.some((s) => s[1] !== s[2])).length,
      0,
    )

    const restore = () => {
      for (const n of names) {
        for (const e of expected[n].listed)
          copyFileSync(join(home(n), 'pristine', e.path), join(home(n), 'root', e.path))
        rmSync(join(home(n), 'root', 'var/lib/cutover'), { recursive: true, force: true })
      }
      rmSync(join(dir, '.cutover'), { recursive: true, force: true })
      rmSync(join(dir, 'state'), { recursive: true, force: true })
    }
    const checkAll = () => {
      const t = tally()
      for (const n of names) {
        const c = checkTree(join(home(n), 'pristine'), join(home(n), 'root'), expected[n])
        for (const k of Object.keys(t)) t[k] += c[k]
      }
      return t
    }
    // Ansible's masters outlive its run (ControlPersist): closed before the bytes are read
    const closeAnsible = () => {
      for (const m of machines)
        spawnSync(
          'ssh',
          [
            '-F',
            sshConfig,
            '-o',
            `ControlPath=${join(dir, 'ansible', 'cp')}/127.0.0.1-${m.port}-root`,
            '-O',
            'exit',
            '-p',
            String(m.port),
            'root@127.0.0.1',
          ],
          { stdio: 'ignore' },
        )
    }
    // bytes and sessions of a tool's first run
    let marks
    const start = () => {
      restore()
      marks = { proxy: proxyMark(proxyLog), logs: logMarks(machines) }
    }
    const measure = (tool, round, extra = () => {}) => {
      extra()
      if (round !== 0) return
      const b = proxyBytes(proxyLog, marks.proxy)
      const s = sessions(machines, marks.logs)
      tool.bytes = { ...b, changed: changedBytes }
      tool.sessions = s
      log(
        `  ${tool.name}: ${b.connections} connections (${b.open} still open), ${s.logins} logins, ${s.sessions} sessions, ${(b.toMachine / 1048576).toFixed(2)} MB to machines, ${(b.fromMachine / 1048576).toFixed(2)} MB back`,
      )
    }

    const ssh = `ssh -F ${shq(sshConfig)}`
    const rgArgs = needles.map((n) => `-e ${n}`).join(' ')
    const prog = perlProgram()
    const remote = (m, body) => `cd ${shq(m.root)} && P=${shq(prog)} && export P && ${body}`
    const loopReview = machines
      .map(
        (m) =>
          `echo '### ${m.name}'; ${ssh} ${m.name} ${shq(remote(m, `rg -l -0 -F ${rgArgs} . | xargs -0 -r sh -c 'for f; do perl -p -e "$P" "$f" | diff -u "$f" -; done' _; true`))}`,
      )
      .join('; ')
    const loopApply = machines
      .map(
        (m) =>
          `${ssh} ${m.name} ${shq(remote(m, `rg -l -0 -F ${rgArgs} . | xargs -0 -r perl -pi -e "$P"`))}`,
      )
      .join(' && ')
    const stamp = (f) => `date +%s%N > ${f}`
    const split = (a, b, c) => {
      const t = [a, b, c].map((f) => Number(readFileSync(join(dir, f), 'utf8')))
      return `review ${((t[1] - t[0]) / 1e9).toFixed(2)} s + apply ${((t[2] - t[1]) / 1e9).toFixed(2)} s`
    }
    const splits = {}
    const loopShown = () => {
      const shown = []
      let host
      for (const line of readFileSync(join(dir, 'loop-review.diff'), 'latin1').split('\n')) {
        const h = /^### (m\d+)$/.exec(line)
        if (h) host = h[1]
        const f = /^--- \.\/(\S+)/.exec(line)
        if (f) shown.push({ host, path: f[1] })
      }
      return shown
    }
    const withReview = (t, review) => ({
      ...t,
      note: undefined,
      review,
    })
    const tools = [
      {
        name: 'cutover plan + apply (ssh)',
        anchor: true,
        cold: runs === 0,
        cmd: `${stamp('t0')} && node '${cli}' plan --spec cutover.yaml --ssh-config ${shq(sshConfig)} --state-dir state --out plan.json > review.txt && ${stamp('t1')} && node '${cli}' apply plan.json --yes --quiet --ssh-config ${shq(sshConfig)} --state-dir state && ${stamp('t2')}`,
        cwd: dir,
        before: start,
        after(r, round) {
          measure(this, round)
          splits[this.name] = split('t0', 't1', 't2')
          const pristine = Object.fromEntries(names.map((n) => [n, join(home(n), 'pristine')]))
          const t = withReview(
            checkAll(),
            checkMachinesPlan(join(dir, 'plan.json'), pristine, expected),
          )
          restore()
          return t
        },
      },
      {
        name: 'ansible-playbook --check --diff, then the real run (ssh)',
        cmd: `${stamp('t0')} && ${env} ansible-playbook -i inventory.ini ansible/site.yml --check --diff > ansible-review.out && ${stamp('t1')} && ${env} ansible-playbook -i inventory.ini ansible/site.yml > ansible-apply.out && ${stamp('t2')}`,
        cwd: dir,
        runs: 0,
        cold: true,
        skip: have['ansible-playbook'] ? undefined : 'skipped: ansible missing',
        before: start,
        after(r, round) {
          measure(this, round, closeAnsible)
          splits[this.name] = split('t0', 't1', 't2')
          const shown = new Map()
          for (const x of readFileSync(join(dir, 'ansible-review.out'), 'utf8').matchAll(
            /^--- before: (.*)$/gm,
          ))
            for (const m of machines)
              if (x[1].startsWith(m.root + '/'))
                shown.set(`${m.name}:${x[1]}`, {
                  host: m.name,
                  path: x[1].slice(m.root.length + 1),
                })
          const t = withReview(checkAll(), checkReview([...shown.values()], expected))
          restore()
          return t
        },
      },
      {
        name: 'careful loop over ssh: rg, perl -p + diff -u, then perl -pi (not all-or-nothing)',
        cold: runs === 0,
        cmd: `${stamp('t0')} && { ${loopReview}; } > loop-review.diff && ${stamp('t1')} && ${loopApply} && ${stamp('t2')}`,
        cwd: dir,
        skip: have.rg ? undefined : 'skipped: ripgrep missing',
        before: start,
        after(r, round) {
          measure(this, round)
          splits[this.name] = split('t0', 't1', 't2')
          const t = withReview(checkAll(), checkReview(loopShown(), expected))
          restore()
          return t
        },
      },
    ]
    log(`machines: ${N} × ${perMachine} files over ssh`)
    const rows = series(tools, runs, log)
    for (const r of rows) {
      const tool = tools.find((t) => t.name === r.name)
      r.sessions = tool.sessions
      r.split = splits[r.name]
      if (r.check?.review) {
        const c = r.check
        r.check = {
          ...c,
          note: `apply: ${c.done}/${c.expected} edits, ${c.missed} missed, ${c.wrong} wrong; review: ${c.review.note}`,
        }
      }
    }
    return { rows, changedBytes, changedFiles, homeOk, home: probe.stdout.trim() }
  }
}
