/**
 * The file system the transaction writes its targets on, in the transaction's own terms: every
 * call it makes on a target, its directory or a temp file beside it goes through this interface
 * (the state directory, journals and backups, stays on the machine cutover runs on). The local
 * file system is its one implementation today (fs/local.ts); a machine reached over SSH can be
 * another. Paths are absolute paths on that file system. Errors of the system carry its errno
 * `code` (`ENOENT`, `EACCES`, …) as node's do; a directory that is not the pinned one any more
 * throws a `TARGET_MOVED` CutoverError.
 */

/** Extended attributes (POSIX ACLs included, as `system.posix_acl_*`) of a file: name → base64 value. */
export type TxXattrs = Map<string, string>

/** What the transaction needs to know of a file, from lstat (a link is not followed). */
export interface TxStat {
  type: 'file' | 'directory' | 'symlink' | 'other'
  /** The permission bits and the file type, as `st_mode`. */
  mode: number
  uid: number
  gid: number
  /** The device it is on (a file mounted over has another than its directory's). */
  dev: number
}

/**
 * A directory pinned when the transaction began: `pin` is the identity of each component from `/`
 * down to `dir` (opaque strings; undefined in journals of an older cutover: then only checked to
 * hold no symlink). `target` names the target in errors.
 */
export interface PinnedDir {
  dir: string
  pin: readonly string[] | undefined
  target: string
}

/** The owner of a file, a link or a directory. */
export interface TxOwner {
  uid: number
  gid: number
}

/** The metadata a new file beside a target gets: the target's. */
export interface NewFileMeta {
  uid: number
  gid: number
  /** Permission bits, applied whatever the umask. */
  mode: number
  /** Extended attributes to set on the new file (through the file created, not its path). */
  xattrs: TxXattrs | undefined
  /** Its directory has a default ACL: drop the access ACL the new file inherits from it, before any byte is written. */
  dropAcl: boolean
  /** Called after the directory is checked, immediately before the file is created (a fault point of the tests). */
  opening?: () => void
}

/** One call of {@link TxFileSystem} that only reads, asked together with others by {@link TxFileSystem.ask}. */
export type TxQuery =
  | { op: 'realpath'; path: string }
  | { op: 'lstat'; path: string }
  | { op: 'probeWritable'; path: string; exists: boolean }
  | { op: 'pinDir'; dir: string }
  | { op: 'pinChanged'; dir: string; pin: readonly string[] | undefined }
  | { op: 'userWritableDir'; dir: string; owner: number; acls: ReadonlyMap<string, string> }

/** What a call gave: its value, or the error it threw. */
export type TxAnswer = { ok: true; value: unknown } | { ok: false; error: unknown }

/**
 * The operations of a transaction on its targets. The ones on a {@link PinnedDir} first check
 * that the directory is still the pinned one and then act in that very directory (openat-like),
 * so that a swap of its path after the check cannot redirect them; they throw `TARGET_MOVED`,
 * doing nothing, when it is not.
 */
export interface TxFileSystem {
  /** The user and group the files are written as on this file system (undefined: not a POSIX system). */
  identity(): Promise<{ uid: number | undefined; gid: number | undefined }>
  /** lstat; undefined when nothing is there. */
  lstat(path: string): Promise<TxStat | undefined>
  /** The path with every link resolved; throws `ENOENT` when it (or the end of a link) is missing. */
  realpath(path: string): Promise<string>
  /** Every mount point of the file system's mount table, or undefined when it cannot be read. */
  mountPoints(): Promise<ReadonlySet<string> | undefined>
  /**
   * Opens the file at `path` for writing (without following a link, truncating or blocking) when
   * `exists`, and its directory, and closes them: throws `EPERM` (immutable), `EROFS`, `EACCES`…
   * when a write there would fail.
   */
  probeWritable(path: string, exists: boolean): Promise<void>

  /** The pin of a directory, from `/` down; throws `TARGET_MOVED` when a component is missing, a link or not a directory. */
  pinDir(dir: string): Promise<string[]>
  /** Why `dir` is not the pinned directory any more (a component replaced, moved, a symlink now), or undefined. */
  pinChanged(dir: string, pin: readonly string[] | undefined): Promise<string | undefined>
  /** Every directory from `/` down to each of `dirs` whose group bits allow writing: where an ACL may name other writers. */
  aclCandidates(dirs: Iterable<string>): Promise<string[]>
  /**
   * Why a target in `dir`, owned by `owner`, is unsafe for root to write (a user other than root
   * and `owner` can change its directory path, `acls` giving the access ACLs of the directories
   * on the way), or undefined.
   */
  userWritableDir(
    dir: string,
    owner: number,
    acls: ReadonlyMap<string, string>,
  ): Promise<string | undefined>

