import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createEngine,
  fleetSpecNotes,
  textStep,
  toFleetPlanDocument,
  type FleetPlanDocument,
  type Validator,
} from '@cutover/rewrite'
import { applyFleet, recoverFleet, rollbackFleet } from '../src/coordinator.js'
import { readFleetJournals, writeFleetJournal } from '../src/fleet-journal.js'
import { localMachine } from '../src/local-machine.js'
import type { Machine, MachineSpec } from '../src/machine.js'
import { tempDir } from '@cutover/test-kit/temp'

const OLD = '10.0.10.48'
const NEW = '10.0.10.49'
const NAMES = ['a', 'b', 'c']
const engine = createEngine({ steps: [textStep] })

/** Three machines with two files each, their spec, a controller directory, and the fleet's plan. */
async function fleet(o: { ssh?: boolean } = {}) {
  const dir = tempDir('cutover-coordinator-')
  const roots = NAMES.map((n) => join(dir, n))
  for (const [i, root] of roots.entries()) {
    mkdirSync(join(root, 'etc/app'), { recursive: true })
    writeFileSync(join(root, 'etc/a.conf'), `a${i} ${OLD}\n`)
    writeFileSync(join(root, 'etc/app/b.conf'), `b${i} ${OLD}\n`)
    // a link to a file elsewhere in the root: written where it leads
    mkdirSync(join(root, 'srv'), { recursive: true })
    writeFileSync(join(root, 'srv/c.conf'), `c${i} ${OLD}\n`)
    symlinkSync('../srv/c.conf', join(root, 'etc/c.conf'))
  }
  const source = [
    'version: 1',
    'machines:',
    // `ssh` only names the machine here: the test opens every one as a local directory, so that
    // the replay through a local copy of the targets (as for a remote machine) is what runs
    ...NAMES.map((n, i) => `  ${n}: { ${o.ssh ? `ssh: ${n}.example, ` : ''}root: ${roots[i]} }`),
    'hosts:',
    `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
    'steps:',
    '  - text: { files: ["etc/*.conf", "etc/*/*.conf"], addresses: new }',
    '',
  ].join('\n')
  const spec = engine.parseSpec(source, 'cutover.yaml', { env: {} })
  const plans = []
  for (const [i, name] of NAMES.entries())
    plans.push({
      name,
      root: roots[i]!,
      plan: await engine.plan(spec, { root: roots[i]!, machine: name, env: {} }),
    })
  const doc: FleetPlanDocument = toFleetPlanDocument(
    plans.map((p) => ({
      machine: { name: p.name, root: p.root, ...(o.ssh ? { ssh: `${p.name}.example` } : {}) },
      plan: p.plan,
    })),
    fleetSpecNotes(spec, plans),
  )
  const controlDir = join(dir, '.cutover')
  const options = {
    controlDir,
    open: async (s: MachineSpec) => localMachine(s),
    env: {},
    validator: (n: string) => engine.validator(n),
  }
  return { dir, roots, doc, controlDir, options }
}

/** `before`, `after`, or the mix, over every file of every machine; and the temp files left. */
function look(roots: readonly string[]): { state: string; strays: string[] } {
  const seen = new Set<string>()
  const strays: string[] = []
  for (const root of roots) {
    for (const d of ['etc', 'etc/app', 'srv'])
      for (const n of readdirSync(join(root, d)))
        if (n.includes('.cutover-')) strays.push(join(d, n))
    for (const f of ['etc/a.conf', 'etc/app/b.conf', 'srv/c.conf']) {
      const text = readFileSync(join(root, f), 'utf8')
      seen.add(text.includes(OLD) ? 'before' : text.includes(NEW) ? 'after' : 'corrupt')
    }
  }
  return { state: [...seen].sort().join('+'), strays }
}

describe('the fleet coordinator with local-directory machines', () => {
  for (const ssh of [false, true]) {
    const how = ssh ? ' (replayed through a local copy of the targets)' : ''
    it(`applies every machine's changes in one fleet transaction${how}`, async () => {
      const f = await fleet({ ssh })
      expect(f.doc.changes).toHaveLength(9)
      const r = await applyFleet(f.doc, f.options)
      expect(r.inDoubt).toEqual([])
      expect(r.machines.map((m) => [m.name, m.written.sort()])).toEqual(
        NAMES.map((n) => [n, ['etc/a.conf', 'etc/app/b.conf', 'etc/c.conf']]),
      )
      expect(look(f.roots)).toEqual({ state: 'after', strays: [] })
      // the link is still a link, its file written
      expect(readFileSync(join(f.roots[0]!, 'etc/c.conf'), 'utf8')).toBe(`c0 ${NEW}\n`)
      const [j] = await readFleetJournals(f.controlDir)
      expect(j).toMatchObject({ txid: r.txid, state: 'committed', kind: 'apply' })
      expect(j!.pending).toBeUndefined()
      expect(j!.machines.map((m) => [m.name, m.txid])).toEqual(
        r.machines.map((m) => [m.name, m.txid]),
      )
      for (const [i, root] of f.roots.entries()) {
        const journal = JSON.parse(
          readFileSync(
            join(root, 'var/lib/cutover/tx', r.machines[i]!.txid, 'journal.json'),
            'utf8',
          ),
        ) as { state: string; fleet: { txid: string; controller: string } }
        expect(journal.state).toBe('committed')
        expect(journal.fleet.txid).toBe(r.txid)
        expect(journal.fleet.controller).toMatch(
          new RegExp(`:${join(f.controlDir, 'fleet', r.txid, 'journal.json')}$`),
        )
      }
      // a second apply of the same plan is stale everywhere: nothing written
      await expect(applyFleet(f.doc, f.options)).rejects.toMatchObject({ code: 'FLEET_ABORTED' })
    })
  }

  it('aborts every machine when one file changed since the plan, naming its machine and file', async () => {
    const f = await fleet({ ssh: true })
    writeFileSync(join(f.roots[1]!, 'etc/app/b.conf'), `edited ${OLD}\n`)
    const err = (await applyFleet(f.doc, f.options).catch((e: unknown) => e)) as Error & {
      code: string
    }
    expect(err.code).toBe('FLEET_ABORTED')
    expect(err.message).toMatch(
      /^not applied, nothing was changed on any machine:\n {2}b: [^\n]*\n[\s\S]*etc\/app\/b\.conf: changed since the plan/,
    )
    expect(err.message).not.toMatch(/\n {2}[ac]: /)
    expect(look(f.roots)).toEqual({ state: 'before', strays: [] })
    const [j] = await readFleetJournals(f.controlDir)
    expect(j).toMatchObject({ state: 'aborted' })
  })

  it('refuses a machine whose host key differs from the plan, before anything is staged', async () => {
    const f = await fleet()
    const doc = {
      ...f.doc,
      machines: f.doc.machines.map((m, i) => (i === 2 ? { ...m, hostKey: 'SHA256:planned' } : m)),
    }
    await expect(applyFleet(doc, f.options)).rejects.toMatchObject({
      code: 'HOST_KEY_CHANGED',
      message: expect.stringMatching(
        /c: its host key is none \(a local machine\), the plan was made with SHA256:planned/,
      ),
    })
    expect(look(f.roots)).toEqual({ state: 'before', strays: [] })
    expect(existsSync(join(f.controlDir, 'fleet'))).toBe(false)
  })

  it('refuses a machine that verified a host key when the plan records none for it', async () => {
    const f = await fleet()
    const options = {
      ...f.options,
      open: async (s: MachineSpec) =>
        s.name === 'b' ? { ...localMachine(s), hostKey: 'SHA256:verified' } : localMachine(s),
    }
    await expect(applyFleet(f.doc, options)).rejects.toMatchObject({
      code: 'HOST_KEY_CHANGED',
      message: expect.stringMatching(
        /b: its host key is SHA256:verified, the plan was made with none recorded/,
      ),
    })
    expect(look(f.roots)).toEqual({ state: 'before', strays: [] })
  })

  it("keeps the copies of a remote machine's targets in the controller state directory, and removes what a killed controller left there", async () => {
    const f = await fleet({ ssh: true })
    const left = join(f.controlDir, 'replay', 'a-killed')
    mkdirSync(left, { recursive: true })
    writeFileSync(join(left, 'app.conf'), 'copy of a target\n')
    const during = new Set<string>()
    const fault = () => {
      for (const d of readdirSync(join(f.controlDir, 'replay'))) during.add(d)
    }
    await applyFleet(f.doc, { ...f.options, fault })
    expect(look(f.roots).state).toBe('after')
    // a copy per machine while it prepares, none of them the killed one's
    expect([...during].map((d) => d[0]).sort()).toEqual(['a', 'b', 'c'])
    expect(during.has('a-killed')).toBe(false)
    expect(readdirSync(join(f.controlDir, 'replay'))).toEqual([])
  })

  it("reads a remote machine's targets for its replay all at once, and hands their bytes to its state directory's backup", async () => {
    const f = await fleet({ ssh: true })
    // per machine: reads in flight now, and the most ever in flight at once
    const reading = new Map<string, number>()
    const most = new Map<string, number>()
    const expected: Array<[string, Map<string, string>]> = []
    const options = {
      ...f.options,
      open: async (s: MachineSpec): Promise<Machine> => {
        const m = localMachine(s)
        // a read is held until all three targets of its machine are being read, so reads that
        // overlap are seen to overlap however loaded the machine is; reads made one at a time
        // are let go after a second each, and `most` then stays 1
        let waiting: Array<() => void> = []
        return {
          ...m,
          readFile: async (path: string) => {
            const now = (reading.get(s.name) ?? 0) + 1
            reading.set(s.name, now)
            most.set(s.name, Math.max(most.get(s.name) ?? 0, now))
            try {
              await new Promise<void>((resolve) => {
                waiting.push(resolve)
                if (waiting.length >= 3) {
                  for (const go of waiting) go()
                  waiting = []
                } else setTimeout(resolve, 1000)
              })
              return await m.readFile(path)
            } finally {
              reading.set(s.name, reading.get(s.name)! - 1)
            }
          },
          stateExpecting: (originals) => {
            expected.push([
              s.name,
              new Map([...originals].map(([k, v]) => [k, v.toString('utf8')])),
            ])
            return m.stateFileSystem
          },
        }
      },
    }
    await applyFleet(f.doc, options)
    expect(look(f.roots).state).toBe('after')
    // the three targets of each machine, read at once
    expect(Object.fromEntries(most)).toEqual(Object.fromEntries(NAMES.map((n) => [n, 3])))
    // each machine's originals by their real paths (the link's file where it leads)
    expect(expected.sort((x, y) => x[0].localeCompare(y[0]))).toEqual(
      NAMES.map((n, i) => [
        n,
        new Map([
          [join(realpathSync(f.roots[i]!), 'etc/a.conf'), `a${i} ${OLD}\n`],
          [join(realpathSync(f.roots[i]!), 'etc/app/b.conf'), `b${i} ${OLD}\n`],
          [join(realpathSync(f.roots[i]!), 'srv/c.conf'), `c${i} ${OLD}\n`],
        ]),
      ]),
    )
  })

  it("asks whether a validator's tool is on a remote machine before staging, once", async () => {
    const f = await fleet({ ssh: true })
    const doc = { ...f.doc, changes: f.doc.changes.map((c) => ({ ...c, validators: ['probe'] })) }
    const asked: string[] = []
    let staging = 0
    const askedBeforeStaging: number[] = []
    const probe: Validator = {
      name: 'probe',
      run: () => Promise.reject(new Error('ran on the controller')),
      tool: { argv: (p) => ['test', '-f', p], verdict: (r) => (r.code === 0 ? undefined : 'no') },
    }
    const options = {
      ...f.options,
      validator: (n: string) => (n === 'probe' ? probe : f.options.validator(n)),
      open: async (s: MachineSpec): Promise<Machine> => {
        const m = localMachine(s)
        return {
          ...m,
          exec: (script, o) => {
            if (script.includes('command -v')) asked.push(s.name)
            return m.exec(script, o)
          },
        }
      },
      fault: (point: string) => {
        if (point === 'stage-write:1') askedBeforeStaging[staging++] = asked.length
      },
    }
    await applyFleet(doc, options)
    expect(look(f.roots).state).toBe('after')
    expect(asked.sort()).toEqual(NAMES)
    // each machine asked before its first file was staged: when the k-th machine starts staging,
    // k machines at least have asked (without the early ask, none has when the first starts)
    expect(askedBeforeStaging).toHaveLength(NAMES.length)
    askedBeforeStaging.forEach((n, k) => expect(n).toBeGreaterThanOrEqual(k + 1))
  })

  it('an error before the decision aborts every machine; nothing is left for recover', async () => {
    const f = await fleet({ ssh: true })
    const failure = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
    const fault = (p: string) => {
      if (p === 'fleet:prepared') throw failure
    }
    await expect(applyFleet(f.doc, { ...f.options, fault })).rejects.toBe(failure)
    expect(look(f.roots)).toEqual({ state: 'before', strays: [] })
    const [j] = await readFleetJournals(f.controlDir)
    expect(j).toMatchObject({ state: 'aborted' })
    expect(j!.pending).toBeUndefined()
    expect((await recoverFleet(f.options)).transactions).toEqual([])
  })

  it('crashed after the decision: recover rolls every machine forward', async () => {
    const f = await fleet({ ssh: true })
    const crash = new Error('the controller stops here')
    const fault = (p: string) => {
      if (p === 'fleet:decided') throw crash
    }
    await expect(applyFleet(f.doc, { ...f.options, fault })).rejects.toBe(crash)
    expect(look(f.roots).state).toBe('before')
    const report = await recoverFleet(f.options)
    expect(report.transactions.map((t) => [t.was, t.now])).toEqual([['commit', 'committed']])
    expect(look(f.roots)).toEqual({ state: 'after', strays: [] })
  })

  it('reports a machine that fails after the decision in doubt, and recover finishes the transaction', async () => {
    const f = await fleet({ ssh: true })
    const lost = Object.assign(new Error('the connection was lost'), { code: 'ECONNRESET' })
    const fault = (p: string) => {
      if (p === 'fleet:committed:2') throw lost
    }
    const r = await applyFleet(f.doc, { ...f.options, fault })
    expect(r.inDoubt).toHaveLength(1)
    expect(r.inDoubt[0]!.reason).toBe('the connection was lost')
    expect(r.machines).toHaveLength(2)
    const [j] = await readFleetJournals(f.controlDir)
    expect(j).toMatchObject({ state: 'commit', pending: [r.inDoubt[0]!.name] })
    const report = await recoverFleet(f.options)
    expect(report.transactions.map((t) => [t.was, t.now, t.machines.map((m) => m.name)])).toEqual([
      ['commit', 'committed', [r.inDoubt[0]!.name]],
    ])
    expect(look(f.roots)).toEqual({ state: 'after', strays: [] })
  })

  it('a machine an older fleet journal records at another root is applied at the root of the plan', async () => {
    const f = await fleet()
    // an earlier fleet transaction, unfinished, knew machine a at a root it has since left
    const moved = join(f.dir, 'a-before')
    mkdirSync(moved)
    await writeFleetJournal(f.controlDir, {
      txid: '20000101-000000000-00000000',
      state: 'aborted',
      created: '2000-01-01T00:00:00.000Z',
      kind: 'apply',
      machines: [{ name: 'a', root: moved, stateDir: join(moved, 'var/lib/cutover') }],
      pending: ['a'],
    })
    const r = await applyFleet(f.doc, f.options)
    expect(r.recovered.transactions.map((t) => t.now)).toEqual(['aborted'])
    expect(look(f.roots)).toEqual({ state: 'after', strays: [] })
    // a's part is journaled beside its files, where the fleet journal says and recover looks
    const a = r.machines.find((m) => m.name === 'a')!
    expect(existsSync(join(f.roots[0]!, 'var/lib/cutover/tx', a.txid, 'journal.json'))).toBe(true)
    expect(existsSync(join(moved, 'var/lib/cutover/tx', a.txid))).toBe(false)
  })

  it('rolls back the last fleet apply on every machine as a new fleet transaction', async () => {
    const f = await fleet({ ssh: true })
    const applied = await applyFleet(f.doc, f.options)
    const r = await rollbackFleet(f.options)
    expect(r.restored).toBe(applied.txid)
    expect(look(f.roots)).toEqual({ state: 'before', strays: [] })
    const js = await readFleetJournals(f.controlDir)
    expect(js.map((j) => [j.kind, j.state, j.restores])).toEqual([
      ['apply', 'committed', undefined],
      ['rollback', 'committed', applied.txid],
    ])
    await expect(rollbackFleet(f.options)).rejects.toMatchObject({ code: 'NOTHING_TO_ROLL_BACK' })
  })
})
