import { closeSync, constants, fsync, openSync, writeFileSync } from 'node:fs'
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fsyncPath } from '../fs/durable.js'
import { readXattrs, writeXattrs, xattrToolsAvailable, type Xattrs } from '../fs/xattr.js'

/*
 * The copies of the originals in the state directory (`<state>/tx/<txid>/backup/N`, with the
 * target's extended attributes on an empty `N.meta`). The state directory is on the machine
 * cutover runs on, whatever file system the targets are on: these use node's file system.
 */

const fsyncFd = promisify(fsync)

/** The backup directory of a transaction, created mode 0700. */
export async function makeBackupDir(txDir: string): Promise<string> {
  const dir = join(txDir, 'backup')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  return dir
}

/** Writes a backup (a new file, mode 0600, fsynced) and, when the target has any, its attributes beside it. */
export async function writeBackup(
  path: string,
  bytes: Buffer,
  attrs: Xattrs | undefined,
): Promise<void> {
  // open and write return at once: synchronous; the fsync waits for the disk
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  )
  try {
    writeFileSync(fd, bytes)
    await fsyncFd(fd)
  } finally {
    closeSync(fd)
  }
  if (!attrs) return
  // an empty file carrying the target's attributes, so a restore can put them back
  const fh = await open(path + '.meta', 'wx', 0o600)
  await fh.close()
  await writeXattrs(path + '.meta', new Map([...attrs].filter(([k]) => !k.startsWith('security.'))))
}

/** The bytes of a backup. */
export function readBackup(path: string): Promise<Buffer> {
  return readFile(path)
}

/** The attributes saved with each of the backups, by backup path (none when the tools are missing). */
export async function backupAttrs(paths: readonly string[]): Promise<Map<string, Xattrs>> {
  if (!(await xattrToolsAvailable())) return new Map()
  const attrs = await readXattrs(paths.map((p) => p + '.meta'))
  return new Map([...attrs].map(([p, a]) => [p.slice(0, -'.meta'.length), a]))
}

/** fsyncs the backup directory (the backups' names are durable). */
export function syncBackups(txDir: string): Promise<void> {
  return fsyncPath(join(txDir, 'backup'))
}

/** Removes the backups of a transaction that wrote nothing. */
export async function dropBackups(txDir: string): Promise<void> {
  await rm(join(txDir, 'backup'), { recursive: true, force: true }).catch(() => undefined)
}
