import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree, snapshot } from './tree.js'

const SPEC =
  'version: 1\nhosts:\n  f.example: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["etc/*.conf"], addresses: new }\n'
const kills: Array<() => void> = []
afterEach(() => kills.splice(0).forEach((k) => k()))

describe('cutover state, locks and rollback through the CLI', () => {
  it('lists transactions, prunes old ones, and rolls back the last apply', async () => {
    const dir = makeTree({ 'cutover.yaml': SPEC, 'etc/a.conf': 'host 10.0.10.48\n' })
    expect(await run(['apply', '--root', '.', '--yes', '--quiet'], memoryIo({ cwd: dir }))).toBe(0)
    const rb = memoryIo({ cwd: dir })
    expect(await run(['rollback', '--root', '.'], rb)).toBe(1)
    expect(rb.err()).toBe('cutover: not rolled back: without a terminal, pass --yes\n')
    expect(await run(['rollback', '--root', '.', '--yes'], memoryIo({ cwd: dir }))).toBe(0)
    expect(readFileSync(join(dir, 'etc/a.conf'), 'utf8')).toBe('host 10.0.10.48\n')
    const list = memoryIo({ cwd: dir })
    expect(await run(['state', '--root', '.'], list)).toBe(0)
    const lines = list.out().trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^\S+ {2}apply {4}committed {3}\S+ {2}1 file\(s\), backups 16 bytes$/)
    expect(lines[1]).toMatch(
      /^\S+ {2}rollback committed {3}\S+ {2}1 file\(s\), backups 16 bytes \(restores \S+\)$/,
    )
    const prune = memoryIo({ cwd: dir })
    expect(await run(['state', 'prune', '--keep', '1', '--root', '.'], prune)).toBe(0)
    expect(prune.out()).toMatch(/^Removed 1 finished transaction\(s\): \S+\n$/)
  })

  it('refuses a second apply while another holds the lock, naming it', async () => {
    const dir = makeTree({ 'cutover.yaml': SPEC, 'etc/a.conf': 'host 10.0.10.48\n' })
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    kills.push(() => holder.kill('SIGKILL'))
    mkdirSync(join(dir, 'var/lib/cutover'), { recursive: true })
    writeFileSync(
      join(dir, 'var/lib/cutover/lock'),
      JSON.stringify({
        pid: holder.pid,
        host: hostname(),
        started: '2026-11-22T10:00:00.000Z',
        command: 'cutover apply',
      }),
    )
    const before = snapshot(dir)
    const io = memoryIo({ cwd: dir })
    expect(await run(['apply', '--root', '.', '--yes', '--quiet'], io)).toBe(1)
    expect(io.err()).toContain(
      `is locked by cutover apply (pid ${holder.pid} on ${hostname()}, since 2026-11-22T10:00:00.000Z)`,
    )
    expect(snapshot(dir)).toEqual(before)
    for (const cmd of [['recover'], ['rollback', '--yes']]) {
      const other = memoryIo({ cwd: dir })
      expect(await run([...cmd, '--root', '.'], other)).toBe(1)
      expect(other.err()).toContain(`pid ${holder.pid}`)
    }
  })
})
