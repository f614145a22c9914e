import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  commitFiles,
  listTransactions,
  recover,
  rollbackLast,
  sha256,
  type FaultHook,
  type TxTarget,
} from '../src/index.js'
import { injectedError } from '../src/transaction/fault.js'
import { readTransaction } from '../src/transaction/transaction.js'
import { runBuilt } from './run-built.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * Whole-file changes in one transaction: a file changed, an existing file removed, a new file
 * with its owner and mode in two directories that do not exist yet, and a new symbolic link.
 * Everything or nothing, through errors, crashes, recovery and rollback.
 */

const isRoot = process.getuid?.() === 0
// giving files away needs root: another owner then, this user's own otherwise
const UID = isRoot ? 1234 : process.getuid!()
const GID = isRoot ? 4321 : process.getgid!()
const haveXattr = (() => {
  try {
    execFileSync('setfattr', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return process.env.CI === 'true'
  }
})()

const cleanups: Array<() => void> = []
afterEach(() => {
  while (cleanups.length) cleanups.pop()!()
})

function tree() {
  const dir = tempDir('cutover-whole-')
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const p = (...s: string[]) => join(dir, 'etc', ...s)
  const reset = () => {
    rmSync(join(dir, 'etc'), { recursive: true, force: true })
    mkdirSync(join(dir, 'etc'))
    writeFileSync(p('keep.conf'), 'keep old\n')
    writeFileSync(p('gone.conf'), 'gone\n', { mode: 0o640 })
    chmodSync(p('gone.conf'), 0o640)
    chownSync(p('gone.conf'), UID, GID)
    if (haveXattr) execFileSync('setfattr', ['-n', 'user.kept', '-v', 'yes', p('gone.conf')])
  }
  reset()
  const owner = { uid: UID, gid: GID }
  const newD = { path: p('new.d'), mode: 0o750, ...owner }
  const targets: TxTarget[] = [
    {
      target: 'etc/keep.conf',
      path: p('keep.conf'),
      before: sha256('keep old\n'),
      content: Buffer.from('keep new\n'),
    },
    {
      target: 'etc/gone.conf',
      path: p('gone.conf'),
      before: sha256('gone\n'),
      content: Buffer.alloc(0),
      remove: true,
    },
    {
      target: 'etc/new.d/sub/new.conf',
      path: p('new.d', 'sub', 'new.conf'),
      before: 'absent',
      content: Buffer.from('new\n'),
      mode: 0o600,
      owner,
      dirs: [newD, { path: p('new.d', 'sub'), mode: 0o700, ...owner }],
    },
    {
      target: 'etc/new.d/link',
      path: p('new.d', 'link'),
      before: 'absent',
      content: Buffer.alloc(0),
      symlink: '../keep.conf',
      owner,
      dirs: [newD],
    },
  ]
  /** What the tree holds: every name under etc/ with its type, content, mode and owner. */
  const snapshot = () => {
    const out: Record<string, string> = {}
    const walk = (rel: string) => {
      for (const name of readdirSync(join(dir, 'etc', rel)).sort()) {
        const r = rel ? `${rel}/${name}` : name
        const st = lstatSync(join(dir, 'etc', r))
        const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
        if (st.isSymbolicLink())
          out[r] = `link ${readlinkSync(join(dir, 'etc', r))} ${st.uid}:${st.gid}`
        else if (st.isDirectory()) {
          out[r] = `dir ${meta}`
          walk(r)
        } else out[r] = `${readFileSync(join(dir, 'etc', r), 'utf8')}${meta}`
      }
    }
    walk('')
    if (haveXattr && existsSync(p('gone.conf')))
      out.xattr = execFileSync('getfattr', ['-n', 'user.kept', '--only-values', p('gone.conf')], {
        encoding: 'utf8',
      })
    return out
  }
  const before = snapshot()
  const after = {
    'keep.conf': `keep new\n${(lstatSync(p('keep.conf')).mode & 0o7777).toString(8)} ${process.getuid!()}:${process.getgid!()}`,
    'new.d': `dir 750 ${UID}:${GID}`,
    'new.d/link': `link ../keep.conf ${UID}:${GID}`,
    'new.d/sub': `dir 700 ${UID}:${GID}`,
    'new.d/sub/new.conf': `new\n600 ${UID}:${GID}`,
  }
  return { dir, p, reset, targets, snapshot, before, after, stateDir: join(dir, 'state') }
}

const throwAt =
  (point: string): FaultHook =>
  (p) => {
    if (p === point) throw injectedError(p, 'EIO')
  }

describe('a transaction of whole files', () => {
  it('removes a file, makes a file with its owner and mode, its directories and a link; rollback puts all back', async () => {
    const t = tree()
    expect(t.before).toMatchObject({ 'gone.conf': `gone\n640 ${UID}:${GID}` })
    const r = await commitFiles(t.targets, { stateDir: t.stateDir })
    expect(r.warnings).toEqual([])
    expect(t.snapshot()).toEqual(t.after)
    // the directories are journaled, with their pins, and the link with its text
    const j = await readTransaction(t.stateDir, r.txid)
    expect(j.dirs?.map((d) => [d.path, d.mode, !!d.pin, !!d.parentPin])).toEqual([
      [t.p('new.d'), 0o750, true, true],
      [t.p('new.d', 'sub'), 0o700, true, true],
    ])
    expect(j.targets[3]).toMatchObject({ link: '../keep.conf', after: sha256('../keep.conf') })
    expect(j.targets[1]).toMatchObject({ existed: true, after: 'absent' })

    const back = await rollbackLast({ stateDir: t.stateDir })
    expect(back.warnings).toEqual([])
    // the removed file back with its bytes, mode, owner and attributes; the new ones gone
    expect(t.snapshot()).toEqual(t.before)
    expect(await readTransaction(t.stateDir, back.txid)).not.toHaveProperty('removeDirs')
  })

  it('the same through a file system given to it (rollback reading the links there too)', async () => {
    const t = tree()
    const { localFileSystem } = await import('../src/index.js')
    await commitFiles(t.targets, { stateDir: t.stateDir, fileSystem: localFileSystem })
    expect(t.snapshot()).toEqual(t.after)
    await rollbackLast({ stateDir: t.stateDir, fileSystem: localFileSystem })
    expect(t.snapshot()).toEqual(t.before)
  })

  it('a rollback leaves a directory it made that is not empty, and says so', async () => {
    const t = tree()
    await commitFiles(t.targets, { stateDir: t.stateDir })
    writeFileSync(t.p('new.d', 'sub', 'mine'), 'put there by hand\n')
    const back = await rollbackLast({ stateDir: t.stateDir })
    expect(back.warnings).toEqual([
      `directory ${t.p('new.d', 'sub')} (made for etc/new.d/sub/new.conf) was left: it is not empty`,
      `directory ${t.p('new.d')} (made for etc/new.d/sub/new.conf) was left: it is not empty`,
    ])
    expect(existsSync(t.p('new.d', 'sub', 'new.conf'))).toBe(false)
    expect(existsSync(t.p('new.d', 'link'))).toBe(false)
    expect(readFileSync(t.p('gone.conf'), 'utf8')).toBe('gone\n')
  })

  it.each([
    'mkdir:1',
    'mkdir:2',
    'dirs-made',
    'stage-write:3',
    'staged:4',
    'validated',
    'backed-up:2',
    'prepared',
    'renamed:1',
    'renamed:2',
    'renamed:3',
    'renamed:4',
    'before-commit',
  ])(
    'an error at %s leaves everything as before: no directory, link or temp made',
    async (point) => {
      const t = tree()
      await expect(
        commitFiles(t.targets, { stateDir: t.stateDir, fault: throwAt(point) }),
      ).rejects.toThrow(/injected/)
      expect(t.snapshot()).toEqual(t.before)
    },
  )

  it.runIf(haveXattr)(
    'a new file in a new directory gets no ACL from the default ACL its directory inherits',
    async () => {
      const t = tree()
      execFileSync('setfacl', ['-d', '-m', 'u:5555:rw', t.p()])
      const [, , file] = t.targets
      await commitFiles([file!], { stateDir: t.stateDir })
      const acl = (p: string) => execFileSync('getfacl', ['-p', p], { encoding: 'utf8' })
      // the directory made carries the default on, as any directory made there would
      expect(acl(t.p('new.d', 'sub'))).toContain('default:user:5555:rw-')
      expect(acl(t.p('new.d', 'sub', 'new.conf'))).not.toContain('5555')
      expect(lstatSync(t.p('new.d', 'sub', 'new.conf')).mode & 0o777).toBe(0o600)
    },
  )

  it('refuses a link where something is, and a directory to make where a file is', async () => {
    const t = tree()
    const [, , file, link] = t.targets
    await expect(
      commitFiles([{ ...link!, before: sha256('x') }], { stateDir: t.stateDir }),
    ).rejects.toMatchObject({ code: 'TARGET' })
    writeFileSync(t.p('new.d'), 'a file\n')
    await expect(commitFiles([file!], { stateDir: t.stateDir })).rejects.toThrow(
      /new\.d is in the way of its directory/,
    )
    rmSync(t.p('new.d'))
    // a link there since the plan: stale, nothing written
    mkdirSync(t.p('new.d'))
    writeFileSync(t.p('new.d', 'link'), 'a file\n')
    await expect(commitFiles([link!], { stateDir: t.stateDir })).rejects.toThrow(
      /changed while applying/,
    )
    expect(readFileSync(t.p('new.d', 'link'), 'utf8')).toBe('a file\n')
  })
})

describe('whole files after a real crash (SIGKILL)', () => {
  const applyCode = (t: ReturnType<typeof tree>) =>
    `await tx.commitFiles(${JSON.stringify(
      t.targets.map((x) => ({ ...x, content: x.content.toString() })),
    )}.map((x) => ({ ...x, content: Buffer.from(x.content) })), { stateDir: ${JSON.stringify(t.stateDir)} })`

  it.each([
    'mkdir:1',
    'mkdir:2',
    'dirs-made',
    'staged:3',
    'backed-up:2',
    'prepared',
    'renamed:1',
    'renamed:2',
    'renamed:3',
    'before-commit',
  ])('killed at %s: recover leaves all before or all after', async (point) => {
    const t = tree()
    expect(runBuilt(t.dir, applyCode(t), { CUTOVER_FAULT_INJECT: point })).toBe('SIGKILL')
    const report = await recover({ stateDir: t.stateDir })
    expect(report.warnings).toBeUndefined()
    const now = t.snapshot()
    if (point === 'before-commit') expect(now).toEqual(t.after)
    else expect(now).toEqual(t.before)
    expect((await recover({ stateDir: t.stateDir })).transactions).toEqual([])
  })

  it('killed during its own recovery: recovered again, to before', async () => {
    const t = tree()
    expect(runBuilt(t.dir, applyCode(t), { CUTOVER_FAULT_INJECT: 'renamed:3' })).toBe('SIGKILL')
    const rec = `await tx.recover({ stateDir: ${JSON.stringify(t.stateDir)} })`
    expect(runBuilt(t.dir, rec, { CUTOVER_FAULT_INJECT: 'recover:2' })).toBe('SIGKILL')
    expect(readFileSync(t.p('gone.conf'), 'utf8')).toBe('gone\n')
    expect(existsSync(t.p('new.d', 'sub', 'new.conf'))).toBe(true)
    // the new file removed, then killed after the first directory is removed
    expect(runBuilt(t.dir, rec, { CUTOVER_FAULT_INJECT: 'rmdir:1' })).toBe('SIGKILL')
    expect(existsSync(t.p('new.d', 'sub'))).toBe(false)
    expect(existsSync(t.p('new.d'))).toBe(true)
    expect((await recover({ stateDir: t.stateDir })).transactions).toMatchObject([
      { was: 'prepared', now: 'rolled-back' },
    ])
    expect(t.snapshot()).toEqual(t.before)
  })

  it('a rollback killed once committed, before removing the directories: recover removes them', async () => {
    const t = tree()
    await commitFiles(t.targets, { stateDir: t.stateDir })
    const rb = `await tx.rollbackLast({ stateDir: ${JSON.stringify(t.stateDir)} })`
    expect(runBuilt(t.dir, rb, { CUTOVER_FAULT_INJECT: 'committed' })).toBe('SIGKILL')
    expect(existsSync(t.p('new.d', 'sub'))).toBe(true)
    expect(existsSync(t.p('new.d', 'sub', 'new.conf'))).toBe(false)
    await recover({ stateDir: t.stateDir })
    expect(t.snapshot()).toEqual(t.before)
    const list = await listTransactions(t.stateDir)
    expect(list.map((x) => [x.kind, x.state])).toEqual([
      ['apply', 'committed'],
      ['rollback', 'committed'],
    ])
  })
})
