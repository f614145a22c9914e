import { createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  appliedOnce,
  createEngine,
  textStep,
  type FleetPlanDocument,
  type PlanDocWhole,
} from '@cutover/rewrite'
import { applyFleet, recoverFleet, rollbackFleet } from '../src/coordinator.js'
import { readFleetJournals } from '../src/fleet-journal.js'
import { localMachine } from '../src/local-machine.js'
import type { MachineSpec } from '../src/machine.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The apply of whole-file changes (`copy`, `exchange`) by the coordinator, on local-directory
 * machines (with `ssh` set, each is replayed through a local copy of its targets as a remote
 * machine is). The plans are made here as the planner makes them: from the files as they are.
 */

const engine = createEngine({ steps: [textStep] })

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** Two machines, hub and alt, each with its hostname, Warden certificate and key, and /etc/mentat. */
function trees(dir: string): { hub: string; alt: string } {
  const roots = { hub: join(dir, 'hub'), alt: join(dir, 'alt') }
  for (const [name, root] of Object.entries(roots)) {
    mkdirSync(join(root, 'etc/warden_client'), { recursive: true })
    mkdirSync(join(root, 'etc/mentat'), { recursive: true })
    writeFileSync(join(root, 'etc/hostname'), `mentat-${name}\n`)
    writeFileSync(join(root, 'etc/warden_client/cert.pem'), `CERT OF ${name}\n`)
    writeFileSync(join(root, 'etc/warden_client/key.pem'), `KEY OF ${name}\n`)
    chmodSync(join(root, 'etc/warden_client/key.pem'), 0o600)
    writeFileSync(join(root, 'etc/mentat/core.json'), `{"host": "${name}"}\n`)
  }
  writeFileSync(join(roots.hub, 'etc/mentat/new.json'), '{"only": "hub"}\n')
  chmodSync(join(roots.hub, 'etc/mentat/new.json'), 0o640)
  return roots
}

type Change = FleetPlanDocument['changes'][number]

/** The change that writes `to` on machine `on` with the bytes of `from` (on machine `source`), as planned now. */
function wholeChange(
  roots: Record<string, string>,
  source: string,
  from: string,
  on: string,
  to: string,
  extra: Partial<PlanDocWhole> = {},
): Change {
  const bytes = readFileSync(join(roots[source]!, from))
  const target = join(roots[on]!, to)
  const exists = existsSync(target)
  const mode = statSync(exists ? target : join(roots[source]!, from)).mode & 0o777
  return {
    machine: on,
    target: to,
    kind: extra.once ? 'exchange' : 'copy',
    before: exists ? sha(readFileSync(target)) : 'absent',
    after: sha(bytes),
    mode: `0${mode.toString(8)}`,
    encoding: 'utf8',
    validators: [],
    edits: [],
    diff: '',
    whole: { type: 'file', from: { machine: source, path: from }, ...extra },
  }
}

/** Both sides of an exchange of `path` between hub and alt. */
function exchange(roots: Record<string, string>, path: string, extra: Partial<PlanDocWhole> = {}) {
  const once = `exchange [hub:${path}, alt:${path}]`
  return [
    wholeChange(roots, 'alt', path, 'hub', path, { once, ...extra }),
    wholeChange(roots, 'hub', path, 'alt', path, { once, ...extra }),
  ]
}

/** A plan of the two machines with `changes`. */
function planOf(roots: Record<string, string>, changes: Change[], ssh: boolean): FleetPlanDocument {
  return {
    version: 1,
    profile: null,
    machines: Object.entries(roots).map(([name, root]) => ({
      name,
      root,
      ...(ssh ? { ssh: `${name}.example` } : {}),
    })),
    spec: sha('spec'),
    changes,
    database: [],
    leftovers: [],
    notes: [],
    secrets: [],
  }
}

/** Every file of both machines (their state directories left out). */
function look(roots: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, root] of Object.entries(roots)) {
    const walk = (rel: string) => {
      for (const n of readdirSync(join(root, rel)).sort()) {
        const r = rel ? `${rel}/${n}` : n
        if (r === 'var') continue
        const st = statSync(join(root, r))
        if (st.isDirectory()) walk(r)
        else
          out[`${name}:${r}`] =
            `${(st.mode & 0o777).toString(8)} ${readFileSync(join(root, r), 'utf8')}`
      }
    }
    walk('')
  }
  return out
}

