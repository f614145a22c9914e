import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  commitFiles,
  listTransactions,
  localStateFileSystem,
  readJournals,
  recover,
  rollbackLast,
  sha256,
  type StateFileSystem,
  type TxTarget,
} from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The backup pack: the local state directory's appends and range reads, and the transaction's
 * originals in it (one pack per transaction, each slice checked against the journal's hash
 * before it is restored), beside journals of the older layout (a file per backup).
 */

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function scratch(): string {
  const dir = tempDir('cutover-pack-')
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('the local backup pack', () => {
  it('appends concurrently at distinct offsets, 0600 whatever the umask, read back by range', async () => {
    const dir = scratch()
    const path = join(dir, 'pack')
    const old = process.umask(0)
    const pack = await localStateFileSystem.openPack!(path).finally(() => process.umask(old))
    const pieces = Array.from({ length: 200 }, (_, i) => Buffer.from(`piece ${i} `.repeat(i + 1)))
    const at = await Promise.all(pieces.map((p) => pack.append(p)))
    await pack.sync()
    await pack.close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
    // the slices tile the file, none overlapping another
    const sorted = [...at].sort((a, b) => a[0] - b[0])
    let end = 0
    for (const [o, l] of sorted) {
      expect(o).toBe(end)
      end = o + l
    }
    expect(statSync(path).size).toBe(end)
    const all = readFileSync(path)
    for (const [i, [o, l]] of at.entries()) {
      expect(l).toBe(pieces[i]!.length)
      expect(all.subarray(o, o + l).equals(pieces[i]!)).toBe(true)
      expect((await localStateFileSystem.readRange!(path, o, l)).equals(pieces[i]!)).toBe(true)
    }
  })

  it('never opens an existing file as a pack, and reads a short range from a torn one', async () => {
    const dir = scratch()
    const path = join(dir, 'pack')
    writeFileSync(path, 'abc')
    await expect(localStateFileSystem.openPack!(path)).rejects.toMatchObject({ code: 'EEXIST' })
    expect((await localStateFileSystem.readRange!(path, 1, 10)).toString()).toBe('bc')
    await expect(localStateFileSystem.readRange!(join(dir, 'none'), 0, 1)).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})

function tree(n = 3) {
  const dir = scratch()
  mkdirSync(join(dir, 'etc'))
  const files = Array.from({ length: n }, (_, i) => join(dir, 'etc', `f${i}.conf`))
  files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
  const targets: TxTarget[] = files.map((f, i) => ({
    target: `etc/f${i}.conf`,
    path: f,
    before: sha256(`old ${i}\n`),
    content: Buffer.from(`new ${i}\n`),
  }))
  const state = () => files.map((f) => readFileSync(f, 'utf8'))
  return { dir, targets, state, stateDir: join(dir, 'state') }
}

/** The local state file system as an older cutover used it: a file per backup, no pack. */
const withoutPacks: StateFileSystem = {
  ...localStateFileSystem,
  openPack: undefined,
  readRange: undefined,
}

describe('the originals of a transaction in one pack', () => {
  it('appends every original to the pack, fsynced once before prepared, each slice journaled', async () => {
    const t = tree(40)
    const points: string[] = []
    const { txid } = await commitFiles(t.targets, {
      stateDir: t.stateDir,
      fault: (p) => void points.push(p),
    })
    const backupDir = join(t.stateDir, 'tx', txid, 'backup')
    expect(readdirSync(backupDir)).toEqual(['pack'])
    const [j] = await readJournals(t.stateDir)
    const pack = readFileSync(join(backupDir, 'pack'))
    expect(j!.targets.map((x) => x.backup)).toEqual(Array(40).fill(join(backupDir, 'pack')))
    expect(
      j!.targets.map((x) => pack.subarray(x.backupAt![0], x.backupAt![0] + x.backupAt![1])),
    ).toEqual(Array.from({ length: 40 }, (_, i) => Buffer.from(`old ${i}\n`)))
    // every backup, then the pack made durable, then prepared
    const at = (p: string) => points.indexOf(p)
    expect(at('backed-up:40')).toBeGreaterThanOrEqual(0)
    expect(at('backups-synced')).toBeGreaterThan(at('backed-up:40'))
    expect(at('prepared')).toBeGreaterThan(at('backups-synced'))
    // the pack counted once
    expect((await listTransactions(t.stateDir)).map((x) => x.backupBytes)).toEqual([pack.length])
    // and rolled back from it
    await rollbackLast({ stateDir: t.stateDir })
    expect(t.state()).toEqual(Array.from({ length: 40 }, (_, i) => `old ${i}\n`))
  })

  it('refuses to restore from a torn pack: the slice must hash to the original', async () => {
    const t = tree(3)
    let pack = ''
    const err = await commitFiles(t.targets, {
      stateDir: t.stateDir,
      fault: (p) => {
        if (p !== 'renamed:2') return
        // a pack cut short, as a crash before its fsync could leave it on another file system
        pack = join(t.stateDir, 'tx', readdirSync(join(t.stateDir, 'tx'))[0]!, 'backup', 'pack')
        truncateSync(pack, 8)
        throw new Error('injected')
      },
    }).catch((e: Error) => e)
    // the slices are appended as the originals are read (in no fixed order): the first renamed
    // target, in target order, whose slice ends past the cut is the one named
    const [j] = await readJournals(t.stateDir)
    const torn = j!.targets.slice(0, 2).find((x) => x.backupAt![0] + x.backupAt![1] > 8)!
    const [start, length] = torn.backupAt!
    expect((err as Error).message).toMatch(
      new RegExp(
        `${torn.target.replace('.', '\\.')}: its backup \\S+pack \\(bytes ${start}–${start + length}\\) does not hold its original`,
      ),
    )
    // a slice is torn: every slice is checked first, so nothing is restored, a whole one neither
    expect(t.state()).toEqual(['new 0\n', 'new 1\n', 'old 2\n'])
    expect(j!.state).toBe('prepared')
    // once the pack is whole again, recovery restores every target
    const whole = Buffer.alloc(18)
    for (const [i, x] of j!.targets.entries()) whole.write(`old ${i}\n`, x.backupAt![0])
    writeFileSync(pack, whole)
    await recover({ stateDir: t.stateDir })
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
  })

  it('still recovers and rolls back transactions of the older layout, a backup file each', async () => {
    const t = tree(3)
    // an interrupted one (killed between its renames), written without packs
    await expect(
      commitFiles(t.targets, {
        stateDir: t.stateDir,
        stateFileSystem: withoutPacks,
        fault: (p) => {
          if (p === 'renamed:2') throw new Error('crash')
        },
      }),
    ).rejects.toThrow('crash')
    const [old] = await readJournals(t.stateDir)
    expect(old!.targets.every((x) => x.backupAt === undefined)).toBe(true)
    expect(readdirSync(join(t.stateDir, 'tx', old!.txid, 'backup')).sort()).toEqual(['0', '1', '2'])
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    // a committed one of that layout, rolled back by this cutover (packs and all)
    const { txid } = await commitFiles(t.targets, {
      stateDir: t.stateDir,
      stateFileSystem: withoutPacks,
    })
    expect(readdirSync(join(t.stateDir, 'tx', txid, 'backup')).sort()).toEqual(['0', '1', '2'])
    expect((await listTransactions(t.stateDir)).at(-1)!.backupBytes).toBe(18)
    const back = await rollbackLast({ stateDir: t.stateDir })
    expect(back.restored).toBe(txid)
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    // the rollback itself packed its originals
    expect(readdirSync(join(t.stateDir, 'tx', back.txid, 'backup'))).toEqual(['pack'])
  })

  it('a backup file of the older layout that does not hold the original is not restored', async () => {
    const t = tree(2)
    const { txid } = await commitFiles(t.targets, {
      stateDir: t.stateDir,
      stateFileSystem: withoutPacks,
    })
    writeFileSync(join(t.stateDir, 'tx', txid, 'backup', '1'), 'tampered\n')
    await expect(rollbackLast({ stateDir: t.stateDir })).rejects.toThrow(
      /etc\/f1\.conf: its backup \S+ does not hold its original/,
    )
    expect(t.state()).toEqual(['new 0\n', 'new 1\n'])
  })
})
