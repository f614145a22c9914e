import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  commitFiles,
  localFileSystem,
  recover,
  rollbackLast,
  sha256,
  type PinnedDir,
  type TxFileSystem,
  type TxTarget,
} from '../src/index.js'
import { strayTemps } from '../src/fs/local.js'
import { readTransaction } from '../src/transaction/transaction.js'
import { writeJournal } from '../src/transaction/journal.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The transaction reaches its targets only through its file system: these tests give it one
 * whose paths (under a prefix that does not exist on this machine, as paths on another machine
 * would not) are mapped to a temporary directory by a wrapper around the local one, which
 * records every call. A call the transaction made on a target behind the interface would meet
 * a path that does not exist here, and fail or change nothing.
 */

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

interface Call {
  op: string
  paths: string[]
}

/** The local file system seen under `virtual`, mapped to the real directory `real`; `refuse` may throw instead of forwarding a call. */
function elsewhere(
  virtual: string,
  real: string,
  refuse: (call: Call) => void = () => undefined,
): { fs: TxFileSystem; calls: Call[] } {
  const calls: Call[] = []
  const inside = (p: string, base: string) => p === base || p.startsWith(base + '/')
  const there = (p: string) => {
    // the transaction must never learn a path of the real directory
    if (inside(p, real)) throw new Error(`the transaction named a real path: ${p}`)
    return inside(p, virtual) ? real + p.slice(virtual.length) : p
  }
  const back = (p: string) => (inside(p, real) ? virtual + p.slice(real.length) : p)
  const record = (op: string, ...paths: string[]) => {
    const call = { op, paths }
    calls.push(call)
    refuse(call)
  }
  const pinned = (at: PinnedDir): PinnedDir => ({ ...at, dir: there(at.dir) })
  const local = localFileSystem
  const fs: TxFileSystem = {
    identity: () => (record('identity'), local.identity()),
    lstat: (p) => (record('lstat', p), local.lstat(there(p))),
    realpath: async (p) => (record('realpath', p), back(await local.realpath(there(p)))),
    mountPoints: async () => {
      record('mountPoints')
      const m = await local.mountPoints()
      return m && new Set([...m].map(back))
    },
    probeWritable: (p, exists) => (
      record('probeWritable', p),
      local.probeWritable(there(p), exists)
    ),
    pinDir: (d) => (record('pinDir', d), local.pinDir(there(d))),
    pinChanged: (d, pin) => (record('pinChanged', d), local.pinChanged(there(d), pin)),
    aclCandidates: async (dirs) => {
      const list = [...dirs]
      record('aclCandidates', ...list)
      return (await local.aclCandidates(list.map(there))).map(back)
    },
    userWritableDir: (d, owner, acls) => (
      record('userWritableDir', d),
      local.userWritableDir(there(d), owner, new Map([...acls].map(([k, v]) => [there(k), v])))
    ),
    xattrsAvailable: () => (record('xattrsAvailable'), local.xattrsAvailable()),
    readXattrs: async (paths) => {
      record('readXattrs', ...paths)
      const got = await local.readXattrs(paths.map(there))
      return new Map([...got].map(([k, v]) => [back(k), v]))
    },
    readPinned: (at, name) => (
      record('readPinned', join(at.dir, name)),
      local.readPinned(pinned(at), name)
    ),
    createPinned: (at, name, data, meta) => (
      record('createPinned', join(at.dir, name)),
      local.createPinned(pinned(at), name, data, meta)
    ),
    renamePinned: (at, from, to) => (
      record('renamePinned', join(at.dir, from), join(at.dir, to)),
      local.renamePinned(pinned(at), from, to)
    ),
    unlinkPinned: (at, name, options) => (
      record('unlinkPinned', join(at.dir, name)),
      local.unlinkPinned(pinned(at), name, options)
    ),
    readlinkPinned: (at, name) => (
      record('readlinkPinned', join(at.dir, name)),
      local.readlinkPinned(pinned(at), name)
    ),
    symlinkPinned: (at, name, text, owner) => (
      record('symlinkPinned', join(at.dir, name)),
      local.symlinkPinned(pinned(at), name, text, owner)
    ),
    mkdirPinned: (at, name, meta) => (
      record('mkdirPinned', join(at.dir, name)),
      local.mkdirPinned(pinned(at), name, meta)
    ),
    rmdirPinned: (at, name, options) => (
      record('rmdirPinned', join(at.dir, name)),
      local.rmdirPinned(pinned(at), name, options)
    ),
    fsyncDir: (d) => (record('fsyncDir', d), local.fsyncDir(there(d))),
  }
  return { fs, calls }
}

/** Three files in a real directory, the targets naming them under a prefix that does not exist here. */
function remoteTree() {
  const real = realpathSync(tempDir('cutover-txfs-'))
  cleanups.push(() => rmSync(real, { recursive: true, force: true }))
  const virtual = `/cutover-elsewhere-${randomBytes(6).toString('hex')}`
  expect(existsSync(virtual)).toBe(false)
  mkdirSync(join(real, 'etc'))
  const names = ['f0.conf', 'f1.conf', 'f2.conf']
  names.forEach((n, i) => writeFileSync(join(real, 'etc', n), `old ${i}\n`))
  const targets: TxTarget[] = names.map((n, i) => ({
    target: `etc/${n}`,
    path: join(virtual, 'etc', n),
    before: sha256(`old ${i}\n`),
    content: Buffer.from(`new ${i}\n`),
  }))
  const state = () => names.map((n) => readFileSync(join(real, 'etc', n), 'utf8'))
  return { real, virtual, targets, state, stateDir: join(real, 'state') }
}

const ops = (calls: Call[], op: string) => calls.filter((c) => c.op === op).map((c) => c.paths)

