import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, textStep, type FleetPlanDocument, type PlanDocWhole } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { applyFleet, rollbackFleet } from '../src/coordinator.js'
import { localMachine } from '../src/local-machine.js'
import type { MachineSpec } from '../src/machine.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The restore side of whole files across machines: a fleet rollback of a copy that made a link
 * and the directories above a new file, and removed a file the source lacks (`delete: true`),
 * puts each machine back as it was: the link and the directories gone, the removed file made
 * again with its bytes, mode and attributes.
 */

const engine = createEngine({ steps: [textStep] })
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const haveXattr = need('setfattr') && need('getfattr')

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

type Change = FleetPlanDocument['changes'][number]

function setup() {
  const dir = tempDir('cutover-rbwhole-')
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const roots = { hub: join(dir, 'hub'), alt: join(dir, 'alt') }
  for (const root of Object.values(roots)) mkdirSync(join(root, 'etc/mentat'), { recursive: true })
  mkdirSync(join(roots.hub, 'etc/mentat/modules'))
  writeFileSync(join(roots.hub, 'etc/mentat/modules/a.json'), '{"a": 1}\n')
  symlinkSync('modules/a.json', join(roots.hub, 'etc/mentat/current'))
  writeFileSync(join(roots.alt, 'etc/mentat/old.json'), '{"old": true}\n')
  chmodSync(join(roots.alt, 'etc/mentat/old.json'), 0o640)
  if (haveXattr)
    execFileSync('setfattr', [
      '-n',
      'user.kept',
      '-v',
      'yes',
      join(roots.alt, 'etc/mentat/old.json'),
    ])
  const base = { mode: '0644', encoding: 'utf8' as const, validators: [], edits: [], diff: '' }
  const change = (c: Partial<Change> & { target: string; whole: PlanDocWhole }): Change => ({
    machine: 'alt',
    kind: 'copy',
    before: 'absent',
    after: 'absent',
    ...base,
    ...c,
  })
  const changes: Change[] = [
    change({
      target: 'etc/mentat/modules/a.json',
      after: sha('{"a": 1}\n'),
      whole: {
        type: 'file',
        from: { machine: 'hub', path: 'etc/mentat/modules/a.json' },
        dirs: [{ path: 'etc/mentat/modules', mode: '0750', uid: 0, gid: 0 }],
      },
    }),
    change({
      target: 'etc/mentat/current',
      after: sha('modules/a.json'),
      whole: {
        type: 'symlink',
        symlink: 'modules/a.json',
        from: { machine: 'hub', path: 'etc/mentat/current' },
      },
    }),
    change({
      target: 'etc/mentat/old.json',
      before: sha('{"old": true}\n'),
      whole: { type: 'absent' },
    }),
  ]
  const doc: FleetPlanDocument = {
    version: 1,
    profile: null,
    machines: Object.entries(roots).map(([name, root]) => ({ name, root, ssh: `${name}.example` })),
    spec: sha('spec'),
    changes,
    database: [],
    leftovers: [],
    notes: [],
    secrets: [],
  }
  const options = {
    controlDir: join(dir, '.cutover'),
    open: async (s: MachineSpec) => localMachine(s),
    env: {},
    validator: (n: string) => engine.validator(n),
  }
  /** alt's etc/mentat: each name with its type, content or link text, and mode. */
  const look = () =>
    (readdirSync(join(roots.alt, 'etc/mentat'), { recursive: true }) as string[])
      .sort()
      .map((n) => {
        const p = join(roots.alt, 'etc/mentat', n)
        const st = lstatSync(p)
        const what = st.isSymbolicLink()
          ? `-> ${readlinkSync(p)}`
          : st.isDirectory()
            ? 'dir'
            : readFileSync(p, 'utf8').trim()
        const attr =
          haveXattr && st.isFile()
            ? execFileSync('getfattr', ['-d', '--absolute-names', p], {
                encoding: 'utf8',
              }).includes('user.kept')
            : false
        return `${n} ${what} ${(st.mode & 0o7777).toString(8)}${attr ? ' kept' : ''}`
      })
  return { roots, doc, options, look }
}

describe('fleet rollback of whole files', () => {
  it('removes the link and the directory it made, and makes the removed file again with its mode and attributes', async () => {
    const f = setup()
    const before = f.look()
    expect(before).toEqual([`old.json {"old": true} 640${haveXattr ? ' kept' : ''}`])
    await applyFleet(f.doc, f.options)
    expect(f.look()).toEqual([
      'current -> modules/a.json 777',
      'modules dir 750',
      'modules/a.json {"a": 1} 644',
    ])
    await rollbackFleet(f.options)
    expect(f.look()).toEqual(before)
  })
})
