import {
  close,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statfsSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { readdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { promisify } from 'node:util'
import { CutoverError } from '../errors.js'
import type {
  NewFileMeta,
  PinnedDir,
  TxFileSystem,
  TxOwner,
  TxStat,
} from '../transaction/file-system.js'
import {
  aclCandidates,
  inPinnedDir,
  pinChanged,
  pinDir,
  userWritableDir,
  type WalkBatch,
} from './dir-pin.js'
import { fsyncPath } from './durable.js'
import { fileTypeOf } from './file-type.js'
import { fdPath, readXattrs, removeXattr, writeXattrs, xattrToolsAvailable } from './xattr.js'

/*
 * The calls that return at once (open, write into the page cache, chown, chmod, rename) are
 * synchronous inside these asynchronous methods: a thread-pool round trip each cost more than
 * the call itself, over thousands of files. The fsyncs, which wait for the disk, stay
 * asynchronous so that many of them overlap in the file system's journal.
 */

const fsyncFd = promisify(fsync)

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

function statOf(path: string): TxStat | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false })
  if (!st) return undefined
  return { type: fileTypeOf(st), mode: st.mode, uid: st.uid, gid: st.gid, dev: st.dev }
}

/*
 * Replacing a file (a rename over it, or its removal) drops its last link, and the kernel frees
 * its inode and blocks in the call, before it returns: measured on ext4, 1–3 ms a file where a
 * rename that only drops a name takes tens of microseconds, and one file after another, since
 * the renames run in turn. So the file about to be replaced is held first by an
 * O_PATH descriptor (no read, no open of a device or FIFO, never through a link): the rename or
 * removal then only drops the name, and closing the descriptor afterwards, in the thread pool,
 * frees the inode there, many at once. What is durable and when does not change: the name is
 * what the directory's fsync makes durable; the freeing of the old inode is no part of it.
 */

/** Linux's O_PATH (not in node's constants); elsewhere nothing is held. */
const O_PATH = process.platform === 'linux' ? 0o10000000 : undefined

/** Descriptors of replaced files still being closed in the thread pool, and who waits for fewer. */
let releasing = 0
let drained: Array<() => void> = []
const backlog: Array<() => void> = []
/** How many replaced files may wait to be closed at once (each holds a descriptor and an inode). */
const RELEASES_IN_FLIGHT = 256

/**
 * The file systems (`statfs` types) whose client, asked to replace or remove a name whose file
 * this process holds open, first renames that file to a hidden name ("silly rename") and removes
 * it at the last close: NFS and AFS. There a rename over a held file is two operations on the
 * server, and other clients find no file at all by the target's name between them. On those
 * nothing is held: the rename stays one atomic replacement.
 */
const SILLY_RENAME = new Set([0x6969 /* NFS */, 0x6b414653 /* kAFS */, 0x5346414f /* OpenAFS */])

/** Whether a file system of that `statfs` type lets a replaced file be held (see {@link SILLY_RENAME}). */
export const holdsReplacedOn = (type: number): boolean => !SILLY_RENAME.has(type)

/** By device (of a pinned directory): whether files there may be held. */
const holdable = new Map<string, boolean>()

/**
 * Whether the file at `path` may be held while it is replaced: not on a file system that
 * silly-renames, nor where its type cannot be read. `dev`: the device of its directory as its pin
 * records it, for one `statfs` per file system (one over NFS is a round trip to the server).
 */
function mayHold(path: string, dev: string | undefined): boolean {
  let ok = dev === undefined ? undefined : holdable.get(dev)
  if (ok === undefined) {
    try {
      ok = holdsReplacedOn(statfsSync(dirname(path)).type)
    } catch {
      ok = false
    }
    if (dev !== undefined) holdable.set(dev, ok)
  }
  return ok
}

