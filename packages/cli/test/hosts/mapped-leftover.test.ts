import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { getent, glibcUnavailable } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// Issue 15 §6: a v4-mapped entry is the IPv4 address it maps, whatever its spelling. An old
// address spelled in hex (::ffff:a00:a30 is 10.0.10.48) on a line no rule moves is a leftover,
// like the dotted spelling: glibc still answers its names with the old address.

const unavailable = glibcUnavailable()

describe('an old address in a hex-spelled v4-mapped entry', () => {
  it('is a leftover naming the names it still answers for, which glibc resolves to the old address', async (ctx) => {
    const base = tempDir('cutover-mapped-')
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
    expect(getent(file, 'ahostsv4', 'intranet')).toEqual(['10.0.10.48'])
  })
})
