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

/** A slice of a pack file: `[offset, length]` in bytes. */
export type PackRange = [offset: number, length: number]

/**
 * A pack file open for appending (the backups of one transaction, `<txdir>/backup/pack`): the
 * originals one after another, each found again by its {@link PackRange} (journaled as
 * `backupAt`) and checked against the sha256 the journal holds before it is used.
 */
export interface StatePack {
  /**
   * Writes `bytes` at the end of the pack. The offset is taken when `append` is called, before
   * it yields (appends may run concurrently, none overlapping another); resolves the slice once
   * written, not yet durable ({@link sync}).
   */
  append(bytes: Buffer): Promise<PackRange>
  /**
   * Optional: copies files of this machine to the end of the pack on the machine itself (their
   * bytes never travel): `sources` are absolute real paths, whose last component is not
   * followed when a link. Resolves, in the order of `sources`, each one's slice and the hash of
   * the slice as it is in the pack afterwards (`sha256:HEX`, read back from the pack, not from
   * the source), or undefined for a source that is missing or not a regular file. The slices
   * follow every one {@link append} allocated before; the caller compares each hash with what
   * it expects, so a source changed during the copy is detected, never trusted.
   */
  copyFrom?(sources: readonly string[]): Promise<Array<{ at: PackRange; hash: string } | undefined>>
  /** fsyncs the pack (every slice resolved so far is durable once it resolves). */
  sync(): Promise<void>
  /** Closes it; called once, after the last append or copy has settled (also after a failure). */
  close(): Promise<void>
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

  /**
   * Optional (without it backups are one file each, as older cutovers wrote them): creates the
   * pack file `path` as {@link createExclusive} does (O_EXCL, no link followed, 0600 whatever
   * the umask), empty, and opens it for appending.
   */
  openPack?(path: string): Promise<StatePack>
  /**
   * `length` bytes of the file `path` from `offset` (a link followed); throws `ENOENT` when it is
   * absent. Fewer bytes when the file is shorter (a torn pack): the caller's hash check says so.
   * Required with {@link openPack}.
   */
  readRange?(path: string, offset: number, length: number): Promise<Buffer>

  /** Whether extended attributes can be read and written here. */
  xattrsAvailable(): Promise<boolean>
  /** The extended attributes of files (links not followed); files without any are absent. */
  readXattrs(paths: readonly string[]): Promise<Map<string, TxXattrs>>
  /** Sets extended attributes on a file. */
  writeXattrs(path: string, attrs: TxXattrs): Promise<void>
}
