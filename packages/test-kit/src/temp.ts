import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The directories {@link tempDir} made since the test file started. */
const made: string[] = []

/**
 * A new empty directory in the temporary directory (`mkdtemp`, the name `prefix` and six random
 * characters), removed with everything in it when the test file ends (vitest.setup.ts calls
 * {@link removeTempDirs} after the file's own hooks, so after its machines and children have
 * stopped). Made in a test, a hook or at the file's top level alike.
 */
export function tempDir(prefix = 'cutover-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/**
 * Removes every directory {@link tempDir} made and empties the list: `rm -rf --one-file-system`,
 * but first a directory with anything mounted at or below it (/proc/self/mountinfo) is left
 * whole: rm's `--one-file-system` compares devices only, so it enters a bind mount of the same
 * file system (a system directory bound there would be emptied). Such a directory stays and this
 * throws, naming its mounts, as it does for any directory rm could not remove (an immutable file
 * left behind).
 */
export function removeTempDirs(): void {
  const dirs = made.splice(0)
  if (dirs.length === 0) return
  const mounts = mountPoints()
  const below = (dir: string) => {
    let real: string
    try {
      real = realpathSync(dir)
    } catch {
      return [] // removed already (rm -f has nothing to do)
    }
    return mounts.filter((m) => m === real || m.startsWith(`${real}/`))
  }
  const held = dirs.map((d) => ({ dir: d, mounts: below(d) }))
  const free = held.filter((h) => h.mounts.length === 0).map((h) => h.dir)
  const errors = held.flatMap((h) => h.mounts.map((m) => `${m} is mounted in ${h.dir}\n`))
  if (free.length) {
    const r = spawnSync('rm', ['-rf', '--one-file-system', '--', ...free], { encoding: 'utf8' })
    if (r.error) throw r.error
    if (r.status !== 0) errors.push(r.stderr)
  }
  if (errors.length)
    throw new Error(
      `the test file's temporary directories were not all removed:\n${errors.join('')}`,
    )
}

/**
 * The mount points of this process's mount namespace: field 5 of /proc/self/mountinfo, its
 * octal escapes undone. As `parseMountinfo` of @cutover/rewrite, which is not imported here:
 * every test file loads this module (vitest.setup.ts), and the package would cost it ≈ 135 ms.
 */
function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      l
        .split(' ')[4]!
        .replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
    )
}
