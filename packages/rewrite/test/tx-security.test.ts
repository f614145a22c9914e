import { execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  applyPlanDocument,
  commitFiles,
  listTransactions,
  recover,
  rollbackLast,
  sha256,
  type FaultHook,
  type PlanDocument,
  type TxTarget,
} from '../src/index.js'
import { acquireLock } from '../src/transaction/lock.js'
import { readTransaction } from '../src/transaction/transaction.js'
import { strayTemps } from '../src/fs/local.js'
import { injectedError } from '../src/transaction/fault.js'
import { tempDir } from '@cutover/test-kit/temp'

const isRoot = process.getuid?.() === 0
// a user-owned directory needs root to make; skipped for a developer who is not, run (and failing) under CI
const asRoot = isRoot || process.env.CI === 'true' ? it : it.skip
const NOBODY = 65534

/**
 * A site directory `www/site/conf` owned by nobody with two targets in it (owned by nobody), and
 * a root-owned directory `victim` holding a file of the same name as a target.
 */
function site() {
  const dir = tempDir('cutover-sec-')
  const conf = join(dir, 'www/site/conf')
  const victim = join(dir, 'victim')
  mkdirSync(conf, { recursive: true })
  mkdirSync(victim)
  writeFileSync(join(victim, 'f0.conf'), 'root owned\n')
  const files = [0, 1].map((i) => join(conf, `f${i}.conf`))
  files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
  if (isRoot) for (const p of [conf, ...files]) chownSync(p, NOBODY, NOBODY)
  const targets = (allow = true): TxTarget[] =>
    files.map((f, i) => ({
      target: `www/site/conf/f${i}.conf`,
      path: f,
      before: sha256(`old ${i}\n`),
      content: Buffer.from(`new ${i}\n`),
      allowUserWritable: allow,
    }))
  // what the user does: the checked directory moves away, a symlink to root's directory takes its place
  const swap = () => {
    renameSync(conf, conf + '.orig')
    symlinkSync(victim, conf)
  }
  const swapBack = () => {
    unlinkSync(conf)
    renameSync(conf + '.orig', conf)
  }
  const victimState = () =>
    readdirSync(victim).map((n) => `${n}=${readFileSync(join(victim, n), 'utf8')}`)
  return { dir, conf, files, targets, swap, swapBack, victimState, stateDir: join(dir, 'state') }
}

const at =
  (point: string, fn: () => void): FaultHook =>
  (p) => {
    if (p === point) fn()
  }

