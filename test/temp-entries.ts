import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname } from 'node:path'
import type { TestProject } from 'vitest/node'

/**
 * The places a test may leave something behind: the temporary directory, /dev/shm/cutover-* (the fleet's
 * mirrors) and the machines' directories under /var/lib (`startFleet(n, { chroot: true })`).
 */
export function tempPlaces(): Array<{ dir: string; prefix: string }> {
  return [
    { dir: tmpdir(), prefix: '' },
    { dir: '/dev/shm', prefix: 'cutover-' },
    { dir: '/var/lib', prefix: 'cutover-' },
  ]
}

/** Every entry of the places, as a path (a place that cannot be read has none). */
export function tempEntries(): string[] {
  return tempPlaces().flatMap(({ dir, prefix }) => {
    try {
      return readdirSync(dir)
        .filter((name) => name.startsWith(prefix))
        .map((name) => `${dir}/${name}`)
    } catch {
      return []
    }
  })
}

/**
 * What the run may leave on purpose: the PGlite image (`newPglite`, made once and kept for the
 * next runs) and its lock, and the pnpm store the fresh clone's install makes at the root of the
 * temporary directory when that is a file system of its own (pnpm keeps its store on the
 * project's), a cache too.
 */
export const KEPT = [/^cutover-test-pglite-[^/]*\.tar(\.lock)?$/, /^\.pnpm-store$/]

/** The entries of `after` that were not in `before` and are neither kept nor `running`. */
export function leftBehind(before: string[], after: string[], running: string[]): string[] {
  const was = new Set([...before, ...running])
  return after
    .filter((p) => !was.has(p))
    .filter((p) => !(dirname(p) === tmpdir() && KEPT.some((k) => k.test(basename(p)))))
    .sort()
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The entries of the temporary places when the run started ({@link tempEntries}). */
    tempEntriesBefore: string[]
    /** vitest's own temporary directories (one for each project), removed when it ends. */
    vitestTempDirs: string[]
  }
}

/**
 * globalSetup of the `temp` project (vitest.config.ts): records the temporary places' entries
 * before any test file runs, for the check that runs after all of them (test/temp-left.test.ts).
 */
export default function setup(project: TestProject): void {
  const vitest = project.vitest as typeof project.vitest & { _tmpDir?: string }
  const own = [vitest._tmpDir, ...vitest.projects.map((p) => p.tmpDir)]
  project.provide('tempEntriesBefore', tempEntries())
  project.provide(
    'vitestTempDirs',
    own.filter((d): d is string => typeof d === 'string'),
  )
}
