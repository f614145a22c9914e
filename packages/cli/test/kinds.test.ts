import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { namedKinds, stepKindsFor } from '../src/kinds.js'
import { stepKinds } from '../src/steps.js'
import { moduleLog } from '@cutover/test-kit'
import { parseSpecDocument } from '@cutover/rewrite'
import { tempDir } from '@cutover/test-kit/temp'

const names = (kinds: readonly { name: string }[]) => kinds.map((k) => k.name)

describe('step kinds loaded for a spec', () => {
  it('reads the kinds the steps name, and nothing from a spec it cannot read that way', () => {
    expect(
      namedKinds(
        parseSpecDocument(
          'version: 1\nsteps:\n  - hosts: { files: [etc/hosts] }\n  - text: { files: [a] }\n  - hosts: { files: [b] }\n',
        ),
      ),
    ).toEqual(['hosts', 'text', 'hosts'])
    expect(namedKinds(parseSpecDocument('version: 1\nsteps: []\n'))).toEqual([])
    for (const odd of [
      'steps: [',
      'version: 1\n',
      '- a\n',
      'steps: { hosts: {} }\n',
      'steps:\n  - { hosts: {}, text: {} }\n',
      'steps:\n  - hosts\n',
    ]) {
      expect(namedKinds(parseSpecDocument(odd)), odd).toBeUndefined()
    }
  })

  it('loads exactly the kinds named, or every kind (in the registered order) when one is unknown or unreadable', async () => {
    expect(names(await stepKindsFor(['hosts', 'text', 'hosts']))).toEqual(['hosts', 'text'])
    expect(names(await stepKindsFor(['hosts', 'nope']))).toEqual(names(stepKinds))
    expect(names(await stepKindsFor(undefined))).toEqual(names(stepKinds))
    // every registered kind can be loaded alone, as the same object
    for (const k of stepKinds) expect(await stepKindsFor([k.name])).toEqual([k])
  })

  it('keeps a spec error naming every kind', async () => {
    const { memoryIo } = await import('../src/io.js')
    const { run } = await import('../src/run.js')
    const dir = tempDir('cutover-kinds-')
    writeFileSync(
      join(dir, 'cutover.yaml'),
      'version: 1\nsteps:\n  - hosts: { files: [etc/hosts], ensure: new }\n  - nginx: { files: [x] }\n',
    )
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', dir], io)).toBe(1)
    expect(io.err()).toContain(
      `unknown step kind "nginx"; expected one of: ${names(stepKinds).join(', ')}`,
    )
  })

  it('plans a hosts step with the built binary without loading the sudoers and SQL packages', () => {
    const bin = resolve(import.meta.dirname, '../dist/bin.js')
    const dir = tempDir('cutover-kinds-')
    const modules = moduleLog(dir)
    writeFileSync(
      join(dir, 'cutover.yaml'),
      'version: 1\nhosts:\n  db.example.net: { old: 10.0.0.1, new: 10.0.0.2 }\nsteps:\n  - hosts: { files: [etc/hosts], ensure: new }\n',
    )
    mkdirSync(join(dir, 'root/etc'), { recursive: true })
    writeFileSync(
      join(dir, 'root/etc/hosts'),
      '127.0.0.1\tlocalhost\n10.0.0.1\tdb.example.net db\n',
    )
    const out = execFileSync(
      process.execPath,
      [...modules.importArgs, bin, 'plan', '--root', 'root'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    )
    expect(out).toContain('+10.0.0.2\tdb.example.net db')
    const loaded = modules.loaded()
    expect(loaded).toMatch(/hosts\/dist\/index\.js/)
    for (const other of ['sudoers/dist', 'sqlfn/dist']) expect(loaded, other).not.toContain(other)
  })
})
