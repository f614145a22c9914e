import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CutoverError,
  appliedOnce,
  commitFiles,
  listTransactions,
  localFileSystem,
  localStateFileSystem,
  prepareFiles,
  pruneTransactions,
  readJournals,
  readTransaction,
  recover,
  sha256,
  withLock,
  type FaultHook,
  type FleetMark,
  type StagedCheck,
  type StateFileSystem,
  type TxFileSystem,
  type TxTarget,
} from '../src/index.js'
import { runBuilt } from './run-built.js'
import { strayTemps } from '../src/fs/local.js'
import { writeJournal } from '../src/transaction/journal.js'
import { injectedError } from '../src/transaction/fault.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The transaction in two phases, as a coordinator of many machines runs it on each: prepare
 * (staged, validated, backed up, journaled `prepared` with the fleet's mark), then commit or
 * abort; and what recovery does with a prepared part of a fleet transaction that nobody finished:
 * the controller's decision rolls it forward or back, and without one it is refused.
 */

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function tree(n = 3) {
  const dir = realpathSync(tempDir('cutover-2pc-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'etc'))
  const files = Array.from({ length: n }, (_, i) => join(dir, 'etc', `f${i}.conf`))
  files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
  const targets: TxTarget[] = files.map((f, i) => ({
    target: `etc/f${i}.conf`,
    path: f,
    before: sha256(`old ${i}\n`),
    content: Buffer.from(`new ${i}\n`),
  }))
  const state = () => files.map((f) => readFileSync(f, 'utf8').slice(0, 3))
  const temps = () => strayTemps(join(dir, 'etc'))
  return { dir, files, targets, state, temps, stateDir: join(dir, 'state') }
}

const mark: FleetMark = { txid: '20261204-153000000-0badcafe', controller: 'ctl:/srv/ctl/fleet/x' }

const throwAt =
  (point: string): FaultHook =>
  (p) => {
    if (p === point) throw injectedError(p, 'EIO')
  }

describe('prepareFiles', () => {
  it('prepares without touching a target; abort leaves every target before and no temp file', async () => {
    const t = tree()
    const tx = await prepareFiles(t.targets, { stateDir: t.stateDir })
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toHaveLength(3)
    expect((await readTransaction(t.stateDir, tx.txid)).state).toBe('prepared')
    await tx.abort()
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toEqual([])
    expect((await readTransaction(t.stateDir, tx.txid)).state).toBe('rolled-back')
    await expect(tx.commit()).rejects.toThrow(/already committed or aborted/)
    expect(t.state()).toEqual(['old', 'old', 'old'])
  })

  it('commits what it prepared, as commitFiles does', async () => {
    const t = tree()
    const tx = await prepareFiles(t.targets, { stateDir: t.stateDir, fleet: mark })
    const j = await readTransaction(t.stateDir, tx.txid)
    expect(j).toMatchObject({ state: 'prepared', fleet: mark })
    const result = await tx.commit()
    expect(result).toMatchObject({ txid: tx.txid, written: t.targets.map((x) => x.target) })
    expect(t.state()).toEqual(['new', 'new', 'new'])
    expect(await t.temps()).toEqual([])
    expect(await readTransaction(t.stateDir, tx.txid)).toMatchObject({
      state: 'committed',
      fleet: mark,
    })
  })

  it('a failure while preparing undoes it before it returns', async () => {
    const t = tree()
    await expect(
      prepareFiles(t.targets, { stateDir: t.stateDir, fleet: mark, fault: throwAt('prepared') }),
    ).rejects.toMatchObject({ code: 'EIO' })
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toEqual([])
    expect((await readJournals(t.stateDir)).map((j) => j.state)).toEqual(['rolled-back'])
  })

  it("refuses participants with a fleet mark: a fleet's database is its controller's", async () => {
    const t = tree()
    const participant = {
      name: 'db',
      prepare: async () => undefined,
      commit: async () => undefined,
      rollback: async () => undefined,
    }
    await expect(
      prepareFiles(t.targets, { stateDir: t.stateDir, fleet: mark, participants: [participant] }),
    ).rejects.toThrow(/controller/)
    expect(existsSync(t.stateDir)).toBe(false)
  })
})

describe('recover of a prepared part of a fleet transaction', () => {
  /** A fleet part prepared and left so (its controller gone before deciding). */
  async function prepared(n = 3) {
    const t = tree(n)
    const tx = await prepareFiles(t.targets, { stateDir: t.stateDir, fleet: mark })
    expect(await t.temps()).toHaveLength(n)
    return { ...t, txid: tx.txid }
  }

  it("the controller's commit rolls it forward: every target after, no temp file", async () => {
    const t = await prepared()
    const asked: FleetMark[] = []
    const report = await recover({
      stateDir: t.stateDir,
      decide: async (m) => (asked.push(m), 'commit'),
    })
    expect(asked).toEqual([mark])
    expect(report.transactions).toEqual([
      { txid: t.txid, was: 'prepared', now: 'committed', targets: t.targets.map((x) => x.target) },
    ])
    expect(t.state()).toEqual(['new', 'new', 'new'])
    expect(await t.temps()).toEqual([])
    expect((await readTransaction(t.stateDir, t.txid)).state).toBe('committed')
  })

  it("the controller's abort restores it: every target before, no temp file", async () => {
    const t = await prepared()
    const report = await recover({ stateDir: t.stateDir, decide: async () => 'abort' })
    expect(report.transactions.map((x) => x.now)).toEqual(['rolled-back'])
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toEqual([])
  })

  it('without a decision it is refused, naming the controller; the files stay as they are and the others are recovered', async () => {
    const t = await prepared()
    // an interrupted transaction of this machine alone, in the same state directory
    const other = join(t.dir, 'etc', 'own.conf')
    writeFileSync(other, 'own old\n')
    const own = await prepareFiles(
      [
        {
          target: 'etc/own.conf',
          path: other,
          before: sha256('own old\n'),
          content: Buffer.from('own new\n'),
        },
      ],
      { stateDir: t.stateDir },
    )
    for (const decide of [undefined, async () => undefined]) {
      const err = await recover({ stateDir: t.stateDir, ...(decide ? { decide } : {}) }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(CutoverError)
      expect(err).toMatchObject({ code: 'RECOVER_FLEET' })
      const message = (err as Error).message
      expect(message).toContain(mark.txid)
      expect(message).toContain(mark.controller)
      expect(message).toContain(t.txid)
      expect(t.state()).toEqual(['old', 'old', 'old'])
      expect((await t.temps()).filter((n) => n.startsWith('.f'))).toHaveLength(3)
      expect((await readTransaction(t.stateDir, t.txid)).state).toBe('prepared')
    }
    expect(readFileSync(other, 'utf8')).toBe('own old\n')
    expect((await readTransaction(t.stateDir, own.txid)).state).toBe('rolled-back')
    // the controller decides later: the same journal rolls forward then
    await recover({ stateDir: t.stateDir, decide: async () => 'commit' })
    expect(t.state()).toEqual(['new', 'new', 'new'])
    expect(await t.temps()).toEqual([])
  })

  it('a staging part is aborted here: its controller cannot have committed it', async () => {
    const t = await prepared()
    const j = await readTransaction(t.stateDir, t.txid)
    await writeJournal(t.stateDir, { ...j, state: 'staging' })
    const report = await recover({
      stateDir: t.stateDir,
      decide: () => {
        throw new Error('a staging part is never asked about')
      },
    })
    expect(report.transactions.map((x) => [x.was, x.now])).toEqual([['staging', 'aborted']])
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toEqual([])
  })

  it('rolls forward after some renames were done; a failed commit after the decision is not undone', async () => {
    const t = tree(4)
    const tx = await prepareFiles(t.targets, {
      stateDir: t.stateDir,
      fleet: mark,
      fault: throwAt('renamed:2'),
    })
    await expect(tx.commit()).rejects.toMatchObject({ code: 'EIO' })
    // the controller decided commit: the two renamed targets stay renamed, the journal prepared
    expect(t.state()).toEqual(['new', 'new', 'old', 'old'])
    expect((await readTransaction(t.stateDir, tx.txid)).state).toBe('prepared')
    expect(await t.temps()).toHaveLength(2)
    await recover({ stateDir: t.stateDir, decide: async () => 'commit' })
    expect(t.state()).toEqual(['new', 'new', 'new', 'new'])
    expect(await t.temps()).toEqual([])
    expect((await readTransaction(t.stateDir, tx.txid)).state).toBe('committed')
  })

  it('a target holding neither its new content nor a staged copy of it is named, and nothing is removed', async () => {
    const t = await prepared()
    const staged = (await readTransaction(t.stateDir, t.txid)).targets[1]!.temp
    unlinkSync(staged)
    const err = await recover({ stateDir: t.stateDir, decide: async () => 'commit' }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'RECOVER_FLEET' })
    expect((err as Error).message).toMatch(/etc\/f1\.conf holds sha256:\S+, not its new content/)
    expect((err as Error).message).toContain('staged copy is gone')
    expect((await readTransaction(t.stateDir, t.txid)).state).toBe('prepared')
    // the others are rolled forward; their directory keeps what a later run needs
    expect(t.state()).toEqual(['new', 'old', 'new'])
    // put its new content back by hand: the next run finishes
    writeFileSync(t.files[1]!, 'new 1\n')
    await recover({ stateDir: t.stateDir, decide: async () => 'commit' })
    expect((await readTransaction(t.stateDir, t.txid)).state).toBe('committed')
    expect(await t.temps()).toEqual([])
  })

  it('journals without a fleet mark are recovered as before, decide or not', async () => {
    const t = tree()
    await prepareFiles(t.targets, { stateDir: t.stateDir })
    const report = await recover({
      stateDir: t.stateDir,
      decide: () => {
        throw new Error('asked about a transaction of this machine alone')
      },
    })
    expect(report.transactions.map((x) => x.now)).toEqual(['rolled-back'])
    expect(t.state()).toEqual(['old', 'old', 'old'])
  })
})

describe('a fleet part after a real crash (SIGKILL)', () => {
  const runner = runBuilt
  const prepareAndCommit = (t: ReturnType<typeof tree>) => {
    const targets = JSON.stringify(t.targets.map((x) => ({ ...x, content: x.content.toString() })))
    return `const p = await tx.prepareFiles(${targets}.map((x) => ({ ...x, content: Buffer.from(x.content) })), { stateDir: ${JSON.stringify(t.stateDir)}, fleet: ${JSON.stringify(mark)} })\nawait p.commit()`
  }

  it('killed once prepared: refused without a decision, files untouched; aborted by the controller', async () => {
    const t = tree()
    expect(runner(t.dir, prepareAndCommit(t), { CUTOVER_FAULT_INJECT: 'prepared' })).toBe('SIGKILL')
    expect(t.state()).toEqual(['old', 'old', 'old'])
    await expect(recover({ stateDir: t.stateDir })).rejects.toMatchObject({
      code: 'RECOVER_FLEET',
    })
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toHaveLength(3)
    await recover({ stateDir: t.stateDir, decide: async () => 'abort' })
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toEqual([])
  })

  it('killed between renames, then killed again rolling forward: the next recovery finishes it', async () => {
    const t = tree(4)
    expect(runner(t.dir, prepareAndCommit(t), { CUTOVER_FAULT_INJECT: 'renamed:1' })).toBe(
      'SIGKILL',
    )
    expect(t.state()).toEqual(['new', 'old', 'old', 'old'])
    // on the machine by itself: even with a target renamed, its controller decides
    await expect(recover({ stateDir: t.stateDir })).rejects.toMatchObject({
      code: 'RECOVER_FLEET',
    })
    expect(t.state()).toEqual(['new', 'old', 'old', 'old'])
    const rollForward = `await tx.recover({ stateDir: ${JSON.stringify(t.stateDir)}, decide: async () => 'commit' })`
    expect(runner(t.dir, rollForward, { CUTOVER_FAULT_INJECT: 'recover:1' })).toBe('SIGKILL')
    expect(t.state()).toEqual(['new', 'new', 'old', 'old'])
    const report = await recover({ stateDir: t.stateDir, decide: async () => 'commit' })
    expect(report.transactions).toMatchObject([{ was: 'prepared', now: 'committed' }])
    expect(t.state()).toEqual(['new', 'new', 'new', 'new'])
    expect(await t.temps()).toEqual([])
    expect((await recover({ stateDir: t.stateDir })).transactions).toEqual([])
  })
})

describe('the state directory through its file system', () => {
  /**
   * The local state file system seen under a prefix that does not exist here (as another
   * machine's paths would not), `virtual`, mapped to a real directory `real` under `dir`,
   * recording every call.
   */
  function elsewhere(dir: string) {
    const real = join(dir, 'state-real')
    const virtual = `/cutover-state-elsewhere-${randomBytes(6).toString('hex')}`
    const calls: Array<{ op: string; path: string }> = []
    const inside = (p: string, base: string) => p === base || p.startsWith(base + '/')
    const there = (p: string) => {
      if (!inside(p, virtual)) throw new Error(`a state directory call outside it: ${p}`)
      return real + p.slice(virtual.length)
    }
    const back = (p: string) => (inside(p, real) ? virtual + p.slice(real.length) : p)
    const local = localStateFileSystem
    const on =
      <A extends unknown[], R>(op: string, f: (path: string, ...rest: A) => Promise<R>) =>
      (path: string, ...rest: A) => {
        calls.push({ op, path })
        return f(there(path), ...rest)
      }
    const fs: StateFileSystem = {
      identity: () => local.identity(),
      mkdir: on('mkdir', local.mkdir),
      lstat: on('lstat', local.lstat),
      realpath: on('realpath', async (p) => back(await local.realpath(p))),
      userWritableDir: on('userWritableDir', local.userWritableDir),
      readFile: on('readFile', local.readFile),
      readdir: on('readdir', local.readdir),
      createExclusive: on('createExclusive', local.createExclusive),
      writeDurable: on('writeDurable', local.writeDurable),
      unlink: on('unlink', local.unlink),
      removeTree: on('removeTree', local.removeTree),
      fsync: on('fsync', local.fsync),
      openPack: on('openPack', local.openPack!),
      readRange: on('readRange', local.readRange!),
      xattrsAvailable: () => local.xattrsAvailable(),
      readXattrs: async (paths) => {
        for (const p of paths) calls.push({ op: 'readXattrs', path: p })
        const got = await local.readXattrs(paths.map(there))
        return new Map([...got].map(([k, v]) => [back(k), v]))
      },
      writeXattrs: on('writeXattrs', local.writeXattrs),
    }
    return { real, virtual, fs, calls }
  }

  it('journals, backups and the lock go through the state file system it is given', async () => {
    const t = tree()
    const move = { id: 'swap-1', wrote: ['new'], was: ['old'] }
    const { real, virtual, fs, calls } = elsewhere(t.dir)
    expect(existsSync(virtual)).toBe(false)
    const txid = await withLock(
      virtual,
      'test',
      async () => {
        const tx = await prepareFiles(
          t.targets.map((x, i) => (i === 0 ? { ...x, once: [move] } : x)),
          { stateDir: virtual, stateFileSystem: fs, fleet: mark, meta: { once: true } },
        )
        // the lock is there while it is held
        expect(readdirSync(real)).toContain('lock')
        await tx.commit()
        return tx.txid
      },
      fs,
    )
    expect(existsSync(virtual)).toBe(false)
    expect(t.state()).toEqual(['new', 'new', 'new'])
    // the lock was taken and released there; the journal and the backups are there
    expect(readdirSync(real).sort()).toEqual(['tx'])
    const journal = JSON.parse(readFileSync(join(real, 'tx', txid, 'journal.json'), 'utf8'))
    expect(journal).toMatchObject({ state: 'committed', fleet: mark })
    // the originals in one pack, each at its journaled slice
    const pack = join(virtual, 'tx', txid, 'backup', 'pack')
    expect(journal.targets.map((x: { backup: string }) => x.backup)).toEqual(Array(3).fill(pack))
    expect(readdirSync(join(real, 'tx', txid, 'backup')).sort()).toEqual(['pack'])
    const packed = readFileSync(join(real, 'tx', txid, 'backup', 'pack'))
    expect(
      journal.targets.map(({ backupAt: [o, l] }: { backupAt: [number, number] }) =>
        packed.subarray(o, o + l).toString(),
      ),
    ).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    const ops = (op: string) => calls.filter((c) => c.op === op).map((c) => c.path)
    expect(ops('createExclusive')).toEqual([join(virtual, 'lock')])
    expect(ops('openPack')).toEqual([pack])
    // staging, prepared, committed
    expect(ops('writeDurable')).toEqual(Array(3).fill(join(virtual, 'tx', txid, 'journal.json')))
    expect(ops('unlink')).toEqual([join(virtual, 'lock')])

    // reading the state: journals, the list, the one-time moves, pruning
    expect((await readJournals(virtual, fs)).map((j) => j.txid)).toEqual([txid])
    expect((await listTransactions(virtual, fs)).map((x) => [x.txid, x.backupBytes])).toEqual([
      [txid, 18],
    ])
    const once = await appliedOnce(virtual, fs)
    expect([...once.keys()]).toEqual(['etc/f0.conf'])
    expect(once.get('etc/f0.conf')!.moves.get('swap-1')).toMatchObject({ txid })
    // a later transaction records the same move: the first one's journal can go
    const later = await commitFiles(
      [
        {
          ...t.targets[0]!,
          before: sha256('new 0\n'),
          content: Buffer.from('newer 0\n'),
          once: [move],
        },
      ],
      { stateDir: virtual, stateFileSystem: fs, meta: { once: true } },
    )
    expect(await pruneTransactions(virtual, 0, fs)).toEqual([txid])
    expect(readdirSync(join(real, 'tx'))).toEqual([later.txid])
    expect(ops('removeTree')).toEqual([join(virtual, 'tx', txid)])
  })

  it("a transaction's new directory in tx/ is fsynced before its journal is written", async () => {
    const t = tree()
    const { virtual, fs, calls } = elsewhere(t.dir)
    const tx = await prepareFiles(t.targets, {
      stateDir: virtual,
      stateFileSystem: fs,
      fleet: mark,
    })
    await tx.abort()
    const at = (op: string, path: string) => calls.findIndex((c) => c.op === op && c.path === path)
    const made = at('mkdir', join(virtual, 'tx', tx.txid, 'backup'))
    const synced = at('fsync', join(virtual, 'tx'))
    expect(made).toBeGreaterThanOrEqual(0)
    // a power loss after the journal says prepared must not lose the directory holding it
    expect(synced).toBeGreaterThan(made)
    expect(synced).toBeLessThan(at('writeDurable', join(virtual, 'tx', tx.txid, 'journal.json')))
  })

  it('recovery reads the journal and restores the backups through it', async () => {
    const t = tree()
    const { virtual, fs, calls } = elsewhere(t.dir)
    const tx = await prepareFiles(t.targets, {
      stateDir: virtual,
      stateFileSystem: fs,
      fleet: mark,
      fault: throwAt('renamed:3'),
    })
    await expect(tx.commit()).rejects.toMatchObject({ code: 'EIO' })
    expect(t.state()).toEqual(['new', 'new', 'new'])
    calls.length = 0
    await recover({ stateDir: virtual, stateFileSystem: fs, decide: async () => 'abort' })
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await t.temps()).toEqual([])
    const read = calls.filter((c) => c.op === 'readRange').map((c) => c.path)
    expect(read).toEqual(Array(3).fill(join(virtual, 'tx', tx.txid, 'backup', 'pack')))
    expect((await readTransaction(virtual, tx.txid, fs)).state).toBe('rolled-back')
  })

  it('commitFiles without a state file system keeps the local state directory', async () => {
    const t = tree()
    const result = await commitFiles(t.targets, { stateDir: t.stateDir })
    expect(readdirSync(join(t.stateDir, 'tx'))).toEqual([result.txid])
  })
})

describe("the names of a fleet part's staged files are durable before it is prepared", () => {
  /**
   * Targets of every kind that stages a file, in four directories (an edited file in two, a new
   * link, a new file in a directory the transaction makes) and a removal (nothing staged), with
   * file systems recording in one list, in order: each staged file once it is written
   * (`staged PATH`), each directory fsync as it starts and once it is done (`sync N DIRS`,
   * `synced N`), and the journal write that says `prepared` as it starts.
   */
  function recorded() {
    const t = tree(2)
    for (const d of ['sub', 'links', 'old']) mkdirSync(join(t.dir, 'etc', d))
    writeFileSync(join(t.dir, 'etc', 'sub', 'g.conf'), 'old g\n')
    writeFileSync(join(t.dir, 'etc', 'old', 'r.conf'), 'old r\n')
    const targets: TxTarget[] = [
      ...t.targets,
      {
        target: 'etc/sub/g.conf',
        path: join(t.dir, 'etc', 'sub', 'g.conf'),
        before: sha256('old g\n'),
        content: Buffer.from('new g\n'),
      },
      {
        target: 'etc/links/l',
        path: join(t.dir, 'etc', 'links', 'l'),
        before: 'absent',
        content: Buffer.alloc(0),
        symlink: '../f0.conf',
      },
      {
        target: 'etc/new/h.conf',
        path: join(t.dir, 'etc', 'new', 'h.conf'),
        before: 'absent',
        content: Buffer.from('new h\n'),
        dirs: [{ path: join(t.dir, 'etc', 'new'), mode: 0o755 }],
      },
      {
        target: 'etc/old/r.conf',
        path: join(t.dir, 'etc', 'old', 'r.conf'),
        before: sha256('old r\n'),
        content: Buffer.alloc(0),
        remove: true,
      },
    ]
    const events: string[] = []
    let syncs = 0
    const syncing = async (dirs: readonly string[], run: () => Promise<void>) => {
      const n = ++syncs
      events.push(`sync ${n} ${[...dirs].sort().join(' ')}`)
      await run()
      events.push(`synced ${n}`)
    }
    const local = localFileSystem
    const fs: TxFileSystem = {
      ...local,
      createPinned: async (at, name, data, meta) => {
        await local.createPinned(at, name, data, meta)
        events.push(`staged ${join(at.dir, name)}`)
      },
      readAndCreatePinned: async (at, read, name, data, meta) => {
        const got = await local.readAndCreatePinned!(at, read, name, data, meta)
        events.push(`staged ${join(at.dir, name)}`)
        return got
      },
      symlinkPinned: async (at, name, text, owner) => {
        await local.symlinkPinned(at, name, text, owner)
        events.push(`staged ${join(at.dir, name)}`)
      },
      fsyncDir: (dir) => syncing([dir], () => local.fsyncDir(dir)),
      fsyncDirs: (dirs) => syncing(dirs, () => local.fsyncDirs!(dirs)),
    }
    const stateFs: StateFileSystem = {
      ...localStateFileSystem,
      writeDurable: (path, data) => {
        if ((JSON.parse(String(data)) as { state?: string }).state === 'prepared')
          events.push('prepared')
        return localStateFileSystem.writeDurable(path, data)
      },
    }
    const staged = targets.filter((x) => !x.remove).map((x) => dirname(x.path))
    const done = () => {
      expect(t.state()).toEqual(['new', 'new'])
      expect(readFileSync(join(t.dir, 'etc', 'sub', 'g.conf'), 'utf8')).toBe('new g\n')
      expect(readFileSync(join(t.dir, 'etc', 'new', 'h.conf'), 'utf8')).toBe('new h\n')
      expect(readlinkSync(join(t.dir, 'etc', 'links', 'l'))).toBe('../f0.conf')
      expect(existsSync(join(t.dir, 'etc', 'old', 'r.conf'))).toBe(false)
    }
    return { ...t, targets, events, fs, stateFs, staged, done }
  }

  it('a fleet part fsyncs the directory of every staged file after it is written, before the journal says prepared', async () => {
    const t = recorded()
    const tx = await prepareFiles(t.targets, {
      stateDir: t.stateDir,
      fileSystem: t.fs,
      stateFileSystem: t.stateFs,
      fleet: mark,
    })
    const prepared = t.events.indexOf('prepared')
    expect(prepared).toBeGreaterThan(0)
    const stagedAt = t.events.flatMap((e, k) => (e.startsWith('staged ') ? [k] : []))
    // every file staged, each recorded once (a roll forward renames exactly these)
    const journal = await readTransaction(t.stateDir, tx.txid)
    expect(stagedAt.map((k) => t.events[k]!.slice('staged '.length)).sort()).toEqual(
      journal.targets
        .filter((x) => x.after !== 'absent')
        .map((x) => x.temp)
        .sort(),
    )
    expect(stagedAt).toHaveLength(t.staged.length)
    for (const k of stagedAt) {
      const dir = dirname(t.events[k]!.slice('staged '.length))
      // an fsync of its directory started after it was written and done before `prepared`
      const covering = t.events.slice(k + 1, prepared).some((e) => {
        const [word, n, ...dirs] = e.split(' ')
        return (
          word === 'sync' &&
          dirs.includes(dir) &&
          t.events.indexOf(`synced ${n}`) > k &&
          t.events.indexOf(`synced ${n}`) < prepared
        )
      })
      expect(covering, `the directory of ${t.events[k]} fsynced before prepared`).toBe(true)
    }
    // one batch for them all, each directory once
    const batches = t.events
      .slice(stagedAt.at(-1)! + 1, prepared)
      .filter((e) => e.startsWith('sync '))
    expect(batches).toEqual([`sync 2 ${[...new Set(t.staged)].sort().join(' ')}`])
    await tx.commit()
    t.done()
  })

  it('a transaction without a fleet mark adds no fsync between its staging and `prepared` (it never rolls forward)', async () => {
    const t = recorded()
    const tx = await prepareFiles(t.targets, {
      stateDir: t.stateDir,
      fileSystem: t.fs,
      stateFileSystem: t.stateFs,
    })
    const prepared = t.events.indexOf('prepared')
    const first = t.events.findIndex((e) => e.startsWith('staged '))
    expect(first).toBeGreaterThan(0)
    expect(prepared).toBeGreaterThan(first)
    expect(t.events.filter((e) => e.startsWith('staged '))).toHaveLength(t.staged.length)
    // the directory the transaction made, its parent fsynced before anything is staged
    expect(t.events.slice(0, first)).toEqual([`sync 1 ${join(t.dir, 'etc')}`, 'synced 1'])
    expect(t.events.slice(first, prepared).filter((e) => !e.startsWith('staged '))).toEqual([])
    await tx.commit()
    t.done()
  })

  describe("a fleet part's fsync of its staged directories, when it or a validator fails", () => {
    /** A gate: `open()` lets every `wait()` through. */
    function gate() {
      let open!: () => void
      const opened = new Promise<void>((resolve) => (open = resolve))
      return { open, wait: () => opened }
    }
    /**
     * `gate`'s wait, given up after 20 s (a guard, not a measure: a transaction that never syncs
     * never opens it, and the test then fails on what it asserts rather than on its time limit).
     */
    const waitOrGiveUp = async (g: ReturnType<typeof gate>) => {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        g.wait(),
        new Promise((resolve) => (timer = setTimeout(resolve, 20_000))),
      ])
      clearTimeout(timer)
    }
    /** A few turns of the event loop: what an abort started meanwhile has time to act. */
    const turns = () => new Promise((resolve) => setTimeout(resolve, 50))

    /** {@link recorded}'s tree, its first target checked by `check`; the removals of temps recorded too. */
    function failing(check: StagedCheck) {
      const t = recorded()
      t.targets[0] = { ...t.targets[0]!, validators: [check] }
      const fs: TxFileSystem = {
        ...t.fs,
        unlinkPinned: async (at, name, options) => {
          if (name.includes('.cutover-')) t.events.push(`unlink ${join(at.dir, name)}`)
          return localFileSystem.unlinkPinned(at, name, options)
        },
      }
      /** Nothing written, nothing left: every target as before, no temp, the journal aborted. */
      const untouched = async () => {
        expect(t.state()).toEqual(['old', 'old'])
        expect(readFileSync(join(t.dir, 'etc', 'sub', 'g.conf'), 'utf8')).toBe('old g\n')
        expect(readFileSync(join(t.dir, 'etc', 'old', 'r.conf'), 'utf8')).toBe('old r\n')
        expect(existsSync(join(t.dir, 'etc', 'links', 'l'))).toBe(false)
        expect(existsSync(join(t.dir, 'etc', 'new'))).toBe(false)
        for (const d of ['', 'sub', 'links', 'old'])
          expect(await strayTemps(join(t.dir, 'etc', d))).toEqual([])
        expect((await readJournals(t.stateDir)).map((j) => j.state)).toEqual(['aborted'])
      }
      return { ...t, fs, untouched }
    }

    it("the sync fails while a validator checks a staged file: the check ends before any temp is removed, and the sync's error is thrown", async () => {
      const checking = gate()
      const failed = gate()
      let read: string | undefined
      const t = failing({
        name: 'slow-check',
        inProcess: true,
        run: async (stagedPath) => {
          checking.open()
          await waitOrGiveUp(failed)
          await turns()
          read = readFileSync(stagedPath, 'utf8')
          t.events.push('checked')
          return undefined
        },
      })
      const fs: TxFileSystem = {
        ...t.fs,
        fsyncDirs: async () => {
          await checking.wait()
          t.events.push('sync failed')
          failed.open()
          throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', syscall: 'fsync' })
        },
      }
      await expect(
        prepareFiles(t.targets, {
          stateDir: t.stateDir,
          fileSystem: fs,
          stateFileSystem: t.stateFs,
          fleet: mark,
        }),
      ).rejects.toMatchObject({ code: 'EIO', message: 'EIO: i/o error, fsync' })
      // the validator read the staged file whole: it was still there
      expect(read).toBe('new 0\n')
      const removed = t.events.findIndex((e) => e.startsWith('unlink '))
      expect(removed).toBeGreaterThan(t.events.indexOf('checked'))
      expect(t.events.indexOf('checked')).toBeGreaterThan(t.events.indexOf('sync failed'))
      expect(t.events).not.toContain('prepared')
      await t.untouched()
    })

    it('a validator fails while the sync runs: its problem is thrown, and the temps are removed once the sync is done', async () => {
      const refused = gate()
      const t = failing({
        name: 'refusing-check',
        inProcess: true,
        run: async () => {
          refused.open()
          return 'line 1: not valid'
        },
      })
      const fs: TxFileSystem = {
        ...t.fs,
        fsyncDirs: async (dirs) => {
          t.events.push('sync')
          await refused.wait()
          await turns()
          await localFileSystem.fsyncDirs!(dirs)
          t.events.push('synced')
        },
      }
      await expect(
        prepareFiles(t.targets, {
          stateDir: t.stateDir,
          fileSystem: fs,
          stateFileSystem: t.stateFs,
          fleet: mark,
        }),
      ).rejects.toThrow(/line 1: not valid/)
      const synced = t.events.indexOf('synced')
      expect(synced).toBeGreaterThan(t.events.indexOf('sync'))
      expect(t.events.findIndex((e) => e.startsWith('unlink '))).toBeGreaterThan(synced)
      expect(t.events).not.toContain('prepared')
      await t.untouched()
    })
  })
})