function setup(o: { ssh?: boolean } = {}) {
  const dir = tempDir('cutover-whole-')
  const roots = trees(dir)
  const controlDir = join(dir, '.cutover')
  const options = {
    controlDir,
    open: async (s: MachineSpec) => localMachine(s),
    env: {},
    validator: (n: string) => engine.validator(n),
  }
  const doc = planOf(roots, changesOf(roots), o.ssh ?? false)
  return { dir, roots, controlDir, options, doc, before: look(roots) }
}

/** The certificates, key and hostnames swapped, /etc/mentat copied from hub to alt, as planned now. */
function changesOf(roots: Record<string, string>): Change[] {
  return [
    ...exchange(roots, 'etc/hostname'),
    ...exchange(roots, 'etc/warden_client/cert.pem'),
    ...exchange(roots, 'etc/warden_client/key.pem', { sensitive: true }),
    wholeChange(roots, 'hub', 'etc/mentat/core.json', 'alt', 'etc/mentat/core.json'),
    wholeChange(roots, 'hub', 'etc/mentat/new.json', 'alt', 'etc/mentat/new.json'),
  ]
}

/** What both machines hold once the plan of {@link setup} is applied. */
function applied(before: Record<string, string>): Record<string, string> {
  const out = { ...before }
  for (const p of ['etc/hostname', 'etc/warden_client/cert.pem', 'etc/warden_client/key.pem']) {
    out[`hub:${p}`] = before[`alt:${p}`]!
    out[`alt:${p}`] = before[`hub:${p}`]!
  }
  // an existing target keeps its mode; a new one gets the source's
  out['alt:etc/mentat/core.json'] = `644 ${before['hub:etc/mentat/core.json']!.slice(4)}`
  out['alt:etc/mentat/new.json'] = before['hub:etc/mentat/new.json']!
  return out
}

