import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  askEach,
  commitFiles,
  localFileSystem,
  recover,
  rollbackLast,
  sha256,
  type NewFileMeta,
  type PinnedDir,
  type TxAnswer,
  type TxFileSystem,
  type TxQuery,
  type TxTarget,
} from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { localExec, remoteFileSystem } from '../src/index.js'
import { commitInChild, haveSftpServer, startSftp, type ServerSession } from './sftp-server.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The remote file system over the real sftp-server (spawned over pipes, as ssh would give it) and
 * a local shell: the machine is this one, so every answer can be compared with rewrite's local
 * file system on the same temporary tree.
 */

/** getfattr/setfattr and setfacl (under CI=true their absence fails the tests). */
const haveXattrTools = need('getfattr') && need('setfattr') && need('setfacl')

/** Whether this process may make a file immutable and bind-mount a directory read-only (root with the capabilities). */
function canChattrAndMount(dir: string): boolean {
  const probe = join(dir, '.probe')
  writeFileSync(probe, '')
  const ok = spawnSync('chattr', ['+i', probe]).status === 0
  spawnSync('chattr', ['-i', probe])
  rmSync(probe)
  return need('chattr') && ok && spawnSync('mount', ['--version']).status === 0
}

const errorOf = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: NodeJS.ErrnoException) => ({ code: e.code, name: e.name, message: e.message }),
  )

