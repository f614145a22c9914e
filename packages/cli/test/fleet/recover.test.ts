import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  cutover,
  fleetSnapshot,
  fleetSpec,
  machineFiles,
  NEW,
  OLD,
  strays,
  writeTrees,
  SSH_TEST_MS,
  startCutover,
  useFleet,
  waitStopped,
} from './fleet-kit.js'

const kit = useFleet(3, 'cutover-fleet-recover-')
const env = kit.env

/** A controller directory with the spec and a saved plan of the fleet, every tree as before. */
async function planned(): Promise<string> {
  const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
  writeTrees(kit.fleet)
  writeFileSync(join(ctl, 'cutover.yaml'), fleetSpec(kit.fleet))
  const plan = await cutover(['plan', '--out', 'plan.json'], ctl, env())
  expect(plan.err).toBe('')
  expect(plan.code).toBe(0)
  return ctl
}

/** `before` or `after` when every file of every machine is so; the mix otherwise. */
function fleetState(): string {
  const seen = new Set<string>()
  for (const [k, m] of kit.fleet.machines.entries()) {
    const app = readFileSync(join(m.root, 'etc/app.conf'), 'utf8')
    const hosts = readFileSync(join(m.root, 'etc/hosts'), 'utf8')
    const php = readFileSync(join(m.root, 'var/www/app/config.php'), 'utf8')
    const original = machineFiles(k + 1)
    seen.add(
      app === original['etc/app.conf']!.text
        ? 'before'
        : app === `# machine m${k + 1}\ndb = ${NEW}\n`
          ? 'after'
          : `${m.name} app.conf corrupt`,
    )
    seen.add(
      hosts === original['etc/hosts']!.text
        ? 'before'
        : hosts.includes(`${NEW} db.example.net`)
          ? 'after'
          : `${m.name} hosts corrupt`,
    )
    seen.add(
      php === original['var/www/app/config.php']!.text
        ? 'before'
        : php.includes("'db.example.net'")
          ? 'after'
          : `${m.name} php corrupt`,
    )
  }
  return [...seen].sort().join(' + ')
}

function fleetJournal(ctl: string): { state: string; pending?: string[] } {
  const [txid] = readdirSync(join(ctl, '.cutover/fleet'))
  return JSON.parse(readFileSync(join(ctl, '.cutover/fleet', txid!, 'journal.json'), 'utf8'))
}

describe('the controller killed with SIGKILL, then cutover recover', () => {
  it(
    'before the decision: every machine returns to before, no temp file left; a machine alone refuses to decide',
    async () => {
      const ctl = await planned()
      const killed = await cutover(['apply', 'plan.json'], ctl, {
        ...env(),
        CUTOVER_FAULT_INJECT: 'fleet:prepared',
      })
      expect(killed.signal).toBe('SIGKILL')
      expect(fleetJournal(ctl).state).toBe('preparing')
      // staged on every machine, nothing renamed
      expect(fleetState()).toBe('before')
      for (const m of kit.fleet.machines) expect(strays(m.root).length).toBeGreaterThan(0)

      // on a machine by itself (its own root, its own state directory), no decision is taken
      const m2 = kit.fleet.machines[1]!
      const snap = fleetSnapshot(kit.fleet)
      const alone = await cutover(['recover', '--root', m2.root], kit.dir)
      expect(alone.code).toBe(1)
      expect(alone.err).toMatch(/fleet transaction/)
      expect(alone.err).toContain(join(ctl, '.cutover/fleet'))
      expect(alone.err).not.toMatch(/\n\s+at /)
      expect(fleetSnapshot(kit.fleet)).toEqual(snap)

      const recovered = await cutover(['recover'], ctl, env())
      expect(recovered.err).toBe('')
      expect(recovered.code).toBe(0)
      expect(recovered.out).toMatch(/preparing -> aborted/)
      expect(fleetState()).toBe('before')
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
      expect(fleetJournal(ctl)).toMatchObject({ state: 'aborted' })
      expect(fleetJournal(ctl).pending).toBeUndefined()
      expect((await cutover(['recover'], ctl, env())).out).toBe('Nothing to recover.\n')
    },
    SSH_TEST_MS,
  )

  it(
    'after the decision: every machine is finished to after, no temp file left',
    async () => {
      const ctl = await planned()
      const killed = await cutover(['apply', 'plan.json'], ctl, {
        ...env(),
        CUTOVER_FAULT_INJECT: 'fleet:decided',
      })
      expect(killed.signal).toBe('SIGKILL')
      expect(fleetJournal(ctl).state).toBe('commit')
      expect(fleetState()).toBe('before')
      const recovered = await cutover(['recover'], ctl, env())
      expect(recovered.err).toBe('')
      expect(recovered.code).toBe(0)
      expect(recovered.out).toMatch(/commit -> committed/)
      expect(fleetState()).toBe('after')
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
      expect(fleetJournal(ctl).state).toBe('committed')
      // applied: a new plan is empty
      expect((await cutover(['plan', '--detailed-exitcode'], ctl, env())).code).toBe(0)
    },
    SSH_TEST_MS,
  )

  it(
    'after one machine committed: the others are finished, none is undone',
    async () => {
      const ctl = await planned()
      const killed = await cutover(['apply', 'plan.json'], ctl, {
        ...env(),
        CUTOVER_FAULT_INJECT: 'fleet:committed:1',
      })
      expect(killed.signal).toBe('SIGKILL')
      const recovered = await cutover(['recover'], ctl, env())
      expect(recovered.code).toBe(0)
      expect(fleetState()).toBe('after')
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
    },
    SSH_TEST_MS,
  )
})

describe("one machine's sshd killed during the commit", () => {
  it(
    'is reported in doubt (exit 1); once sshd is back, recover finishes it',
    async () => {
      const ctl = await planned()
      const m3 = kit.fleet.machines[2]!
      // the controller stops itself right after the commit record; m3's sshd is killed meanwhile
      const { child, closed: done } = startCutover(['apply', 'plan.json'], ctl, {
        ...env(),
        CUTOVER_FAULT_INJECT: 'fleet:decided=stop',
      })
      await waitStopped(child.pid!)
      await m3.kill()
      child.kill('SIGCONT')
      const applied = await done
      expect(applied.code).toBe(1)
      expect(applied.err).toMatch(/IN DOUBT:\n\s+m3: /)
      expect(applied.err).toMatch(/cutover recover/)
      expect(fleetJournal(ctl)).toMatchObject({ state: 'commit', pending: ['m3'] })
      // the others are committed; m3 still holds its old files and the staged ones
      for (const m of kit.fleet.machines.slice(0, 2))
        expect(readFileSync(join(m.root, 'etc/app.conf'), 'utf8')).toContain(NEW)
      expect(readFileSync(join(m3.root, 'etc/app.conf'), 'utf8')).toContain(OLD)

      const unreachable = await cutover(['recover'], ctl, env())
      expect(unreachable.code).toBe(1)
      expect(unreachable.out).toMatch(/m3: not reached/)

      await m3.start()
      const recovered = await cutover(['recover'], ctl, env())
      expect(recovered.err).toBe('')
      expect(recovered.code).toBe(0)
      expect(fleetState()).toBe('after')
      for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
      expect(fleetJournal(ctl).state).toBe('committed')
    },
    SSH_TEST_MS,
  )
})
