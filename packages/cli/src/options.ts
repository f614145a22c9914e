import { realpathSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { defaultStateDir } from '@cutover/rewrite'
import { CliError } from './errors.js'
import type { Opts } from './command.js'
import type { Io } from './io.js'

/** The value of a string option, or undefined when it was not given (or is a flag). */
export const str = (v: string | boolean | undefined): string | undefined =>
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