describe('the directory of every target is pinned', () => {
  asRoot(
    'a directory swapped for a symlink between validation and rename: nothing written through it, all-before',
    async () => {
      const s = site()
      const err = await commitFiles(s.targets(), {
        stateDir: s.stateDir,
        fault: at('validated', s.swap),
      }).catch((e) => e)
      expect(err.code).toBe('TARGET_MOVED')
      expect(err.message).toMatch(
        /^www\/site\/conf\/f0\.conf: its directory changed while applying \(.*conf is now a symlink\); nothing is written there$/,
      )
      expect(s.victimState()).toEqual(['f0.conf=root owned\n'])
      expect(
        ['f0.conf', 'f1.conf'].map((n) => readFileSync(join(s.conf + '.orig', n), 'utf8')),
      ).toEqual(['old 0\n', 'old 1\n'])
      expect((await listTransactions(s.stateDir)).map((t) => t.state)).toEqual(['rolled-back'])
    },
  )

  asRoot(
    'a swap after the first rename: recovery restores nothing through the symlink, and finishes once the directory is back',
    async () => {
      const s = site()
      const err = await commitFiles(s.targets(), {
        stateDir: s.stateDir,
        fault: at('renamed:1', s.swap),
      }).catch((e) => e)
      expect(err.code).toBe('RECOVER_MOVED')
      expect(err.message).toContain('www/site/conf/f1.conf: its directory changed while applying')
      expect(err.message).toMatch(
        /not recovered: .*\n {2}transaction \S+: www\/site\/conf\/f0\.conf: .*conf is now a symlink\nput the directory back/,
      )
      expect(s.victimState()).toEqual(['f0.conf=root owned\n'])
      expect((await listTransactions(s.stateDir)).map((t) => t.state)).toEqual(['prepared'])
      // recover (as the next apply runs it) refuses too, and still writes nothing there
      await expect(recover({ stateDir: s.stateDir })).rejects.toMatchObject({
        code: 'RECOVER_MOVED',
      })
      expect(s.victimState()).toEqual(['f0.conf=root owned\n'])
      s.swapBack()
      expect((await recover({ stateDir: s.stateDir })).transactions).toMatchObject([
        { was: 'prepared', now: 'rolled-back' },
      ])
      expect(s.files.map((f) => readFileSync(f, 'utf8'))).toEqual(['old 0\n', 'old 1\n'])
      expect(await strayTemps(s.conf)).toEqual([])
    },
  )

  asRoot('a swap while staging: no temp file is written through the symlink', async () => {
    const s = site()
    const err = await commitFiles(s.targets(), {
      stateDir: s.stateDir,
      fault: at('stage-write:2', s.swap),
    }).catch((e) => e)
    expect(err.code).toBe('TARGET_MOVED')
    expect(s.victimState()).toEqual(['f0.conf=root owned\n'])
    expect((await listTransactions(s.stateDir)).map((t) => t.state)).toEqual(['aborted'])
  })

  asRoot(
    'a swap after the check of the directory, before a temp file is created: it is created in the checked directory, nothing through the symlink',
    async () => {
      const s = site()
      const err = await commitFiles(s.targets(), {
        stateDir: s.stateDir,
        fault: at('stage-open:1', s.swap),
      }).catch((e) => e)
      expect(err.code).toBe('TARGET_MOVED')
      expect(s.victimState()).toEqual(['f0.conf=root owned\n'])
      expect(
        ['f0.conf', 'f1.conf'].map((n) => readFileSync(join(s.conf + '.orig', n), 'utf8')),
      ).toEqual(['old 0\n', 'old 1\n'])
    },
  )

  it('journals the identity of every directory from / down to the target', async () => {
    const s = site()
    const r = await commitFiles(s.targets(), { stateDir: s.stateDir })
    const [t] = (await readTransaction(s.stateDir, r.txid)).targets
    const chain = s.conf.split('/').map((_, i, a) => a.slice(0, i + 1).join('/') || '/')
    expect(t!.dirPin).toEqual(
      chain.map((p) => {
        const st = lstatSync(p, { bigint: true })
        return `${st.dev}:${st.ino}`
      }),
    )
  })
})

describe('directories other users can change are refused as root', () => {
  asRoot(
    'a target in a directory owned by another user, naming the directory and its owner',
    async () => {
      const s = site()
      // root's files in nobody's directory (the files of the directory's owner are the owner's to change anyway)
      for (const f of s.files) chownSync(f, 0, 0)
      const err = await commitFiles(s.targets(false), { stateDir: s.stateDir }).catch((e) => e)
      expect(err.code).toBe('USER_WRITABLE')
      expect(err.message).toMatch(
        new RegExp(
          `^www/site/conf/f0\\.conf: refused as root: directory ${s.conf} belongs to \\w+ \\(65534\\), who could swap it`,
        ),
      )
      expect(err.message).toContain('allow-user-writable: true')
      expect(s.files.map((f) => readFileSync(f, 'utf8'))).toEqual(['old 0\n', 'old 1\n'])
      // allowed by the step: written
      await commitFiles(s.targets(true), { stateDir: s.stateDir })
      expect(s.files.map((f) => readFileSync(f, 'utf8'))).toEqual(['new 0\n', 'new 1\n'])
    },
  )

  asRoot(
    'a parent writable by everyone without the sticky bit; with it, a root-owned path below is fine',
    async () => {
      const dir = tempDir('cutover-sec-')
      mkdirSync(join(dir, 'open/etc'), { recursive: true })
      writeFileSync(join(dir, 'open/etc/a.conf'), 'old\n')
      const target: TxTarget = {
        target: 'open/etc/a.conf',
        path: join(dir, 'open/etc/a.conf'),
        before: sha256('old\n'),
        content: Buffer.from('new\n'),
      }
      chmodSync(join(dir, 'open'), 0o777)
      const err = await commitFiles([target], { stateDir: join(dir, 'state') }).catch((e) => e)
      expect(err.message).toContain(
        `its parent directory ${join(dir, 'open')} (owner root (0)) is writable by every user`,
      )
      chmodSync(join(dir, 'open'), 0o1777)
      await commitFiles([target], { stateDir: join(dir, 'state') })
      expect(readFileSync(target.path, 'utf8')).toBe('new\n')
    },
  )

  asRoot('a group-writable directory of a group other than root', async () => {
    const dir = tempDir('cutover-sec-')
    mkdirSync(join(dir, 'etc'))
    writeFileSync(join(dir, 'etc/a.conf'), 'old\n')
    chownSync(join(dir, 'etc'), 0, NOBODY)
    chmodSync(join(dir, 'etc'), 0o775)
    const target: TxTarget = {
      target: 'etc/a.conf',
      path: join(dir, 'etc/a.conf'),
      before: sha256('old\n'),
      content: Buffer.from('new\n'),
    }
    await expect(commitFiles([target], { stateDir: join(dir, 'state') })).rejects.toThrow(
      `directory ${join(dir, 'etc')} (owner root (0)) is writable by group`,
    )
  })
})

