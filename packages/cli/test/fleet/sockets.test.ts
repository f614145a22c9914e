import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'
import {
  cutover,
  fleetSpec,
  LAUNCHER,
  SSH_TEST_MS,
  startCutover,
  useFleet,
  waitStopped,
  writeTrees,
} from './fleet-kit.js'

// Each command over ssh keeps its machines' control sockets in a directory of its own, in the
// state directory's ssh/ or, when that path is too long for a unix socket, in the temp
// directory (`cutover-ssh-PID-XXXXXX`). Whatever path the command takes, the directory goes
// with it; one of a command killed before it could remove it goes with the next command.

const kit = useFleet(2, 'cutover-sockets-')

/** A controller directory with the spec of the two machines, their trees written afresh. */
function fresh(): string {
  const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
  writeTrees(kit.fleet)
  writeFileSync(join(ctl, 'cutover.yaml'), fleetSpec(kit.fleet))
  return ctl
}

/**
 * A fresh controller directory whose commands get a state directory too long for a socket's
 * path (`at`) and a temp directory of their own (`tmp`, in `env`), where their sockets go.
 */
function tooLongForSockets() {
  const ctl = fresh()
  const tmp = tempDir('cs-')
  const env = { ...kit.env(), TMPDIR: tmp }
  return { ctl, tmp, env, at: ['--state-dir', join(ctl, 's'.repeat(100))] }
}

/** The control sockets' directories in `dir` (the temp directory of the commands). */
function socketDirs(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('cutover-ssh-'))
}

/** The processes whose command line names `path` (the masters of a control directory). */
function processesNaming(path: string): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (cmd.includes(path)) out.push(`${pid} ${cmd.split('\0').join(' ')}`)
    } catch {
      // ended meanwhile
    }
  }
  return out
}

/** Waits until no process names `path` (a master told to exit ends a moment later), at most 10 s. */
async function mastersGone(path: string): Promise<string[]> {
  for (let i = 0; i < 100 && processesNaming(path).length; i++)
    await new Promise((r) => setTimeout(r, 100))
  return processesNaming(path)
}

/** The masters whose command line names the directory `path`, by the machine they reach. */
function mastersOf(path: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (args.includes('ControlMaster=yes') && args.some((a) => a.includes(path)))
        out.set(args[args.indexOf('--') + 1]!, Number(pid))
    } catch {
      // ended meanwhile
    }
  }
  return out
}

/** The clean ends of connections the sshd of `m` has logged (a master told to exit says goodbye). */
function goodbyes(m: { log: string }): number {
  return readFileSync(m.log, 'utf8').split('disconnected by user').length - 1
}