describe('whole files (copy, exchange) across machines', () => {
  for (const ssh of [false, true]) {
    const how = ssh ? ' (replayed through a local copy of the targets)' : ''
    it(`copies and exchanges files in one fleet transaction, journaling the exchanges${how}`, async () => {
      const f = setup({ ssh })
      const r = await applyFleet(f.doc, f.options)
      expect(r.inDoubt).toEqual([])
      expect(look(f.roots)).toEqual(applied(f.before))
      expect(r.machines.map((m) => [m.name, m.written.sort()])).toEqual([
        ['hub', ['etc/hostname', 'etc/warden_client/cert.pem', 'etc/warden_client/key.pem']],
        [
          'alt',
          [
            'etc/hostname',
            'etc/mentat/core.json',
            'etc/mentat/new.json',
            'etc/warden_client/cert.pem',
            'etc/warden_client/key.pem',
          ],
        ],
      ])
      // each side records the exchange it made: what it held, what it holds now
      for (const name of ['hub', 'alt'] as const) {
        const once = await appliedOnce(join(f.roots[name], 'var/lib/cutover'))
        const other = name === 'hub' ? 'alt' : 'hub'
        expect(
          once.get('etc/hostname')?.moves.get('exchange [hub:etc/hostname, alt:etc/hostname]'),
        ).toMatchObject({
          was: [sha(`mentat-${name}\n`)],
          wrote: [sha(`mentat-${other}\n`)],
        })
        expect(once.get('etc/mentat/core.json')).toBeUndefined()
      }
      // applied again, the same plan is stale on both machines: nothing written
      await expect(applyFleet(f.doc, f.options)).rejects.toMatchObject({
        code: 'FLEET_ABORTED',
        message: expect.stringMatching(/\n {2}hub: [\s\S]*\n {2}alt: /),
      })
      expect(look(f.roots)).toEqual(applied(f.before))
    })
  }

  it('a source changed since the plan aborts every machine, naming the machine, the file and its source', async () => {
    const f = setup({ ssh: true })
    // hub has nothing of its own to copy to alt's core.json; alt still gets hub's file as planned
    writeFileSync(join(f.roots.hub, 'etc/mentat/core.json'), '{"host": "edited"}\n')
    const err = (await applyFleet(f.doc, f.options).catch((e: unknown) => e)) as Error & {
      code: string
    }
    expect(err.code).toBe('FLEET_ABORTED')
    expect(err.message).toMatch(
      /\n {2}alt: [^\n]*\n[\s\S]*etc\/mentat\/core\.json: its source hub:etc\/mentat\/core\.json changed since the plan \(planned sha256:[0-9a-f]{64}, now sha256:[0-9a-f]{64}\)/,
    )
    expect(look(f.roots)).toEqual({
      ...f.before,
      'hub:etc/mentat/core.json': '644 {"host": "edited"}\n',
    })
    expect((await readFleetJournals(f.controlDir)).map((j) => j.state)).toEqual(['aborted'])
  })

  it('a source gone since the plan aborts every machine', async () => {
    const f = setup()
    const doc = planOf(
      f.roots,
      [
        ...exchange(f.roots, 'etc/hostname'),
        wholeChange(f.roots, 'hub', 'etc/mentat/new.json', 'alt', 'etc/mentat/new.json'),
      ],
      false,
    )
    rmSync(join(f.roots.hub, 'etc/mentat/new.json'))
    await expect(applyFleet(doc, f.options)).rejects.toMatchObject({
      code: 'FLEET_ABORTED',
      message: expect.stringMatching(
        /alt: [\s\S]*etc\/mentat\/new\.json: its source hub:etc\/mentat\/new\.json no longer exists/,
      ),
    })
    const { 'hub:etc/mentat/new.json': _, ...rest } = f.before
    expect(look(f.roots)).toEqual(rest)
  })

  it('a source machine that cannot be reached stops the apply before anything is staged, naming it and the files it is the source of', async () => {
    const f = setup()
    // only alt changes: hub is the source of its files
    const doc = planOf(
      f.roots,
      [wholeChange(f.roots, 'hub', 'etc/mentat/core.json', 'alt', 'etc/mentat/core.json')],
      false,
    )
    const options = {
      ...f.options,
      open: async (s: MachineSpec) => {
        if (s.name === 'hub') throw new Error('connection refused')
        return localMachine(s)
      },
    }
    await expect(applyFleet(doc, options)).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringMatching(
        /^not applied, nothing was changed on any machine:\n {2}hub: connection refused\n {2}\(the source of alt:etc\/mentat\/core\.json\)$/,
      ),
    })
    expect(look(f.roots)).toEqual(f.before)
    expect(existsSync(join(f.controlDir, 'fleet'))).toBe(false)
  })

  it('a source whose machine is lost while preparing aborts every machine, naming the file and its source', async () => {
    const f = setup({ ssh: true })
    // hub opens, but its files can no longer be read (its connection went)
    const options = {
      ...f.options,
      open: async (s: MachineSpec) => {
        const m = localMachine(s)
        if (s.name !== 'hub') return m
        return {
          ...m,
          readFile: () =>
            Promise.reject(Object.assign(new Error('hub: connection lost'), { code: 'EPIPE' })),
        }
      },
    }
    await expect(applyFleet(f.doc, options)).rejects.toMatchObject({
      code: 'FLEET_ABORTED',
      message: expect.stringMatching(
        /alt: etc\/(hostname|warden_client\/\S+|mentat\/\S+): cannot read its source hub:\S+: hub: connection lost/,
      ),
    })
    expect(look(f.roots)).toEqual(f.before)
  })

  it('a target changed on one machine leaves both unchanged, the certificates included', async () => {
    const f = setup({ ssh: true })
    writeFileSync(join(f.roots.alt, 'etc/mentat/core.json'), '{"host": "alt, edited"}\n')
    await expect(applyFleet(f.doc, f.options)).rejects.toMatchObject({
      code: 'FLEET_ABORTED',
      message: expect.stringMatching(/alt: [\s\S]*etc\/mentat\/core\.json: changed since the plan/),
    })
    expect(look(f.roots)).toEqual({
      ...f.before,
      'alt:etc/mentat/core.json': '644 {"host": "alt, edited"}\n',
    })
  })

  it('rollback restores both sides of the exchange and removes the copied new file; the exchange no longer counts as applied', async () => {
    const f = setup({ ssh: true })
    await applyFleet(f.doc, f.options)
    await rollbackFleet(f.options)
    expect(look(f.roots)).toEqual(f.before)
    for (const name of ['hub', 'alt'])
      expect((await appliedOnce(join(f.roots[name as 'hub'], 'var/lib/cutover'))).size).toBe(0)
    // planned again from the files as they are, the exchange applies again
    await applyFleet(planOf(f.roots, changesOf(f.roots), true), f.options)
    expect(look(f.roots)).toEqual(applied(f.before))
  })

  for (const ssh of [false, true])
    it(`makes a new link and a file in new directories, and rollback removes them${ssh ? ' (replayed through a local copy of the targets)' : ''}`, async () => {
      const f = setup({ ssh })
      mkdirSync(join(f.roots.hub, 'etc/mentat/sub/deeper'), { recursive: true })
      chmodSync(join(f.roots.hub, 'etc/mentat/sub'), 0o750)
      writeFileSync(join(f.roots.hub, 'etc/mentat/sub/deeper/x.json'), '{}\n')
      symlinkSync('core.json', join(f.roots.hub, 'etc/mentat/current.json'))
      const file = wholeChange(
        f.roots,
        'hub',
        'etc/mentat/sub/deeper/x.json',
        'alt',
        'etc/mentat/sub/deeper/x.json',
        {
          dirs: [
            {
              path: 'etc/mentat/sub',
              mode: '0750',
              uid: process.getuid!(),
              gid: process.getgid!(),
            },
            {
              path: 'etc/mentat/sub/deeper',
              mode: '0755',
              uid: process.getuid!(),
              gid: process.getgid!(),
            },
          ],
        },
      )
      const link: Change = {
        ...file,
        target: 'etc/mentat/current.json',
        after: sha('core.json'),
        mode: '0777',
        whole: {
          type: 'symlink',
          symlink: 'core.json',
          from: { machine: 'hub', path: 'etc/mentat/current.json' },
        },
      }
      const doc = planOf(f.roots, [file, link], ssh)
      const before = look(f.roots)
      await applyFleet(doc, f.options)
      expect(readlinkSync(join(f.roots.alt, 'etc/mentat/current.json'))).toBe('core.json')
      expect(statSync(join(f.roots.alt, 'etc/mentat/sub')).mode & 0o7777).toBe(0o750)
      expect(readFileSync(join(f.roots.alt, 'etc/mentat/sub/deeper/x.json'), 'utf8')).toBe('{}\n')
      await rollbackFleet(f.options)
      expect(existsSync(join(f.roots.alt, 'etc/mentat/sub'))).toBe(false)
      expect(existsSync(join(f.roots.alt, 'etc/mentat/current.json'))).toBe(false)
      expect(look(f.roots)).toEqual(before)
    })

  for (const point of ['fleet:prepared', 'fleet:decided'] as const) {
    it(`stopped at ${point}: recover finishes the exchange on both machines or neither`, async () => {
      const f = setup({ ssh: true })
      const crash = new Error('the controller stops here')
      const fault = (p: string) => {
        if (p === point) throw crash
      }
      await expect(applyFleet(f.doc, { ...f.options, fault })).rejects.toBe(crash)
      // every target as before, the new content staged beside it (decided) or not (aborted)
      const now = look(f.roots)
      const temps = Object.keys(now).filter((k) => k.includes('.cutover-'))
      expect(temps).toHaveLength(point === 'fleet:decided' ? f.doc.changes.length : 0)
      for (const t of temps) delete now[t]
      expect(now).toEqual(f.before)
      await recoverFleet(f.options)
      expect(look(f.roots)).toEqual(point === 'fleet:decided' ? applied(f.before) : f.before)
    })
  }
})