/** A descriptor holding the inode `path` names now (a link itself, not followed), or undefined. */
function holdInode(path: string, dev: string | undefined): number | undefined {
  if (O_PATH === undefined || !mayHold(path, dev)) return undefined
  try {
    return openSync(path, O_PATH | constants.O_NOFOLLOW)
  } catch {
    // nothing there (or not reachable): the call that follows reports what matters
    return undefined
  }
}

/** Closes a held descriptor in the thread pool; waits only when too many are being closed. */
async function release(fd: number | undefined): Promise<void> {
  if (fd === undefined) return
  releasing++
  close(fd, () => {
    releasing--
    backlog.shift()?.()
    if (releasing === 0) {
      const waiting = drained
      drained = []
      for (const w of waiting) w()
    }
  })
  if (releasing >= RELEASES_IN_FLIGHT) await new Promise<void>((r) => backlog.push(r))
}

/** Resolves once every replaced file held so far is closed (its inode freed). */
function allReleased(): Promise<void> {
  if (releasing === 0) return Promise.resolve()
  return new Promise((r) => drained.push(r))
}

/**
 * Runs `replace` (a rename over `path`, or its removal; synchronous, inside the pinned directory
 * `at`) with the file at `path` held; returns the descriptor to {@link release} after. When `replace`
 * throws, the file is let go and the error thrown.
 */
function replacing(at: PinnedDir, path: string, replace: () => void): number | undefined {
  const held = holdInode(path, at.pin?.at(-1)?.split(':')[0])
  try {
    replace()
  } catch (e) {
    void release(held)
    throw e
  }
  return held
}

/** A file's bytes, or undefined when it does not exist; a symlink is not followed. */
function readIfThere(path: string): Buffer | undefined | 'symlink' {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP') return 'symlink'
    throw e
  }
  try {
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

function chownIfNeeded(fd: number, uid: number, gid: number, target: string): void {
  const st = fstatSync(fd)
  if (st.uid === uid && st.gid === gid) return
  ownerKept(() => fchownSync(fd, uid, gid), uid, gid, target)
}

/** Runs `chown`, its refusal as the METADATA error naming the target and the owner it could not give. */
function ownerKept(chown: () => void, uid: number, gid: number, target: string): void {
  try {
    chown()
  } catch (e) {
    throw new CutoverError(
      'METADATA',
      `cannot keep owner ${uid}:${gid} of ${target}: ${(e as Error).message} (run as root)`,
      { cause: e },
    )
  }
}

/** Every mount point of this process's mount namespace (`/proc/self/mountinfo`), or undefined when it cannot be read. */
function mountPoints(): Set<string> | undefined {
  let text: string
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return undefined
  }
  return parseMountinfo(text)
}

/** The mount points of a `/proc/PID/mountinfo` text. */
export function parseMountinfo(text: string): Set<string> {
  // field 5 is the mount point, with space, tab, newline and backslash escaped in octal
  return new Set(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) =>
        l
          .split(' ')[4]!
          .replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
      ),
  )
}

async function createPinned(
  at: PinnedDir,
  name: string,
  data: Buffer,
  meta: NewFileMeta,
): Promise<void> {
  // held open from here: a swap of the directory's path cannot redirect what follows
  const fd = inPinnedDir(at.dir, at.pin, at.target, (path) => createIn(path, name, meta))
  await fillNew(fd, data, meta, at.target)
}

/**
 * {@link readIfThere} of `read` and {@link createPinned} of `name` in one visit of the pinned
 * directory: its pin walked once, the directory opened once for both. A wrapper of this file
 * system that replaced `readPinned` or `createPinned` (`this`: the object it is called on) gets
 * those two calls instead, so that what it does for them still happens.
 */
async function readAndCreatePinned(
  this: TxFileSystem,
  at: PinnedDir,
  read: string,
  name: string,
  data: Buffer,
  meta: NewFileMeta,
): Promise<Buffer | undefined | 'symlink'> {
  if (this.readPinned !== localFileSystem.readPinned || this.createPinned !== createPinned) {
    const bytes = await this.readPinned(at, read)
    await this.createPinned(at, name, data, meta)
    return bytes
  }
  let bytes: Buffer | undefined | 'symlink'
  const fd = inPinnedDir(at.dir, at.pin, at.target, (path) => {
    bytes = readIfThere(path(read))
    return createIn(path, name, meta)
  })
  await fillNew(fd, data, meta, at.target)
  return bytes
}

