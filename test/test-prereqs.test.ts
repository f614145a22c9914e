import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// scripts/test-prereqs.mjs runs first in `pnpm test`. Here it runs with a PATH that holds none of
// the tools the tests need (visudo, sshd and nginx are still found in /usr/sbin, as on a Debian
// machine with sudo, openssh-server and nginx-light; ssh, ssh-keygen, named-checkzone,
// ansible-inventory, chromium and cmark-gfm, in /usr/bin, are not).
const script = join(import.meta.dirname, '../scripts/test-prereqs.mjs')
const packages = [
  'sudo',
  'php-cli',
  'attr',
  'acl',
  'e2fsprogs',
  'git',
  'openssh-client',
  'bind9-utils',
  'ansible-core',
  'chromium',
  'cmark-gfm',
]
const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function emptyBin(): string {
  const d = tempDir('cutover-prereqs-')
  chmodSync(d, 0o755)
  dirs.push(d)
  return d
}

const isRoot = process.getuid?.() === 0

describe('scripts/test-prereqs.mjs', () => {
  it('passes without a word when every tool is here', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' })
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', ''])
  })

  it.runIf(isRoot || process.env.CI === 'true')(
    'not root: stops at once with one line naming the Debian packages',
    () => {
      const bin = emptyBin()
      const r = spawnSync(
        '/usr/bin/setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script],
        { encoding: 'utf8', env: { PATH: bin } },
      )
      expect(r.status).toBe(1)
      expect(r.stdout).toBe('')
      const lines = r.stderr.split('\n').filter(Boolean)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`install the Debian packages ${packages.join(' ')}`)
    },
  )

  // apt-get is the one stand-in here (this machine's packages must not change): it records its
  // arguments and, on install, provides the tools by linking the real ones.
  it.runIf(isRoot || process.env.CI === 'true')(
    'as root: runs apt-get update, then installs exactly the missing packages',
    () => {
      const bin = emptyBin()
      const log = join(bin, 'apt-get.log')
      const real = [
        'cvtsudoers',
        'php',
        'setfattr',
        'getfattr',
        'setfacl',
        'getfacl',
        'chattr',
        'git',
        'ssh',
        'ssh-keygen',
        'named-checkzone',
        'ansible-inventory',
        'chromium',
        'cmark-gfm',
      ].map((t) => spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim())
      expect(real.every(Boolean)).toBe(true)
      writeFileSync(
        join(bin, 'apt-get'),
        `#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> ${log}\nif [ "$1" = install ]; then for t in ${real.join(' ')}; do /bin/ln -s "$t" ${bin}/; done; fi\n`,
        { mode: 0o755 },
      )
      const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: bin } })
      expect(r.stderr).toBe(
        `test prerequisites: installing the Debian packages ${packages.join(' ')}\n`,
      )
      expect(r.status).toBe(0)
      expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual([
        'noninteractive update -qq',
        `noninteractive install -y -qq --no-install-recommends ${packages.join(' ')}`,
      ])
    },
  )

  it.runIf(isRoot || process.env.CI === 'true')(
    'as root: fails with one line when apt-get does not provide the tools',
    () => {
      const bin = emptyBin()
      writeFileSync(join(bin, 'apt-get'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
      const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: bin } })
      expect(r.status).toBe(1)
      expect(r.stderr.split('\n').filter(Boolean).at(-1)).toBe(
        `test prerequisites: still missing after apt-get: the Debian packages ${packages.join(' ')}`,
      )
    },
  )
})

describe("the README's test command", () => {
  const root = join(import.meta.dirname, '..')
  it('is what .ci/run runs, and it checks the tools before anything else', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const block = /## Two commands[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    const commands = block.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))
    expect(commands).toHaveLength(2)
    expect(commands[0]).toContain('npm install -g pnpm@10')
    expect(commands[1]).toBe('pnpm test')
    const ci = readFileSync(join(root, '.ci/run'), 'utf8')
      .split('\n')
      .filter((l) => /^\s*pnpm test\b/.test(l))
    expect(ci).toEqual(['pnpm test --reporter=default --reporter=json --outputFile.json="$report"'])
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(pkg.scripts.test!.startsWith('node scripts/test-prereqs.mjs && ')).toBe(true)
  })
})