describe('directories another user can write through an ACL', () => {
  asRoot(
    'a named user or group with write in the access ACL of the directory or a parent is refused as root; read-only entries and root by name are not',
    async () => {
      const dir = tempDir('cutover-sec-')
      mkdirSync(join(dir, 'etc/app'), { recursive: true })
      writeFileSync(join(dir, 'etc/app/a.conf'), 'old\n')
      const target: TxTarget = {
        target: 'etc/app/a.conf',
        path: join(dir, 'etc/app/a.conf'),
        before: sha256('old\n'),
        content: Buffer.from('new\n'),
      }
      const acl = (spec: string, path = 'etc/app') =>
        execFileSync('setfacl', ['-b', '-m', spec, join(dir, path)])
      for (const [spec, who] of [
        ['u:nobody:rwx', 'user nobody (65534)'],
        ['g:nogroup:rwx', `group ${'nogroup'} (65534)`],
      ]) {
        acl(spec!)
        await expect(commitFiles([target], { stateDir: join(dir, 'state') })).rejects.toThrow(
          `directory ${join(dir, 'etc/app')} (owner root (0)) is writable by ${who}, who could swap it`,
        )
        execFileSync('setfacl', ['-b', join(dir, 'etc/app')])
      }
      acl('u:nobody:rwx', 'etc')
      await expect(commitFiles([target], { stateDir: join(dir, 'state') })).rejects.toThrow(
        `its parent directory ${join(dir, 'etc')} (owner root (0)) is writable by user nobody (65534)`,
      )
      // read-only for nobody, and write for root by name: fine
      acl('u:nobody:r-x,u:root:rwx', 'etc')
      await commitFiles([target], { stateDir: join(dir, 'state') })
      expect(readFileSync(target.path, 'utf8')).toBe('new\n')
    },
  )
})

describe('temp and restore names', () => {
  it('are random per file, journaled, and a file planted at one is never written through', async () => {
    const s = site()
    const victim = join(s.dir, 'victim/f0.conf')
    let planted = ''
    const fault: FaultHook = (p) => {
      if (p === 'prepared') {
        // the directory's owner learns the restore name (it cannot: it is only in root's journal) and plants a link there
        const j = JSON.parse(
          readFileSync(
            join(s.stateDir, 'tx', readdirSync(join(s.stateDir, 'tx'))[0]!, 'journal.json'),
            'utf8',
          ),
        )
        planted = j.targets[0].restore
        symlinkSync(victim, planted)
      }
      if (p === 'renamed:2') throw injectedError(p, 'EIO')
    }
    const err = await commitFiles(s.targets(), { stateDir: s.stateDir, fault }).catch((e) => e)
    expect(err.code).toBe('EIO')
    const [tx] = await listTransactions(s.stateDir)
    const j = await readTransaction(s.stateDir, tx!.txid)
    const names = j.targets.flatMap((t) => [t.temp, t.restore!])
    expect(new Set(names).size).toBe(4)
    for (const [i, t] of j.targets.entries()) {
      expect(t.temp).toMatch(new RegExp(`/\\.f${i}\\.conf\\.cutover-${tx!.txid}-[0-9a-f]{16}$`))
      expect(t.restore).toMatch(
        new RegExp(`/\\.f${i}\\.conf\\.cutover-${tx!.txid}-[0-9a-f]{16}\\.restore$`),
      )
    }
    expect(planted).toBe(j.targets[0]!.restore)
    expect(readFileSync(victim, 'utf8')).toBe('root owned\n')
    expect(s.files.map((f) => readFileSync(f, 'utf8'))).toEqual(['old 0\n', 'old 1\n'])
    expect(existsSync(planted)).toBe(false)
    expect(await strayTemps(s.conf)).toEqual([])
    rmSync(s.dir, { recursive: true })
  })
})

