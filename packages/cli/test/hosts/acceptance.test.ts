import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { parseHosts, resolveHost } from '@cutover/hosts'
import { tempDir } from '@cutover/test-kit/temp'

const SPEC = `version: 1
hosts:
  finance.thehumanjourney.net:  { old: 10.0.10.48,  new: 10.0.10.49 }
  hrdb.thehumanjourney.net:     { old: 10.0.10.50,  new: 10.0.10.51 }
  rabbitmq.thehumanjourney.net: { old: 10.0.10.107, new: 10.0.10.107 }
  oas.thehumanjourney.net:      { old: 10.0.10.60,  new: 10.0.10.61 }
steps:
  - hosts: { files: [etc/hosts], ensure: new }
`

const HOSTS = [
  '127.0.0.1\tlocalhost',
  '127.0.1.1\tvm-web-01.thehumanjourney.net\tvm-web-01',
  '',
  '# The following lines are desirable for IPv6 capable hosts',
  '::1     localhost ip6-localhost ip6-loopback',
  'ff02::1 ip6-allnodes',
  'ff02::2 ip6-allrouters',
  '',
  '10.0.10.48\tfinance.thehumanjourney.net finance\t# finance DB (PostgreSQL 9.6)',
  '10.0.10.50\thrdb.thehumanjourney.net intranet.thehumanjourney.net',
  '10.0.10.107\trabbitmq.thehumanjourney.net',
  '',
].join('\n')

function machine() {
  const base = tempDir('cutover-hosts-')
  const root = join(base, 'root')
  mkdirSync(join(root, 'etc'), { recursive: true })
  // a link inside the root, as a container's /etc/hosts -> ../run/hosts (a link leaving the root is refused)
  mkdirSync(join(root, 'run'))
  const real = join(root, 'run', 'hosts')
  writeFileSync(real, HOSTS)
  symlinkSync('../run/hosts', join(root, 'etc', 'hosts'))
  writeFileSync(join(base, 'cutover.yaml'), SPEC)
  return { base, root, real }
}

describe('acceptance: the hosts step through the CLI', () => {
  it('ensures every inventory name at its new address, losslessly, through a symlink; a second plan is empty', async () => {
    const { base, root, real } = machine()
    const argv = ['--spec', join(base, 'cutover.yaml'), '--root', root]
    const io = memoryIo({ cwd: base, env: { CUTOVER_DEBUG: '1' } })
    expect(await run(['apply', ...argv, '--yes'], io), io.err()).toBe(0)
    expect(io.out()).toContain('--- a/etc/hosts')

    const after = readFileSync(real, 'utf8')
    const doc = parseHosts(after)
    expect(doc.errors).toEqual([])
    expect(resolveHost(doc, 'finance.thehumanjourney.net', 'ipv4')).toBe('10.0.10.49')
    expect(resolveHost(doc, 'finance', 'ipv4')).toBe('10.0.10.49')
    expect(resolveHost(doc, 'hrdb.thehumanjourney.net', 'ipv4')).toBe('10.0.10.51')
    expect(resolveHost(doc, 'rabbitmq.thehumanjourney.net', 'ipv4')).toBe('10.0.10.107')
    expect(resolveHost(doc, 'oas.thehumanjourney.net', 'ipv4')).toBe('10.0.10.61')
    // the unrelated alias that shared hrdb's line still resolves to the old address
    expect(resolveHost(doc, 'intranet.thehumanjourney.net', 'ipv4')).toBe('10.0.10.50')
    expect(resolveHost(doc, 'localhost', 'ipv6')).toBe('::1')

    const was = HOSTS.split('\n')
    const now = after.split('\n')
    // untouched lines (and the finance comment) are byte-identical, in place
    expect(now.slice(0, 8)).toEqual(was.slice(0, 8))
    expect(now[8]).toBe(
      '10.0.10.49\tfinance.thehumanjourney.net finance\t# finance DB (PostgreSQL 9.6)',
    )
    expect(now[9]).toBe('10.0.10.50\tintranet.thehumanjourney.net')
    expect(now[10]).toBe(was[10])
    expect(now.slice(11)).toEqual([
      '',
      '# cutover',
      '10.0.10.51\thrdb.thehumanjourney.net',
      '10.0.10.61\toas.thehumanjourney.net',
      '',
    ])

    // the link is still a link to the same file
    expect(lstatSync(join(root, 'etc', 'hosts')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(root, 'etc', 'hosts'))).toBe('../run/hosts')
    expect(realpathSync(join(root, 'etc', 'hosts'))).toBe(realpathSync(real))

    const again = memoryIo({ cwd: base, env: { CUTOVER_DEBUG: '1' } })
    expect(await run(['plan', ...argv, '--detailed-exitcode'], again), again.err()).toBe(0)
    const verify = memoryIo({ cwd: base, env: { CUTOVER_DEBUG: '1' } })
    expect(await run(['verify', ...argv], verify), verify.out()).toBe(0)
  })

  it('reports the old address left on the unrelated alias as a leftover', async () => {
    const { base, root } = machine()
    const io = memoryIo({ cwd: base, env: { CUTOVER_DEBUG: '1' } })
    expect(
      await run(['plan', '--spec', join(base, 'cutover.yaml'), '--root', root, '--json'], io),
      io.err(),
    ).toBe(0)
    const plan = JSON.parse(io.out()) as {
      changes: Array<{ target: string; edits: Array<{ rule: string }> }>
      leftovers: Array<{ target: string; line: number; text: string; reason: string }>
    }
    expect(plan.changes.map((c) => c.target)).toEqual(['etc/hosts'])
    expect(plan.changes[0]!.edits.every((e) => e.rule === 'hosts.ensure')).toBe(true)
    expect(plan.leftovers).toMatchObject([
      {
        target: 'etc/hosts',
        line: 10,
        text: '10.0.10.50',
        reason: expect.stringContaining('intranet.thehumanjourney.net'),
      },
    ])
  })
})
