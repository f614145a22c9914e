import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { commitFiles, localFileSystem, sha256, type TxFileSystem } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The batch forms of the transaction's file system: one call per phase with every directory of
 * the phase (what a remote file system answers with one command), and the local answers to them.
 */

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function scratch(): string {
  const dir = tempDir('cutover-batch-')
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('the batch calls of the local file system', () => {
  it('tells, for each directory, whether it is still the pinned one', async () => {
    const dir = scratch()
    for (const d of ['a', 'b']) mkdirSync(join(dir, d))
    const pinA = await localFileSystem.pinDir(join(dir, 'a'))
    const pinB = await localFileSystem.pinDir(join(dir, 'b'))
    // b replaced by another directory of the same name
    renameSync(join(dir, 'b'), join(dir, 'b-old'))
    mkdirSync(join(dir, 'b'))
    const why = await localFileSystem.pinsChanged!([
      { dir: join(dir, 'a'), pin: pinA, target: 'a/x' },
      { dir: join(dir, 'b'), pin: pinB, target: 'b/x' },
    ])
    expect([...why.keys()]).toEqual([join(dir, 'a'), join(dir, 'b')])
    expect(why.get(join(dir, 'a'))).toBeUndefined()
    expect(why.get(join(dir, 'b'))).toMatch(/was replaced since it was checked/)
  })

  it.each([
    ['swapped for a symlink', /a is now a symlink$/],
    ['replaced by another directory', /a was replaced since it was checked$/],
  ])(
    'answers for a directory below a shared one as its own walk would, the shared one %s',
    async (how, why) => {
      const dir = scratch()
      const dirs = ['a', 'a/b', 'a/b/c', 'a/d', 'e'].map((d) => join(dir, d))
      for (const d of dirs) mkdirSync(d)
      const pins = await Promise.all(dirs.map((d) => localFileSystem.pinDir(d)))
      renameSync(join(dir, 'a'), join(dir, 'a-old'))
      if (how === 'swapped for a symlink') symlinkSync(join(dir, 'a-old'), join(dir, 'a'))
      else {
        // a new a, holding the very directories b and d that were pinned
        mkdirSync(join(dir, 'a'))
        for (const d of ['b', 'd']) renameSync(join(dir, 'a-old', d), join(dir, 'a', d))
      }
      // the deepest first, then its parents: each walk of the batch reuses the ones before
      const order = [2, 1, 0, 3, 4]
      const got = await localFileSystem.pinsChanged!(
        order.map((k) => ({ dir: dirs[k]!, pin: pins[k], target: `${dirs[k]}/x` })),
      )
      const alone = await Promise.all(dirs.map((d, k) => localFileSystem.pinChanged(d, pins[k])))
      expect(dirs.map((d) => got.get(d))).toEqual(alone)
      for (const k of [0, 1, 2, 3]) expect(alone[k]).toMatch(why)
      expect(alone[4]).toBeUndefined()
    },
  )

  it('reads the walks of a preparation together, and still walks anew before a pinned operation', async () => {
    const dir = scratch()
    mkdirSync(join(dir, 'a'))
    writeFileSync(join(dir, 'a', 'f'), 'x')
    await localFileSystem.readTogether!(async (fs) => {
      const pin = await fs.pinDir(join(dir, 'a'))
      // a replaced after its walk: the preparation's reads are those made together
      renameSync(join(dir, 'a'), join(dir, 'a-old'))
      mkdirSync(join(dir, 'a'))
      expect(await fs.pinChanged(join(dir, 'a'), pin)).toBeUndefined()
      expect(await fs.userWritableDir(join(dir, 'a'), 0, new Map())).toBeUndefined()
      // an operation in the pinned directory checks it now, inside the batch too
      await expect(
        fs.readPinned({ dir: join(dir, 'a'), pin, target: 'a/f' }, 'f'),
      ).rejects.toMatchObject({ code: 'TARGET_MOVED' })
      // a call not made through the view (another transaction's) reads the tree now
      expect(await localFileSystem.pinChanged(join(dir, 'a'), pin)).toMatch(/replaced/)
    })
    // outside, every walk reads anew
    const pin = await localFileSystem.pinDir(join(dir, 'a-old'))
    expect(await localFileSystem.pinChanged(join(dir, 'a'), pin)).toMatch(
      /no longer exists|replaced|not the directory/,
    )
  })

  it('shares no reads with another transaction of the process preparing meanwhile', async () => {
    // the local machines of a fleet prepare side by side: one's preparation (held open here)
    // must not answer another's walks, such as the pin of a directory that one has just made
    const dir = scratch()
    const target = join(dir, 'new', 'app.conf')
    let release!: () => void
    let walked!: () => void
    const ready = new Promise<void>((r) => (walked = r))
    const other = localFileSystem.readTogether!(async (fs) => {
      expect(await fs.pinChanged(join(dir, 'new'), undefined)).toMatch(/no longer exists/)
      walked()
      await new Promise<void>((r) => (release = r))
    })
    try {
      await ready
      await commitFiles(
        [
          {
            target: 'new/app.conf',
            path: target,
            before: 'absent',
            content: Buffer.from('x\n'),
            dirs: [{ path: join(dir, 'new'), mode: 0o755 }],
          },
        ],
        { stateDir: join(dir, 'state'), fault: () => undefined },
      )
      expect(readFileSync(target, 'utf8')).toBe('x\n')
    } finally {
      release()
      await other
    }
  })

  it('gives a wrapper of the local file system a view that keeps what the wrapper replaced', async () => {
    const dir = scratch()
    mkdirSync(join(dir, 'a'))
    writeFileSync(join(dir, 'a', 'f'), 'old\n')
    // a wrapper (a test seam) whose reads the transaction's checks must go through
    const asked: string[] = []
    const fs: TxFileSystem = {
      ...localFileSystem,
      lstat: (path) => {
        asked.push(`lstat ${path}`)
        return localFileSystem.lstat(path)
      },
      userWritableDir: (d, owner, acls) => {
        asked.push(`userWritableDir ${d}`)
        return localFileSystem.userWritableDir(d, owner, acls)
      },
    }
    await fs.readTogether!(async (together) => {
      expect(await together.userWritableDir(join(dir, 'a'), 0, new Map())).toBeUndefined()
      await together.lstat(join(dir, 'a', 'f'))
    })
    expect(asked).toEqual([`userWritableDir ${join(dir, 'a')}`, `lstat ${join(dir, 'a', 'f')}`])
    asked.length = 0
    await commitFiles(
      [
        {
          target: 'a/f',
          path: join(dir, 'a', 'f'),
          before: sha256('old\n'),
          content: Buffer.from('new\n'),
        },
      ],
      { stateDir: join(dir, 'state'), fileSystem: fs, fault: () => undefined },
    )
    expect(asked).toContain(`lstat ${join(dir, 'a', 'f')}`)
  })

  it('fsyncs every directory, and rejects with the error of one that is missing', async () => {
    const dir = scratch()
    const dirs = Array.from({ length: 100 }, (_, i) => join(dir, `d${i}`))
    for (const d of dirs) mkdirSync(d)
    await expect(localFileSystem.fsyncDirs!(dirs)).resolves.toBeUndefined()
    await expect(localFileSystem.fsyncDirs!([...dirs, join(dir, 'gone')])).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})

describe('the transaction calls the batch forms once per phase', () => {
  it.each([
    ['reads each original as it stages (one check for both)', true, 2],
    ['reads the originals apart (a check for each)', false, 3],
  ])(
    'checks the pins once before staging, backing up and renaming, and fsyncs the directories in one call: %s',
    async (_, together, checks) => {
      const dir = scratch()
      const files = ['a/1.conf', 'a/2.conf', 'b/3.conf'].map((f) => join(dir, f))
      for (const d of ['a', 'b']) mkdirSync(join(dir, d))
      files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
      const calls: string[] = []
      const batches: string[][] = []
      const fs: TxFileSystem = {
        ...localFileSystem,
        pinChanged: (d, pin) => {
          calls.push('pinChanged')
          return localFileSystem.pinChanged(d, pin)
        },
        pinsChanged: (dirs) => {
          calls.push('pinsChanged')
          batches.push(dirs.map((d) => d.dir))
          return localFileSystem.pinsChanged!(dirs)
        },
        fsyncDir: (d) => {
          calls.push('fsyncDir')
          return localFileSystem.fsyncDir(d)
        },
        fsyncDirs: (dirs) => {
          calls.push('fsyncDirs')
          batches.push([...dirs])
          return localFileSystem.fsyncDirs!(dirs)
        },
        ...(together ? {} : { readAndCreatePinned: undefined }),
      }
      await commitFiles(
        files.map((f, i) => ({
          target: f.slice(dir.length + 1),
          path: f,
          before: sha256(`old ${i}\n`),
          content: Buffer.from(`new ${i}\n`),
        })),
        { stateDir: join(dir, 'state'), fileSystem: fs, fault: () => undefined },
      )
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(['new 0\n', 'new 1\n', 'new 2\n'])
      expect(calls.sort()).toEqual(['fsyncDirs', ...Array(checks).fill('pinsChanged')])
      const both = [join(dir, 'a'), join(dir, 'b')]
      for (const b of batches) expect([...b].sort()).toEqual(both)
    },
  )
})

describe('the original read for the backup is checked against the plan', () => {
  it.each([
    ['read as it is staged', true],
    ['read apart', false],
  ])(
    'a file changed after the transaction began is refused, nothing written, no temp left: %s',
    async (_, together) => {
      const dir = scratch()
      mkdirSync(join(dir, 'etc'))
      const files = [0, 1].map((i) => join(dir, 'etc', `f${i}.conf`))
      files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
      // someone writes f1 once the transaction has begun: at the first phase's pin check,
      // before either side reads or stages anything
      let checks = 0
      const fs: TxFileSystem = {
        ...localFileSystem,
        pinsChanged: (dirs) => {
          if (checks++ === 0) writeFileSync(files[1]!, 'theirs\n')
          return localFileSystem.pinsChanged!(dirs)
        },
        ...(together ? {} : { readAndCreatePinned: undefined }),
      }
      const err = await commitFiles(
        files.map((f, i) => ({
          target: `etc/f${i}.conf`,
          path: f,
          before: sha256(`old ${i}\n`),
          content: Buffer.from(`new ${i}\n`),
        })),
        { stateDir: join(dir, 'state'), fileSystem: fs, fault: () => undefined },
      ).catch((e: unknown) => e)
      expect(checks).toBeGreaterThan(0)
      expect(err).toMatchObject({
        code: 'STALE_PLAN',
        message: `etc/f1.conf changed while applying (planned ${sha256('old 1\n')}, now ${sha256('theirs\n')}); nothing was written`,
      })
      expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(['old 0\n', 'theirs\n'])
      expect(readdirSync(join(dir, 'etc')).sort()).toEqual(['f0.conf', 'f1.conf'])
    },
  )
})