describe('default ACL of the directory', () => {
  it('a staged file gets exactly the target ACL, or none, whatever the directory passes on', async () => {
    const dir = tempDir('cutover-acl-')
    mkdirSync(join(dir, 'etc'))
    execFileSync('setfacl', ['-d', '-m', 'u:4321:rw', join(dir, 'etc')])
    const plain = join(dir, 'etc/plain.conf')
    const withAcl = join(dir, 'etc/acl.conf')
    writeFileSync(plain, 'old\n', { mode: 0o640 })
    chmodSync(plain, 0o640)
    // made before the default ACL applied to it: its own ACL only
    execFileSync('setfacl', ['-b', plain])
    writeFileSync(withAcl, 'old\n')
    execFileSync('setfacl', ['--set', 'u::rw,u:1111:r,g::r,m::r,o::-', withAcl])
    const aclBefore = execFileSync('getfacl', ['-p', withAcl], { encoding: 'utf8' })
    await commitFiles(
      [plain, withAcl].map((p) => ({
        target: p.slice(dir.length + 1),
        path: p,
        before: sha256('old\n'),
        content: Buffer.from('new secret\n'),
      })),
      { stateDir: join(dir, 'state') },
    )
    expect(readFileSync(plain, 'utf8')).toBe('new secret\n')
    expect(execFileSync('getfacl', ['-p', plain], { encoding: 'utf8' })).not.toContain('4321')
    expect(lstatSync(plain).mode & 0o777).toBe(0o640)
    expect(execFileSync('getfacl', ['-p', withAcl], { encoding: 'utf8' })).toBe(aclBefore)
  })
})

