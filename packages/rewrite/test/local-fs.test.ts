import { spawnSync } from 'node:child_process'
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  read,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statfsSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir as kitTempDir } from '@cutover/test-kit/temp'
import {
  localFileSystem,
  type NewFileMeta,
  type PinnedDir,
  type TxFileSystem,
} from '../src/index.js'
import { holdsReplacedOn } from '../src/fs/local.js'
import { pinDir } from '../src/fs/dir-pin.js'

/** A new directory (the test kit's, removed when the file ends), by its real path. */
function tempDir(): string {
  return realpathSync(kitTempDir('cutover-local-fs-'))
}

/** How many descriptors of this process name `path` (as /proc shows them). */
function held(path: string): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++
    } catch {
      // the descriptor readdir itself used, closed since
    }
  }
  return n
}

/** How many descriptors of this process hold `path` after its last name went. */
const heldGone = (path: string) => held(`${path} (deleted)`)

/**
 * Keeps every thread of libuv's pool busy (more blocking reads of empty FIFOs than it has
 * threads): what is handed to the pool meanwhile waits. `release` lets them all finish.
 */
function busyThreadPool(dir: string): { release: () => Promise<void> } {
  const threads = Math.max(64, Number(process.env.UV_THREADPOOL_SIZE ?? 4) + 1)
  const fds: number[] = []
  const reads: Promise<void>[] = []
  const paths = Array.from({ length: threads }, (_, i) => join(dir, `fifo-${i}`))
  expect(spawnSync('mkfifo', paths).status).toBe(0)
  for (const path of paths) {
    // read and write: opening does not wait for a writer, a read waits for a byte
    const fd = openSync(path, constants.O_RDWR)
    fds.push(fd)
    reads.push(new Promise((done) => read(fd, Buffer.alloc(1), 0, 1, null, () => done())))
  }
  return {
    release: async () => {
      for (const fd of fds) writeSync(fd, 'x')
      await Promise.all(reads)
      for (const fd of fds) closeSync(fd)
    },
  }
}

describe('the local file system replaces a file without waiting for its inode to be freed', () => {
  it.runIf(process.platform === 'linux')(
    'a rename over a file holds the file replaced and lets it go in the thread pool, by the directory fsync',
    async () => {
      const dir = tempDir()
      const target = join(dir, 'app.conf')
      writeFileSync(target, 'old\n')
      writeFileSync(join(dir, 'app.conf.new'), 'new\n')
      const at: PinnedDir = { dir, pin: pinDir(dir), target: 'app.conf' }
      const pool = busyThreadPool(dir)
      try {
        await localFileSystem.renamePinned(at, 'app.conf.new', 'app.conf')
        expect(readFileSync(target, 'utf8')).toBe('new\n')
        // the old file has no name any more, and is not freed in the rename: it waits for the pool
        expect(heldGone(target)).toBe(1)
      } finally {
        await pool.release()
      }
      await localFileSystem.fsyncDirs!([dir])
      expect(heldGone(target)).toBe(0)
    },
  )

  it.runIf(process.platform === 'linux')(
    'a removal holds the file removed the same way; a missing one holds nothing',
    async () => {
      const dir = tempDir()
      const target = join(dir, 'old.conf')
      writeFileSync(target, 'old\n')
      const at: PinnedDir = { dir, pin: pinDir(dir), target: 'old.conf' }
      const pool = busyThreadPool(dir)
      try {
        await localFileSystem.unlinkPinned(at, 'old.conf')
        await localFileSystem.unlinkPinned(at, 'never.conf', { missingOk: true })
        expect(readdirSync(dir).filter((n) => !n.startsWith('fifo-'))).toEqual([])
        expect(heldGone(target)).toBe(1)
      } finally {
        await pool.release()
      }
      await localFileSystem.fsyncDirs!([dir])
      expect(heldGone(target)).toBe(0)
    },
  )

  it.runIf(process.platform === 'linux')(
    'a failed rename lets the file it held go, still under its name',
    async () => {
      const dir = tempDir()
      const target = join(dir, 'app.conf')
      writeFileSync(target, 'old\n')
      const at: PinnedDir = { dir, pin: pinDir(dir), target: 'app.conf' }
      const pool = busyThreadPool(dir)
      try {
        await expect(localFileSystem.renamePinned(at, 'missing.new', 'app.conf')).rejects.toThrow(
          /ENOENT/,
        )
        expect(held(target)).toBe(1)
      } finally {
        await pool.release()
      }
      await localFileSystem.fsyncDirs!([dir])
      expect(readFileSync(target, 'utf8')).toBe('old\n')
      expect(held(target)).toBe(0)
    },
  )
})

