import type { TxXattrs } from './file-system.js'

/**
 * The file system of the state directory (journals, backups, the lock), in the terms of what
 * journal.ts, lock.ts and backup.ts do there. The local one (fs/local-state.ts) is the default;
 * a machine reached over SSH brings its own, so that its journals and backups stay on it beside
 * its targets while another machine coordinates. Paths are absolute paths on that file system.
 * Errors of the system carry its errno `code` (`ENOENT`, `EEXIST`, …) as node's do.
 *
 * The state directory belongs to the user cutover runs as there (ensureStateDir checks it), so
 * these act by path: nothing here pins directories as the targets' operations do.
 */

/** What the state directory's checks need to know of a path, from lstat (a link is not followed). */
export interface StateStat {
  type: 'file' | 'directory' | 'symlink' | 'other'
  /** The permission bits and the file type, as `st_mode`. */
  mode: number
  uid: number
  size: number
}

/** The operations of journal.ts, lock.ts and backup.ts on the state directory. */
export interface StateFileSystem {
  /** The user cutover runs as there (undefined: not a POSIX system). */
  identity(): Promise<{ uid: number | undefined }>
  /**
   * Creates `path` and its missing parents, mode 0700 whatever the umask for those it creates.
   * True when `path` itself was created; false when something was there (a dangling link too:
   * the caller's lstat sees what).
   */
  mkdir(path: string): Promise<boolean>
  /** lstat; undefined when nothing is there. */
  lstat(path: string): Promise<StateStat | undefined>
  /** The path with every link resolved; throws `ENOENT` when it is missing. */
  realpath(path: string): Promise<string>
  /**
   * Why a directory (a real path) would be unsafe as root's state directory: a user other than
   * root can change its path (owns a directory on the way, or can write one without the sticky
   * bit, by its mode or its access ACL); undefined when none can.
   */
  userWritableDir(dir: string): Promise<string | undefined>

  /** The bytes of a file (a link followed); throws `ENOENT` when absent. */
  readFile(path: string): Promise<Buffer>
  /** The names in a directory; throws `ENOENT` when absent. */
  readdir(path: string): Promise<string[]>
  /**
   * Creates `path` with `data`, for this user alone: O_EXCL and never through a link (`EEXIST`
   * when anything is there), mode 0600 whatever the umask, fsynced.
   */
  createExclusive(path: string, data: string | Buffer): Promise<void>
  /**
   * Replaces `path` with `data` atomically and durably: a new 0600 file beside it
   * ({@link createExclusive}, a random name), renamed over it, its directory fsynced. A link at
   * `path` is replaced, never followed; on failure the new file goes and `path` is untouched.
   */
  writeDurable(path: string, data: string | Buffer): Promise<void>
  /** Removes a file; absent already is fine. */
  unlink(path: string): Promise<void>
  /** Removes a directory and everything in it; absent already is fine. */
  removeTree(path: string): Promise<void>
  /** fsyncs a file or a directory by path. */
  fsync(path: string): Promise<void>

  /** Whether extended attributes can be read and written here. */
  xattrsAvailable(): Promise<boolean>
  /** The extended attributes of files (links not followed); files without any are absent. */
  readXattrs(paths: readonly string[]): Promise<Map<string, TxXattrs>>
  /** Sets extended attributes on a file. */
  writeXattrs(path: string, attrs: TxXattrs): Promise<void>
}
