#!/usr/bin/env node
// Runs first in `pnpm test`: the tests call real tools, and under CI=true a missing one fails its
// test. Here the tools are checked once. As root on Debian the missing packages are installed with
// apt-get (update first); otherwise the run stops at once with one line naming the packages.
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Each tool the tests run, and the Debian package that provides it. */
const TOOLS = [
  ['visudo', 'sudo'], // sudoers validation
  ['cvtsudoers', 'sudo'], // sudoers corpus agreement
  ['php', 'php-cli'], // php -l on rewritten PHP
  ['setfattr', 'attr'], // the transaction keeps extended attributes
  ['getfattr', 'attr'],
  ['setfacl', 'acl'], // ... and ACLs
  ['getfacl', 'acl'],
  ['chattr', 'e2fsprogs'], // an immutable target makes a rename fail
  ['git', 'git'], // the corpus's attributes and the fresh-clone test
  ['sshd', 'openssh-server'], // many machines: real sshd processes on loopback
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['named-checkzone', 'bind9-utils'], // zone files checked as named loads them
  ['ansible-inventory', 'ansible-core'], // machines of an Ansible inventory, read as Ansible does
  ['nginx', 'nginx-light'], // a step's validate: command, as `nginx -t -c %s` checks a staged nginx.conf
  ['chromium', 'chromium'], // the HTML review opened by a real browser (headless)
  ['cmark-gfm', 'cmark-gfm'], // the Markdown review read back by GitHub's own parser
]

// visudo lives in /usr/sbin, which is not on a user's PATH on Debian (the tests look there too)
const dirs = () => [
  ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
  '/usr/local/sbin',
  '/usr/sbin',
  '/sbin',
]

function found(tool) {
  return dirs().some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** The Debian packages of the tools that are not here, in a stable order without repeats. */
function missingPackages() {
  return [...new Set(TOOLS.filter(([tool]) => !found(tool)).map(([, pkg]) => pkg))]
}

function fail(line) {
  process.stderr.write(`${line}\n`)
  process.exit(1)
}

const missing = missingPackages()
if (missing.length > 0) {
  const install = `apt-get install ${missing.join(' ')}`
  if (process.getuid?.() !== 0)
    fail(
      `test prerequisites missing: install the Debian packages ${missing.join(' ')} (as root: ${install}), or run pnpm test as root to install them`,
    )
  if (!found('apt-get'))
    fail(
      `test prerequisites missing and no apt-get here: install the Debian packages ${missing.join(' ')}`,
    )
  process.stderr.write(`test prerequisites: installing the Debian packages ${missing.join(' ')}\n`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...missing],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env })
    if (r.status !== 0)
      fail(
        `test prerequisites: apt-get ${args[0]} failed (exit ${r.status ?? r.signal}); install the Debian packages ${missing.join(' ')}`,
      )
  }
  const still = missingPackages()
  if (still.length > 0)
    fail(`test prerequisites: still missing after apt-get: the Debian packages ${still.join(' ')}`)
}
