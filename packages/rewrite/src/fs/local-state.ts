import {
  closeSync,
  constants,
  fchmodSync,
  fsync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import type {
  PackRange,
  StateFileSystem,
  StatePack,
  StateStat,
} from '../transaction/state-file-system.js'
import { aclCandidates, userWritableDir } from './dir-pin.js'
import { fsyncPath, writeDurable } from './durable.js'
import { fileTypeOf } from './file-type.js'
import { readXattrs, writeXattrs, xattrToolsAvailable } from './xattr.js'

const fsyncFd = promisify(fsync)

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

function statOf(path: string): StateStat | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false })
  if (!st) return undefined
  return { type: fileTypeOf(st), mode: st.mode, uid: st.uid, size: st.size }
}

/** A new file for this user alone (O_EXCL, no link followed, 0600), written and fsynced. */
async function createExclusive(path: string, data: string | Buffer): Promise<void> {
  // open and write return at once (over thousands of backups): synchronous; the fsync waits for the disk
  const fd = openSync(path, CREATE, 0o600)
  try {
    fchmodSync(fd, 0o600)
    writeFileSync(fd, data)
    await fsyncFd(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * A new pack file (as {@link createExclusive} makes a file, empty): each append takes its offset
 * at once and writes there with positional writes into the page cache (they return at once:
 * synchronous), so concurrent appends never overlap; one fsync makes them all durable.
 */
async function openPack(path: string): Promise<StatePack> {
  const fd = openSync(path, CREATE, 0o600)
  let end = 0
  let closed = false
  try {
    fchmodSync(fd, 0o600)
  } catch (e) {
    closeSync(fd)
    throw e
  }
  return {
    append: async (bytes) => {
      if (closed) throw new Error(`backup pack ${path} is closed`)
      const at: PackRange = [end, bytes.length]
      end += bytes.length
      let done = 0
      while (done < bytes.length)
        done += writeSync(fd, bytes, done, bytes.length - done, at[0] + done)
      return at
    },
    sync: () => fsyncFd(fd),
    close: async () => {
      if (closed) return
      closed = true
      closeSync(fd)
    },
  }
}

/** `length` bytes of a file from `offset` (fewer when it is shorter). */
async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const fd = openSync(path, constants.O_RDONLY)
  try {
    const out = Buffer.alloc(length)
    let got = 0
    while (got < length) {
      const n = readSync(fd, out, got, length - got, offset + got)
      if (n === 0) break
      got += n
    }
    return out.subarray(0, got)
  } finally {
    closeSync(fd)
  }
}

/** The as-root check of a state directory: the path's directories and their access ACLs. */
async function stateDirUserWritable(dir: string): Promise<string | undefined> {
  const candidates = aclCandidates([dir])
  const acls = new Map<string, string>()
  if (candidates.length && (await xattrToolsAvailable())) {
    for (const [d, a] of await readXattrs(candidates))
      if (a.has('system.posix_acl_access')) acls.set(d, a.get('system.posix_acl_access')!)
  }
  return userWritableDir(dir, 0, acls)
}

/** The state directory on the machine cutover runs on: node's file system. */
export const localStateFileSystem: StateFileSystem = {
  identity: async () => ({ uid: process.getuid?.() }),
  mkdir: async (path) => {
    try {
      return (await mkdir(path, { recursive: true, mode: 0o700 })) !== undefined
    } catch (e) {
      // a dangling symlink: the caller's check sees it
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw e
    }
  },
  lstat: async (path) => statOf(path),
  realpath: async (path) => realpathSync(path),
  userWritableDir: stateDirUserWritable,
  readFile: (path) => readFile(path),
  readdir: (path) => readdir(path),
  createExclusive,
  writeDurable: (path, data) => writeDurable(path, data),
  unlink: (path) => rm(path, { force: true }),
  removeTree: (path) => rm(path, { recursive: true, force: true }),
  fsync: (path) => fsyncPath(path),
  openPack,
  readRange,
  xattrsAvailable: () => xattrToolsAvailable(),
  readXattrs: (paths) => readXattrs(paths),
  writeXattrs: (path, attrs) => writeXattrs(path, attrs),
}
