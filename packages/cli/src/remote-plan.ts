import { rm } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  mirrorDir,
  mirrorMachine,
  openMachine,
  removeMirror,
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
import { STATE_DIR, controllerStateDir, parseSize, sshConfig, str } from './options.js'

/** A journal of a machine's state directory: fetched into the mirror for the swap records. */
const JOURNAL = new RegExp(`^${STATE_DIR}/tx/[^/]+/journal\\.json$`)

/**
 * Plans machines reached over ssh: each is opened (its host key recorded), mirrored into a
 * private temp directory (only what its plan reads, see `mirrorMachine`), and planned there.
 * `close` ends the connections and removes the mirrors and the control sockets' directory.
 */
export async function remotePlanning(opts: Opts, io: Io) {
  // the control sockets of a plan's connections live as long as the plan, in a private directory
  const controlDir = await socketDir(
    controllerStateDir(opts, io, resolve(io.cwd, str(opts.spec) ?? 'cutover.yaml')),
  )
  const opened: Machine[] = []
  const mirrors: string[] = []
  // the plan's default limit (64 MiB): a larger file is a sparse stand-in the plan refuses
  const maxFileSize =
    str(opts.maxFileSize) !== undefined ? parseSize(str(opts.maxFileSize)!) : 64 * 1024 * 1024
  return {
    async plan(
      m: SpecMachine,
      spec: Spec,
      e: Engine,
      run: (dir: string, stateDir: string) => Promise<Plan>,
    ): Promise<{ plan: Plan; hostKey?: string }> {
      const config = sshConfig(opts, io)
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
      const plan = await run(dir, defaultStateDir(dir))
      return { plan, ...(machine.hostKey !== undefined ? { hostKey: machine.hostKey } : {}) }
    },
    /** The machine called `name`, opened by {@link plan} (it stays open until `close`). */
    machine(name: string): Machine | undefined {
      return opened.find((m) => m.spec.name === name)
    },
    async close(): Promise<void> {
      await Promise.allSettled(opened.map((m) => m.close()))
      await Promise.allSettled(mirrors.map((d) => removeMirror(d)))
      await rm(controlDir, { recursive: true, force: true })
    },
  }
}