describe.runIf(haveSftpServer)('remoteFileSystem over sftp-server and a shell', () => {
  let s: ServerSession
  let remote: TxFileSystem
  let dir: string
  const local = localFileSystem

  beforeAll(async () => {
    s = await startSftp()
    remote = remoteFileSystem({ sftp: s.client, exec: localExec, label: 'here:' })
  })
  afterAll(async () => {
    await s.client.end()
  })
  afterEach(() => {
    spawnSync('sh', ['-c', `chattr -R -i ${JSON.stringify(dir)} 2>/dev/null`])
    rmSync(dir, { recursive: true, force: true })
  })
  const tree = () => {
    dir = realpathSync(tempDir('cutover-rfs-'))
    mkdirSync(join(dir, 'etc', 'sub'), { recursive: true })
    writeFileSync(join(dir, 'etc', 'f.conf'), 'content\n', { mode: 0o640 })
    symlinkSync('f.conf', join(dir, 'etc', 'link'))
    symlinkSync('nowhere', join(dir, 'etc', 'dangling'))
    return dir
  }
  /** The same call on both file systems gives the same answer (or the same error code). */
  const same = async <T>(call: (fs: TxFileSystem) => Promise<T>) => {
    const want = await call(local).catch((e: NodeJS.ErrnoException) => ({
      error: e.code ?? e.name,
    }))
    const got = await call(remote).catch((e: NodeJS.ErrnoException) => ({
      error: e.code ?? e.name,
    }))
    expect(got).toEqual(want)
    return got
  }

  it('answers identity, lstat, realpath and mountPoints as the local file system does', async () => {
    const d = tree()
    await same((fs) => fs.identity())
    for (const p of ['etc', 'etc/f.conf', 'etc/link', 'etc/dangling', 'etc/none', 'etc/f.conf/x'])
      await same((fs) => fs.lstat(join(d, p)))
    expect(await remote.lstat(join(d, 'etc', 'link'))).toMatchObject({ type: 'symlink' })
    for (const p of ['etc/link', 'etc/sub/../f.conf', 'etc', 'etc/none', 'etc/dangling', 'none/x'])
      await same((fs) => fs.realpath(join(d, p)))
    await expect(remote.realpath(join(d, 'etc/none'))).rejects.toMatchObject({ code: 'ENOENT' })
    const mounts = await same((fs) => fs.mountPoints())
    expect(mounts).toBeInstanceOf(Set)
    expect(mounts).toContain('/')
  })

  it('pins directories with the same dev:ino strings and sees a swapped one as the local one does', async () => {
    const d = tree()
    const sub = join(d, 'etc', 'sub')
    const pin = await same((fs) => fs.pinDir(sub))
    expect(pin).toEqual(expect.arrayContaining([expect.stringMatching(/^\d+:\d+$/)]))
    expect(await remote.pinChanged(sub, pin as string[])).toBeUndefined()
    // replaced by another directory of the same name
    renameSync(sub, join(d, 'etc', 'old'))
    mkdirSync(sub)
    const why = await same((fs) => fs.pinChanged(sub, pin as string[]))
    expect(why).toBe(`${sub} was replaced since it was checked`)
    // a symlink in its place, a file, nothing
    rmSync(sub, { recursive: true })
    symlinkSync('old', sub)
    expect(await same((fs) => fs.pinChanged(sub, pin as string[]))).toMatch(/now a symlink/)
    await same((fs) => fs.pinDir(sub))
    rmSync(sub)
    expect(await same((fs) => fs.pinChanged(sub, pin as string[]))).toMatch(/no longer exists/)
    writeFileSync(sub, '')
    expect(await same((fs) => fs.pinChanged(sub, pin as string[]))).toMatch(/no longer a directory/)
  })

  it('finds the same user-writable directories and ACL candidates, with the same message', async () => {
    const d = tree()
    const sub = join(d, 'etc', 'sub')
    expect(await same((fs) => fs.userWritableDir(sub, 0, new Map()))).toBeUndefined()
    chmodSync(sub, 0o777)
    expect(await same((fs) => fs.userWritableDir(sub, 0, new Map()))).toMatch(/every user/)
    chmodSync(sub, 0o775)
    chownSync(sub, 0, 1234)
    expect(await same((fs) => fs.userWritableDir(sub, 0, new Map()))).toMatch(/group gid 1234/)
    chownSync(sub, 65534, 0)
    expect(await same((fs) => fs.userWritableDir(sub, 0, new Map()))).toMatch(/nobody \(65534\)/)
    expect(await same((fs) => fs.userWritableDir(sub, 65534, new Map()))).toBeUndefined()
    const candidates = await same((fs) => fs.aclCandidates([sub, join(d, 'etc')]))
    expect(candidates).toContain(sub)
  })

  it.runIf(haveXattrTools)(
    'reads extended attributes and ACLs as the local file system does',
    async () => {
      const d = tree()
      const f = join(d, 'etc', 'f.conf')
      execFileSync('setfattr', ['-n', 'user.cutover', '-v', 'value with spaces', f])
      execFileSync('setfacl', ['-m', 'u:1234:rw', f])
      expect(await same((fs) => fs.xattrsAvailable())).toBe(true)
      const got = await same((fs) =>
        fs.readXattrs([f, join(d, 'etc', 'sub'), join(d, 'etc', 'none')]),
      )
      expect((got as Map<string, Map<string, string>>).get(f)?.has('system.posix_acl_access')).toBe(
        true,
      )
      expect((got as Map<string, Map<string, string>>).get(f)?.has('user.cutover')).toBe(true)
    },
  )

  it.runIf(haveXattrTools)(
    "refuses a getfattr whose exit code 1 is not a file gone (busybox's usage, permission denied, nothing said): attributes read as none would be dropped",
    async () => {
      const d = tree()
      const etc = join(d, 'etc')
      const bin = join(d, 'bin')
      mkdirSync(bin)
      // the machine's getfattr is this script; its other tools are the real ones
      const fs = remoteFileSystem({
        sftp: s.client,
        exec: (script, o) => localExec(`PATH='${bin}':$PATH\n${script}`, o),
        label: 'here:',
      })
      expect(await fs.xattrsAvailable()).toBe(true)
      for (const say of [
        'echo "Usage: getfattr [-h] [-d] [-n ATTR] FILE..." >&2',
        'echo "getfattr: ${9}: Permission denied" >&2',
        ':',
      ]) {
        writeFileSync(join(bin, 'getfattr'), `#!/bin/sh\n${say}\nexit 1\n`, { mode: 0o755 })
        await expect(fs.readXattrs([join(etc, 'f.conf')])).rejects.toThrow(/^here:getfattr: /)
        await expect(fs.userWritableNow(join(etc, 'sub'), 0)).rejects.toThrow(/^here:getfattr: /)
      }
      // a file gone since it was looked at is still no attribute
      writeFileSync(
        join(bin, 'getfattr'),
        '#!/bin/sh\necho "getfattr: ${9}: No such file or directory" >&2\nexit 1\n',
        { mode: 0o755 },
      )
      expect(await fs.readXattrs([join(etc, 'gone')])).toEqual(new Map())
    },
  )

  it('answers a batch of reads (ask) with one command, each as its single call and as the local file system do', async () => {
    const d = tree()
    const etc = join(d, 'etc')
    const sub = join(etc, 'sub')
    // names a shell or a line-based reader would split
    const odd = join(etc, "new\nline 'quoted' -x")
    mkdirSync(odd)
    writeFileSync(join(odd, 'f'), 'x')
    mkdirSync(join(etc, 'open'), { mode: 0o777 })
    chmodSync(join(etc, 'open'), 0o777)
    const subPin = await local.pinDir(sub)
    const paths = ['etc', 'etc/f.conf', 'etc/link', 'etc/dangling', 'etc/none', 'etc/f.conf/x']
      .map((p) => join(d, p))
      .concat(join(odd, 'f'), join(odd, 'none'))
    const acls = new Map<string, string>()
    const queries: TxQuery[] = [
      ...paths.map((path): TxQuery => ({ op: 'lstat', path })),
      // (a file on the way: sftp-server's realpath says ENOENT where the local one says ENOTDIR)
      ...paths
        .filter((p) => !p.endsWith('f.conf/x'))
        .map((path): TxQuery => ({ op: 'realpath', path })),
      { op: 'probeWritable', path: join(etc, 'f.conf'), exists: true },
      { op: 'probeWritable', path: join(etc, 'new'), exists: false },
      { op: 'probeWritable', path: join(d, 'none', 'new'), exists: false },
      ...[sub, odd, join(etc, 'link'), join(etc, 'none'), join(etc, 'f.conf')].map(
        (dir): TxQuery => ({ op: 'pinDir', dir }),
      ),
      { op: 'pinChanged', dir: sub, pin: subPin },
      { op: 'pinChanged', dir: sub, pin: [...subPin.slice(0, -1), '1:1'] },
      { op: 'pinChanged', dir: join(etc, 'link'), pin: undefined },
      { op: 'pinChanged', dir: odd, pin: undefined },
      { op: 'userWritableDir', dir: sub, owner: 0, acls },
      { op: 'userWritableDir', dir: join(etc, 'open'), owner: 0, acls },
      { op: 'userWritableDir', dir: join(etc, 'none'), owner: 0, acls },
    ]
    const plain = (answers: TxAnswer[]) =>
      answers.map((a) =>
        a.ok ? a.value : { error: (a.error as NodeJS.ErrnoException).code ?? String(a.error) },
      )
    let commands = 0
    const counted: typeof localExec = (script, options) => {
      commands++
      return localExec(script, options)
    }
    const batched = remoteFileSystem({ sftp: s.client, exec: counted, label: 'here:' })
    const got = plain(await batched.ask!(queries))
    expect(commands).toBe(1)
    expect(got).toEqual(plain(await askEach(remote, queries)))
    expect(got).toEqual(plain(await askEach(local, queries)))
    // the answers are not all alike: a file, a missing one, a refusal, a swapped pin
    expect(got[1]).toMatchObject({ type: 'file' })
    expect(got[4]).toBeUndefined()
    expect(got.filter((a) => typeof a === 'string' && /replaced since/.test(a))).toHaveLength(1)
    expect(got.at(-2)).toMatch(/every user/)
  })

  it("reads each path once for every walk made through readTogether's view, and anew outside it", async () => {
    const d = tree()
    mkdirSync(join(d, 'etc', 'app'), { recursive: true })
    writeFileSync(join(d, 'etc', 'app', 'a.conf'), 'a\n')
    const app = join(d, 'etc', 'app')
    let commands = 0
    const counted: typeof localExec = (script, options) => {
      commands++
      return localExec(script, options)
    }
    const fs = remoteFileSystem({ sftp: s.client, exec: counted, label: 'here:' })
    const acls = new Map<string, string>()
    const alone = {
      pin: await remote.pinDir(app),
      acl: await remote.aclCandidates([app]),
      writable: await remote.userWritableDir(app, 0, acls),
      lstat: await remote.lstat(join(app, 'a.conf')),
    }
    commands = 0
    let kept: TxFileSystem | undefined
    const together = await fs.readTogether!(async (v) => {
      kept = v
      const pin = await v.pinDir(app)
      // the directories on the way to etc/app are read: only the file is new
      const lstat = await v.lstat(join(app, 'a.conf'))
      const [ask] = await v.ask!([{ op: 'pinChanged', dir: app, pin }])
      return {
        pin,
        acl: await v.aclCandidates([app, join(d, 'etc')]),
        writable: await v.userWritableDir(app, 0, acls),
        lstat,
        ask,
      }
    })
    expect(commands).toBe(2)
    expect(together).toEqual({ ...alone, ask: { ok: true, value: undefined } })
    // after it, each walk reads anew, through the view kept too
    await fs.pinDir(app)
    await fs.pinDir(app)
    await kept!.pinDir(app)
    expect(commands).toBe(5)
  })

  it('fails a stat command whose answer is cut short or not a stat, never reading it as a fact', async () => {
    const d = tree()
    const f = join(d, 'etc', 'f.conf')
    chownSync(f, 1234, 4321)
    /** The remote file system with the machine's answers to its stat commands changed by `edit`. */
    const answering = (edit: (stdout: string) => string) =>
      remoteFileSystem({
        sftp: s.client,
        label: 'here:',
        exec: async (script, options) => {
          const r = await localExec(script, options)
          if (!script.includes('stat --printf')) return r
          return { ...r, stdout: Buffer.from(edit(r.stdout.toString('utf8')), 'utf8') }
        },
      })
    // the answer as it comes: the file's owner
    expect(await answering((o) => o).lstat(f)).toMatchObject({ uid: 1234, gid: 4321 })
    // cut inside the last number (a session lost mid-answer): not another group
    await expect(answering((o) => o.slice(0, -3)).lstat(f)).rejects.toThrow(
      /stat of 1 paths failed/,
    )
    // a record that is not a stat, holding the words of a missing file: not a missing file
    await expect(answering(() => `${f}\0+No such file or directory\0`).lstat(f)).rejects.toThrow(
      /stat of 1 paths failed/,
    )
    // a pin walk fails the same way rather than pin what it could not read
    await expect(answering((o) => o.slice(0, -1)).pinDir(join(d, 'etc'))).rejects.toThrow(
      /stat of \d+ paths failed/,
    )
  })

  it("reads a failed stat's errno from the end of its message, not from the path it quotes", async () => {
    const d = tree()
    // a directory on the way not searchable (as a user that is not root), its name holding
    // the words of another errno
    const f = join(d, 'No such file or directory', 'f.conf')
    const fs = remoteFileSystem({
      sftp: s.client,
      label: 'here:',
      exec: async (script, options) => {
        const r = await localExec(script, options)
        if (!script.includes('stat --printf')) return r
        const why = `stat: cannot statx '${f}': Permission denied`
        return { ...r, stdout: Buffer.from(`${f}\0-${why}\0`, 'utf8') }
      },
    })
    expect(await errorOf(fs.lstat(f))).toMatchObject({ code: 'EACCES' })
  })

  it('probes writability with the errno the local file system gives', async () => {
    const d = tree()
    const f = join(d, 'etc', 'f.conf')
    await same((fs) => fs.probeWritable(f, true))
    await same((fs) => fs.probeWritable(join(d, 'etc', 'new'), false))
    expect(await same((fs) => fs.probeWritable(join(d, 'none', 'new'), false))).toEqual({
      error: 'ENOENT',
    })
  })

  it('probes an immutable file (EPERM) and a read-only mount (EROFS) as the local one does', async (ctx) => {
    const d = tree()
    if (!canChattrAndMount(d)) return ctx.skip()
    const f = join(d, 'etc', 'f.conf')
    execFileSync('chattr', ['+i', f])
    expect(await same((fs) => fs.probeWritable(f, true))).toEqual({ error: 'EPERM' })
    execFileSync('chattr', ['-i', f])
    const ro = join(d, 'ro')
    mkdirSync(ro)
    writeFileSync(join(d, 'etc', 'sub', 'x'), 'x')
    execFileSync('mount', ['--bind', '-o', 'ro', join(d, 'etc', 'sub'), ro])
    try {
      expect(await same((fs) => fs.probeWritable(join(ro, 'x'), true))).toEqual({ error: 'EROFS' })
    } finally {
      execFileSync('umount', [ro])
    }
  })

  it('reads, creates, renames and removes in a pinned directory; refuses all of it once the directory is swapped', async () => {
    const d = tree()
    const etc = join(d, 'etc')
    const at: PinnedDir = { dir: etc, pin: await remote.pinDir(etc), target: 'etc/f.conf' }
    expect((await remote.readPinned(at, 'f.conf')) as Buffer).toEqual(Buffer.from('content\n'))
    expect(await remote.readPinned(at, 'link')).toBe('symlink')
    expect(await remote.readPinned(at, 'dangling')).toBe('symlink')
    expect(await remote.readPinned(at, 'none')).toBeUndefined()

    let opened = 0
    const meta: NewFileMeta = {
      uid: 1234,
      gid: 4321,
      mode: 0o4751,
      xattrs: haveXattrTools ? new Map([['user.k', '0sAAEC']]) : undefined,
      dropAcl: false,
      opening: () => opened++,
    }
    const data = Buffer.concat([Buffer.from('new\n'), Buffer.alloc(3 << 20, 7)])
    await remote.createPinned(at, 'f.conf.tmp', data, meta)
    expect(opened).toBe(1)
    const st = statSync(join(etc, 'f.conf.tmp'))
    expect([st.uid, st.gid, st.mode & 0o7777, st.size]).toEqual([1234, 4321, 0o4751, data.length])
    expect(readFileSync(join(etc, 'f.conf.tmp')).equals(data)).toBe(true)
    if (haveXattrTools)
      expect(
        execFileSync('getfattr', [
          '-n',
          'user.k',
          '-e',
          'base64',
          '--absolute-names',
          join(etc, 'f.conf.tmp'),
        ]).toString(),
      ).toContain('user.k=0sAAEC')
    // exclusive: never over anything, a link included
    await expect(remote.createPinned(at, 'f.conf.tmp', data, meta)).rejects.toMatchObject({
      code: 'EEXIST',
    })
    await expect(remote.createPinned(at, 'dangling', data, meta)).rejects.toMatchObject({
      code: 'EEXIST',
    })
    expect(existsSync(join(etc, 'nowhere'))).toBe(false)

    await remote.renamePinned(at, 'f.conf.tmp', 'f.conf')
    expect(readFileSync(join(etc, 'f.conf')).equals(data)).toBe(true)
    expect(existsSync(join(etc, 'f.conf.tmp'))).toBe(false)
    await remote.fsyncDir(etc)
    await expect(remote.fsyncDir(join(d, 'none'))).rejects.toMatchObject({ code: 'ENOENT' })
    await remote.unlinkPinned(at, 'link')
    expect(existsSync(join(etc, 'f.conf'))).toBe(true)
    expect(() => lstatSync(join(etc, 'link'))).toThrow()
    await remote.unlinkPinned(at, 'link', { missingOk: true })
    await expect(remote.unlinkPinned(at, 'link')).rejects.toMatchObject({ code: 'ENOENT' })

    // the directory swapped for another of the same name: every pinned operation refuses, doing nothing
    renameSync(etc, join(d, 'etc.old'))
    mkdirSync(etc)
    writeFileSync(join(etc, 'f.conf'), 'decoy')
    const moved = { name: 'CutoverError', code: 'TARGET_MOVED' }
    await expect(remote.readPinned(at, 'f.conf')).rejects.toMatchObject(moved)
    await expect(remote.createPinned(at, 'x', data, meta)).rejects.toMatchObject(moved)
    await expect(remote.renamePinned(at, 'f.conf', 'y')).rejects.toMatchObject(moved)
    await expect(remote.unlinkPinned(at, 'f.conf')).rejects.toMatchObject(moved)
    // called before each of the two refused creations above, never after the swap
    expect(opened).toBe(3)
    expect(readdirSync(etc)).toEqual(['f.conf'])
    expect(readFileSync(join(etc, 'f.conf'), 'utf8')).toBe('decoy')
    // the local file system says the same
    const why = await errorOf(remote.readPinned(at, 'f.conf'))
    expect(why).toEqual(await errorOf(local.readPinned(at, 'f.conf')))
  })
  it('makes links and directories in a pinned directory, with their owner and mode, as the local file system does', async () => {
    const d = tree()
    const etc = join(d, 'etc')
    const at: PinnedDir = { dir: etc, pin: await remote.pinDir(etc), target: 'etc/new' }
    const owner = { uid: 1234, gid: 4321 }
    for (const [fs, n] of [
      [local, 'l'],
      [remote, 'r'],
    ] as const) {
      // the link's text is stored as given: the OpenSSH order of SSH_FXP_SYMLINK's two paths
      await fs.symlinkPinned(at, `${n}.link`, '../some where/f.conf', owner)
      await fs.mkdirPinned(at, `${n}.dir`, { uid: 1234, gid: 4321, mode: 0o2751 })
      await fs.mkdirPinned(at, `${n}.own`, { uid: 0, gid: 0, mode: 0o700 })
    }
    for (const n of ['l', 'r']) {
      const link = lstatSync(join(etc, `${n}.link`))
      expect(link.isSymbolicLink()).toBe(true)
      expect([link.uid, link.gid]).toEqual([1234, 4321])
      const dir = lstatSync(join(etc, `${n}.dir`))
      expect([dir.isDirectory(), dir.uid, dir.gid, dir.mode & 0o7777]).toEqual([
        true,
        1234,
        4321,
        0o2751,
      ])
      expect(lstatSync(join(etc, `${n}.own`)).mode & 0o7777).toBe(0o700)
    }
    expect(readlinkSync(join(etc, 'r.link'))).toBe('../some where/f.conf')
    await same((fs) => fs.readlinkPinned(at, 'r.link'))
    expect(await remote.readlinkPinned(at, 'l.link')).toBe('../some where/f.conf')
    expect(await same((fs) => fs.readlinkPinned(at, 'none'))).toBeUndefined()
    expect(await same((fs) => fs.readlinkPinned(at, 'f.conf'))).toEqual({ error: 'EINVAL' })
    // exclusive, never through a link
    expect(await same((fs) => fs.symlinkPinned(at, 'dangling', 'x', owner))).toEqual({
      error: 'EEXIST',
    })
    expect(await same((fs) => fs.mkdirPinned(at, 'f.conf', { ...owner, mode: 0o755 }))).toEqual({
      error: 'EEXIST',
    })
    expect(readlinkSync(join(etc, 'dangling'))).toBe('nowhere')
    // removal of empty directories only
    writeFileSync(join(etc, 'r.dir', 'x'), '')
    writeFileSync(join(etc, 'l.dir', 'x'), '')
    expect(await same((fs) => fs.rmdirPinned(at, 'r.dir'))).toEqual({
      error: 'ENOTEMPTY',
    })
    expect(existsSync(join(etc, 'r.dir', 'x'))).toBe(true)
    await remote.rmdirPinned(at, 'r.own')
    await local.rmdirPinned(at, 'l.own')
    expect([existsSync(join(etc, 'r.own')), existsSync(join(etc, 'l.own'))]).toEqual([false, false])
    expect(await same((fs) => fs.rmdirPinned(at, 'r.own'))).toEqual({ error: 'ENOENT' })
    await same((fs) => fs.rmdirPinned(at, 'r.own', { missingOk: true }))

    // the directory swapped: nothing made or removed in either
    renameSync(etc, join(d, 'etc.old'))
    mkdirSync(etc)
    mkdirSync(join(etc, 'empty'))
    const moved = { name: 'CutoverError', code: 'TARGET_MOVED' }
    await expect(remote.symlinkPinned(at, 'x', 'y', owner)).rejects.toMatchObject(moved)
    await expect(remote.mkdirPinned(at, 'x', { ...owner, mode: 0o755 })).rejects.toMatchObject(
      moved,
    )
    await expect(remote.rmdirPinned(at, 'empty')).rejects.toMatchObject(moved)
    await expect(remote.readlinkPinned(at, 'dangling')).rejects.toMatchObject(moved)
    expect(readdirSync(etc)).toEqual(['empty'])
  })

  it('gives a new link and directory their owner and mode by chown -h and chmod on a server without lsetstat', async () => {
    const d = tree()
    const etc = join(d, 'etc')
    const old = await startSftp()
    try {
      old.client.extensions = new Map(
        [...old.client.extensions].filter(([k]) => k !== 'lsetstat@openssh.com'),
      )
      const fs = remoteFileSystem({ sftp: old.client, exec: localExec, label: 'here:' })
      const at: PinnedDir = { dir: etc, pin: await fs.pinDir(etc), target: 'etc/new' }
      await fs.symlinkPinned(at, 'new.link', 'f.conf', { uid: 1234, gid: 4321 })
      await fs.mkdirPinned(at, 'dir', { uid: 1234, gid: 4321, mode: 0o2751 })
      const link = lstatSync(join(etc, 'new.link'))
      const dir = lstatSync(join(etc, 'dir'))
      expect([link.uid, link.gid, dir.uid, dir.gid, dir.mode & 0o7777]).toEqual([
        1234, 4321, 1234, 4321, 0o2751,
      ])
      // the link's own owner: what it points to is untouched
      expect(statSync(join(etc, 'f.conf')).uid).toBe(0)
    } finally {
      await old.client.end()
    }
  })
})