/** Creates `name` (`at`: a path in the directory held open), exclusively, never through a link, 0600. */
function createIn(at: (name: string) => string, name: string, meta: NewFileMeta): number {
  meta.opening?.()
  return openSync(at(name), CREATE, 0o600)
}

/** Gives a file just created its content, owner, mode and attributes, fsyncs it, and closes it. */
async function fillNew(fd: number, data: Buffer, meta: NewFileMeta, target: string): Promise<void> {
  try {
    // before any byte is written: a user the directory's default ACL names must not read it
    if (meta.dropAcl && !meta.xattrs?.has('system.posix_acl_access'))
      await removeXattr(fdPath(fd), 'system.posix_acl_access')
    writeFileSync(fd, data)
    chownIfNeeded(fd, meta.uid, meta.gid, target)
    fchmodSync(fd, meta.mode)
    // through the descriptor: on the file created, wherever its directory's path leads now
    if (meta.xattrs) await writeXattrs(fdPath(fd), meta.xattrs)
    await fsyncFd(fd)
  } finally {
    closeSync(fd)
  }
}

/** A new link in a pinned directory, owned by `owner` (lchown: the link, not what it points to). */
async function symlinkPinned(
  at: PinnedDir,
  name: string,
  text: string,
  owner: TxOwner,
): Promise<void> {
  inPinnedDir(at.dir, at.pin, at.target, (path) => {
    symlinkSync(text, path(name))
    const st = lstatSync(path(name))
    if (st.uid !== owner.uid || st.gid !== owner.gid)
      ownerKept(() => lchownSync(path(name), owner.uid, owner.gid), owner.uid, owner.gid, at.target)
  })
}