describe('--state-dir', () => {
  const target = (dir: string): TxTarget[] => {
    mkdirSync(join(dir, 'etc'), { recursive: true })
    writeFileSync(join(dir, 'etc/a.conf'), 'old\n')
    return [
      {
        target: 'etc/a.conf',
        path: join(dir, 'etc/a.conf'),
        before: sha256('old\n'),
        content: Buffer.from('new\n'),
      },
    ]
  }
  it('is created 0700 when absent, and an existing one keeps its mode', async () => {
    const dir = tempDir('cutover-state-')
    await commitFiles(target(dir), { stateDir: join(dir, 'new/state') })
    expect(lstatSync(join(dir, 'new/state')).mode & 0o7777).toBe(0o700)
    mkdirSync(join(dir, 'kept'), { mode: 0o755 })
    chmodSync(join(dir, 'kept'), 0o755)
    writeFileSync(join(dir, 'etc/a.conf'), 'old\n')
    await commitFiles(target(dir), { stateDir: join(dir, 'kept') })
    expect(lstatSync(join(dir, 'kept')).mode & 0o7777).toBe(0o755)
  })
  it('refuses a symlink, and a directory writable by others, without changing it', async () => {
    const dir = tempDir('cutover-state-')
    const t = target(dir)
    mkdirSync(join(dir, 'shared'))
    chmodSync(join(dir, 'shared'), 0o1777)
    symlinkSync(join(dir, 'shared'), join(dir, 'link'))
    await expect(commitFiles(t, { stateDir: join(dir, 'link') })).rejects.toThrow(
      `state directory ${join(dir, 'link')} is a symlink: refused`,
    )
    await expect(commitFiles(t, { stateDir: join(dir, 'shared') })).rejects.toThrow(
      `state directory ${join(dir, 'shared')} is writable by every user (mode 1777): refused`,
    )
    await expect(acquireLock(join(dir, 'shared'), 'cutover apply')).rejects.toMatchObject({
      code: 'STATE_DIR',
    })
    expect(lstatSync(join(dir, 'shared')).mode & 0o7777).toBe(0o1777)
    expect(readdirSync(join(dir, 'shared'))).toEqual([])
    expect(readFileSync(join(dir, 'etc/a.conf'), 'utf8')).toBe('old\n')
  })
  asRoot('refuses one owned by another user', async () => {
    const dir = tempDir('cutover-state-')
    mkdirSync(join(dir, 'theirs'), { mode: 0o700 })
    chownSync(join(dir, 'theirs'), NOBODY, NOBODY)
    await expect(commitFiles(target(dir), { stateDir: join(dir, 'theirs') })).rejects.toThrow(
      `state directory ${join(dir, 'theirs')} is owned by uid 65534, not by the user running cutover (uid 0)`,
    )
  })
  asRoot(
    'refuses, as root, one whose parent another user owns (who could swap in other journals), and writes nothing',
    async () => {
      const dir = tempDir('cutover-state-')
      const t = target(dir)
      mkdirSync(join(dir, 'home/lib'), { recursive: true })
      chownSync(join(dir, 'home'), NOBODY, NOBODY)
      const err = await commitFiles(t, { stateDir: join(dir, 'home/lib/cutover') }).catch((e) => e)
      expect(err.code).toBe('STATE_DIR')
      expect(err.message).toContain(
        `state directory ${join(dir, 'home/lib/cutover')}: its parent directory ${join(dir, 'home')} belongs to nobody (65534), who could swap it`,
      )
      await expect(
        acquireLock(join(dir, 'home/lib/cutover'), 'cutover recover'),
      ).rejects.toMatchObject({ code: 'STATE_DIR' })
      // root's parent that another user can write through its ACL
      chownSync(join(dir, 'home'), 0, 0)
      chmodSync(join(dir, 'home'), 0o755)
      await commitFiles(t, { stateDir: join(dir, 'home/lib/cutover') })
      writeFileSync(join(dir, 'etc/a.conf'), 'old\n')
      execFileSync('setfacl', ['-m', 'u:nobody:rwx', join(dir, 'home/lib')])
      await expect(commitFiles(t, { stateDir: join(dir, 'home/lib/cutover') })).rejects.toThrow(
        `its parent directory ${join(dir, 'home/lib')} (owner root (0)) is writable by user nobody (65534)`,
      )
      expect(readFileSync(join(dir, 'etc/a.conf'), 'utf8')).toBe('old\n')
    },
  )
})

describe('stale lock takeover', () => {
  let dead: string | undefined
  const stale = (stateDir: string) => {
    dead ??= execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    })
    writeFileSync(
      join(stateDir, 'lock'),
      JSON.stringify({
        pid: Number(dead),
        host: hostname(),
        started: '2026-11-22T10:00:00.000Z',
        command: 'cutover apply',
      }),
    )
  }
  it('two takers in one process: exactly one holds it, 50 rounds', async () => {
    const stateDir = tempDir('cutover-lock-')
    for (let round = 0; round < 50; round++) {
      stale(stateDir)
      const got = await Promise.allSettled([acquireLock(stateDir, 'a'), acquireLock(stateDir, 'b')])
      const held = got.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
      expect(held, `round ${round}`).toHaveLength(1)
      expect(got.find((r) => r.status === 'rejected')).toMatchObject({
        reason: { name: 'LockError' },
      })
      await held[0]!.release()
      expect(readdirSync(stateDir).filter((n) => n.startsWith('lock'))).toEqual([])
    }
  })
  it('two taker processes started together: never both hold it (6 rounds)', async () => {
    const stateDir = tempDir('cutover-lock-')
    const dist = join(import.meta.dirname, '../dist/transaction/lock.js')
    // each says it is ready, waits for "go" on stdin, tries, says whether it holds the lock, and keeps it until stdin closes
    const code = `import { acquireLock } from ${JSON.stringify(dist)}
process.stdout.write('ready;')
process.stdin.once('data', async () => {
  const r = await acquireLock(${JSON.stringify(stateDir)}, 'taker').then(() => 'held', (e) => e.name)
  process.stdout.write(r + ';')
  process.stdin.resume()
})`
    const said = (k: ReturnType<typeof spawn>, n: number) =>
      new Promise<string>((res) => {
        let out = ''
        k.stdout!.on('data', (d) => {
          out += d
          if (out.split(';').length > n + 1) res(out.split(';')[n]!)
        })
      })
    for (let round = 0; round < 6; round++) {
      stale(stateDir)
      const kids = [0, 1].map(() =>
        spawn(process.execPath, ['--input-type=module', '-e', code], {
          stdio: ['pipe', 'pipe', 'inherit'],
        }),
      )
      const outs = kids.map((k) => said(k, 1))
      // both have loaded the module before either is told to go
      await Promise.all(kids.map((k) => said(k, 0)))
      for (const k of kids) k.stdin.write('go\n')
      const results = await Promise.all(outs)
      for (const k of kids) k.stdin.end()
      await Promise.all(kids.map((k) => new Promise((r) => k.on('exit', r))))
      expect(results.sort(), `round ${round}`).toEqual(['LockError', 'held'])
      rmSync(join(stateDir, 'lock'), { force: true })
    }
  })
})

