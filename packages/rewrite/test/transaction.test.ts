import { execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CutoverError,
  LockError,
  ValidationError,
  commitFiles,
  listTransactions,
  pruneTransactions,
  recover,
  rollbackLast,
  sha256,
  type FaultHook,
  type TxEvent,
  type TxTarget,
  type Validator,
} from '../src/index.js'
import { runBuilt } from './run-built.js'
import { acquireLock } from '../src/transaction/lock.js'
import { strayTemps } from '../src/fs/local.js'
import { injectedError } from '../src/transaction/fault.js'
import { tempDir } from '@cutover/test-kit/temp'

const isRoot = process.getuid?.() === 0
// chattr and mount need root: skipped for a developer who is not, run (and failing) under CI
const asRoot = isRoot || process.env.CI === 'true' ? it : it.skip
const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function tree(n = 3) {
  const dir = tempDir('cutover-tx-')
  const files = Array.from({ length: n }, (_, i) => join(dir, 'etc', `f${i}.conf`))
  mkdirSync(join(dir, 'etc'))
  files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
  const targets = (validators: Validator[] = []): TxTarget[] =>
    files.map((f, i) => ({
      target: `etc/f${i}.conf`,
      path: f,
      before: sha256(`old ${i}\n`),
      content: Buffer.from(`new ${i}\n`),
      validators,
    }))
  const state = () => files.map((f) => readFileSync(f, 'utf8').slice(0, 3))
  return { dir, files, targets, state, stateDir: join(dir, 'state') }
}

const throwAt =
  (point: string, code = 'EIO'): FaultHook =>
  (p) => {
    if (p === point) throw injectedError(p, code)
  }

describe('commitFiles observer', () => {
  it('tells each stage as it is done, naming the target, in protocol order', async () => {
    const t = tree()
    const events: TxEvent[] = []
    const result = await commitFiles(t.targets(), {
      stateDir: t.stateDir,
      observer: (e) => events.push(e),
    })
    const files = ['etc/f0.conf', 'etc/f1.conf', 'etc/f2.conf']
    const of = (type: string) => events.filter((e) => e.type === type)
    // staged and backed up in parallel: each target once, counted in completion order
    for (const type of ['staged', 'backed-up'] as const) {
      expect(
        of(type)
          .map((e) => (e as { target: string }).target)
          .sort(),
      ).toEqual(files)
      expect(of(type).map((e) => (e as { done: number }).done)).toEqual([1, 2, 3])
      expect(of(type).every((e) => (e as { total: number }).total === 3)).toBe(true)
    }
    const order = events.map((e) => e.type).filter((x) => x !== 'backed-up')
    expect(order).toEqual([
      'staged',
      'staged',
      'staged',
      'validated',
      'prepared',
      'renamed',
      'renamed',
      'renamed',
      'committed',
    ])
    expect(of('validated')).toEqual([{ type: 'validated', files: 3 }])
    expect(of('renamed')).toEqual(
      files.map((target, i) => ({ type: 'renamed', target, done: i + 1, total: 3 })),
    )
    expect(events.at(-1)).toEqual({ type: 'committed', txid: result.txid })
    // every backup is made before the journal says prepared
    expect(events.findLastIndex((e) => e.type === 'backed-up')).toBeLessThan(
      events.findIndex((e) => e.type === 'prepared'),
    )
  })

  it('tells nothing past the stage that failed', async () => {
    const t = tree()
    const events: string[] = []
    await expect(
      commitFiles(t.targets(), {
        stateDir: t.stateDir,
        fault: throwAt('renamed:2'),
        observer: (e) => events.push(e.type),
      }),
    ).rejects.toThrow(/injected/)
    expect(events.filter((e) => e === 'renamed')).toHaveLength(1)
    expect(events).not.toContain('committed')
    expect(t.state()).toEqual(['old', 'old', 'old'])
  })
})

