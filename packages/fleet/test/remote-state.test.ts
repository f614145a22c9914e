import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  commitFiles,
  listTransactions,
  localStateFileSystem,
  readJournals,
  recover,
  sha256,
  type StateFileSystem,
  type TxFileSystem,
} from '@cutover/rewrite'
import { localExec, remoteFileSystem, remoteStateFileSystem, type Exec } from '../src/index.js'
import { commitInChild, haveSftpServer, startSftp, type ServerSession } from './sftp-server.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The state directory of a machine over the real sftp-server and a local shell: compared with
 * rewrite's local state file system on the same temporary tree, then used by real transactions.
 */

describe.runIf(haveSftpServer)('remoteStateFileSystem over sftp-server and a shell', () => {
  let s: ServerSession
  let state: StateFileSystem
  let fileSystem: TxFileSystem
  let dir: string
  const local = localStateFileSystem

  beforeAll(async () => {
    s = await startSftp()
    state = remoteStateFileSystem({ sftp: s.client, exec: localExec })
    fileSystem = remoteFileSystem({ sftp: s.client, exec: localExec, label: 'here:' })
  })
  afterAll(async () => {
    await s.client.end()
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const tree = () => (dir = realpathSync(tempDir('cutover-rstate-')))
  const same = async <T>(call: (fs: StateFileSystem) => Promise<T>) => {
    const want = await call(local).catch((e: NodeJS.ErrnoException) => ({ error: e.code }))
    const got = await call(state).catch((e: NodeJS.ErrnoException) => ({ error: e.code }))
    expect(got).toEqual(want)
    return got
  }

  it('does what the local state file system does, on the same tree', async () => {
    const d = tree()
    await same((fs) => fs.identity())
    // mkdir: parents made, 0700 whatever the umask; false when something is there
    expect(await state.mkdir(join(d, 'a', 'b', 'c'))).toBe(true)
    for (const p of ['a', 'a/b', 'a/b/c']) expect(statSync(join(d, p)).mode & 0o777).toBe(0o700)
    expect(await state.mkdir(join(d, 'a', 'b'))).toBe(false)
    symlinkSync('nowhere', join(d, 'dangling'))
    expect(await state.mkdir(join(d, 'dangling'))).toBe(false)
    expect(await same((fs) => fs.mkdir(join(d, 'a')))).toBe(false)

    writeFileSync(join(d, 'f'), 'twelve bytes', { mode: 0o640 })
    for (const p of ['a', 'f', 'dangling', 'none']) await same((fs) => fs.lstat(join(d, p)))
    await same((fs) => fs.realpath(join(d, 'a', 'b', '..')))
    await same((fs) => fs.realpath(join(d, 'none')))
    expect(await same((fs) => fs.readFile(join(d, 'f')))).toEqual(Buffer.from('twelve bytes'))
    await same((fs) => fs.readFile(join(d, 'none')))
    expect(((await same((fs) => fs.readdir(d))) as string[]).sort()).toEqual(['a', 'dangling', 'f'])
    await same((fs) => fs.readdir(join(d, 'none')))

    // createExclusive: 0600, never over anything, a link included
    await state.createExclusive(join(d, 'new'), 'data')
    expect(statSync(join(d, 'new')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(d, 'new'), 'utf8')).toBe('data')
    expect(await same((fs) => fs.createExclusive(join(d, 'dangling'), 'x'))).toEqual({
      error: 'EEXIST',
    })
    expect(existsSync(join(d, 'nowhere'))).toBe(false)

    // writeDurable replaces a link at the path, never writing through it
    symlinkSync('f', join(d, 'journal.json'))
    await state.writeDurable(join(d, 'journal.json'), Buffer.from('{"state":"committed"}'))
    expect(lstatSync(join(d, 'journal.json')).isFile()).toBe(true)
    expect(readFileSync(join(d, 'journal.json'), 'utf8')).toBe('{"state":"committed"}')
    expect(statSync(join(d, 'journal.json')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('twelve bytes')
    expect(readdirSync(d).filter((n) => n.endsWith('.tmp'))).toEqual([])
    await state.fsync(join(d, 'journal.json'))
    await state.fsync(d)

    await state.unlink(join(d, 'new'))
    await state.unlink(join(d, 'new'))
    expect(existsSync(join(d, 'new'))).toBe(false)
    await state.removeTree(join(d, 'a'))
    await state.removeTree(join(d, 'a'))
    expect(existsSync(join(d, 'a'))).toBe(false)
    expect(readlinkSync(join(d, 'dangling'))).toBe('nowhere')

    // the as-root check of a state directory
    mkdirSync(join(d, 'open', 'state'), { recursive: true })
    expect(await same((fs) => fs.userWritableDir(join(d, 'open', 'state')))).toBeUndefined()
    chmodSync(join(d, 'open'), 0o777)
    expect(await same((fs) => fs.userWritableDir(join(d, 'open', 'state')))).toMatch(/every user/)
  })

  it('keeps backups in a pack: appends over SFTP, originals copied on the machine and hashed there as the pack holds them; read back by range', async () => {
    const d = tree()
    writeFileSync(join(d, 'a.conf'), 'alpha\n')
    writeFileSync(join(d, 'empty'), '')
    writeFileSync(join(d, 'b.conf'), Buffer.alloc(70_000, 7))
    symlinkSync('a.conf', join(d, 'link'))
    const packPath = join(d, 'pack')
    const pack = await state.openPack!(packPath)
    expect(statSync(packPath).mode & 0o777).toBe(0o600)
    expect(pack.copyFrom).toBeDefined()
    const first = await pack.append(Buffer.from('appended\n'))
    expect(first).toEqual([0, 9])
    const sources = ['a.conf', 'link', 'missing', 'empty', 'b.conf'].map((n) => join(d, n))
    const copied = await pack.copyFrom!(sources)
    expect(copied).toEqual([
      { at: [9, 6], hash: sha256('alpha\n') },
      undefined,
      undefined,
      { at: [15, 0], hash: sha256('') },
      { at: [15, 70_000], hash: sha256(Buffer.alloc(70_000, 7)) },
    ])
    // an append after a copy goes after the copied slices
    expect(await pack.append(Buffer.from('z'))).toEqual([70_015, 1])
    await pack.sync()
    await pack.close()
    expect(readFileSync(packPath).length).toBe(70_016)
    expect((await state.readRange!(packPath, 9, 6)).toString()).toBe('alpha\n')
    expect((await state.readRange!(packPath, 15, 70_000)).equals(Buffer.alloc(70_000, 7))).toBe(
      true,
    )
    // a torn pack gives fewer bytes, as the local one does
    expect(await state.readRange!(packPath, 70_010, 100)).toEqual(
      await local.readRange!(packPath, 70_010, 100),
    )
    await expect(state.openPack!(packPath)).rejects.toMatchObject({ code: 'EEXIST' })
  })

  it('writes a small state file in two round trips (the open, then its mode, bytes, fsync and close together) and fsyncs paths in two', async () => {
    const d = tree()
    const start = { ...s.client.counts }
    await state.createExclusive(join(d, 'journal.json'), '{"state":"staging"}')
    expect(s.client.counts.bursts - start.bursts).toBe(2)
    expect(statSync(join(d, 'journal.json')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(d, 'journal.json'), 'utf8')).toBe('{"state":"staging"}')
    // an error of any of them is the error: nothing over an existing name
    await expect(state.createExclusive(join(d, 'journal.json'), 'x')).rejects.toMatchObject({
      code: 'EEXIST',
    })
    mkdirSync(join(d, 'a'))
    const at = { ...s.client.counts }
    await state.fsync(join(d, 'a'))
    expect(s.client.counts.bursts - at.bursts).toBe(2)
    // a large one still waits for its writes before its fsync
    const big = Buffer.alloc(s.client.writeChunk * 3 + 5, 1)
    await state.createExclusive(join(d, 'big'), big)
    expect(readFileSync(join(d, 'big')).equals(big)).toBe(true)
  })

  /** An exec whose machine counts each start of the pack's tools (a log line each). */
  const countingExec = (d: string) => {
    const bin = join(d, 'bin')
    const log = join(d, 'tools.log')
    mkdirSync(bin)
    for (const tool of ['cat', 'stat', 'tail', 'head', 'sha256sum']) {
      const real = execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' })
      writeFileSync(
        join(bin, tool),
        `#!/bin/sh\necho ${tool} >> '${log}'\nexec ${real.trim()} "$@"\n`,
        {
          mode: 0o755,
        },
      )
    }
    const exec: Exec = (script, o) => localExec(`PATH='${bin}':$PATH; export PATH\n${script}`, o)
    const starts = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').length - 1 : 0)
    return { exec, starts }
  }

  /**
   * `files` copied into a new pack at `packPath` by a state file system that knows `known`; each
   * slice checked to hold its file's bytes as they are now.
   */
  const copyKnown = async (known: Map<string, Buffer>, files: string[], packPath: string) => {
    const state = remoteStateFileSystem({ sftp: s.client, exec: localExec }).expecting(known)
    const pack = await state.openPack!(packPath)
    let copied
    try {
      copied = await pack.copyFrom!(files)
    } finally {
      await pack.close()
    }
    for (const [i, c] of copied.entries())
      expect(
        readFileSync(packPath)
          .subarray(c!.at[0], c!.at[0] + c!.at[1])
          .toString(),
      ).toBe(readFileSync(files[i]!, 'utf8'))
    return copied
  }

  it('copies originals whose bytes the controller knows in a fixed number of processes, whatever their number', async () => {
    const d = tree()
    const files = Array.from({ length: 40 }, (_, i) => join(d, `f${i}.conf`))
    files.forEach((f, i) => writeFileSync(f, `file ${i}\n`.repeat(i)))
    const { exec, starts } = countingExec(d)
    const known = new Map(files.map((f) => [f, readFileSync(f)]))
    const state = remoteStateFileSystem({ sftp: s.client, exec }).expecting(known)
    const packPath = join(d, 'pack')
    const pack = await state.openPack!(packPath)
    try {
      await pack.append(Buffer.from('appended\n'))
      const before = starts()
      const copied = await pack.copyFrom!(files)
      // a start or two of each tool, not five a file (200 here): each slice as the pack holds it
      expect(starts() - before).toBeLessThanOrEqual(6)
      let at = 9
      expect(copied).toEqual(
        files.map((f) => {
          const bytes = readFileSync(f)
          const slice = { at: [at, bytes.length], hash: sha256(bytes) }
          at += bytes.length
          return slice
        }),
      )
      await pack.sync()
    } finally {
      await pack.close()
    }
    const packed = readFileSync(packPath)
    expect(packed.subarray(9).equals(Buffer.concat(files.map((f) => readFileSync(f))))).toBe(true)
  })

  it('copies file by file, as without them, a set of known originals of which one changed or is a link', async () => {
    const d = tree()
    const files = ['a.conf', 'b.conf', 'c.conf'].map((n) => join(d, n))
    files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
    const known = new Map(files.map((f) => [f, readFileSync(f)]))
    // changed since the controller read it
    writeFileSync(files[1]!, 'edited\n')
    const copied = await copyKnown(known, files, join(d, 'pack'))
    // each slice read back as the pack holds it: the caller finds b.conf changed
    expect(copied.map((c) => c?.hash)).toEqual([
      sha256('old 0\n'),
      sha256('edited\n'),
      sha256('old 2\n'),
    ])
    // a link among them (planned as the file it now leads to) is no source
    rmSync(files[1]!)
    symlinkSync('a.conf', files[1]!)
    const again = await remoteStateFileSystem({ sftp: s.client, exec: localExec }).expecting(
      new Map(files.map((f, i) => [f, Buffer.from(`old ${i === 1 ? 0 : i}\n`)])),
    ).openPack!(join(d, 'pack2'))
    try {
      expect(await again.copyFrom!(files)).toEqual([
        { at: [0, 6], hash: sha256('old 0\n') },
        undefined,
        { at: [6, 6], hash: sha256('old 2\n') },
      ])
    } finally {
      await again.close()
    }
  })

  it('copies known originals named with a space, a newline or a backslash in a fixed number of processes too', async () => {
    const d = tree()
    const files = ['a b.conf', 'c\nd.conf', 'e\\f.conf'].map((n) => join(d, n))
    files.forEach((f, i) => writeFileSync(f, `file ${i}\n`))
    const { exec, starts } = countingExec(d)
    const known = new Map(files.map((f) => [f, readFileSync(f)]))
    const pack = await remoteStateFileSystem({ sftp: s.client, exec }).expecting(known).openPack!(
      join(d, 'pack'),
    )
    try {
      const before = starts()
      const copied = await pack.copyFrom!(files)
      expect(starts() - before).toBeLessThanOrEqual(6)
      expect(copied).toEqual(files.map((_, i) => ({ at: [i * 7, 7], hash: sha256(`file ${i}\n`) })))
    } finally {
      await pack.close()
    }
  })

  it('copies file by file a set of known originals whose bytes moved across a boundary (the joined bytes the same)', async () => {
    const d = tree()
    const files = ['a.conf', 'b.conf', 'c.conf'].map((n) => join(d, n))
    const known = new Map([
      [files[0]!, Buffer.from('x = 1\n')],
      [files[1]!, Buffer.from('')],
      [files[2]!, Buffer.from('z\n')],
    ])
    // a's line moved to b since the controller read them: a, b and c joined are as they were
    writeFileSync(files[0]!, '')
    writeFileSync(files[1]!, 'x = 1\n')
    writeFileSync(files[2]!, 'z\n')
    const copied = await copyKnown(known, files, join(d, 'pack'))
    // each slice as the pack holds it, as the file is: the caller finds a and b changed
    expect(copied.map((c) => c?.hash)).toEqual([sha256(''), sha256('x = 1\n'), sha256('z\n')])
  })

  it('fails a copy into the pack that the pack cannot take, rather than calling the source missing', async () => {
    const d = tree()
    writeFileSync(join(d, 'small.conf'), 'alpha\n')
    writeFileSync(join(d, 'big.conf'), Buffer.alloc(70_000, 7))
    // the pack's file system takes no more than 32 KiB (as a full disk would, to cat)
    const state = remoteStateFileSystem({
      sftp: s.client,
      exec: (script, o) => localExec(`ulimit -f 64\n${script}`, o),
    })
    const sources = [join(d, 'small.conf'), join(d, 'big.conf')]
    // and so does the one cat of originals whose bytes the controller knows
    const knowing = state.expecting(new Map(sources.map((f) => [f, readFileSync(f)])))
    for (const [i, fs] of [state, knowing].entries()) {
      const pack = await fs.openPack!(join(d, `pack${i}`))
      try {
        // a regular file whose copy failed is no missing source: the caller would report the
        // target as changed while applying (with the very hash it planned)
        await expect(pack.copyFrom!(sources)).rejects.toThrow(/backup pack/)
      } finally {
        await pack.close()
      }
    }
  })

  it('carries a commit whose journals, backups and lock are on the machine, and its recovery', async () => {
    const d = tree()
    mkdirSync(join(d, 'etc'))
    const names = ['a.conf', 'b.conf']
    names.forEach((n, i) => writeFileSync(join(d, 'etc', n), `old ${i}\n`))
    const targets = names.map((n, i) => ({
      target: `etc/${n}`,
      path: join(d, 'etc', n),
      before: sha256(`old ${i}\n`),
      content: Buffer.from(`new ${i}\n`),
    }))
    const stateDir = join(d, 'var', 'lib', 'cutover')
    const result = await commitFiles(targets, { stateDir, fileSystem, stateFileSystem: state })
    expect(names.map((n) => readFileSync(join(d, 'etc', n), 'utf8'))).toEqual([
      'new 0\n',
      'new 1\n',
    ])
    // what it wrote there, the local reading of the same directory finds
    expect(statSync(stateDir).mode & 0o777).toBe(0o700)
    const journals = await readJournals(stateDir, localStateFileSystem)
    expect(journals.map((j) => [j.txid, j.state])).toEqual([[result.txid, 'committed']])
    expect(await listTransactions(stateDir, state)).toEqual(
      await listTransactions(stateDir, localStateFileSystem),
    )
    const backups = readdirSync(join(stateDir, 'tx', result.txid, 'backup'))
    expect(backups.length).toBeGreaterThan(0)

    // killed after the first rename, in another process, everything on the machine's side
    const child = commitInChild({
      targets: targets.map((t, i) => ({
        ...t,
        before: sha256(`new ${i}\n`),
        content: `newer ${i}\n`,
      })),
      stateDir,
      remoteState: true,
      fault: 'renamed:1',
    })
    expect(child.signal).toBe('SIGKILL')
    expect(names.map((n) => readFileSync(join(d, 'etc', n), 'utf8'))).toEqual([
      'newer 0\n',
      'new 1\n',
    ])
    const report = await recover({ stateDir, fileSystem, stateFileSystem: state })
    expect(report.transactions).toEqual([
      expect.objectContaining({ was: 'prepared', now: 'rolled-back' }),
    ])
    expect(names.map((n) => readFileSync(join(d, 'etc', n), 'utf8'))).toEqual([
      'new 0\n',
      'new 1\n',
    ])
    expect(readdirSync(join(d, 'etc')).filter((n) => n.includes('.cutover-'))).toEqual([])
  })
})
