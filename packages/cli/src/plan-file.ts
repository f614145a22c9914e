import { writeDurable } from '@cutover/rewrite'
import { CliError } from './errors.js'
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'

/**
 * Writes a plan file as only this user can change it ({@link writeDurable}: a new file beside
 * `path`, O_EXCL|O_NOFOLLOW, mode 0600, fsynced, renamed over `path`). A link at `path` is
 * replaced, never followed, and a file someone else owns there is replaced by one this user owns.
 */
export async function writePrivate(path: string, data: Iterable<string>): Promise<void> {
  try {
    await writeDurable(path, data)
  } catch (e) {
    throw new CliError('PLAN_WRITE', `cannot save the plan to ${path}: ${(e as Error).message}`, {
      cause: e,
    })
  }
}

/**
 * Reads a saved plan, refusing one that another user could have written: not owned by the user
 * running cutover, or writable by group or others (whoever can write a plan chooses what apply
 * writes, as root). The checks are made on the file that is read (fstat of the open file).
 */
export async function readTrustedPlan(file: string, shown: string): Promise<string> {
  let fh
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw new CliError('PLAN_MISSING', `cannot read the plan ${file}: ${(err as Error).message}`)
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new CliError('PLAN_INVALID', `${shown}: not a regular file`)
    const uid = process.getuid?.()
    if (uid !== undefined && st.uid !== uid) {
      throw new CliError(
        'PLAN_UNTRUSTED',
        `${shown}: refused: the plan is owned by uid ${st.uid}, not by you (uid ${uid}); whoever can write a plan chooses what apply writes. Plan again with --out`,
      )
    }
    if (st.mode & 0o022) {
      throw new CliError(
        'PLAN_UNTRUSTED',
        `${shown}: refused: the plan is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode 0${(st.mode & 0o777).toString(8)}); whoever can write a plan chooses what apply writes. chmod 600 it after checking it, or plan again with --out`,
      )
    }
    return await fh.readFile('utf8')
  } finally {
    await fh.close()
  }
}
