// The tools the bench compares against: installed from Debian when missing (as root), else skipped.
import { spawnSync } from 'node:child_process'

const has = (cmd) =>
  spawnSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0

const PACKAGES = {
  rg: 'ripgrep',
  augtool: 'augeas-tools augeas-lenses',
  '/usr/bin/time': 'time',
  perl: 'perl',
  diff: 'diffutils',
  sed: 'sed',
  'ansible-playbook': 'ansible',
  '/usr/sbin/sshd': 'openssh-server',
  ssh: 'openssh-client',
}

/** Which tools are present after trying to install the missing ones; logs what it does. */
export function ensureTools({ install = true, log }) {
  const missing = Object.keys(PACKAGES).filter((t) => !has(t))
  if (missing.length && install && process.getuid?.() === 0 && has('apt-get')) {
    const pkgs = missing.flatMap((t) => PACKAGES[t].split(' '))
    log(`installing from Debian: ${pkgs.join(' ')}`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const inst = () =>
      spawnSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'ignore', env }).status === 0
    if (!inst()) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env })
      inst()
    }
  }
  return Object.fromEntries(Object.keys(PACKAGES).map((t) => [t, has(t)]))
}
