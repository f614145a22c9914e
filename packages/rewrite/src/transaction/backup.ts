import { join } from 'node:path'
import type { TxXattrs } from './file-system.js'
import type { StateFileSystem } from './state-file-system.js'

/*
 * The copies of the originals in the state directory (`<state>/tx/<txid>/backup/N`, with the
 * target's extended attributes on an empty `N.meta`), through the state directory's file system
 * (the machine's the targets are on, or the local one).
 */

/** The backup directory of a transaction, created mode 0700. */
export async function makeBackupDir(fs: StateFileSystem, txDir: string): Promise<string> {
  const dir = join(txDir, 'backup')
  await fs.mkdir(dir)
  return dir
}

/** Writes a backup (a new file, mode 0600, fsynced) and, when the target has any, its attributes beside it. */
export async function writeBackup(
  fs: StateFileSystem,
  path: string,
  bytes: Buffer,
  attrs: TxXattrs | undefined,
): Promise<void> {
  await fs.createExclusive(path, bytes)
  if (!attrs) return
  // an empty file carrying the target's attributes, so a restore can put them back
  await fs.createExclusive(path + '.meta', '')
  await fs.writeXattrs(
    path + '.meta',
    new Map([...attrs].filter(([k]) => !k.startsWith('security.'))),
  )
}

/** The bytes of a backup. */
export function readBackup(fs: StateFileSystem, path: string): Promise<Buffer> {
  return fs.readFile(path)
}

/** The attributes saved with each of the backups, by backup path (none when the tools are missing). */
export async function backupAttrs(
  fs: StateFileSystem,
  paths: readonly string[],
): Promise<Map<string, TxXattrs>> {
  if (!(await fs.xattrsAvailable())) return new Map()
  const attrs = await fs.readXattrs(paths.map((p) => p + '.meta'))
  return new Map([...attrs].map(([p, a]) => [p.slice(0, -'.meta'.length), a]))
}

/** fsyncs the backup directory (the backups' names are durable). */
export function syncBackups(fs: StateFileSystem, txDir: string): Promise<void> {
  return fs.fsync(join(txDir, 'backup'))
}

/** Removes the backups of a transaction that wrote nothing. */
export async function dropBackups(fs: StateFileSystem, txDir: string): Promise<void> {
  await fs.removeTree(join(txDir, 'backup')).catch(() => undefined)
}