describe.runIf(haveSftpServer)("rewrite's transaction over remoteFileSystem", () => {
  let s: ServerSession
  let fileSystem: TxFileSystem
  const dirs: string[] = []

  beforeAll(async () => {
    s = await startSftp()
    fileSystem = remoteFileSystem({ sftp: s.client, exec: localExec, label: 'here:' })
  })
  afterAll(async () => {
    await s.client.end()
    for (const d of dirs) {
      spawnSync('chattr', ['-R', '-i', d])
      rmSync(d, { recursive: true, force: true })
    }
  })

  /** Three files in a directory as a machine has them; the state directory apart. */
  function machineTree() {
    const root = realpathSync(tempDir('cutover-rtx-'))
    dirs.push(root)
    mkdirSync(join(root, 'etc'))
    const names = ['f0.conf', 'f1.conf', 'f2.conf']
    names.forEach((n, i) => writeFileSync(join(root, 'etc', n), `old ${i}\n`, { mode: 0o640 }))
    chownSync(join(root, 'etc', 'f1.conf'), 1234, 4321)
    const targets: TxTarget[] = names.map((n, i) => ({
      target: `etc/${n}`,
      path: join(root, 'etc', n),
      before: sha256(`old ${i}\n`),
      content: Buffer.from(`new ${i}\n`),
    }))
    const state = () => names.map((n) => readFileSync(join(root, 'etc', n), 'utf8'))
    const temps = () => readdirSync(join(root, 'etc')).filter((n) => n.includes('.cutover-'))
    return { root, targets, state, temps, stateDir: join(root, 'state') }
  }

  it('commits: every target replaced, owner and mode kept, no temp left', async () => {
    const t = machineTree()
    const result = await commitFiles(t.targets, { stateDir: t.stateDir, fileSystem })
    expect(result.written).toEqual(['etc/f0.conf', 'etc/f1.conf', 'etc/f2.conf'])
    expect(t.state()).toEqual(['new 0\n', 'new 1\n', 'new 2\n'])
    const st = statSync(t.targets[1]!.path)
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([1234, 4321, 0o640])
    expect(t.temps()).toEqual([])
  })

  it('checks the pins of a phase with one stat command and fsyncs its directories over SFTP, no command (the rename phase: 8 targets in 4 directories)', async () => {
    const root = realpathSync(tempDir('cutover-rtx-'))
    dirs.push(root)
    const targets: TxTarget[] = []
    for (const d of ['a', 'b', 'c', 'd']) {
      mkdirSync(join(root, 'etc', d), { recursive: true })
      for (const n of ['x.conf', 'y.conf']) {
        writeFileSync(join(root, 'etc', d, n), `old ${d}${n}\n`)
        targets.push({
          target: `etc/${d}/${n}`,
          path: join(root, 'etc', d, n),
          before: sha256(`old ${d}${n}\n`),
          content: Buffer.from(`new ${d}${n}\n`),
        })
      }
    }
    // the commands the machine runs while the transaction renames (after `prepared`)
    let renaming = false
    const seen: string[] = []
    const exec: typeof localExec = (script, options) => {
      if (renaming) seen.push(script)
      return localExec(script, options)
    }
    // the paths fsynced over SFTP (fsync@openssh.com on a handle opened for reading)
    const synced: string[] = []
    const sftp = Object.create(s.client) as typeof s.client
    sftp.fsync = (h) => {
      if (renaming) synced.push(h.path)
      return s.client.fsync(h)
    }
    const fs = remoteFileSystem({ sftp, exec, label: 'here:' })
    const fault = (point: string) => {
      if (point === 'prepared') renaming = true
      if (point === 'before-commit') renaming = false
    }
    const result = await commitFiles(targets, {
      stateDir: join(root, 'state'),
      fileSystem: fs,
      fault,
    })
    expect(result.written).toHaveLength(8)
    for (const t of targets)
      expect(readFileSync(t.path, 'utf8')).toBe(`new ${t.target.slice(4).replace('/', '')}\n`)
    const walks = seen.filter((c) => c.includes('stat -c "%f %d %i %u %g"'))
    expect(walks).toHaveLength(1)
    expect(seen).toHaveLength(1)
    for (const d of ['a', 'b', 'c', 'd']) expect(synced).toContain(join(root, 'etc', d))
  })

  /** `n` files in `n / 2` directories, and a file system that records the commands it runs. */
  function filesIn(n: number) {
    const root = realpathSync(tempDir('cutover-rtx-'))
    dirs.push(root)
    const targets: TxTarget[] = []
    for (let i = 0; i < n; i++) {
      const path = join(root, 'etc', `d${i >> 1}`, `f${i}.conf`)
      mkdirSync(join(path, '..'), { recursive: true })
      writeFileSync(path, `old ${i}\n`)
      targets.push({
        target: `etc/d${i >> 1}/f${i}.conf`,
        path,
        before: sha256(`old ${i}\n`),
        content: Buffer.from(`new ${i}\n`),
      })
    }
    const commands: string[] = []
    const exec: typeof localExec = (script, options) => {
      commands.push(script)
      return localExec(script, options)
    }
    const fs = remoteFileSystem({ sftp: s.client, exec, label: 'here:' })
    const state = () => targets.map((t) => readFileSync(t.path, 'utf8'))
    return { root, targets, commands, fs, state, stateDir: join(root, 'state') }
  }

  it('runs as many commands on the machine for 60 targets in 30 directories as for 2 in one (no command per target)', async () => {
    const commandsOf = async (n: number) => {
      const t = filesIn(n)
      const result = await commitFiles(t.targets, { stateDir: t.stateDir, fileSystem: t.fs })
      expect(result.written).toHaveLength(n)
      expect(t.state()).toEqual(t.targets.map((_, i) => `new ${i}\n`))
      return t.commands
    }
    const few = await commandsOf(2)
    const many = await commandsOf(60)
    expect(many.length).toBe(few.length)
    // the preparation's reads: one stat command a round, not one per target
    expect(many.filter((c) => c.includes('stat -c')).length).toBeLessThan(10)
  })

  it('reports the first refused target in target order, whatever the batch answered first, having read all in a few commands', async () => {
    const t = filesIn(30)
    const etc = join(t.root, 'etc')
    symlinkSync('nowhere', join(etc, 'dangling.conf'))
    mkdirSync(join(etc, 'dir.conf'))
    const bad = (name: string): TxTarget => ({
      target: `etc/${name}`,
      path: join(etc, name),
      before: 'absent',
      content: Buffer.from('x\n'),
    })
    const refusal = async (targets: TxTarget[], fileSystem?: TxFileSystem) => {
      const from = t.commands.length
      const e = await errorOf(commitFiles(targets, { stateDir: t.stateDir, fileSystem }))
      return { message: e?.message, commands: t.commands.length - from }
    }
    const first = await refusal([...t.targets, bad('dangling.conf'), bad('dir.conf')], t.fs)
    expect(first.message).toBe('etc/dangling.conf is a dangling symlink')
    // each target checked in turn would run a command or more for each of the 30 before
    expect(first.commands).toBeLessThan(12)
    const other = await refusal([...t.targets, bad('dir.conf'), bad('dangling.conf')], t.fs)
    expect(other.message).toBe('etc/dir.conf is not a regular file')
    // the local file system, which checks each target in turn, refuses the same one
    const local = await refusal([...t.targets, bad('dir.conf'), bad('dangling.conf')])
    expect(local.message).toBe(other.message)
    expect(t.state()).toEqual(t.targets.map((_, i) => `old ${i}\n`))
    expect(
      readdirSync(etc, { recursive: true }).filter((n) => String(n).includes('.cutover-')),
    ).toEqual([])
  })

  it('aborts when the machine refuses a rename (an immutable target): every target as before, no temp left', async (ctx) => {
    const t = machineTree()
    if (!canChattrAndMount(t.root)) return ctx.skip()
    // immutable after the checks, before the renames: the kernel refuses the second rename
    const fault = (point: string) => {
      if (point === 'prepared') execFileSync('chattr', ['+i', t.targets[1]!.path])
    }
    const e = await errorOf(commitFiles(t.targets, { stateDir: t.stateDir, fileSystem, fault }))
    execFileSync('chattr', ['-i', t.targets[1]!.path])
    expect(e?.message).toMatch(/etc\/f1\.conf/)
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    expect(t.temps()).toEqual([])
  })

  it('aborts when a target directory is swapped after the checks (TARGET_MOVED): nothing written in either', async () => {
    const t = machineTree()
    const etc = join(t.root, 'etc')
    const fault = (point: string) => {
      if (point !== 'prepared') return
      renameSync(etc, join(t.root, 'etc.real'))
      mkdirSync(etc)
    }
    const e = await errorOf(commitFiles(t.targets, { stateDir: t.stateDir, fileSystem, fault }))
    expect(e).toMatchObject({ code: 'TARGET_MOVED' })
    expect(readdirSync(etc)).toEqual([])
    expect(
      ['f0.conf', 'f1.conf', 'f2.conf'].map((n) =>
        readFileSync(join(t.root, 'etc.real', n), 'utf8'),
      ),
    ).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
  })

  it('recovers a transaction killed after its first rename, through the same file system', async () => {
    const t = machineTree()
    // a separate process, killed (SIGKILL) by the fault injection after the first rename
    const child = commitInChild({
      targets: t.targets.map((x) => ({ ...x, content: x.content!.toString() })),
      stateDir: t.stateDir,
      fault: 'renamed:1',
    })
    expect(child.signal).toBe('SIGKILL')
    expect(t.state()).toEqual(['new 0\n', 'old 1\n', 'old 2\n'])
    expect(t.temps().length).toBeGreaterThan(0)

    const report = await recover({ stateDir: t.stateDir, fileSystem })
    expect(report.transactions).toEqual([
      expect.objectContaining({ was: 'prepared', now: 'rolled-back' }),
    ])
    expect(t.state()).toEqual(['old 0\n', 'old 1\n', 'old 2\n'])
    expect(t.temps()).toEqual([])
  })

  /** A machine's tree for whole files: one file to remove, a new file in two new directories, a new link. */
  function wholeTree() {
    const root = realpathSync(tempDir('cutover-rwh-'))
    dirs.push(root)
    const p = (...s: string[]) => join(root, 'etc', ...s)
    mkdirSync(p())
    writeFileSync(p('gone.conf'), 'gone\n', { mode: 0o640 })
    chmodSync(p('gone.conf'), 0o640)
    chownSync(p('gone.conf'), 1234, 4321)
    const owner = { uid: 1234, gid: 4321 }
    const newD = { path: p('new.d'), mode: 0o750, ...owner }
    const targets: TxTarget[] = [
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
        symlink: '../gone.conf',
        owner,
        dirs: [newD],
      },
    ]
    /** Every name under etc/ with its type, content or link text, mode and owner. */
    const snapshot = () =>
      (readdirSync(p(), { recursive: true }) as string[]).sort().map((n) => {
        const st = lstatSync(p(n))
        const what = st.isSymbolicLink()
          ? `-> ${readlinkSync(p(n))}`
          : st.isDirectory()
            ? 'dir'
            : readFileSync(p(n), 'utf8')
        return `${n} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
      })
    return { root, p, targets, snapshot, stateDir: join(root, 'state') }
  }

  it('commits whole files (a removal, a new file with its owner in new directories, a new link) and rolls them back', async () => {
    const t = wholeTree()
    const before = t.snapshot()
    expect(before).toEqual(['gone.conf gone\n 640 1234:4321'])
    await commitFiles(t.targets, { stateDir: t.stateDir, fileSystem })
    expect(t.snapshot()).toEqual([
      'new.d dir 750 1234:4321',
      'new.d/link -> ../gone.conf 777 1234:4321',
      'new.d/sub dir 700 1234:4321',
      'new.d/sub/new.conf new\n 600 1234:4321',
    ])
    const back = await rollbackLast({ stateDir: t.stateDir, fileSystem })
    expect(back.warnings).toEqual([])
    expect(t.snapshot()).toEqual(before)
  })

  it.each(['mkdir:2', 'dirs-made', 'prepared', 'renamed:2'])(
    'whole files killed at %s, recovered through the same file system: all before',
    async (point) => {
      const t = wholeTree()
      const before = t.snapshot()
      const child = commitInChild({
        targets: t.targets.map((x) => ({ ...x, content: x.content.toString() })),
        stateDir: t.stateDir,
        fault: point,
      })
      expect(child.signal).toBe('SIGKILL')
      expect(t.snapshot()).not.toEqual(before)
      await recover({ stateDir: t.stateDir, fileSystem })
      expect(t.snapshot()).toEqual(before)
    },
  )

  it.runIf(haveXattrTools)(
    'keeps the ACL and attributes of a file whose path has a newline, a backslash, quotes and a leading dash',
    async () => {
      const root = realpathSync(tempDir('cutover-rtx-'))
      dirs.push(root)
      // getfattr prints a newline and a backslash of a name as octal escapes (\012, \134)
      const dir = join(root, `-d \\n\n'"$x\`id\``)
      mkdirSync(dir)
      const path = join(dir, `-f ' " \\ \n é.conf`)
      writeFileSync(path, 'old\n', { mode: 0o640 })
      execFileSync('setfacl', ['-m', 'u:1234:r', '--', path])
      execFileSync('setfattr', ['-n', 'user.k', '-v', 'a value', '--', path])
      const before = await localFileSystem.readXattrs([path])
      expect(before.get(path)?.get('user.k')).toBe('0sYSB2YWx1ZQ==')
      expect(await fileSystem.readXattrs([path])).toEqual(before)

      const target = { target: 'f', path, before: sha256('old\n'), content: Buffer.from('new\n') }
      await commitFiles([target], { stateDir: join(root, 'state'), fileSystem })
      expect(readFileSync(path, 'utf8')).toBe('new\n')
      expect(await localFileSystem.readXattrs([path])).toEqual(before)
      expect(execFileSync('getfacl', ['-cp', '--', path], { encoding: 'utf8' })).toContain(
        'user:1234:r--',
      )
    },
  )

  it.runIf(haveXattrTools)(
    'refuses a target whose directory with a backslash in its name an ACL lets another user write',
    async () => {
      const root = realpathSync(tempDir('cutover-rtx-'))
      dirs.push(root)
      const dir = join(root, 'a\\b')
      mkdirSync(dir)
      execFileSync('setfacl', ['-m', 'u:1234:rwx', '--', dir])
      const path = join(dir, 'f')
      writeFileSync(path, 'old\n')
      const target = { target: 'f', path, before: sha256('old\n'), content: Buffer.from('new\n') }
      await expect(
        commitFiles([target], { stateDir: join(root, 'state'), fileSystem }),
      ).rejects.toThrow(/writable by user uid 1234/)
      expect(readFileSync(path, 'utf8')).toBe('old\n')
    },
  )
})