describe('commitFiles fault points (in process)', () => {
  it.each(['stage-write:2', 'staged:1', 'staged:3', 'validated', 'backed-up:2'])(
    'an error at %s leaves every target before, no temp file',
    async (point) => {
      const t = tree()
      await expect(
        commitFiles(t.targets(), { stateDir: t.stateDir, fault: throwAt(point) }),
      ).rejects.toThrow(/injected/)
      expect(t.state()).toEqual(['old', 'old', 'old'])
      expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
      expect((await listTransactions(t.stateDir)).map((x) => x.state)).toEqual(['aborted'])
      // the copies of the originals are gone with the transaction that did not happen
      const [tx] = await listTransactions(t.stateDir)
      expect(existsSync(join(t.stateDir, 'tx', tx!.txid, 'backup'))).toBe(false)
    },
  )
  it('backs up the originals while it stages and validates', async () => {
    const t = tree(5)
    // a validator that passes only once every original is backed up: run one after the other,
    // as before, the two would wait for each other for ever
    let release!: () => void
    const backedUp = new Promise<void>((r) => (release = r))
    const waits: Validator = {
      name: 'waits-for-backups',
      run: async () => (await backedUp, undefined),
    }
    const fault: FaultHook = (p) => {
      if (p === 'backed-up:5') release()
    }
    await commitFiles(
      t.targets().map((x) => ({ ...x, validators: [waits] })),
      { stateDir: t.stateDir, fault },
    )
    expect(t.state()).toEqual(['new', 'new', 'new', 'new', 'new'])
  })
  it('a failed backup stops the staging: nothing changed, no temp file, no backup left', async () => {
    // many files: the staging is still under way when the first backup is written
    const t = tree(300)
    const seen: string[] = []
    const fault: FaultHook = (p) => {
      seen.push(p)
      if (p === 'backed-up:1') throw injectedError(p, 'EIO')
    }
    await expect(commitFiles(t.targets(), { stateDir: t.stateDir, fault })).rejects.toThrow(
      /injected at backed-up:1/,
    )
    // the files being staged then are finished, no other one is begun
    const after = seen.slice(seen.indexOf('backed-up:1') + 1)
    expect(after.filter((p) => p.startsWith('stage-write:'))).toEqual([])
    expect(seen.filter((p) => p.startsWith('stage-write:')).length).toBeLessThan(300)
    expect(t.state().every((x) => x === 'old')).toBe(true)
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
    const [tx] = await listTransactions(t.stateDir)
    expect(existsSync(join(t.stateDir, 'tx', tx!.txid, 'backup'))).toBe(false)
  })
  it.each(['prepared', 'renamed:1', 'renamed:2', 'renamed:3', 'before-commit'])(
    'an error (not a crash) at %s is rolled back to before',
    async (point) => {
      const t = tree()
      await expect(
        commitFiles(t.targets(), { stateDir: t.stateDir, fault: throwAt(point) }),
      ).rejects.toThrow(/injected/)
      expect(t.state()).toEqual(['old', 'old', 'old'])
      expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
      expect((await listTransactions(t.stateDir)).map((x) => x.state)).toEqual(['rolled-back'])
    },
  )
  it('an error after the commit leaves every target after', async () => {
    const t = tree()
    await expect(
      commitFiles(t.targets(), { stateDir: t.stateDir, fault: throwAt('committed') }),
    ).rejects.toThrow(/injected/)
    expect(t.state()).toEqual(['new', 'new', 'new'])
    expect((await listTransactions(t.stateDir)).map((x) => x.state)).toEqual(['committed'])
  })
  it.each(['ENOSPC', 'EACCES', 'EROFS'])(
    'a %s while staging aborts with nothing changed',
    async (code) => {
      const t = tree()
      await expect(
        commitFiles(t.targets(), { stateDir: t.stateDir, fault: throwAt('stage-write:3', code) }),
      ).rejects.toMatchObject({ code })
      expect(t.state()).toEqual(['old', 'old', 'old'])
      expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
    },
  )
})

