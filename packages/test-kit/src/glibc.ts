import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './temp.js'

// What a hosts file means is what glibc answers from it. getent reads only the real /etc/hosts,
// so each lookup runs in a private mount namespace with the file under test bound over
// /etc/hosts (and an nsswitch.conf of `hosts: files`, so no lookup waits for DNS).

/**
 * Why glibc lookups cannot run here (unshare, getent or mount missing, or `unshare -m` refused),
 * or undefined when they can. Under CI=true a reason is an error: CI must be able to run them.
 */
export function glibcUnavailable(): string | undefined {
  const missing = ['unshare', 'getent', 'mount'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
  )
  let why = missing.length ? `${missing.join(', ')} not installed` : undefined
  if (!why) {
    const probe = spawnSync('unshare', ['-m', 'true'], { encoding: 'utf8' })
    if (probe.status !== 0) why = `unshare -m fails (needs root): ${probe.stderr.trim()}`
  }
  if (why && process.env.CI === 'true')
    throw new Error(`glibc hosts lookups required in CI: ${why}`)
  return why
}

/**
 * The addresses glibc gives `name` from `hostsFile` (`getent DB NAME`: the first column, in
 * order, each once); none when glibc knows no such name.
 */
export function getent(hostsFile: string, db: 'ahostsv4' | 'ahosts', name: string): string[] {
  const dir = tempDir('cutover-nss-')
  const nss = join(dir, 'nsswitch.conf')
  writeFileSync(nss, 'hosts: files\n')
  const r = spawnSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && exec getent "$3" "$4"',
      'sh',
      hostsFile,
      nss,
      db,
      name,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (r.status === 2) return []
  if (r.status !== 0) throw new Error(`getent ${db} ${name} failed: ${r.stderr}`)
  return [
    ...new Set(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]!),
    ),
  ]
}
