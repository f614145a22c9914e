import { basename, dirname } from 'node:path'
import { systemErrorCode } from '../errors.js'
import type { FaultHook } from './fault.js'
import type { TxFileSystem } from './file-system.js'
import type { JournalDir } from './journal.js'

/*
 * The directories a transaction creates above its new targets. They are journaled (with the pin
 * of the parent of each top one) before the first is made; each is then made in its pinned
 * parent, the parent fsynced, and pinned itself, so that the ones below it and the targets in it
 * are made in that very directory. Undoing them removes each, deepest first, when it is empty.
 */

/**
 * Makes `dirs` (top down, none there yet) with their owner and mode, each in its pinned parent,
 * the parent fsynced; records each one's pin (and its children's `parentPin`) as it goes.
 * `mkdir:K` is the fault point after the K-th.
 */
export async function makeDirs(
  fs: TxFileSystem,
  dirs: readonly JournalDir[],
  fault: FaultHook,
): Promise<void> {
  const made = new Map<string, string[]>()
  for (const [k, d] of dirs.entries()) {
    const parent = dirname(d.path)
    d.parentPin ??= made.get(parent)
    await fs.mkdirPinned({ dir: parent, pin: d.parentPin, target: d.target }, basename(d.path), {
      uid: d.uid,
      gid: d.gid,
      mode: d.mode,
    })
    await fs.fsyncDir(parent)
    d.pin = await fs.pinDir(d.path)
    made.set(d.path, d.pin)
    fault(`mkdir:${k + 1}`)
  }
}

/**
 * Removes the directories a transaction made, deepest first, each from its pinned parent when it
 * is empty (absent already is fine); returns a warning for each left (not empty, or its parent
 * replaced). `rmdir:K` is the fault point after the K-th removal.
 */
export async function removeDirs(
  fs: TxFileSystem,
  dirs: readonly JournalDir[],
  fault: FaultHook,
): Promise<string[]> {
  const warnings: string[] = []
  let k = 0
  for (const d of [...dirs].reverse()) {
    const parent = dirname(d.path)
    const pin = d.parentPin ?? dirs.find((p) => p.path === parent)?.pin
    try {
      // gone already (never made, or removed by an earlier run): nothing to do
      if ((await fs.lstat(d.path)) === undefined) continue
      await fs.rmdirPinned({ dir: parent, pin, target: d.target }, basename(d.path), {
        missingOk: true,
      })
      await fs.fsyncDir(parent)
    } catch (e) {
      const code = systemErrorCode(e)
      warnings.push(
        code === 'ENOTEMPTY' || code === 'EEXIST'
          ? `directory ${d.path} (made for ${d.target}) was left: it is not empty`
          : `directory ${d.path} (made for ${d.target}) was left: ${(e as Error).message}`,
      )
      continue
    }
    fault(`rmdir:${++k}`)
  }
  return warnings
}