describe('validators', () => {
  it('run on the whole staged set, several per target, before the first rename', async () => {
    const t = tree()
    const seen: string[] = []
    const record = (name: string): Validator => ({
      name,
      run: async (staged, target) => {
        seen.push(`${name}:${target}:${readFileSync(staged, 'utf8').trim()}:${t.state().join('')}`)
        return undefined
      },
    })
    const failing: Validator = {
      name: 'strict',
      run: async (_s, target) => (target === 'etc/f2.conf' ? 'line 1: not good' : undefined),
    }
    const targets = t.targets([record('a'), record('b'), failing])
    await expect(commitFiles(targets, { stateDir: t.stateDir })).rejects.toThrow(ValidationError)
    await expect(commitFiles(targets, { stateDir: t.stateDir })).rejects.toThrow(
      'etc/f2.conf: strict: line 1: not good',
    )
    // validators run in parallel, one per core: every one saw only old targets
    expect(seen.slice(0, 6).sort()).toEqual(
      [
        'a:etc/f0.conf:new 0:oldoldold',
        'b:etc/f0.conf:new 0:oldoldold',
        'a:etc/f1.conf:new 1:oldoldold',
        'b:etc/f1.conf:new 1:oldoldold',
        'a:etc/f2.conf:new 2:oldoldold',
        'b:etc/f2.conf:new 2:oldoldold',
      ].sort(),
    )
    expect(t.state()).toEqual(['old', 'old', 'old'])
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
  })
  it('warns when a validator tool is missing', async () => {
    const t = tree(1)
    const absent: Validator = {
      name: 'visudo',
      available: async () => false,
      run: async () => 'never',
    }
    const r = await commitFiles(t.targets([absent]), { stateDir: t.stateDir })
    expect(r.warnings).toEqual([
      'validator visudo is not installed here: files of its kind were not checked by it',
    ])
  })
  it('starts a batch validator once its files are staged, while the others are still staged', async () => {
    const t = tree(200)
    const events: string[] = []
    const checked: string[] = []
    const batch: Validator = {
      name: 'batch',
      run: async () => 'not run one by one',
      runBatch: async (items) => {
        events.push('batch')
        checked.push(...items.map((x) => `${x.target}:${readFileSync(x.stagedPath, 'utf8')}`))
        return items.map((x) => (x.target === 'etc/f150.conf' ? 'line 1: bad' : undefined))
      },
    }
    // the batch validator checks two targets, among the last: they are staged first
    const targets = t
      .targets()
      .map((x, i) => (i === 150 || i === 199 ? { ...x, validators: [batch] } : x))
    const fault: FaultHook = (p) => {
      if (p.startsWith('staged:')) events.push(p)
    }
    await expect(commitFiles(targets, { stateDir: t.stateDir, fault })).rejects.toThrow(
      'validation failed, nothing was written:\netc/f150.conf: batch: line 1: bad',
    )
    expect(checked).toEqual(['etc/f150.conf:new 150\n', 'etc/f199.conf:new 199\n'])
    expect(events.indexOf('batch')).toBeGreaterThan(events.indexOf('staged:2'))
    expect(events.indexOf('batch')).toBeLessThan(events.indexOf('staged:200'))
    expect(t.state().every((x) => x === 'old')).toBe(true)
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
  })
  it('runs a validator on each file as soon as it is staged, while the others are still staged', async () => {
    const t = tree(64)
    const events: string[] = []
    const checked = new Map<string, string>()
    const each: Validator = {
      name: 'each',
      run: async (staged, target) => {
        events.push(`run:${target}`)
        checked.set(target, readFileSync(staged, 'utf8'))
        return target === 'etc/f7.conf' ? 'line 1: bad' : undefined
      },
    }
    const fault: FaultHook = (p) => {
      if (p.startsWith('staged:')) events.push(p)
    }
    await expect(commitFiles(t.targets([each]), { stateDir: t.stateDir, fault })).rejects.toThrow(
      'validation failed, nothing was written:\netc/f7.conf: each: line 1: bad',
    )
    // every file checked once, on its staged content
    expect(checked.size).toBe(64)
    expect([...checked].every(([target, text]) => text === `new ${target.slice(5, -5)}\n`)).toBe(
      true,
    )
    expect(events.findIndex((e) => e.startsWith('run:'))).toBeLessThan(events.indexOf('staged:64'))
    expect(t.state().every((x) => x === 'old')).toBe(true)
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
  })
  it('runs checks in the process as many at once as files are staged, the others one per core', async () => {
    const t = tree(48)
    const cores = Math.max(2, availableParallelism())
    const most = { own: 0, other: 0 }
    const now = { own: 0, other: 0 }
    // the checks in the process wait until more than one per core run at once (or, were they held
    // to one per core, until the last file is staged): how many overlap depends on no timing
    let open!: () => void
    const gate = new Promise<void>((r) => (open = r))
    const counting = (kind: 'own' | 'other'): Validator => ({
      name: kind,
      ...(kind === 'own' ? { inProcess: true } : {}),
      run: async () => {
        most[kind] = Math.max(most[kind], ++now[kind])
        if (kind === 'own' && now.own > cores) open()
        await (kind === 'own' ? gate : new Promise((r) => setTimeout(r, 10)))
        now[kind]--
        return undefined
      },
    })
    const fault: FaultHook = (p) => {
      if (p === 'staged:48') open()
    }
    await commitFiles(t.targets([counting('own'), counting('other')]), {
      stateDir: t.stateDir,
      fault,
    })
    expect(most.other).toBeLessThanOrEqual(cores)
    expect(most.own).toBeGreaterThan(cores)
    expect(t.state().every((x) => x === 'new')).toBe(true)
  })
  it('a staging error waits for the validators under way, aborts and leaves nothing', async () => {
    const t = tree(40)
    let running = 0
    let ended = 0
    const slow: Validator = {
      name: 'slow',
      run: async () => {
        running++
        await new Promise((r) => setTimeout(r, 20))
        running--
        ended++
        return undefined
      },
    }
    await expect(
      commitFiles(t.targets([slow]), {
        stateDir: t.stateDir,
        fault: throwAt('stage-write:30', 'ENOSPC'),
      }),
    ).rejects.toMatchObject({ code: 'ENOSPC' })
    // some ran while staging, none was left running when the temps were removed
    expect(ended).toBeGreaterThan(0)
    expect(running).toBe(0)
    expect(t.state().every((x) => x === 'old')).toBe(true)
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
  })
  it('a validator that throws: no check starts after it, those under way end, it aborts and leaves nothing', async () => {
    const t = tree(40)
    let running = 0
    let threw = false
    let startedAfter = 0
    const crashing: Validator = {
      name: 'crashing',
      run: async (_staged, target) => {
        if (threw) startedAfter++
        running++
        await new Promise((r) => setTimeout(r, 5))
        running--
        if (target !== 'etc/f3.conf') return undefined
        threw = true
        throw new Error('the checker died')
      },
    }
    await expect(commitFiles(t.targets([crashing]), { stateDir: t.stateDir })).rejects.toThrow(
      'the checker died',
    )
    expect(threw).toBe(true)
    expect(startedAfter).toBe(0)
    expect(running).toBe(0)
    expect(t.state().every((x) => x === 'old')).toBe(true)
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
    expect((await listTransactions(t.stateDir)).map((x) => x.state)).toEqual(['aborted'])
  })
  it('an error of a batch validator started early waits for it, aborts and leaves nothing', async () => {
    const t = tree(100)
    let ended = false
    const broken: Validator = {
      name: 'broken',
      run: async () => undefined,
      runBatch: async () => {
        await new Promise((r) => setTimeout(r, 50))
        ended = true
        throw new Error('the linter died')
      },
    }
    const targets = t.targets().map((x, i) => (i === 0 ? { ...x, validators: [broken] } : x))
    await expect(commitFiles(targets, { stateDir: t.stateDir })).rejects.toThrow('the linter died')
    expect(ended).toBe(true)
    expect(t.state().every((x) => x === 'old')).toBe(true)
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
    expect((await listTransactions(t.stateDir)).map((x) => x.state)).toEqual(['aborted'])
  })
})