  /** Whether extended attributes can be read and written here. */
  xattrsAvailable(): Promise<boolean>
  /** The extended attributes of files (links not followed); files without any are absent. */
  readXattrs(paths: readonly string[]): Promise<Map<string, TxXattrs>>

  /** The bytes of `name` in the pinned directory; undefined when absent, `symlink` when a link is there (never followed). */
  readPinned(at: PinnedDir, name: string): Promise<Buffer | undefined | 'symlink'>
  /**
   * Creates `name` in the pinned directory (exclusively, never through a link), with `meta`'s
   * owner, mode and extended attributes, writes `data` and fsyncs it.
   */
  createPinned(at: PinnedDir, name: string, data: Buffer, meta: NewFileMeta): Promise<void>
  /**
   * {@link readPinned} of `read`, then {@link createPinned} of `name`, in one visit of the pinned
   * directory (its pin checked once for both): what `read` held, read before `name` is created.
   * Optional: the transaction makes the two calls on a file system without it.
   */
  readAndCreatePinned?(
    at: PinnedDir,
    read: string,
    name: string,
    data: Buffer,
    meta: NewFileMeta,
  ): Promise<Buffer | undefined | 'symlink'>
  /** Renames `from` over `to`, both entries of the pinned directory. */
  renamePinned(at: PinnedDir, from: string, to: string): Promise<void>
  /** Removes `name` from the pinned directory; `missingOk`: absent already is fine. */
  unlinkPinned(at: PinnedDir, name: string, options?: { missingOk?: boolean }): Promise<void>
  /**
   * The text of the symbolic link `name` in the pinned directory (never followed); undefined when
   * nothing is there; throws `EINVAL` when it is not a link.
   */
  readlinkPinned(at: PinnedDir, name: string): Promise<string | undefined>
  /**
   * Creates the symbolic link `name` with the text `text` in the pinned directory (`EEXIST` when
   * anything is there), owned by `owner` (the link itself, never what it points to).
   */
  symlinkPinned(at: PinnedDir, name: string, text: string, owner: TxOwner): Promise<void>
  /**
   * Creates the directory `name` in the pinned directory (`EEXIST` when anything is there) with
   * `meta`'s owner and then its mode, applied whatever the umask.
   */
  mkdirPinned(at: PinnedDir, name: string, meta: TxOwner & { mode: number }): Promise<void>
  /** Removes the empty directory `name` from the pinned directory (`ENOTEMPTY` when it holds anything); `missingOk`: absent already is fine. */
  rmdirPinned(at: PinnedDir, name: string, options?: { missingOk?: boolean }): Promise<void>
  /** fsyncs a directory (after renames and removals in it). */
  fsyncDir(dir: string): Promise<void>

  /*
   * Batch forms, called by the transaction once per phase (stage, backup, rename; and by
   * recovery) with every directory of that phase; a file system without them gets the single
   * calls above, one per directory. A remote one can answer each with one command.
   */

  /**
   * fsyncs every directory of `dirs` (distinct, in no particular order), as {@link fsyncDir}
   * does each, in one go; resolves once all are durable, rejects with the first error (the
   * others still attempted).
   */
  fsyncDirs?(dirs: readonly string[]): Promise<void>
  /**
   * {@link pinChanged} of every directory of `dirs` (distinct by `dir`), in one go: the answer
   * maps each `dir` to why it is not the pinned directory any more, or to undefined. Called at
   * the start of each phase with the directories it acts in: a file system may check the pins
   * here, once, rather than before each operation of the phase (docs/design.md §11 says what
   * that trades); the operations on a {@link PinnedDir} still act in the directory itself.
   */
  pinsChanged?(dirs: readonly PinnedDir[]): Promise<Map<string, string | undefined>>
  /**
   * The answers of many calls that only read, in the order of `queries`: each what the call
   * alone would resolve to or throw, read now. The preparation of a transaction asks what it
   * needs of all its targets this way, in a few rounds (an answer may lead to the next question,
   * as a missing file to the realpath of its directory), and then checks each target in order
   * from the answers; without it, it makes the calls one after the other. A remote file system
   * answers a round with one command and SFTP requests in flight together.
   */
  ask?(queries: readonly TxQuery[]): Promise<TxAnswer[]>
  /**
   * Runs `fn` (the preparation of a transaction, which only reads targets) with a view of this
   * file system whose directory walks ({@link pinDir}, {@link pinChanged},
   * {@link userWritableDir}, {@link aclCandidates}) are read together: a directory on the paths
   * of many targets is read once for all of them, as by one {@link ask}. Only the calls made
   * through the view share its reads, and only while `fn` runs; every other call (another
   * transaction's, a later phase's) and the operations on a {@link PinnedDir} walk anew.
   */
  readTogether?<T>(fn: (fs: TxFileSystem) => Promise<T>): Promise<T>
}