describe('rollback of a transaction that created a file', () => {
  const created = async () => {
    const dir = tempDir('cutover-rb-')
    mkdirSync(join(dir, 'etc'))
    writeFileSync(join(dir, 'etc/old.conf'), 'old\n')
    const targets: TxTarget[] = [
      {
        target: 'etc/old.conf',
        path: join(dir, 'etc/old.conf'),
        before: sha256('old\n'),
        content: Buffer.from('new\n'),
      },
      {
        target: 'etc/new.conf',
        path: join(dir, 'etc/new.conf'),
        before: 'absent',
        content: Buffer.from('made\n'),
        mode: 0o640,
      },
    ]
    const stateDir = join(dir, 'state')
    await commitFiles(targets, { stateDir })
    return {
      dir,
      stateDir,
      made: join(dir, 'etc/new.conf'),
      state: () =>
        readdirSync(join(dir, 'etc'))
          .sort()
          .map((n) => `${n}=${readFileSync(join(dir, 'etc', n), 'utf8')}`),
    }
  }
  it('removes it', async () => {
    const t = await created()
    const r = await rollbackLast({ stateDir: t.stateDir })
    expect(r.written).toEqual(['etc/old.conf', 'etc/new.conf'])
    expect(t.state()).toEqual(['old.conf=old\n'])
    expect((await listTransactions(t.stateDir)).map((x) => [x.kind, x.state])).toEqual([
      ['apply', 'committed'],
      ['rollback', 'committed'],
    ])
  })
  it('leaves one already removed by hand so', async () => {
    const t = await created()
    rmSync(t.made)
    const r = await rollbackLast({ stateDir: t.stateDir })
    expect(r.written).toEqual(['etc/old.conf'])
    expect(t.state()).toEqual(['old.conf=old\n'])
  })
  it('refuses one changed since unless forced', async () => {
    const t = await created()
    writeFileSync(t.made, 'edited\n')
    await expect(rollbackLast({ stateDir: t.stateDir })).rejects.toThrow(
      /^not rolled back, nothing was written:\n {2}etc\/new\.conf: changed since transaction \S+ \(then sha256:\w+, now sha256:\w+\)\nuse --force/,
    )
    expect(t.state()).toEqual(['new.conf=edited\n', 'old.conf=new\n'])
    await rollbackLast({ stateDir: t.stateDir, force: true })
    expect(t.state()).toEqual(['old.conf=old\n'])
  })
  it('an error after the removal puts the file back', async () => {
    const t = await created()
    const fault: FaultHook = (p) => {
      if (p === 'renamed:2') throw injectedError(p, 'EIO')
    }
    await expect(rollbackLast({ stateDir: t.stateDir, fault })).rejects.toThrow(
      /injected at renamed:2/,
    )
    expect(t.state()).toEqual(['new.conf=made\n', 'old.conf=new\n'])
    expect(lstatSync(t.made).mode & 0o777).toBe(0o640)
    expect((await listTransactions(t.stateDir)).map((x) => [x.kind, x.state])).toEqual([
      ['apply', 'committed'],
      ['rollback', 'rolled-back'],
    ])
  })
})