describe('recover after a real crash (SIGKILL)', () => {
  const runner = runBuilt
  it('restores all-before after a kill between renames, and after a kill during recovery itself', async () => {
    const t = tree(4)
    const targets = JSON.stringify(
      t.targets().map((x) => ({ ...x, content: x.content.toString() })),
    )
    const apply = `await tx.commitFiles(${targets}.map((x) => ({ ...x, content: Buffer.from(x.content) })), { stateDir: ${JSON.stringify(t.stateDir)} })`
    expect(runner(t.dir, apply, { CUTOVER_FAULT_INJECT: 'renamed:2' })).toBe('SIGKILL')
    expect(t.state()).toEqual(['new', 'new', 'old', 'old'])
    expect(await strayTemps(join(t.dir, 'etc'))).toHaveLength(2)
    const rec = `await tx.recover({ stateDir: ${JSON.stringify(t.stateDir)} })`
    expect(runner(t.dir, rec, { CUTOVER_FAULT_INJECT: 'recover:1' })).toBe('SIGKILL')
    expect(t.state()).toEqual(['old', 'new', 'old', 'old'])
    const report = await recover({ stateDir: t.stateDir })
    expect(report.transactions).toMatchObject([{ was: 'prepared', now: 'rolled-back' }])
    expect(t.state()).toEqual(['old', 'old', 'old', 'old'])
    expect(await strayTemps(join(t.dir, 'etc'))).toEqual([])
    expect((await recover({ stateDir: t.stateDir })).transactions).toEqual([])
  })
  it('records all-after as committed when the kill came after the last rename', async () => {
    const t = tree(2)
    const targets = JSON.stringify(
      t.targets().map((x) => ({ ...x, content: x.content.toString() })),
    )
    const apply = `await tx.commitFiles(${targets}.map((x) => ({ ...x, content: Buffer.from(x.content) })), { stateDir: ${JSON.stringify(t.stateDir)} })`
    expect(runner(t.dir, apply, { CUTOVER_FAULT_INJECT: 'before-commit' })).toBe('SIGKILL')
    expect((await recover({ stateDir: t.stateDir })).transactions).toMatchObject([
      { was: 'prepared', now: 'committed' },
    ])
    expect(t.state()).toEqual(['new', 'new'])
  })
})

