import { randomBytes } from 'node:crypto'
import { closeSync, constants, fsync, openSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { promisify } from 'node:util'

const fsyncFd = promisify(fsync)

/** fsyncs a file or a directory by path. */
export async function fsyncPath(path: string): Promise<void> {
  // open and close return at once: synchronous, no thread-pool round trip; the fsync waits
  const fd = openSync(path, constants.O_RDONLY)
  try {
    await fsyncFd(fd)
  } finally {
    closeSync(fd)
  }
}

/** How a durable write creates its file. */
export interface DurableOptions {
  /**
   * The new file's mode, less the umask (a file meant to be shared, such as a review). Without
   * it the file is 0600 whatever the umask: for this user alone.
   */
  mode?: number
}

/**
 * Creates `path` with `data`, durably: O_EXCL (an `EEXIST` error when something is there, a link
 * included), mode 0600 whatever the umask unless `options.mode` says otherwise, fsynced. Large
 * data may come in pieces.
 */
export async function createDurable(
  path: string,
  data: string | Buffer | Iterable<string>,
  options: DurableOptions = {},
): Promise<void> {
  const fh = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    options.mode ?? 0o600,
  )
  try {
    if (options.mode === undefined) await fh.chmod(0o600)
    if (typeof data === 'string' || Buffer.isBuffer(data)) await fh.writeFile(data)
    else for (const piece of data) await fh.write(piece)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Replaces `path` with `data` atomically and durably (write-file-atomic's way): a new file beside
 * it ({@link createDurable}, a random name), renamed over it, then its directory fsynced. A link
 * at `path` is replaced, never followed; on failure the new file goes and `path` is untouched.
 * `options.mode`: as {@link createDurable}'s.
 */
export async function writeDurable(
  path: string,
  data: string | Buffer | Iterable<string>,
  options: DurableOptions = {},
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`)
  let renamed = false
  try {
    await createDurable(temp, data, options)
    await rename(temp, path)
    renamed = true
  } finally {
    if (!renamed) await rm(temp, { force: true }).catch(() => undefined)
  }
  await fsyncPath(dirname(path))
}
