import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { access, open, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { writeDurable } from '@cutover/rewrite'
import { CliError } from './errors.js'

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
 * Checks that a file can be written at each of `paths` (its directory exists and is writable),
 * before any is written: a mistaken `--out` leaves no plan saved by `--save` behind, and the
 * other way round.
 */
export async function checkWritable(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const dir = dirname(path)
    try {
      if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`)
      await access(dir, constants.W_OK)
    } catch (e) {
      throw new CliError('PLAN_WRITE', `cannot write ${path}: ${(e as Error).message}`, {
        cause: e,
      })
    }
  }
}

/**
 * Writes a review (Markdown or HTML) the way a plan is saved ({@link writePrivate}: a link at
 * `path` is replaced, never followed), but mode 0644 less the umask: a review is meant to be
 * shared, and holds only what the plan document holds (no secret).
 */
export async function writeReview(path: string, data: string): Promise<void> {
  try {
    await writeDurable(path, data, { mode: 0o644 })
  } catch (e) {
    throw new CliError(
      'PLAN_WRITE',
      `cannot write the review to ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
}

/** The hash of a saved plan's bytes, as `cutover plan` prints it: `sha256:` and 64 hex digits. */
export function fileHash(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/**
 * The value of `--expect` in the form {@link fileHash} gives (hex digits in lower case), or a
 * usage error: it is `sha256:` and 64 hex digits, and binds a saved plan (`plan`, the argument).
 */
export function expectedHash(value: string, plan: string | undefined): string {
  if (plan === undefined)
    throw new CliError(
      'USAGE',
      '--expect binds a saved plan: give it with the plan, cutover apply PLAN.json --expect sha256:HEX',
    )
  const m = /^sha256:([0-9a-f]{64})$/i.exec(value.trim())
  if (!m)
    throw new CliError(
      'USAGE',
      `--expect takes the plan's hash as cutover plan prints it, sha256: and 64 hex digits, got "${value}"`,
    )
  return `sha256:${m[1]!.toLowerCase()}`
}

/**
 * Reads a saved plan, refusing one that another user could have written: not owned by the user
 * running cutover, or writable by group or others (whoever can write a plan chooses what apply
 * writes, as root). The checks are made on the file that is read (fstat of the open file).
 * Resolves to its bytes, read once: what is hashed is what is parsed.
 */
export async function readTrustedPlan(file: string, shown: string): Promise<Buffer> {
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
    return await fh.readFile()
  } finally {
    await fh.close()
  }
}
