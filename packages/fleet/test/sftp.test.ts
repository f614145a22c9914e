import { randomBytes } from 'node:crypto'
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
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SFTP_OPEN, SftpError, type SftpClient } from '../src/index.js'
import { haveSftpServer, startSftp, type ServerSession } from './sftp-server.js'
import { tempDir } from '@cutover/test-kit/temp'

describe.runIf(haveSftpServer)('SftpClient against OpenSSH sftp-server over pipes', () => {
  let dir: string
  let s: ServerSession
  let c: SftpClient
  const sessions: ServerSession[] = []

  beforeAll(async () => {
    dir = realpathSync(tempDir('cutover-sftp-'))
    s = await startSftp()
    sessions.push(s)
    c = s.client
  })
  afterEach(() => {
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true })
  })
  afterAll(async () => {
    for (const x of sessions) x.server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  const p = (...names: string[]) => join(dir, ...names)

  it('negotiates version 3 with the OpenSSH extensions and the transfer sizes of limits@openssh.com', () => {
    expect(c.extensions.get('posix-rename@openssh.com')).toBe('1')
    expect(c.extensions.get('fsync@openssh.com')).toBe('1')
    expect(c.extensions.has('limits@openssh.com')).toBe(true)
    // OpenSSH allows more than the draft's 32 KiB; the client takes it, up to 255 KiB
    expect(c.readChunk).toBeGreaterThan(32 * 1024)
    expect(c.readChunk).toBeLessThanOrEqual(255 * 1024)
    expect(c.writeChunk).toBeGreaterThan(32 * 1024)
    expect(c.writeChunk).toBeLessThanOrEqual(255 * 1024)
  })

  it('writes and reads back files of every size, several MiB included, byte for byte', async () => {
    for (const size of [0, 1, 32 * 1024, c.readChunk + 1, 7 * 1024 * 1024 + 333]) {
      const data = randomBytes(size)
      await c.writeFile(p(`f${size}`), data)
      expect(readFileSync(p(`f${size}`)).equals(data)).toBe(true)
      const back = await c.readFile(p(`f${size}`))
      expect(back.length).toBe(size)
      expect(back.equals(data)).toBe(true)
    }
  })

  it('open: READ of a missing file is ENOENT naming the path; EXCL on anything there is EEXIST', async () => {
    const missing = p('missing')
    const e = await c.open(missing, SFTP_OPEN.READ).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(SftpError)
    expect(e).toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing })
    expect((e as Error).message).toContain(missing)

    writeFileSync(p('there'), 'x')
    symlinkSync(p('nowhere'), p('dangling'))
    const excl = SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.EXCL
    await expect(c.open(p('there'), excl)).rejects.toMatchObject({ code: 'EEXIST' })
    // an exclusive create never follows a link, even one leading nowhere
    await expect(c.open(p('dangling'), excl)).rejects.toMatchObject({ code: 'EEXIST' })
    expect(existsSync(p('nowhere'))).toBe(false)
    await expect(
      c.writeFile(p('there'), Buffer.from('y'), { exclusive: true }),
    ).rejects.toMatchObject({ code: 'EEXIST' })
    expect(readFileSync(p('there'), 'utf8')).toBe('x')

    // a failure that is not an existing name stays what the server said
    await expect(c.open(p('no-dir', 'f'), excl)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('open with CREAT applies the mode; TRUNC empties; READ/WRITE at offsets; EOF is undefined', async () => {
    const h = await c.open(p('f'), SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.EXCL, {
      permissions: 0o600,
    })
    await c.write(h, 0, Buffer.from('hello world'))
    await c.write(h, 6, Buffer.from('WORLD'))
    await c.close(h)
    expect(readFileSync(p('f'), 'utf8')).toBe('hello WORLD')
    expect(statSync(p('f')).mode & 0o777).toBe(0o600)

    const r = await c.open(p('f'), SFTP_OPEN.READ)
    expect((await c.read(r, 6, 100))?.toString()).toBe('WORLD')
    expect(await c.read(r, 11, 10)).toBeUndefined()
    expect(await c.read(r, 1000, 10)).toBeUndefined()
    await c.close(r)

    const t = await c.open(p('f'), SFTP_OPEN.WRITE | SFTP_OPEN.TRUNC)
    await c.close(t)
    expect(statSync(p('f')).size).toBe(0)
    // a closed handle is no handle any more
    await expect(c.read(r, 0, 1)).rejects.toBeInstanceOf(SftpError)
  })

  it('stat, lstat and fstat give size, owner, mode and times as the kernel has them', async () => {
    writeFileSync(p('f'), 'twelve bytes')
    chmodSync(p('f'), 0o640)
    utimesSync(p('f'), 1_000_000, 2_000_000)
    symlinkSync('f', p('link'))
    const st = lstatSync(p('f'))
    const want = {
      size: 12n,
      uid: st.uid,
      gid: st.gid,
      permissions: st.mode,
      atime: 1_000_000,
      mtime: 2_000_000,
    }
    expect(await c.stat(p('f'))).toMatchObject(want)
    expect(await c.stat(p('link'))).toMatchObject(want)
    const l = await c.lstat(p('link'))
    expect(l.permissions).toBe(lstatSync(p('link')).mode)
    expect((l.permissions ?? 0) & 0o170000).toBe(0o120000)
    const h = await c.open(p('f'), SFTP_OPEN.READ)
    expect(await c.fstat(h)).toMatchObject(want)
    await c.close(h)
    await expect(c.lstat(p('none'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'lstat' })
  })

  it('setstat and fsetstat change mode, owner, times and size', async () => {
    writeFileSync(p('f'), 'some content')
    await c.setstat(p('f'), { permissions: 0o604, uid: 1234, gid: 4321 })
    await c.setstat(p('f'), { atime: 10, mtime: 20 })
    let st = statSync(p('f'))
    expect([st.mode & 0o7777, st.uid, st.gid, st.atimeMs, st.mtimeMs]).toEqual([
      0o604, 1234, 4321, 10_000, 20_000,
    ])
    const h = await c.open(p('f'), SFTP_OPEN.WRITE)
    await c.fsetstat(h, { uid: 0, gid: 0 })
    await c.fsetstat(h, { permissions: 0o4750, size: 4n })
    await c.fsync(h)
    await c.close(h)
    st = statSync(p('f'))
    expect([st.mode & 0o7777, st.uid, st.gid, st.size]).toEqual([0o4750, 0, 0, 4])
    expect(readFileSync(p('f'), 'utf8')).toBe('some')
  })

  it('lists directories of many entries (several READDIR replies) with their attributes', async () => {
    mkdirSync(p('d'))
    for (let i = 0; i < 250; i++) writeFileSync(p('d', `n${i}`), 'x'.repeat(i))
    const entries = await c.readdir(p('d'))
    expect(entries.map((e) => e.filename).sort()).toEqual(readdirSync(p('d')).sort())
    for (const e of entries) expect(e.attrs.size).toBe(BigInt(statSync(p('d', e.filename)).size))
    // the batches come from a handle, ending with EOF
    const h = await c.opendir(p('d'))
    let n = 0
    let batches = 0
    for (let b; (b = await c.readdirBatch(h)); batches++) n += b.length
    await c.close(h)
    expect(n).toBe(252) // with . and ..
    expect(batches).toBeGreaterThan(1)
    await expect(c.opendir(p('none'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('remove, mkdir, rmdir, rename and posix-rename, with their errors', async () => {
    await c.mkdir(p('d'), { permissions: 0o700 })
    expect(statSync(p('d')).isDirectory()).toBe(true)
    await expect(c.mkdir(p('d'))).rejects.toMatchObject({ code: 'EEXIST', path: p('d') })
    writeFileSync(p('d', 'f'), 'x')
    await expect(c.rmdir(p('d'))).rejects.toMatchObject({ code: 'ENOTEMPTY' })
    await c.remove(p('d', 'f'))
    expect(existsSync(p('d', 'f'))).toBe(false)
    await expect(c.remove(p('d', 'f'))).rejects.toMatchObject({ code: 'ENOENT' })
    await c.rmdir(p('d'))
    expect(existsSync(p('d'))).toBe(false)
    await expect(c.rmdir(p('d'))).rejects.toMatchObject({ code: 'ENOENT' })

    writeFileSync(p('a'), 'A')
    writeFileSync(p('b'), 'B')
    // the draft's RENAME does not replace (OpenSSH links then unlinks)
    await expect(c.rename(p('a'), p('b'))).rejects.toMatchObject({ code: 'EEXIST' })
    expect(readFileSync(p('b'), 'utf8')).toBe('B')
    await c.rename(p('a'), p('c'))
    expect(readFileSync(p('c'), 'utf8')).toBe('A')
    // posix-rename replaces
    await c.posixRename(p('c'), p('b'))
    expect(readFileSync(p('b'), 'utf8')).toBe('A')
    expect(existsSync(p('c'))).toBe(false)
    await expect(c.posixRename(p('c'), p('b'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('symlink (in OpenSSH argument order), readlink and realpath', async () => {
    mkdirSync(p('d'))
    writeFileSync(p('d', 'f'), 'x')
    await c.symlink('d/f', p('link'))
    expect(readlinkSync(p('link'))).toBe('d/f')
    expect(await c.readlink(p('link'))).toBe('d/f')
    expect(await c.realpath(p('link'))).toBe(p('d', 'f'))
    expect(await c.realpath(p('d', '..', 'd', '.', 'f'))).toBe(p('d', 'f'))
    await expect(c.readlink(p('d', 'f'))).rejects.toBeInstanceOf(SftpError)
    await expect(c.symlink('x', p('link'))).rejects.toBeInstanceOf(SftpError)
    await expect(c.readlink(p('none'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('a user the kernel refuses gets EACCES naming the path', async () => {
    mkdirSync(p('open'), { mode: 0o755 })
    chmodSync(dir, 0o755)
    writeFileSync(p('open', 'secret'), 'root only', { mode: 0o600 })
    const nobody = await startSftp({ uid: 65534, gid: 65534 })
    sessions.push(nobody)
    const e = await nobody.client.readFile(p('open', 'secret')).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'EACCES', path: p('open', 'secret') })
    expect((e as Error).message).toContain(p('open', 'secret'))
    await expect(nobody.client.mkdir(p('open', 'd'))).rejects.toMatchObject({ code: 'EACCES' })
    await nobody.client.end()
  })

  it('an extension the server did not offer is ENOTSUP, without a request', async () => {
    const other = await startSftp()
    sessions.push(other)
    other.client.extensions = new Map(
      [...other.client.extensions].filter(([k]) => !k.startsWith('fsync')),
    )
    writeFileSync(p('f'), 'x')
    const h = await other.client.open(p('f'), SFTP_OPEN.READ)
    await expect(other.client.fsync(h)).rejects.toMatchObject({ code: 'ENOTSUP' })
    // the channel is still fine
    expect((await other.client.read(h, 0, 10))?.toString()).toBe('x')
    await other.client.end()
    expect(await other.exited).toBe(0)
  })

  it('pipelines: many requests are sent before the first reply, and each gets its own answer', async () => {
    const other = await startSftp()
    sessions.push(other)
    let written = 0
    let writtenAtFirstReply: number | undefined
    const write = other.server.stdin.write.bind(other.server.stdin)
    other.server.stdin.write = ((chunk: Buffer, ...rest: never[]) => {
      written++
      return write(chunk, ...rest)
    }) as typeof other.server.stdin.write
    other.server.stdout.prependListener('data', () => {
      writtenAtFirstReply ??= written
    })
    for (let i = 0; i < 100; i++) writeFileSync(p(`f${i}`), 'y'.repeat(i * 7))
    const sizes = await Promise.all(
      Array.from({ length: 100 }, (_, i) => other.client.stat(p(`f${i}`)).then((a) => a.size)),
    )
    expect(sizes).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i * 7)))
    expect(writtenAtFirstReply).toBe(100)
    const [a, b] = await Promise.all([
      other.client.readFile(p('f99')),
      other.client.readFile(p('f3')),
    ])
    expect([a.length, b.length]).toEqual([99 * 7, 21])
    await other.client.end()
  })

  it('a killed server rejects every pending request and every later one with ECONNRESET', async () => {
    const other = await startSftp()
    sessions.push(other)
    const data = randomBytes(24 * 1024 * 1024)
    writeFileSync(p('big'), data)
    const reading = other.client.readFile(p('big')).catch((e: unknown) => e)
    const stats = Promise.all(
      Array.from({ length: 50 }, () => other.client.stat(p('big')).catch((e: unknown) => e)),
    )
    other.server.kill('SIGKILL')
    expect(await other.exited).toBe('SIGKILL')
    const e = await reading
    expect(e).toMatchObject({ code: 'ECONNRESET' })
    expect((e as Error).message).toContain(p('big'))
    const after = await stats
    // answered before the kill, or rejected by it: never left pending
    for (const x of after) if (x instanceof Error) expect(x).toMatchObject({ code: 'ECONNRESET' })
    expect(other.client.alive).toBe(false)
    await expect(other.client.lstat(p('big'))).rejects.toMatchObject({
      code: 'ECONNRESET',
      path: p('big'),
    })
  })

  it('a server that exits before answering INIT fails the session with ECONNRESET', async () => {
    const { spawn } = await import('node:child_process')
    const child = spawn('/bin/sh', ['-c', 'exit 0'], { stdio: ['pipe', 'pipe', 'pipe'] })
    const { SftpClient } = await import('../src/index.js')
    await expect(SftpClient.over(child.stdin, child.stdout)).rejects.toMatchObject({
      code: 'ECONNRESET',
    })
  })

  it('end() closes the session: the server exits 0', async () => {
    const other = await startSftp()
    await other.client.end()
    expect(await other.exited).toBe(0)
    await expect(other.client.stat('/')).rejects.toMatchObject({ code: 'ECONNRESET' })
  })
})