describe('the control sockets of the commands over ssh', () => {
  it(
    'with a state directory too long for a socket path, every command removes the directory it made in the temp directory',
    async () => {
      const { ctl, tmp, env, at } = tooLongForSockets()
      const runs: Array<[string[], number]> = [
        [['plan', ...at, '--out', 'plan.json'], 0],
        [['check', ...at], 1],
        [['apply', ...at, 'plan.json', '--yes'], 0],
        // an error once the machines are open: the plan is stale now
        [['apply', ...at, 'plan.json', '--yes'], 1],
        [['state', ...at, '--machine', 'm1'], 0],
        [['rollback', ...at, '--yes'], 0],
        [['recover', ...at], 0],
      ]
      for (const [args, code] of runs) {
        const r = await cutover(args, ctl, env)
        expect([args.join(' '), r.code, r.code === code ? '' : r.err]).toEqual([
          args.join(' '),
          code,
          '',
        ])
        expect([args.join(' '), socketDirs(tmp)]).toEqual([args.join(' '), []])
      }
    },
    SSH_TEST_MS,
  )

  it(
    'a killed apply leaves its directory and masters: the next command ends them and removes it',
    async () => {
      const { ctl, tmp, env, at } = tooLongForSockets()
      expect((await cutover(['plan', ...at, '--out', 'plan.json'], ctl, env)).code).toBe(0)
      const killed = await cutover(['apply', ...at, 'plan.json', '--yes'], ctl, {
        ...env,
        CUTOVER_FAULT_INJECT: 'fleet:prepared',
      })
      expect(killed.signal).toBe('SIGKILL')
      const [left] = socketDirs(tmp)
      expect(left).toMatch(/^cutover-ssh-\d+-\w{6}$/)
      // the masters still run, logged in, for their ControlPersist
      expect(processesNaming(join(tmp, left!)).length).toBeGreaterThan(0)

      const recovered = await cutover(['recover', ...at], ctl, env)
      expect(recovered.err).toBe('')
      expect(recovered.code).toBe(0)
      expect(socketDirs(tmp)).toEqual([])
      expect(await mastersGone(join(tmp, left!))).toEqual([])
    },
    SSH_TEST_MS,
  )

  it(
    'ended by SIGTERM, an apply ends its masters and removes its directory in the state directory before it exits',
    async () => {
      const ctl = fresh()
      const sockets = join(ctl, '.cutover', 'ssh')
      expect((await cutover(['plan', '--out', 'plan.json'], ctl, kit.env())).code).toBe(0)
      expect(readdirSync(sockets)).toEqual([])
      // stopped with its machines open, then told to end
      const { child, closed } = startCutover(['apply', 'plan.json', '--yes'], ctl, {
        ...kit.env(),
        CUTOVER_FAULT_INJECT: 'fleet:prepared=stop',
      })
      await waitStopped(child.pid!)
      const [made] = readdirSync(sockets)
      expect(made).toMatch(new RegExp(`^${child.pid}-\\w{6}$`))
      expect(processesNaming(join(sockets, made!)).length).toBeGreaterThan(0)
      child.kill('SIGTERM')
      child.kill('SIGCONT')
      expect((await closed).signal).toBe('SIGTERM')
      expect(readdirSync(sockets)).toEqual([])
      expect(await mastersGone(join(sockets, made!))).toEqual([])
    },
    SSH_TEST_MS,
  )

  it(
    'ended by SIGTERM with a master stopped, an apply kills that master and tells the other to exit',
    async () => {
      const ctl = fresh()
      const sockets = join(ctl, '.cutover', 'ssh')
      expect((await cutover(['plan', '--out', 'plan.json'], ctl, kit.env())).code).toBe(0)
      // the bin as installed: the thread's source is the bundle's, loaded by the launcher
      const { child, closed } = startCutover(
        ['apply', 'plan.json', '--yes'],
        ctl,
        { ...kit.env(), CUTOVER_FAULT_INJECT: 'fleet:prepared=stop' },
        LAUNCHER,
      )
      await waitStopped(child.pid!)
      const [made] = readdirSync(sockets)
      const masters = mastersOf(join(sockets, made!))
      expect([...masters.keys()].sort()).toEqual(['m1', 'm2'])
      const [m1, m2] = kit.fleet.machines
      const before = [goodbyes(m1!), goodbyes(m2!)]
      process.kill(masters.get('m1')!, 'SIGSTOP')
      try {
        child.kill('SIGTERM')
        child.kill('SIGCONT')
        expect((await closed).signal).toBe('SIGTERM')
        expect(readdirSync(sockets)).toEqual([])
        expect(await mastersGone(join(sockets, made!))).toEqual([])
        // m2's master was told to exit on its socket (from the bundle's thread): it said goodbye
        for (let i = 0; i < 50 && goodbyes(m2!) === before[1]; i++)
          await new Promise((r) => setTimeout(r, 100))
        expect([goodbyes(m1!) - before[0]!, goodbyes(m2!) - before[1]!]).toEqual([0, 1])
      } finally {
        // those still masters of the directory: a pid another process took since is left alone
        const left = mastersOf(join(sockets, made!))
        for (const pid of masters.values())
          if ([...left.values()].includes(pid)) process.kill(pid, 'SIGKILL')
      }
    },
    SSH_TEST_MS,
  )
})
