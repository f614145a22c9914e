import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'

// Issue 15 §6: a v4-mapped entry is the IPv4 address it maps, whatever its spelling. An old
// address spelled in hex (::ffff:a00:a30 is 10.0.10.48) on a line no rule moves is a leftover,
// like the dotted spelling: glibc still answers its names with the old address.

function glibcUnavailable(): string | undefined {
  const missing = ['unshare', 'getent', 'mount'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0,
  )
  let why = missing.length ? `${missing.join(', ')} not installed` : undefined
  if (!why && spawnSync('unshare', ['-m', 'true']).status !== 0)
    why = 'unshare -m fails (needs root)'
  if (why && process.env.CI === 'true')
    throw new Error(`glibc hosts lookups required in CI: ${why}`)
  return why
}
const unavailable = glibcUnavailable()

/** The IPv4 addresses glibc gives `name` from `hostsFile` (in a private mount namespace, `hosts: files`). */
function getent(hostsFile: string, name: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-nss-'))
  writeFileSync(join(dir, 'nsswitch.conf'), 'hosts: files\n')
  const r = spawnSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && exec getent ahostsv4 "$3"',
      'sh',
      hostsFile,
      join(dir, 'nsswitch.conf'),
      name,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (r.status === 2) return []
  if (r.status !== 0) throw new Error(`getent ${name} failed: ${r.stderr}`)
  return [
    ...new Set(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]!),
    ),
  ]
}

describe('an old address in a hex-spelled v4-mapped entry', () => {
  it('is a leftover naming the names it still answers for, which glibc resolves to the old address', async (ctx) => {
    const base = mkdtempSync(join(tmpdir(), 'cutover-mapped-'))
    mkdirSync(join(base, 'root/etc'), { recursive: true })
    const file = join(base, 'root/etc/hosts')
    writeFileSync(file, '127.0.0.1 localhost\n::ffff:a00:a30 intranet\n')
    writeFileSync(
      join(base, 'cutover.yaml'),
      'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - hosts: { files: [etc/hosts], ensure: new }\n',
    )
    const io = memoryIo({ cwd: base })
    const code = await run(
      ['plan', '--spec', join(base, 'cutover.yaml'), '--root', join(base, 'root')],
      io,
    )
    expect(code, io.err()).toBe(0)
    expect(io.out()).toContain(
      'etc/hosts:2:1: ::ffff:a00:a30 — old address 10.0.10.48 (mapped): still the address of intranet, which no rule of this step moves',
    )
    if (unavailable) ctx.skip(`glibc lookups skipped: ${unavailable}`)
    expect(getent(file, 'intranet')).toEqual(['10.0.10.48'])
  })
})