describe('the transaction through its file system', () => {
  it('commits with every target call made through the file system it is given', async () => {
    const t = remoteTree()
    // the local default cannot find targets that exist only on the other file system
    await expect(commitFiles(t.targets, { stateDir: t.stateDir })).rejects.toThrow()
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])

    const { fs, calls } = elsewhere(t.virtual, t.real)
    const result = await commitFiles(t.targets, { stateDir: t.stateDir, fileSystem: fs })
    expect(t.state()).toEqual(['new 0\n', 'new 1\n', 'new 2\n'])
    expect(result.written).toEqual(['etc/f0.conf', 'etc/f1.conf', 'etc/f2.conf'])
    const paths = t.targets.map((x) => x.path)
    // each original read once (checked and backed up), each new content created beside it and renamed over it
    expect(ops(calls, 'readPinned').flat().sort()).toEqual(paths)
    const created = ops(calls, 'createPinned').flat()
    expect(created).toHaveLength(3)
    expect(ops(calls, 'renamePinned')).toEqual(
      paths.map((p) => [expect.stringMatching(/\.cutover-/), p]),
    )
    expect(
      ops(calls, 'renamePinned')
        .map(([from]) => from)
        .sort(),
    ).toEqual([...created].sort())
    expect(ops(calls, 'fsyncDir')).toEqual([[join(t.virtual, 'etc')]])
    expect(await strayTemps(join(t.real, 'etc'))).toEqual([])
    // the journal names the targets where the file system has them
    const j = await readTransaction(t.stateDir, result.txid)
    expect(j.targets.map((x) => x.path)).toEqual(paths)
  })

  it('aborts cleanly, through the same file system, when it refuses an operation', async () => {
    const t = remoteTree()
    const refusal = (op: string, nth: number) => {
      let n = 0
      return (call: Call) => {
        if (call.op === op && ++n === nth)
          throw Object.assign(new Error(`${op} refused`), { code: 'EACCES' })
      }
    }
    // refused while staging: nothing was renamed, the temp files go
    const staging = elsewhere(t.virtual, t.real, refusal('createPinned', 2))
    await expect(
      commitFiles(t.targets, { stateDir: t.stateDir, fileSystem: staging.fs }),
    ).rejects.toMatchObject({ code: 'EACCES' })
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    expect(ops(staging.calls, 'renamePinned')).toEqual([])
    expect(await strayTemps(join(t.real, 'etc'))).toEqual([])

    // refused at the second rename: the first target is put back, through the file system
    const installing = elsewhere(t.virtual, t.real, refusal('renamePinned', 2))
    await expect(
      commitFiles(t.targets, { stateDir: t.stateDir, fileSystem: installing.fs }),
    ).rejects.toThrow(/etc\/f1\.conf cannot be replaced: permission denied/)
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    const renames = ops(installing.calls, 'renamePinned')
    // two tries of the install, then the restore of the first target from its backup
    expect(renames.map(([, to]) => to)).toEqual([
      t.targets[0]!.path,
      t.targets[1]!.path,
      t.targets[0]!.path,
    ])
    expect(renames[2]![0]).toMatch(/\.restore$/)
    expect(await strayTemps(join(t.real, 'etc'))).toEqual([])
  })

  it('recovers an interrupted transaction through the file system it is given', async () => {
    const t = remoteTree()
    const { fs } = elsewhere(t.virtual, t.real)
    const done = await commitFiles(t.targets, { stateDir: t.stateDir, fileSystem: fs })
    // as after a crash between the first and the second rename: prepared, one target renamed
    const j = await readTransaction(t.stateDir, done.txid)
    await writeJournal(t.stateDir, { ...j, state: 'prepared' })
    writeFileSync(join(t.real, 'etc', 'f1.conf'), 'old 1\n')
    writeFileSync(join(t.real, 'etc', 'f2.conf'), 'old 2\n')

    // the local default cannot reach the targets: it leaves them, and the transaction, unfinished
    await expect(recover({ stateDir: t.stateDir })).rejects.toThrow(/not recovered/)
    expect(t.state()).toEqual(['new 0\n', 'old 1\n', 'old 2\n'])

    const again = elsewhere(t.virtual, t.real)
    const report = await recover({ stateDir: t.stateDir, fileSystem: again.fs })
    expect(report.transactions).toEqual([
      expect.objectContaining({ txid: done.txid, was: 'prepared', now: 'rolled-back' }),
    ])
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    expect(ops(again.calls, 'readPinned').flat().sort()).toEqual(t.targets.map((x) => x.path))
    expect(ops(again.calls, 'renamePinned')).toEqual([
      [expect.stringMatching(/\.restore$/), t.targets[0]!.path],
    ])
    expect(await strayTemps(join(t.real, 'etc'))).toEqual([])
  })

  it('rolls back through the file system it is given', async () => {
    const t = remoteTree()
    const { fs } = elsewhere(t.virtual, t.real)
    const done = await commitFiles(t.targets, { stateDir: t.stateDir, fileSystem: fs })
    // the local default sees no file where the transaction wrote: changed since, refused
    await expect(rollbackLast({ stateDir: t.stateDir })).rejects.toMatchObject({
      code: 'ROLLBACK_STALE',
    })
    expect(t.state()).toEqual(['new 0\n', 'new 1\n', 'new 2\n'])
    const again = elsewhere(t.virtual, t.real)
    const result = await rollbackLast({ stateDir: t.stateDir, fileSystem: again.fs })
    expect(result.restored).toBe(done.txid)
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    expect(ops(again.calls, 'renamePinned').map(([, to]) => to)).toEqual(
      t.targets.map((x) => x.path),
    )
    expect(await strayTemps(join(t.real, 'etc'))).toEqual([])
  })
})
