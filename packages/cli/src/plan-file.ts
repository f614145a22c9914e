import { CliError } from './errors.js'
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Writes a plan file as only this user can change it: a new file (random name beside `path`,
 * O_EXCL|O_NOFOLLOW, mode 0600, fsynced) renamed over `path`. A link at `path` is replaced, never
 * followed, and a file someone else owns there is replaced by one this user owns.
 */
export async function writePrivate(path: string, data: Iterable<string>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`)
  const fh = await open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  )
  let renamed = false
  try {
    try {
      await fh.chmod(0o600)
      for (const piece of data) await fh.write(piece)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(temp, path)
    renamed = true
  } catch (e) {
    throw new CliError('PLAN_WRITE', `cannot save the plan to ${path}: ${(e as Error).message}`, {
      cause: e,
    })
  } finally {
    if (!renamed) await rm(temp, { force: true })
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
