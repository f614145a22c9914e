// What a careful sysadmin runs with Ansible: per old address, `find` lists the files that hold it
// (the boundary-aware regexp over the whole file), then `replace` rewrites it in those files only
// (one module run per file and address; a loop over every file would be eight runs per file).
// `--check --diff` is the review, the same playbook without `--check` the apply. The settings are
// the fast ones a careful user sets: pipelining, ControlPersist (with Ansible's default -C), 4
// forks, no fact gathering.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { inventory } from './inventory.mjs'

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
// YAML single-quoted scalar
const yq = (s) => `'${s.replaceAll("'", "''")}'`

/**
 * The playbook: Python's `re` takes the same fixed-width lookbehind as the perl program, so the
 * regexp is the perl one for a single address. The addresses go longest first, as in perl
 * (10.0.10.130 before its prefix 10.0.10.13, which the lookahead alone already keeps apart).
 */
export function playbook() {
  const byLength = [...inventory].sort((a, b) => b.old.length - a.old.length)
  const addresses = byLength
    .map(
      (h) => `      - { re: ${yq(`(?<![\\d.])${esc(h.old)}(?!\\d|\\.\\d)`)}, name: ${h.name} }\n`,
    )
    .join('')
  return `- hosts: all
  gather_facts: false
  vars:
    addresses:
${addresses}  tasks:
    - name: files holding an old address
      ansible.builtin.find:
        paths: "{{ root }}"
        recurse: true
        patterns: ["*.php", "*.ini", "*.json", "*.conf", "*.txt"]
        read_whole_file: true
        contains: "{{ item.re }}"
      loop: "{{ addresses }}"
      loop_control: { label: "{{ item.name }}" }
      register: found
    - name: old address to its name
      ansible.builtin.replace:
        path: "{{ item.1.path }}"
        regexp: "{{ item.0.item.re }}"
        replace: "{{ item.0.item.name }}"
      loop: "{{ found.results | subelements('files') }}"
      loop_control: { label: "{{ item.1.path }}" }
`
}

/** ansible.cfg of `dir` (Ansible ignores one in a world-writable working directory: passed as ANSIBLE_CONFIG). */
export function ansibleConfig(dir) {
  mkdirSync(join(dir, 'tmp'), { recursive: true })
  mkdirSync(join(dir, 'cp'), { recursive: true, mode: 0o700 })
  return `[defaults]
forks = 4
host_key_checking = True
interpreter_python = /usr/bin/python3
retry_files_enabled = False
local_tmp = ${join(dir, 'tmp')}
nocows = True

[ssh_connection]
pipelining = True
control_path = ${join(dir, 'cp')}/%%h-%%p-%%r
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s
`
}

/** Writes site.yml and ansible.cfg into `dir`; returns the environment prefix of a command. */
export function writeAnsible(dir) {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'site.yml'), playbook())
  writeFileSync(join(dir, 'ansible.cfg'), ansibleConfig(dir))
  return `ANSIBLE_CONFIG='${join(dir, 'ansible.cfg')}' ANSIBLE_NOCOLOR=1`
}

/**
 * The files a `--check --diff` run shows (its `--- before: PATH` lines), relative to `root` of
 * each host (`roots`: host → root directory, or one root for all).
 */
export function reviewedFiles(outFile, roots) {
  const seen = new Set()
  for (const m of readFileSync(outFile, 'utf8').matchAll(/^--- before: (.*)$/gm)) seen.add(m[1])
  const rel = []
  for (const p of seen)
    for (const [host, root] of Object.entries(roots))
      if (p.startsWith(root + '/')) rel.push({ host, path: p.slice(root.length + 1) })
  return rel
}

/**
 * The review's correctness: files shown against the files expected to change (per host), a
 * file shown that must not change (a decoy-only one, or any other) is wrong.
 */
export function checkReview(shown, expectedByHost) {
  let expected = 0
  let done = 0
  let wrong = 0
  for (const [host, exp] of Object.entries(expectedByHost)) {
    const hot = new Set(
      exp.listed.filter((e) => e.sites.some((s) => s[1] !== s[2])).map((e) => e.path),
    )
    expected += hot.size
    for (const s of shown.filter((x) => x.host === host)) {
      if (hot.has(s.path)) done++
      else wrong++
    }
  }
  return {
    note: `${done}/${expected} changing files shown, ${expected - done} missed, ${wrong} wrong (file level)`,
    expected,
    done,
    missed: expected - done,
    wrong,
  }
}
