import { rm } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  mirrorDir,
  mirrorMachine,
  openMachine,
  removeMirrors,
  removeMirrorSync,
  removeSocketDirSync,
  socketDir,
  type Machine,
} from '@cutover/fleet'
import {
  defaultStateDir,
  type Engine,
  type Plan,
  type Spec,
  type SpecMachine,
} from '@cutover/rewrite'
import type { Opts } from './command.js'
import type { Io } from './io.js'
import { cleanupOnSignal } from './on-signal.js'
import { STATE_DIR, controllerStateDir, parseSize, sshConfig, str } from './options.js'

/** A journal of a machine's state directory: fetched into the mirror for the swap records. */
const JOURNAL = new RegExp(`^${STATE_DIR}/tx/[^/]+/journal\\.json$`)

/** How many machines are connected to and mirrored at once, in the spec's order. */
const CONCURRENT_MACHINES = 16

/** A machine opened and mirrored: its connection and the mirror's directory. */
interface Prepared {
  machine: Machine
  dir: string
}

/**
 * Plans machines reached over ssh: each is opened (its host key recorded), mirrored into a
 * private temp directory (only what its plan reads, see `mirrorMachine`), and planned there.
 * `prepare` starts the opening and mirroring of machines before their turn: up to
 * {@link CONCURRENT_MACHINES} at once, so that the round trips of one machine overlap the others'
 * and the planning of the machines before it. `plan` waits for its own machine only: an error
 * of a machine is reported when the plan reaches it, in the spec's order. A machine planned
 * again (told the others' hidden values) plans the same mirror. `close` waits for every
 * machine still being opened, ends the connections and removes the mirrors and the control
 * sockets' directory.
 */
export async function remotePlanning(opts: Opts, io: Io) {
  // the control sockets of a plan's connections live as long as the plan, in a private directory
  const controlDir = await socketDir(
    controllerStateDir(opts, io, resolve(io.cwd, str(opts.spec) ?? 'cutover.yaml')),
  )
  const opened: Machine[] = []
  const mirrors: string[] = []
  const prepared = new Map<string, Promise<Prepared>>()
  let running = 0
  const waiting: Array<() => void> = []
  let closing = false
  // the plan's default limit (64 MiB): a larger file is a sparse stand-in the plan refuses
  const maxFileSize =
    str(opts.maxFileSize) !== undefined ? parseSize(str(opts.maxFileSize)!) : 64 * 1024 * 1024
  const config = sshConfig(opts, io)
  // Ended by a signal (Ctrl-C, SIGTERM, a closed terminal), the process would not reach `close`:
  // the mirrors (in memory under /dev/shm, holding the files fetched, until a reboot) are removed
  // first, the masters told to exit (else each would wait for its ControlPersist, its socket
  // gone), then the signal ends the process as it would have.
  const off = cleanupOnSignal(() => {
    for (const d of mirrors) removeMirrorSync(d)
    removeSocketDirSync(controlDir)
  })

  async function openAndMirror(m: SpecMachine, spec: Spec, e: Engine): Promise<Prepared> {
    if (running >= CONCURRENT_MACHINES) await new Promise<void>((go) => waiting.push(go))
    else running++
    try {
      // a plan that ended (an error of an earlier machine) opens no more machines
      if (closing) throw new Error(`machine ${m.name}: not opened, the plan has ended`)
      const machine = await openMachine(
        {
          name: m.name,
          ...(m.ssh !== undefined ? { ssh: m.ssh } : {}),
          ...(m.port !== undefined ? { port: m.port } : {}),
          root: m.root,
        },
        { ...(config !== undefined ? { sshConfig: config } : {}), controlDir, env: io.env },
      )
      opened.push(machine)
      // made by synchronous calls: recorded before a signal's handler can run
      const dir = await mirrorDir(m.name)
      mirrors.push(dir)
      const needs = e.needs(spec, {
        root: dir,
        machine: m.name,
        ...(str(opts.profile) !== undefined ? { profile: str(opts.profile)! } : {}),
        env: io.env,
        ignore: [`${STATE_DIR}/**`],
      })
      await mirrorMachine(machine, needs, {
        dir,
        maxFileSize,
        fetch: (path) => JOURNAL.test(path),
        also: [STATE_DIR],
      })
      return { machine, dir }
    } finally {
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }

  /** Starts opening and mirroring `m` (once); its error waits for whoever awaits it. */
  function prepare(m: SpecMachine, spec: Spec, e: Engine): Promise<Prepared> {
    let p = prepared.get(m.name)
    if (!p) {
      p = openAndMirror(m, spec, e)
      // awaited by `plan` or settled by `close`: never an unhandled rejection meanwhile
      p.catch(() => undefined)
      prepared.set(m.name, p)
    }
    return p
  }

  return {
    prepare(m: SpecMachine, spec: Spec, e: Engine): void {
      void prepare(m, spec, e)
    },
    async plan(
      m: SpecMachine,
      spec: Spec,
      e: Engine,
      run: (dir: string, stateDir: string) => Promise<Plan>,
    ): Promise<{ plan: Plan; hostKey?: string }> {
      const { machine, dir } = await prepare(m, spec, e)
      const plan = await run(dir, defaultStateDir(dir))
      return { plan, ...(machine.hostKey !== undefined ? { hostKey: machine.hostKey } : {}) }
    },
    /** The machine called `name`, opened by {@link plan} (it stays open until `close`). */
    machine(name: string): Machine | undefined {
      return opened.find((m) => m.spec.name === name)
    },
    async close(): Promise<void> {
      closing = true
      await Promise.allSettled(prepared.values())
      await Promise.allSettled(opened.map((m) => m.close()))
      await removeMirrors(mirrors)
      await rm(controlDir, { recursive: true, force: true })
      off()
    },
  }
}