describe('a file system whose client silly-renames a file held open', () => {
  it('NFS and AFS hold nothing (a rename over a held file would be two operations on the server); a local disk does', () => {
    // their clients rename a held file to .nfsXXXX (or .__afsXXXX) first: the target's name
    // would be missing for other clients between the two
    expect(holdsReplacedOn(0x6969)).toBe(false)
    expect(holdsReplacedOn(0x6b414653)).toBe(false)
    expect(holdsReplacedOn(0x5346414f)).toBe(false)
    // the file system the tests above hold files on
    expect(holdsReplacedOn(statfsSync(tempDir()).type)).toBe(true)
  })
})

describe('the local file system reads a file and creates one beside it in one visit', () => {
  const meta = {
    uid: process.getuid!(),
    gid: process.getgid!(),
    mode: 0o640,
    xattrs: undefined,
    dropAcl: false,
  }

  it('gives what the file held before the new one is made beside it, with its mode, fsynced', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'f.conf'), 'old\n')
    const at: PinnedDir = { dir, pin: pinDir(dir), target: 'f.conf' }
    const got = await localFileSystem.readAndCreatePinned!(
      at,
      'f.conf',
      '.f.new',
      Buffer.from('new\n'),
      meta,
    )
    expect(got).toEqual(Buffer.from('old\n'))
    expect(readFileSync(join(dir, '.f.new'), 'utf8')).toBe('new\n')
    expect(statSync(join(dir, '.f.new')).mode & 0o777).toBe(0o640)
    // absent, and a link (never followed), as readPinned says them
    const absent = await localFileSystem.readAndCreatePinned!(
      at,
      'gone',
      '.g.new',
      Buffer.from('x'),
      meta,
    )
    expect(absent).toBeUndefined()
    symlinkSync(join(dir, 'f.conf'), join(dir, 'l.conf'))
    const link = await localFileSystem.readAndCreatePinned!(
      at,
      'l.conf',
      '.l.new',
      Buffer.from('x'),
      meta,
    )
    expect(link).toBe('symlink')
  })

  it('reads and creates nothing when the directory is not the pinned one any more', async () => {
    const dir = tempDir()
    const sub = join(dir, 'etc')
    mkdirSync(sub)
    writeFileSync(join(sub, 'f.conf'), 'old\n')
    const at: PinnedDir = { dir: sub, pin: pinDir(sub), target: 'etc/f.conf' }
    renameSync(sub, join(dir, 'moved'))
    mkdirSync(sub)
    writeFileSync(join(sub, 'f.conf'), 'other\n')
    let opened = false
    await expect(
      localFileSystem.readAndCreatePinned!(at, 'f.conf', '.f.new', Buffer.from('new\n'), {
        ...meta,
        opening: () => void (opened = true),
      }),
    ).rejects.toMatchObject({ code: 'TARGET_MOVED' })
    expect(opened).toBe(false)
    expect(readdirSync(sub)).toEqual(['f.conf'])
    expect(readdirSync(join(dir, 'moved'))).toEqual(['f.conf'])
  })

  it.each(['readPinned', 'createPinned'] as const)(
    'a wrapper that replaced %s gets the single calls (its own among them)',
    async (replaced) => {
      const dir = tempDir()
      writeFileSync(join(dir, 'f.conf'), 'old\n')
      const at: PinnedDir = { dir, pin: pinDir(dir), target: 'f.conf' }
      const calls: string[] = []
      const wrapper: TxFileSystem = {
        ...localFileSystem,
        ...(replaced === 'readPinned'
          ? {
              readPinned: async (a: PinnedDir, name: string) => {
                calls.push(`read ${name}`)
                return localFileSystem.readPinned(a, name)
              },
            }
          : {
              createPinned: async (a: PinnedDir, name: string, data: Buffer, m: NewFileMeta) => {
                calls.push(`create ${name}`)
                return localFileSystem.createPinned(a, name, data, m)
              },
            }),
      }
      expect(
        await wrapper.readAndCreatePinned!(at, 'f.conf', '.f.new', Buffer.from('new\n'), meta),
      ).toEqual(Buffer.from('old\n'))
      expect(calls).toEqual([replaced === 'readPinned' ? 'read f.conf' : 'create .f.new'])
      expect(readFileSync(join(dir, '.f.new'), 'utf8')).toBe('new\n')
    },
  )
})
