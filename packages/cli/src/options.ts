import { realpathSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { defaultStateDir } from '@cutover/rewrite'
import { CliError } from './errors.js'
import type { Opts } from './command.js'
import type { Io } from './io.js'

/** The value of a string option, or undefined when it was not given (or is a flag). */
export const str = (v: string | string[] | boolean | undefined): string | undefined =>
  typeof v === 'string' ? v : undefined

/** The state directory's place in the root when `--state-dir` is not given. */
export const STATE_DIR = 'var/lib/cutover'

/**
 * The root, the state directory and the globs that keep the state directory out of a plan's
 * scope, from `--root` and `--state-dir` (a saved plan's root when `--root` is not given).
 */
export function paths(opts: Opts, io: Io, planRoot?: string) {
  const root = resolve(io.cwd, str(opts.root) ?? planRoot ?? '/')
  const given = str(opts.stateDir)
  // the default state directory is in the root as a chroot sees it (a linked var/lib stays inside)
  const stateDir = given !== undefined ? resolve(io.cwd, given) : defaultStateDir(root)
  const ignore = new Set<string>(given === undefined ? [`${STATE_DIR}/**`] : [])
  for (const base of [root, realOr(root)]) {
    const rel = relative(base, stateDir)
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) ignore.add(`${rel}/**`)
  }
  return { root, stateDir, ignore: [...ignore] }
}

function realOr(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/** A size given as bytes or with a binary unit: `1048576`, `512K`, `64M`, `1G` (also `64MiB`). */
export function parseSize(s: string): number {
  const m = /^(\d+)\s*(?:([KMG])(?:i?B)?|B)?$/i.exec(s.trim())
  if (!m)
    throw new CliError(
      'USAGE',
      `--max-file-size takes a size such as 64M, 1G or 1048576 (bytes), got "${s}"`,
    )
  return (
    Number(m[1]) *
    1024 ** { '': 0, K: 1, M: 2, G: 3 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G']
  )
}

/** The names given with `--machine` (repeatable), or undefined for every machine. */
export function machineNames(opts: Opts): string[] | undefined {
  const v = opts.machine
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : undefined
}

/** Refuses `--machine` for a spec without machines: it would be ignored, and all of the root planned. */
export function noMachines(opts: Opts, specPath: string): void {
  const names = machineNames(opts)
  if (names)
    throw new CliError(
      'USAGE',
      `--machine ${names.join(', ')}: ${specPath} declares no machines (--machine chooses among the machines: of a spec)`,
    )
}

/**
 * The machines of a fleet spec a command works on: those of `--machine` (in the spec's order),
 * else every one; an unknown name is a usage error naming the spec's machines. `--root` is
 * refused: each machine has its own root in the spec.
 */
export function fleetMachines<M extends { name: string }>(
  machines: readonly M[],
  opts: Opts,
  specPath: string,
): M[] {
  if (str(opts.root) !== undefined)
    throw new CliError(
      'USAGE',
      `--root cannot be used with ${specPath}: its machines: section gives each machine its own root (machines.NAME.root, default /); use --machine NAME to work on some of them`,
    )
  const names = machineNames(opts)
  if (!names) return [...machines]
  const known = machines.map((m) => m.name)
  const unknown = names.filter((n) => !known.includes(n))
  if (unknown.length)
    throw new CliError(
      'USAGE',
      `unknown machine${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} (--machine); ${specPath} declares ${known.join(', ')}`,
    )
  return machines.filter((m) => names.includes(m.name))
}

/**
 * The controller's state directory of a fleet (fleet journals, ssh control sockets): `--state-dir`,
 * else `.cutover` beside the spec.
 */
export function controllerStateDir(opts: Opts, io: Io, specPath: string): string {
  const given = str(opts.stateDir)
  return given !== undefined
    ? resolve(io.cwd, given)
    : resolve(dirname(resolve(io.cwd, specPath)), '.cutover')
}

/** The ssh config given to `ssh -F`: `--ssh-config`, else `CUTOVER_SSH_CONFIG`, else none (ssh's own). */
export function sshConfig(opts: Opts, io: Io): string | undefined {
  const v = str(opts.sshConfig) ?? (io.env.CUTOVER_SSH_CONFIG || undefined)
  return v === undefined ? undefined : resolve(io.cwd, v)
}
