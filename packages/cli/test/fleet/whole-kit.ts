import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A throwaway OpenSSH private key, made for the test; its base64 body lines are what must never show. */
function privateKey(dir: string, name: string): { text: string; lines: string[] } {
  const file = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', file])
  const text = readFileSync(file, 'utf8')
  return { text, lines: text.split('\n').filter((l) => l && !l.startsWith('-----')) }
}

function write(root: string, path: string, text: string, mode = 0o644): void {
  mkdirSync(join(root, path, '..'), { recursive: true })
  writeFileSync(join(root, path), text)
  chmodSync(join(root, path), mode)
}

/**
 * Two machines (mentat-hub's and mentat-alt's files), local directories under `dir` unless
 * `machines` gives their roots and ssh destinations, and the spec in `dir/ctl`.
 */
export function mentatFleet(
  dir: string,
  extraSteps = '',
  machines?: { hub: { root: string; ssh: string }; alt: { root: string; ssh: string } },
) {
  const hub = machines?.hub.root ?? join(dir, 'hub')
  const alt = machines?.alt.root ?? join(dir, 'alt')
  const ssh = (m?: { ssh: string }) => (m ? `ssh: ${m.ssh}, ` : '')
  const hubKey = privateKey(dir, 'hub-key')
  const altKey = privateKey(dir, 'alt-key')
  write(hub, 'etc/hostname', 'mentat-hub\n')
  write(alt, 'etc/hostname', 'mentat-alt\n')
  write(hub, 'etc/warden_client/key.pem', hubKey.text, 0o640)
  write(alt, 'etc/warden_client/key.pem', altKey.text, 0o640)
  write(hub, 'etc/mentat/core.json', '{ "host": "mentat-hub", "port": 1 }\n')
  write(hub, 'etc/mentat/sub/extra.json', '{ "extra": true }\n', 0o640)
  chmodSync(join(hub, 'etc/mentat/sub'), 0o750)
  symlinkSync('core.json', join(hub, 'etc/mentat/current.json'))
  write(hub, 'etc/mentat/blob.bin', 'a\u0000b')
  // sensitive by its mode, and by the step's glob
  write(hub, 'etc/mentat/secret.conf', 'password = hunter2-by-mode\n', 0o600)
  write(hub, 'etc/mentat/token.txt', 'token-by-glob-4711\n')
  write(alt, 'etc/mentat/core.json', '{ "host": "mentat-alt", "port": 1 }\n')
  write(alt, 'etc/mentat/stale.json', '{}\n')
  mkdirSync(join(alt, 'etc/mentat/old.d'))
  const ctl = join(dir, 'ctl')
  write(ctl, 'files/motd', 'Welcome to Mentat\n')
  write(
    ctl,
    'cutover.yaml',
    `version: 1
machines:
  mentat-hub: { ${ssh(machines?.hub)}root: ${hub} }
  mentat-alt: { ${ssh(machines?.alt)}root: ${alt} }
steps:
  - copy: { from: mentat-hub:etc/mentat/, to: mentat-alt:etc/mentat/, delete: true, sensitive: ["**/token.txt"] }
  - copy: { from: files/motd, to: [mentat-hub:etc/motd, mentat-alt:etc/motd] }
  - exchange:
      pairs:
        - [mentat-hub:etc/hostname, mentat-alt:etc/hostname]
        - [mentat-hub:etc/warden_client/key.pem, mentat-alt:etc/warden_client/key.pem]
${extraSteps}`,
  )
  return {
    ctl,
    hub,
    alt,
    keys: [...hubKey.lines, ...altKey.lines, 'hunter2-by-mode', 'token-by-glob-4711'],
  }
}

export type Doc = {
  machines: Array<{ name: string; root: string }>
  changes: Array<{
    machine: string
    target: string
    kind: string
    before: string
    after: string
    mode: string
    diff: string
    edits: unknown[]
    whole?: Record<string, unknown>
  }>
  notes: Array<{ machine?: string; target: string; code: string }>
}

export const sha = (s: string | Buffer) =>
  'sha256:' + execFileSync('sha256sum', { input: s }).toString().split(' ')[0]
