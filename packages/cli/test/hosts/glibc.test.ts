import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, type TestContext } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { parseHosts, resolveHost } from '@cutover/hosts'
import { getent, glibcUnavailable } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// Issue 15 §6: what `ensure: new` writes is read back by glibc itself (`getent` runs each lookup
// in a private mount namespace with the planned file bound over /etc/hosts).

const spec = (name: string) => `version: 1
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
  kafka.thehumanjourney.net:   { old: 10.0.10.70, new: 10.0.10.71 }
steps:
  - hosts: { files: [etc/hosts], ensure: { address: new, hosts: [${name}] } }
`

const KELVIN = '\u212a'

const unavailable = glibcUnavailable()

/** Runs the glibc read-back, or skips the rest of the test saying why (never under CI=true). */
function lookups(ctx: TestContext, check: () => void): void {
  if (unavailable) ctx.skip(`glibc lookups skipped: ${unavailable}`)
  check()
}

/** Applies `ensure: new` of `name` through the CLI on a hosts file; returns its path and new text. */
async function applyOn(
  hosts: string,
  name = 'finance.thehumanjourney.net',
  specText = spec(name),
): Promise<{ file: string; after: string; out: string }> {
  const base = tempDir('cutover-glibc-')
  mkdirSync(join(base, 'root/etc'), { recursive: true })
  const file = join(base, 'root/etc/hosts')
  writeFileSync(file, hosts)
  writeFileSync(join(base, 'cutover.yaml'), specText)
  const io = memoryIo({ cwd: base })
  const code = await run(
    ['apply', '--spec', join(base, 'cutover.yaml'), '--root', join(base, 'root'), '--yes'],
    io,
  )
  expect(code, io.err()).toBe(0)
  return { file, after: readFileSync(file, 'utf8'), out: io.out() + io.err() }
}

describe('hosts: an IPv4-mapped IPv6 entry is the IPv4 address it maps', () => {
  it('ensure: new moves the name of a mapped line in place, keeping the mapped spelling', async (ctx) => {
    const { file, after } = await applyOn(
      '127.0.0.1\tlocalhost\n::ffff:10.0.10.48\tfinance.thehumanjourney.net finance\t# db\n',
    )
    expect(after).toBe(
      '127.0.0.1\tlocalhost\n::ffff:10.0.10.49\tfinance.thehumanjourney.net finance\t# db\n',
    )
    expect(resolveHost(parseHosts(after), 'finance', 'ipv4')).toBe('::ffff:10.0.10.49')
    lookups(ctx, () => {
      expect(getent(file, 'ahostsv4', 'finance.thehumanjourney.net')).toEqual(['10.0.10.49'])
      expect(getent(file, 'ahostsv4', 'finance')).toEqual(['10.0.10.49'])
      expect(getent(file, 'ahosts', 'finance')).toEqual(['::ffff:10.0.10.49'])
    })
  })

  it('splits the name off a mapped line whose other names stay, and drops a later mapped entry of the old address', async (ctx) => {
    const hosts = [
      '127.0.0.1 localhost',
      '::ffff:10.0.10.48 finance.thehumanjourney.net finance intranet',
      '0:0:0:0:0:FFFF:a00:a30 finance.thehumanjourney.net',
      '',
    ].join('\n')
    const { file, after } = await applyOn(hosts)
    expect(after).toBe(
      '127.0.0.1 localhost\n::ffff:10.0.10.48 intranet\n\n# cutover\n10.0.10.49 finance.thehumanjourney.net finance\n',
    )
    lookups(ctx, () => {
      expect(getent(file, 'ahostsv4', 'finance.thehumanjourney.net')).toEqual(['10.0.10.49'])
      expect(getent(file, 'ahostsv4', 'finance')).toEqual(['10.0.10.49'])
      expect(getent(file, 'ahostsv4', 'intranet')).toEqual(['10.0.10.48'])
    })
  })

  it('a plain entry first and a mapped one of the old address later: the later one loses the name', async (ctx) => {
    const { file, after } = await applyOn(
      '10.0.10.48 finance.thehumanjourney.net\n::ffff:10.0.10.48 finance.thehumanjourney.net\n',
    )
    expect(after).toBe('10.0.10.49 finance.thehumanjourney.net\n')
    lookups(ctx, () =>
      expect(getent(file, 'ahostsv4', 'finance.thehumanjourney.net')).toEqual(['10.0.10.49']),
    )
  })

  it('replace with an IPv4 key rewrites the address a mapped entry maps; an old address left on one is a leftover with its reason', async (ctx) => {
    const specText =
      'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - hosts: { files: [etc/hosts], replace: { 147.251.21.10: 147.251.21.12 } }\n'
    const { file, after, out } = await applyOn(
      '::ffff:147.251.21.10 mentat-hub\n::ffff:10.0.10.48 intranet\n',
      '',
      specText,
    )
    expect(after).toBe('::ffff:147.251.21.12 mentat-hub\n::ffff:10.0.10.48 intranet\n')
    expect(out).toContain(
      'etc/hosts:2:8: 10.0.10.48 — old address: still the address of intranet, which no rule of this step moves',
    )
    lookups(ctx, () => expect(getent(file, 'ahostsv4', 'mentat-hub')).toEqual(['147.251.21.12']))
  })
})

describe('hosts: names compare as the resolver compares them (ASCII case folding only)', () => {
  const hosts = `127.0.0.1 localhost\n10.0.10.77 ${KELVIN}afka.thehumanjourney.net\n10.0.10.70 KAFKA.thehumanjourney.net kafka\n`

  it('a name written with the KELVIN SIGN is another name: its line stays, the real kafka line moves', async (ctx) => {
    const { file, after } = await applyOn(hosts, 'kafka.thehumanjourney.net')
    expect(after).toBe(
      `127.0.0.1 localhost\n10.0.10.77 ${KELVIN}afka.thehumanjourney.net\n10.0.10.71 KAFKA.thehumanjourney.net kafka\n`,
    )
    // glibc never takes the KELVIN line for kafka (before the fix, kafka's own line was deleted
    // and kafka resolved to nothing); getent itself maps the KELVIN spelling through IDN to kafka
    lookups(ctx, () => {
      expect(getent(file, 'ahostsv4', 'kafka.thehumanjourney.net')).toEqual(['10.0.10.71'])
      expect(getent(file, 'ahostsv4', 'kafka')).toEqual(['10.0.10.71'])
    })
  })
})
