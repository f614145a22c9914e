import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutover, NEW, OLD, snapshot, strays } from './fleet-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

/** Three local-directory machines (no ssh) and a controller directory with their spec. */
function localFleet(): { ctl: string; roots: string[] } {
  const dir = tempDir('cutover-fleet-local-')
  const roots = ['a', 'b', 'c'].map((n) => join(dir, n))
  for (const [i, root] of roots.entries()) {
    mkdirSync(join(root, 'etc'), { recursive: true })
    writeFileSync(join(root, 'etc/app.conf'), `# ${i}\ndb = ${OLD}\n`)
    writeFileSync(join(root, 'etc/hosts'), `${OLD} db.example.net\n`)
  }
  const ctl = join(dir, 'ctl')
  mkdirSync(ctl)
  writeFileSync(
    join(ctl, 'cutover.yaml'),
    [
      'version: 1',
      'machines:',
      ...roots.map((r, i) => `  ${'abc'[i]}: { root: ${r} }`),
      'hosts:',
      `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
      'steps:',
      '  - text: { files: [etc/app.conf], addresses: new }',
      '  - hosts: { on: [a, c], files: [etc/hosts], ensure: new }',
      '',
    ].join('\n'),
  )
  return { ctl, roots }
}

const states = (roots: readonly string[]) =>
  roots.map((r) =>
    readFileSync(join(r, 'etc/app.conf'), 'utf8').includes(NEW) ? 'after' : 'before',
  )

describe('a fleet of local-directory machines through the built CLI', () => {
  it('applies in one fleet transaction, lists it, and rolls it back on every machine', async () => {
    const { ctl, roots } = localFleet()
    const applied = await cutover(['apply', '--yes', '--quiet'], ctl)
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    expect(states(roots)).toEqual(['after', 'after', 'after'])
    // the hosts step runs on a and c only
    expect(roots.map((r) => readFileSync(join(r, 'etc/hosts'), 'utf8').includes(NEW))).toEqual([
      true,
      false,
      true,
    ])
    const [txid] = readdirSync(join(ctl, '.cutover/fleet'))
    const state = await cutover(['state'], ctl)
    expect(state.out).toMatch(new RegExp(`^${txid} {2}apply {4}committed {3}\\S+ {2}a, b, c\\n$`))
    const one = await cutover(['state', '--machine', 'b'], ctl)
    expect(one.out).toMatch(
      /^b: \S+ {2}apply {4}committed {3}\S+ {2}1 file\(s\), backups \d+ bytes\n$/,
    )
    const refused = await cutover(['rollback'], ctl)
    expect(refused.code).toBe(1)
    expect(refused.err).toBe('cutover: not rolled back: without a terminal, pass --yes\n')
    const rolled = await cutover(['rollback', '--yes'], ctl)
    expect(rolled.err).toBe('')
    expect(rolled.code).toBe(0)
    expect(rolled.out).toMatch(
      new RegExp(`^Rolled back ${txid}: 5 file\\(s\\) on 3 machine\\(s\\)`),
    )
    expect(states(roots)).toEqual(['before', 'before', 'before'])
    for (const r of roots) expect(strays(r)).toEqual([])
  })

  it('killed before the decision: a machine alone refuses to decide, the controller aborts every machine', async () => {
    const { ctl, roots } = localFleet()
    expect((await cutover(['plan', '--out', 'plan.json', '--quiet'], ctl)).code).toBe(0)
    const killed = await cutover(['apply', 'plan.json'], ctl, {
      CUTOVER_FAULT_INJECT: 'fleet:prepared',
    })
    expect(killed.signal).toBe('SIGKILL')
    const before = roots.map(snapshot)
    const alone = await cutover(['recover', '--root', roots[1]!], tmpdir())
    expect(alone.code).toBe(1)
    expect(alone.err).toMatch(
      new RegExp(
        `its controller decides it \\(\\S+:${join(ctl, '.cutover/fleet')}/\\S+/journal\\.json\\)`,
      ),
    )
    expect(roots.map(snapshot)).toEqual(before)
    const recovered = await cutover(['recover'], ctl)
    expect(recovered.code).toBe(0)
    expect(recovered.out).toMatch(/^Fleet transaction \S+: preparing -> aborted\n/)
    expect(states(roots)).toEqual(['before', 'before', 'before'])
    for (const r of roots) expect(strays(r)).toEqual([])
  })

  it('killed after the decision: recover finishes every machine', async () => {
    const { ctl, roots } = localFleet()
    const killed = await cutover(['apply', '--yes', '--quiet'], ctl, {
      CUTOVER_FAULT_INJECT: 'fleet:decided',
    })
    expect(killed.signal).toBe('SIGKILL')
    expect(states(roots)).toEqual(['before', 'before', 'before'])
    const recovered = await cutover(['recover'], ctl)
    expect(recovered.code).toBe(0)
    expect(recovered.out).toMatch(/^Fleet transaction \S+: commit -> committed\n/)
    expect(states(roots)).toEqual(['after', 'after', 'after'])
    for (const r of roots) expect(strays(r)).toEqual([])
    expect((await cutover(['plan', '--detailed-exitcode', '--quiet'], ctl)).code).toBe(0)
  })

  it("relative roots are the spec directory's, from any working directory; the plan records them absolute", async () => {
    const dir = tempDir('cutover-fleet-relative-')
    for (const n of ['a', 'b']) {
      mkdirSync(join(dir, 'machines', n, 'etc'), { recursive: true })
      writeFileSync(join(dir, 'machines', n, 'etc/app.conf'), `db = ${OLD}\n`)
    }
    writeFileSync(
      join(dir, 'cutover.yaml'),
      [
        'version: 1',
        'machines:',
        '  a: { root: machines/a }',
        '  b: { root: ./machines/b/ }',
        'hosts:',
        `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
        'steps:',
        '  - text: { files: [etc/app.conf], addresses: new }',
        '',
      ].join('\n'),
    )
    // run from elsewhere: the roots are not the working directory's
    const cwd = tempDir('cutover-fleet-cwd-')
    const spec = ['--spec', join(dir, 'cutover.yaml')]
    const planned = await cutover(['plan', ...spec, '--out', 'plan.json', '--quiet'], cwd)
    expect(planned.err).toBe('')
    expect(planned.code).toBe(0)
    const doc = JSON.parse(readFileSync(join(cwd, 'plan.json'), 'utf8')) as {
      machines: Array<{ name: string; root: string }>
    }
    expect(doc.machines.map((m) => [m.name, m.root])).toEqual([
      ['a', join(dir, 'machines/a')],
      ['b', join(dir, 'machines/b')],
    ])
    const applied = await cutover(['apply', ...spec, 'plan.json', '--quiet'], cwd)
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    for (const n of ['a', 'b'])
      expect(readFileSync(join(dir, 'machines', n, 'etc/app.conf'), 'utf8')).toBe(`db = ${NEW}\n`)
    const one = await cutover(['state', ...spec, '--machine', 'b'], cwd)
    expect(one.err).toBe('')
    expect(one.out).toMatch(/^b: \S+ {2}apply {4}committed /)
    const rolled = await cutover(['rollback', ...spec, '--yes'], cwd)
    expect(rolled.err).toBe('')
    expect(rolled.code).toBe(0)
    for (const n of ['a', 'b'])
      expect(readFileSync(join(dir, 'machines', n, 'etc/app.conf'), 'utf8')).toBe(`db = ${OLD}\n`)
    // nothing was made in the working directory but the plan and the controller state of --spec's directory
    expect(readdirSync(cwd)).toEqual(['plan.json'])
  })
})