describe('mount points and full disks', () => {
  const mounted: string[] = []
  afterAll(() => {
    for (const m of mounted.reverse()) execFileSync('umount', [m])
  })
  /** Runs mount; false when this machine does not permit it (a failure under CI). */
  const mount = (args: string[], at: string): boolean => {
    try {
      execFileSync('mount', [...args, at], { stdio: 'pipe' })
    } catch (e) {
      if (process.env.CI === 'true') throw e
      return false
    }
    mounted.push(at)
    return true
  }
  const tree = () => {
    const dir = tempDir('cutover-mnt-')
    mkdirSync(join(dir, 'etc'))
    writeFileSync(join(dir, 'etc/a.conf'), 'old\n')
    writeFileSync(join(dir, 'etc/hosts'), 'old\n')
    writeFileSync(join(dir, 'hosts.outside'), 'old\n')
    const targets = ['etc/a.conf', 'etc/hosts'].map((p): TxTarget => ({
      target: p,
      path: join(dir, p),
      before: sha256('old\n'),
      content: Buffer.from('new\n'),
    }))
    return {
      dir,
      targets,
      state: () =>
        ['etc/a.conf', 'etc/hosts', 'hosts.outside'].map((p) => readFileSync(join(dir, p), 'utf8')),
    }
  }

  asRoot(
    'a file bind-mounted over a target (same file system) is refused before anything is written, naming it',
    async (ctx) => {
      const t = tree()
      if (!mount(['--bind', join(t.dir, 'hosts.outside')], join(t.dir, 'etc/hosts')))
        return ctx.skip()
      const err = await commitFiles(t.targets, { stateDir: join(t.dir, 'state') }).catch((e) => e)
      expect(err.message).toBe(
        'etc/hosts is a mount point (a file mounted over it, as Docker does with /etc/hosts): it cannot be replaced by renaming; nothing was written',
      )
      expect(t.state()).toEqual(['old\n', 'old\n', 'old\n'])
      expect(await listTransactions(join(t.dir, 'state'))).toEqual([])
    },
  )

  asRoot('a file of another file system mounted over a target is refused too', async (ctx) => {
    const t = tree()
    const fs = tempDir('cutover-tmpfs-')
    if (!mount(['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs'], fs)) return ctx.skip()
    writeFileSync(join(fs, 'hosts'), 'old\n')
    if (!mount(['--bind', join(fs, 'hosts')], join(t.dir, 'etc/hosts'))) return ctx.skip()
    await expect(commitFiles(t.targets, { stateDir: join(t.dir, 'state') })).rejects.toThrow(
      /^etc\/hosts is a mount point/,
    )
    expect(readFileSync(join(fs, 'hosts'), 'utf8')).toBe('old\n')
  })

  asRoot('a full disk: the message names the target, never a temp file', async (ctx) => {
    const mnt = tempDir('cutover-full-')
    if (!mount(['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs'], mnt)) return ctx.skip()
    writeFileSync(join(mnt, 'big.conf'), 'old\n')
    const err = await commitFiles(
      [
        {
          target: 'srv/big.conf',
          path: join(mnt, 'big.conf'),
          before: sha256('old\n'),
          content: Buffer.alloc(200 * 1024, 'x'),
        },
      ],
      { stateDir: join(tempDir('cutover-full-state-'), 'state') },
    ).catch((e) => e)
    expect(err.code).toBe('ENOSPC')
    expect(err.message).toBe(
      'srv/big.conf: no space left on its file system (writing its new content beside it)',
    )
    expect(readFileSync(join(mnt, 'big.conf'), 'utf8')).toBe('old\n')
    expect(readdirSync(mnt)).toEqual(['big.conf'])
  })

  asRoot(
    'a full state directory: the message names the target and the state directory',
    async (ctx) => {
      const dir = tempDir('cutover-fullstate-')
      const state = join(dir, 'state')
      mkdirSync(state, { mode: 0o700 })
      if (!mount(['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs'], state)) return ctx.skip()
      writeFileSync(join(dir, 'big.conf'), Buffer.alloc(200 * 1024, 'o'))
      const err = await commitFiles(
        [
          {
            target: 'big.conf',
            path: join(dir, 'big.conf'),
            before: sha256(Buffer.alloc(200 * 1024, 'o')),
            content: Buffer.from('new\n'),
          },
        ],
        { stateDir: state },
      ).catch((e) => e)
      expect(err.message).toBe(
        `big.conf: cannot back it up in the state directory ${state}: no space left on its file system`,
      )
      expect(readFileSync(join(dir, 'big.conf'))).toEqual(Buffer.alloc(200 * 1024, 'o'))
      expect(await strayTemps(dir)).toEqual([])
    },
  )
})