describe('lock', () => {
  it('refuses while the holder lives, naming pid, host and start time', async () => {
    const t = tree(1)
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    cleanups.push(() => child.kill('SIGKILL'))
    mkdirSync(t.stateDir, { recursive: true })
    writeFileSync(
      join(t.stateDir, 'lock'),
      JSON.stringify({
        pid: child.pid,
        host: (await import('node:os')).hostname(),
        started: '2026-11-22T10:00:00.000Z',
        command: 'cutover apply',
      }),
    )
    const err = await acquireLock(t.stateDir, 'cutover recover').catch((e) => e)
    expect(err).toBeInstanceOf(LockError)
    expect(err.message).toContain(`is locked by cutover apply (pid ${child.pid} on `)
    expect(err.message).toContain('since 2026-11-22T10:00:00.000Z')
  })
  it('takes over a lock whose process is gone, and says so', async () => {
    const t = tree(1)
    const dead = execFileSync(
      process.execPath,
      ['-e', 'process.stdout.write(String(process.pid))'],
      { encoding: 'utf8' },
    )
    mkdirSync(t.stateDir, { recursive: true })
    writeFileSync(
      join(t.stateDir, 'lock'),
      JSON.stringify({
        pid: Number(dead),
        host: (await import('node:os')).hostname(),
        started: '2026-11-22T10:00:00.000Z',
        command: 'cutover apply',
      }),
    )
    const lock = await acquireLock(t.stateDir, 'cutover apply')
    expect(lock.staleTakenOver).toBe(
      `a stale lock of pid ${dead} on ${(await import('node:os')).hostname()} (cutover apply, started 2026-11-22T10:00:00.000Z) was taken over: that process is gone`,
    )
    await expect(acquireLock(t.stateDir, 'second')).rejects.toThrow(
      /locked by cutover apply \(pid \d+/,
    )
    await lock.release()
    expect(existsSync(join(t.stateDir, 'lock'))).toBe(false)
  })
})

describe('metadata', () => {
  it('keeps mode, owner, group, xattrs and ACLs, and writes through symlinks', async () => {
    const t = tree(2)
    chmodSync(t.files[0]!, 0o440)
    if (isRoot || process.env.CI === 'true') chownSync(t.files[0]!, 1234, 2345)
    execFileSync('setfattr', ['-n', 'user.cutover-test', '-v', 'kept', t.files[0]!])
    execFileSync('setfacl', ['-m', 'u:4321:r', t.files[0]!])
    symlinkSync(t.files[1]!, join(t.dir, 'link.conf'))
    const targets = t.targets()
    targets[1] = { ...targets[1]!, path: join(t.dir, 'link.conf') }
    await commitFiles(targets, { stateDir: t.stateDir })
    const st = statSync(t.files[0]!)
    expect(st.mode & 0o777).toBe(0o440)
    if (isRoot || process.env.CI === 'true') expect([st.uid, st.gid]).toEqual([1234, 2345])
    expect(
      execFileSync('getfattr', ['-n', 'user.cutover-test', '--only-values', t.files[0]!], {
        encoding: 'utf8',
      }),
    ).toBe('kept')
    expect(execFileSync('getfacl', ['-p', t.files[0]!], { encoding: 'utf8' })).toContain(
      'user:4321:r--',
    )
    expect(readFileSync(t.files[1]!, 'utf8')).toBe('new 1\n')
    expect((await import('node:fs')).lstatSync(join(t.dir, 'link.conf')).isSymbolicLink()).toBe(
      true,
    )
    expect(statSync(t.stateDir).mode & 0o777).toBe(0o700)
    const [tx] = await listTransactions(t.stateDir)
    expect(statSync(join(t.stateDir, 'tx', tx!.txid)).mode & 0o777).toBe(0o700)
    expect(statSync(join(t.stateDir, 'tx', tx!.txid, 'backup', 'pack')).mode & 0o777).toBe(0o600)
  })

  asRoot('refuses an immutable target before anything is written', async () => {
    const t = tree(2)
    execFileSync('chattr', ['+i', t.files[1]!])
    cleanups.push(() => execFileSync('chattr', ['-i', t.files[1]!]))
    const err = await commitFiles(t.targets(), { stateDir: t.stateDir }).catch((e) => e)
    expect(err).toBeInstanceOf(CutoverError)
    expect(err.message).toBe(
      'etc/f1.conf cannot be replaced: it is immutable or append-only (chattr -i); nothing was written',
    )
    expect(t.state()).toEqual(['old', 'old'])
    expect(await listTransactions(t.stateDir)).toEqual([])
  })

  asRoot(
    'refuses a target on a read-only file system, and aborts cleanly when the disk fills',
    async () => {
      const mnt = tempDir('cutover-mnt-')
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', mnt])
      cleanups.push(() => execFileSync('umount', [mnt]))
      const small = join(mnt, 'small.conf')
      const big = join(mnt, 'big.conf')
      writeFileSync(small, 'old\n')
      writeFileSync(big, 'old\n')
      const stateDir = tempDir('cutover-state-')
      const targets: TxTarget[] = [
        {
          target: 'small.conf',
          path: small,
          before: sha256('old\n'),
          content: Buffer.from('new\n'),
        },
        {
          target: 'big.conf',
          path: big,
          before: sha256('old\n'),
          content: Buffer.alloc(200 * 1024, 'x'),
        },
      ]
      const full = await commitFiles(targets, { stateDir }).catch((e) => e)
      expect(full.code).toBe('ENOSPC')
      expect([readFileSync(small, 'utf8'), readFileSync(big, 'utf8')]).toEqual(['old\n', 'old\n'])
      expect(await strayTemps(mnt)).toEqual([])
      execFileSync('mount', ['-o', 'remount,ro', mnt])
      const ro = await commitFiles(targets.slice(0, 1), { stateDir }).catch((e) => e)
      expect(ro.message).toBe(
        'small.conf cannot be replaced: its file system is read-only; nothing was written',
      )
    },
  )
})

describe('rollback and state', () => {
  it('restores the last transaction, refuses changed targets unless forced', async () => {
    const t = tree(2)
    await commitFiles(t.targets(), { stateDir: t.stateDir, kind: 'apply' })
    writeFileSync(t.files[1]!, 'edited by hand\n')
    const err = await rollbackLast({ stateDir: t.stateDir }).catch((e) => e)
    expect(err.message).toMatch(
      /^not rolled back, nothing was written:\n {2}etc\/f1.conf: changed since transaction \S+ \(then sha256:\w+, now sha256:\w+\)\nuse --force/,
    )
    expect(t.state()).toEqual(['new', 'edi'])
    const r = await rollbackLast({ stateDir: t.stateDir, force: true })
    expect(r.written).toEqual(['etc/f0.conf', 'etc/f1.conf'])
    expect(t.state()).toEqual(['old', 'old'])
    await expect(rollbackLast({ stateDir: t.stateDir })).rejects.toThrow(
      /no applied transaction to roll back/,
    )
    const list = await listTransactions(t.stateDir)
    expect(list.map((x) => [x.kind, x.state])).toEqual([
      ['apply', 'committed'],
      ['rollback', 'committed'],
    ])
    expect(list[1]!.restores).toBe(list[0]!.txid)
    expect(await pruneTransactions(t.stateDir, 1)).toEqual([list[0]!.txid])
    expect(readdirSync(join(t.stateDir, 'tx'))).toEqual([list[1]!.txid])
  })
  it('refuses a state directory inside an include directory', async () => {
    const t = tree(1)
    await expect(
      commitFiles(t.targets(), { stateDir: join(t.dir, 'etc/sudoers.d/state') }),
    ).rejects.toThrow(/inside the include directory "sudoers.d"/)
  })
})
