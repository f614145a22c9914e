import { dirname, join } from 'node:path'
import { CutoverError } from '../errors.js'
import { sha256 } from '../text/source.js'
import type { TxXattrs } from './file-system.js'
import type { JournalTarget } from './journal.js'
import type { StateFileSystem } from './state-file-system.js'

/*
 * The copies of the originals in the state directory, through the state directory's file system
 * (the machine's the targets are on, or the local one): one pack per transaction
 * (`<state>/tx/<txid>/backup/pack`, each original a slice of it, `backupAt` in the journal), or,
 * on a state file system without packs and in journals of an older cutover, a file per target
 * (`backup/N`). A target's extended attributes go on an empty `backup/N.meta` in both layouts.
 */

/** The backup directory of a transaction, created mode 0700. */
export async function makeBackupDir(fs: StateFileSystem, txDir: string): Promise<string> {
  const dir = join(txDir, 'backup')
  await fs.mkdir(dir)
  return dir
}

/** The backup pack of a transaction. */
export function packPath(txDir: string): string {
  return join(txDir, 'backup', 'pack')
}

/**
 * The name of the backup of target number `i` of a journal: its file (`backup/N`) when it has one
 * of its own, else `backup/N` beside the pack; its attributes are on `NAME.meta` either way.
 */
export function backupName(t: JournalTarget, i: number): string {
  return t.backupAt ? join(dirname(t.backup), String(i)) : t.backup
}

/** Writes a backup (a new file, mode 0600, fsynced) and, when the target has any, its attributes beside it. */
export async function writeBackup(
  fs: StateFileSystem,
  path: string,
  bytes: Buffer,
  attrs: TxXattrs | undefined,
): Promise<void> {
  await fs.createExclusive(path, bytes)
  await writeBackupAttrs(fs, path, attrs)
}

/** Saves a target's attributes (but `security.*`) on an empty `NAME.meta`, so a restore can put them back. */
export async function writeBackupAttrs(
  fs: StateFileSystem,
  name: string,
  attrs: TxXattrs | undefined,
): Promise<void> {
  if (!attrs) return
  await fs.createExclusive(name + '.meta', '')
  await fs.writeXattrs(
    name + '.meta',
    new Map([...attrs].filter(([k]) => !k.startsWith('security.'))),
  )
}

/**
 * The original of a journaled target: its slice of the pack, or its own file; checked to hash to
 * its `before` (a pack torn by a crash, or a backup changed since, is refused, never restored).
 * `read`/`range` read a whole file and a slice of one.
 */
export async function readBackupOf(
  t: JournalTarget,
  read: (path: string) => Promise<Buffer>,
  range: (path: string, offset: number, length: number) => Promise<Buffer>,
): Promise<Buffer> {
  const bytes = t.backupAt
    ? await range(t.backup, t.backupAt[0], t.backupAt[1])
    : await read(t.backup)
  const hash = sha256(bytes)
  if (hash !== t.before)
    throw new CutoverError(
      'STATE',
      `${t.target}: its backup ${t.backup}${t.backupAt ? ` (bytes ${t.backupAt[0]}–${t.backupAt[0] + t.backupAt[1]})` : ''} does not hold its original (${t.before}, it holds ${hash}): not restored from it`,
    )
  return bytes
}

/** {@link readBackupOf} through a state directory's file system. */
export function readBackup(fs: StateFileSystem, t: JournalTarget): Promise<Buffer> {
  return readBackupOf(
    t,
    (p) => fs.readFile(p),
    (p, o, l) => (fs.readRange ? fs.readRange(p, o, l) : sliceOf(fs.readFile(p), o, l)),
  )
}

/** A slice of a whole file's bytes (the pack read whole, where no range read is at hand). */
export async function sliceOf(
  bytes: Promise<Buffer>,
  offset: number,
  length: number,
): Promise<Buffer> {
  return (await bytes).subarray(offset, offset + length)
}

/** The attributes saved with each of the backups, by backup name (none when the tools are missing). */
export async function backupAttrs(
  fs: StateFileSystem,
  names: readonly string[],
): Promise<Map<string, TxXattrs>> {
  if (!(await fs.xattrsAvailable())) return new Map()
  const attrs = await fs.readXattrs(names.map((p) => p + '.meta'))
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