describe('journals of the cutover before directory pins', () => {
  it('are still recovered: restore through the old restore name, temps removed', async () => {
    const dir = tempDir('cutover-old-')
    const txid = '20261201-101010123-0badcafe'
    const path = join(dir, 'etc/a.conf')
    mkdirSync(join(dir, 'etc'))
    mkdirSync(join(dir, 'state/tx', txid, 'backup'), { recursive: true })
    writeFileSync(path, 'new\n')
    writeFileSync(join(dir, 'state/tx', txid, 'backup/0'), 'old\n')
    const temp = join(dir, `etc/.a.conf.cutover-${txid}`)
    writeFileSync(temp, 'new\n')
    writeFileSync(join(dir, `etc/.a.conf.cutover-${txid}.restore`), 'half')
    const target = {
      target: 'etc/a.conf',
      path,
      temp,
      backup: join(dir, 'state/tx', txid, 'backup/0'),
      existed: true,
      before: sha256('old\n'),
      after: sha256('new\n'),
      mode: 0o644,
      uid: 0,
      gid: 0,
    }
    writeFileSync(
      join(dir, 'state/tx', txid, 'journal.json'),
      JSON.stringify({
        txid,
        state: 'prepared',
        created: '2026-12-01T10:10:10.123Z',
        kind: 'apply',
        targets: [target],
      }),
    )
    expect(
      (await recover({ stateDir: join(dir, 'state'), rollBack: txid })).transactions,
    ).toMatchObject([{ was: 'prepared', now: 'rolled-back' }])
    expect(readFileSync(path, 'utf8')).toBe('old\n')
    expect(readdirSync(join(dir, 'etc'))).toEqual(['a.conf'])
  })
})

describe('apply of a plan document', () => {
  asRoot(
    "a user's directory swapped for a link after the plan's targets are resolved: nothing is created through it",
    async () => {
      const root = tempDir('cutover-sec-')
      const site = join(root, 'var/www/site')
      mkdirSync(site, { recursive: true })
      for (const p of [join(root, 'var/www'), site]) chownSync(p, NOBODY, NOBODY)
      const victim = tempDir('cutover-victim-')
      const text = '* * * * * root id\n'
      const doc: PlanDocument = {
        version: 1,
        profile: null,
        root,
        spec: 'cutover.yaml',
        database: [],
        leftovers: [],
        notes: [],
        secrets: [],
        changes: [
          {
            target: 'var/www/site/new.conf',
            kind: 'text',
            before: 'absent',
            after: sha256(text),
            mode: '0644',
            encoding: 'utf8',
            validators: ['swap'],
            allowUserWritable: true,
            diff: '',
            edits: [{ line: 1, col: 1, rule: 'r', summary: '', pass: 0, start: 0, end: 0, text }],
          },
        ],
      }
      // the validator is looked up after every target is resolved and read: the user swaps then
      const validator = (name: string) => {
        renameSync(site, site + '.orig')
        symlinkSync(victim, site)
        return { name, run: async () => undefined }
      }
      const err = await applyPlanDocument(doc, {
        stateDir: join(tempDir('cutover-victim-state-'), 'state'),
        validator,
      }).catch((e) => e)
      expect(err.code).toBe('TARGET_MOVED')
      expect(err.message).toContain(`var/www/site/new.conf: ${site} is now a symlink`)
      expect(readdirSync(victim)).toEqual([])
      expect(readdirSync(site + '.orig')).toEqual([])
    },
  )
})