/** A new directory in a pinned directory: made 0700, then given its owner and mode through a descriptor of it. */
async function mkdirPinned(
  at: PinnedDir,
  name: string,
  meta: TxOwner & { mode: number },
): Promise<void> {
  const fd = inPinnedDir(
    at.dir,
    at.pin,
    at.target,
    (path) => {
      mkdirSync(path(name), 0o700)
      return openSync(path(name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
    },
    true,
  )
  try {
    chownIfNeeded(fd, meta.uid, meta.gid, at.target)
    // after the owner, which may clear set-id bits
    fchmodSync(fd, meta.mode)
  } finally {
    closeSync(fd)
  }
}

/** Runs `fn`; an `ENOENT` from it is fine when `missingOk`. */
function unlessMissing(fn: () => void, missingOk: boolean | undefined): void {
  try {
    fn()
  } catch (e) {
    if (!missingOk || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
}

/**
 * The file system of the machine cutover runs on. Its pinned operations go through the
 * directory held open (`/proc/self/fd/N/name`, see fs/dir-pin.ts); extended attributes through
 * getfattr/setfattr (fs/xattr.ts).
 */
export const localFileSystem: TxFileSystem = {
  identity: async () => ({ uid: process.getuid?.(), gid: process.getgid?.() }),
  lstat: async (path) => statOf(path),
  realpath: async (path) => realpathSync(path),
  mountPoints: async () => mountPoints(),
  probeWritable: async (path, exists) => {
    if (exists)
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK))
    closeSync(openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY))
  },
  pinDir: async (dir) => pinDir(dir),
  pinChanged: async (dir, pin) => pinChanged(dir, pin),
  aclCandidates: async (dirs) => aclCandidates(dirs),
  userWritableDir: async (dir, owner, acls) => userWritableDir(dir, owner, acls),
  xattrsAvailable: () => xattrToolsAvailable(),
  readXattrs: (paths) => readXattrs(paths),
  readPinned: async (at, name) =>
    inPinnedDir(at.dir, at.pin, at.target, (path) => readIfThere(path(name))),
  createPinned,
  readAndCreatePinned,
  renamePinned: async (at, from, to) =>
    release(
      inPinnedDir(at.dir, at.pin, at.target, (path) =>
        replacing(at, path(to), () => renameSync(path(from), path(to))),
      ),
    ),
  unlinkPinned: async (at, name, options) =>
    release(
      inPinnedDir(at.dir, at.pin, at.target, (path) =>
        replacing(at, path(name), () =>
          unlessMissing(() => unlinkSync(path(name)), options?.missingOk),
        ),
      ),
    ),
  readlinkPinned: async (at, name) =>
    inPinnedDir(at.dir, at.pin, at.target, (path) => {
      try {
        return readlinkSync(path(name))
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw e
      }
    }),
  symlinkPinned,
  mkdirPinned,
  rmdirPinned: async (at, name, options) =>
    inPinnedDir(
      at.dir,
      at.pin,
      at.target,
      (path) => unlessMissing(() => rmdirSync(path(name)), options?.missingOk),
      true,
    ),
  fsyncDir: (dir) => fsyncPath(dir),
  fsyncDirs: async (dirs) => {
    try {
      await eachAtOnce(dirs, FSYNCS_IN_FLIGHT, fsyncPath)
    } finally {
      // the files the renames replaced, freed meanwhile in the thread pool
      await allReleased()
    }
  },
  readTogether(fn) {
    // `this`: the file system it is called on (a wrapper of this one keeps what it replaced)
    return fn(walkingTogether(this, new Map()))
  },
  pinsChanged: async (dirs) => {
    // one check of the phase's directories: the components they share are read once for all
    const batch: WalkBatch = new Map()
    return new Map(dirs.map((d) => [d.dir, pinChanged(d.dir, d.pin, batch)]))
  },
}

/**
 * `fs` (the local file system or a wrapper of it) with its directory walks ({@link pinDir},
 * {@link pinChanged}, {@link aclCandidates}, {@link userWritableDir}; those it did not replace)
 * sharing `batch`: the view {@link TxFileSystem.readTogether} gives. Only its calls read from the
 * batch: another transaction of the process (the local machines of a fleet prepare side by
 * side) and every later phase read the tree anew.
 */
function walkingTogether(fs: TxFileSystem, batch: WalkBatch): TxFileSystem {
  const own = localFileSystem
  return {
    ...fs,
    pinDir: fs.pinDir === own.pinDir ? async (dir) => pinDir(dir, batch) : fs.pinDir,
    pinChanged:
      fs.pinChanged === own.pinChanged
        ? async (dir, pin) => pinChanged(dir, pin, batch)
        : fs.pinChanged,
    aclCandidates:
      fs.aclCandidates === own.aclCandidates
        ? async (dirs) => aclCandidates(dirs, batch)
        : fs.aclCandidates,
    userWritableDir:
      fs.userWritableDir === own.userWritableDir
        ? async (dir, owner, acls) => userWritableDir(dir, owner, acls, batch)
        : fs.userWritableDir,
  }
}

/** How many fsyncs are handed to the thread pool at once (each holds a descriptor meanwhile). */
const FSYNCS_IN_FLIGHT = 64

/**
 * Runs `fn` on every item, at most `limit` at once; every item is tried, and the first error is
 * thrown once all have settled.
 */
async function eachAtOnce<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  let failed: { error: unknown } | undefined
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!
      try {
        await fn(item)
      } catch (error) {
        failed ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failed) throw failed.error
}

/** Stray temp files of a transaction (staged or restore copies) in a local directory, by name. */
export async function strayTemps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) =>
    /\.cutover-[0-9]{8}-[0-9]{9}-[0-9a-f]{8}(-[0-9a-f]{16})?(\.restore)?$/.test(n),
  )
}
