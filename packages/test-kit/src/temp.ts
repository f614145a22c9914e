import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
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
 * Removes every directory {@link tempDir} made and empties the list. `rm -rf --one-file-system`:
 * a file system a test left mounted below one is not entered (so a bind mount of a system
 * directory is never emptied); its directory then stays and this throws, as it does for any
 * directory rm could not remove (an immutable file left behind), naming them.
 */
export function removeTempDirs(): void {
  const dirs = made.splice(0)
  if (dirs.length === 0) return
  const r = spawnSync('rm', ['-rf', '--one-file-system', '--', ...dirs], { encoding: 'utf8' })
  if (r.error) throw r.error
  if (r.status !== 0)
    throw new Error(`the test file's temporary directories were not all removed:\n${r.stderr}`)
}
