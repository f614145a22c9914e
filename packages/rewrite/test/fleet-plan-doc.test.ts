import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CutoverError,
  checkAnyPlanDocument,
  checkPlanDocument,
  createEngine,
  fleetSpecNotes,
  isFleetPlan,
  machinePlan,
  textStep,
  toFleetPlanDocument,
  toPlanDocument,
  type FleetPlanDocument,
  type Plan,
} from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function machineRoot(files: Record<string, string>): string {
  const root = tempDir('cutover-fleet-doc-')
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const source = `version: 1
machines:
  finance: { root: /srv/finance }
  timesheets: { ssh: root@timesheets, port: 2222 }
hosts:
  db.example.net: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text: { files: [etc/hosts.conf], addresses: new }
  - text: { on: [timesheets], files: [etc/app.conf], replace: { oldname: newname, never: x } }
`

const engine = createEngine({ steps: [textStep] })
const spec = engine.parseSpec(source, 'cutover.yaml')

async function planFleet() {
  const roots = {
    finance: machineRoot({ 'etc/hosts.conf': 'db 10.0.10.48\n', 'etc/app.conf': 'oldname\n' }),
    timesheets: machineRoot({ 'etc/hosts.conf': 'db 10.0.10.48\n', 'etc/app.conf': 'oldname\n' }),
  }
  const plans: Array<{ name: 'finance' | 'timesheets'; plan: Plan }> = []
  for (const name of ['finance', 'timesheets'] as const)
    plans.push({
      name,
      plan: await engine.plan(spec, { root: roots[name], machine: name, label: `${name}:` }),
    })
  const doc = toFleetPlanDocument(
    plans.map(({ name, plan }) => ({
      machine: {
        ...spec.machines!.find((m) => m.name === name)!,
        root: roots[name],
        ...(name === 'timesheets' ? { hostKey: 'SHA256:abc' } : {}),
      },
      plan,
    })),
    fleetSpecNotes(spec, plans),
  )
  return { doc, plans, roots }
}

describe('the fleet plan document', () => {
  it('names the machine of every change, plans each step only on its machines, labels the diffs', async () => {
    const { doc, roots } = await planFleet()
    expect(isFleetPlan(doc)).toBe(true)
    expect('root' in doc).toBe(false)
    expect(doc.machines).toEqual([
      { name: 'finance', root: roots.finance },
      {
        name: 'timesheets',
        ssh: 'root@timesheets',
        port: 2222,
        root: roots.timesheets,
        hostKey: 'SHA256:abc',
      },
    ])
    expect(doc.changes.map((c) => `${c.machine}:${c.target}`)).toEqual([
      'finance:etc/hosts.conf',
      'timesheets:etc/app.conf',
      'timesheets:etc/hosts.conf',
    ])
    expect(doc.changes[0]!.diff).toMatch(
      /^--- a\/finance:etc\/hosts\.conf\n\+\+\+ b\/finance:etc\/hosts\.conf\n/,
    )
    // the key that matched nowhere is one note on the spec, without a machine
    expect(doc.notes).toEqual([
      expect.objectContaining({ target: 'cutover.yaml', code: 'NEVER_MATCHED', line: 9 }),
    ])
    expect(doc.notes[0]).not.toHaveProperty('machine')
    expect(checkAnyPlanDocument(JSON.parse(JSON.stringify(doc)), 'plan.json')).toEqual(doc)
  })

  it('machinePlan gives the single-root document of one machine', async () => {
    const { doc, plans, roots } = await planFleet()
    const one = machinePlan(doc, 'timesheets')
    const own = toPlanDocument(plans[1]!.plan)
    expect(one).toEqual({ ...own, notes: [], database: [] })
    expect(one.root).toBe(roots.timesheets)
    expect(checkPlanDocument(JSON.parse(JSON.stringify(one)), 'one.json')).toEqual(one)
    expect(() => machinePlan(doc, 'hrdb')).toThrow(/no machine "hrdb"/)
  })

  it('checks the machines of a fleet document, and a single-root check refuses one', async () => {
    const { doc } = await planFleet()
    const json = () => JSON.parse(JSON.stringify(doc))
    const refused = (v: unknown) => {
      try {
        checkAnyPlanDocument(v, 'plan.json')
      } catch (e) {
        expect(e).toBeInstanceOf(CutoverError)
        expect((e as CutoverError).code).toBe('PLAN_INVALID')
        return (e as Error).message
      }
      throw new Error('expected a refusal')
    }
    expect(() => checkPlanDocument(json(), 'plan.json')).toThrow(
      /the plan of a fleet \(machines finance, timesheets\)/,
    )
    const other = json()
    other.changes[0].machine = 'hrdb'
    expect(refused(other)).toMatch(/change 1 needs "machine"/)
    const dash = json()
    dash.machines[1].ssh = '-oProxyCommand=x'
    expect(refused(dash)).toMatch(/"ssh" must be a destination/)
    const relative = json()
    relative.machines[0].root = 'srv/finance'
    expect(refused(relative)).toMatch(/"root" must be an absolute path/)
    const both = json()
    both.root = '/'
    expect(refused(both)).toMatch(/either "root" or "machines"/)
    const named = json()
    named.machines[0].name = '-x'
    expect(refused(named)).toMatch(/a machine needs a name/)
    // control characters, which the spec refuses, are refused in a saved plan too (a root or
    // destination printed in a message could forge its lines)
    const sshControl = json()
    sshControl.machines[1].ssh = 'timesheets\u001b[2K'
    expect(refused(sshControl)).toMatch(/"ssh" must be a destination/)
    const rootControl = json()
    rootControl.machines[0].root = '/srv/finance\ncutover: all done'
    expect(refused(rootControl)).toMatch(/"root" must be an absolute path/)
  })

  it('checks the whole of a copy or exchange change, and machinePlan keeps it', async () => {
    const { doc } = await planFleet()
    const h = (c: string) => `sha256:${c.repeat(64)}`
    const whole: FleetPlanDocument = {
      ...doc,
      changes: [
        {
          machine: 'timesheets',
          target: 'etc/mentat/core.json',
          kind: 'copy',
          before: 'absent',
          after: h('a'),
          mode: '0640',
          encoding: 'utf8' as const,
          validators: [],
          edits: [],
          diff: '--- /dev/null\n+++ b/timesheets:etc/mentat/core.json\n',
          whole: {
            type: 'file' as const,
            from: { machine: 'finance', path: 'etc/mentat/core.json' },
            owner: { uid: 0, gid: 0 },
            dirs: [{ path: 'etc/mentat', mode: '0755', uid: 0, gid: 0 }],
          },
        },
        {
          machine: 'finance',
          target: 'etc/mentat/old.json',
          kind: 'copy',
          before: h('b'),
          after: 'absent',
          mode: '0644',
          encoding: 'utf8' as const,
          validators: [],
          edits: [],
          diff: '',
          whole: { type: 'absent' as const },
        },
        {
          machine: 'finance',
          target: 'etc/warden/key.pem',
          kind: 'exchange',
          before: h('c'),
          after: h('d'),
          mode: '0600',
          encoding: 'utf8' as const,
          validators: [],
          edits: [],
          diff: '(sensitive file, 3 bytes, sha256:dd…)',
          whole: {
            type: 'file' as const,
            from: { machine: 'timesheets', path: 'etc/warden/key.pem' },
            sensitive: true as const,
            once: 'exchange [finance:etc/warden/key.pem, timesheets:etc/warden/key.pem]',
          },
        },
      ],
    }
    const json = () => JSON.parse(JSON.stringify(whole))
    expect(checkAnyPlanDocument(json(), 'plan.json')).toEqual(whole)
    expect(machinePlan(whole, 'finance').changes.map((c) => c.whole?.type)).toEqual([
      'absent',
      'file',
    ])
    const one = machinePlan(whole, 'timesheets')
    expect(checkPlanDocument(JSON.parse(JSON.stringify(one)), 'one.json')).toEqual(one)
    const refused = (edit: (d: ReturnType<typeof json>) => void) => {
      const d = json()
      edit(d)
      return () => checkAnyPlanDocument(d, 'plan.json')
    }
    expect(refused((d) => (d.changes[0].whole.from.machine = 'hrdb'))).toThrow(
      /"whole".from must name a machine of the plan/,
    )
    expect(refused((d) => (d.changes[0].whole.from.path = '../etc/shadow'))).toThrow(
      /"whole".from must name a machine/,
    )
    expect(refused((d) => (d.changes[0].whole.from = { local: 'rel/path' }))).toThrow(
      /from.local must be an absolute path/,
    )
    expect(refused((d) => (d.changes[0].whole.type = 'device'))).toThrow(/type must be file/)
    expect(refused((d) => (d.changes[0].whole.dirs[0].path = 'var'))).toThrow(
      /dirs must be the directories above the target/,
    )
    expect(refused((d) => (d.changes[1].after = h('e')))).toThrow(/a removal has "after": "absent"/)
    expect(
      refused((d) => d.changes[2].edits.push({ pass: 0, start: 0, end: 0, text: 'x' })),
    ).toThrow(/a whole-file change has no edits/)
    expect(refused((d) => (d.changes[2].whole.sensitive = false))).toThrow(
      /sensitive can only be true/,
    )
  })

  it('a spec with machines is planned for one of them; without, for none', async () => {
    const root = machineRoot({ 'etc/hosts.conf': 'db 10.0.10.48\n' })
    await expect(engine.plan(spec, { root })).rejects.toThrow(/planned for one machine at a time/)
    await expect(engine.plan(spec, { root, machine: 'hrdb' })).rejects.toThrow(
      /unknown machine "hrdb"/,
    )
    const single = engine.parseSpec(
      'version: 1\nsteps:\n  - text: { files: [a], replace: { a: b } }\n',
      'cutover.yaml',
    )
    await expect(engine.plan(single, { root, machine: 'finance' })).rejects.toThrow(
      /declares no machines/,
    )
  })
})
