import type { Readable, Writable } from 'node:stream'
import { SftpChannel } from './channel.js'
import { SftpError } from './errors.js'
import {
  FX,
  FXP,
  OPEN_FLAGS,
  PacketReader,
  PacketWriter,
  type SftpAttrs,
  type SftpHandle,
} from './packet.js'
import { readAll, writeAll } from './transfer.js'

/** One entry of a directory listing. */
export interface SftpEntry {
  filename: string
  /** The `ls -l` line the server made (informational only, per the draft). */
  longname: string
  attrs: SftpAttrs
}

/** The draft's guaranteed size of a READ or WRITE, and the most this client asks at once. */
const MIN_CHUNK = 32 * 1024
const MAX_CHUNK = 255 * 1024

/**
 * An SFTP version 3 client (draft-ietf-secsh-filexfer-02, with OpenSSH's `posix-rename` and
 * `fsync` extensions) speaking over a pair of streams: the stdin and stdout of `ssh -s DEST sftp`,
 * or of `sftp-server` itself. Requests are pipelined: each call sends its request at once and
 * waits for its own reply, so many calls in flight share the round trips.
 *
 * A failed request rejects with an {@link SftpError} carrying an errno-like `code` and the path.
 * When the channel closes or fails, every request in flight and every later one rejects with
 * `ECONNRESET`.
 */
export class SftpClient {
  /** The extensions the server announced, name → version string. */
  extensions: ReadonlyMap<string, string> = new Map()
  /** Bytes asked per READ and sent per WRITE (32 KiB, or what `limits@openssh.com` allows, at most 255 KiB). */
  readChunk = MIN_CHUNK
  writeChunk = MIN_CHUNK

  /**
   * Starts a session over a server's stdin and stdout: INIT, the server's VERSION (3 and its
   * extensions), then the transfer sizes from `limits@openssh.com` when offered.
   */
  static async over(stdin: Writable, stdout: Readable): Promise<SftpClient> {
    const ch = new SftpChannel(stdin, stdout)
    const r = await ch.hello()
    const c = new SftpClient(ch)
    const ext = new Map<string, string>()
    while (!r.done) ext.set(r.string(), r.string())
    c.extensions = ext
    if (ext.has('limits@openssh.com')) await c.readLimits()
    return c
  }

  private constructor(private readonly ch: SftpChannel) {}

  // ---- files ----

  /** Opens a file (`flags` of {@link OPEN_FLAGS}); `attrs` (the mode) apply when it is created. */
  async open(path: string, flags: number, attrs: SftpAttrs = {}): Promise<SftpHandle> {
    try {
      const reply = await this.ch.request(
        FXP.OPEN,
        (w) => w.string(path).u32(flags).attrs(attrs),
        'open',
        path,
      )
      return { handle: this.ch.expect(reply, FXP.HANDLE, 'open', path).bytes(), path }
    } catch (e) {
      // sftp-server answers FAILURE for EEXIST: an exclusive create that failed on an existing name is one
      const exclusive = (flags & OPEN_FLAGS.CREAT) !== 0 && (flags & OPEN_FLAGS.EXCL) !== 0
      if (exclusive && isFailure(e) && (await this.exists(path)))
        throw this.ch.error('EEXIST', 'open', path, FX.FAILURE, 'file exists')
      throw e
    }
  }

  async close(h: SftpHandle): Promise<void> {
    await this.ch.status(FXP.CLOSE, (w) => w.string(h.handle), 'close', h.path)
  }

  /** Up to `length` bytes at `offset` (fewer at the end of the file), undefined at or past its end. */
  async read(h: SftpHandle, offset: number, length: number): Promise<Buffer | undefined> {
    const reply = await this.ch.request(
      FXP.READ,
      (w) => w.string(h.handle).u64(offset).u32(length),
      'read',
      h.path,
    )
    if (reply.type === FXP.STATUS && reply.r.peekU32() === FX.EOF) return undefined
    return Buffer.from(this.ch.expect(reply, FXP.DATA, 'read', h.path).bytes())
  }

  /** Writes `data` at `offset`, in pipelined chunks of {@link writeChunk} bytes. */
  async write(h: SftpHandle, offset: number, data: Buffer): Promise<void> {
    await writeAll(this, h, offset, data)
  }

  /** One WRITE request: `data` must fit one packet. */
  async writeChunkAt(h: SftpHandle, offset: number, data: Buffer): Promise<void> {
    await this.ch.status(
      FXP.WRITE,
      (w) => w.string(h.handle).u64(offset).string(data),
      'write',
      h.path,
    )
  }

  /** fsyncs an open file (`fsync@openssh.com`). */
  async fsync(h: SftpHandle): Promise<void> {
    await this.extended('fsync@openssh.com', (w) => w.string(h.handle), 'fsync', h.path)
  }

  // ---- attributes ----

  /** stat, following a link. */
  async stat(path: string): Promise<SftpAttrs> {
    return this.attrsOf(FXP.STAT, (w) => w.string(path), 'stat', path)
  }

  /** lstat: a link itself. */
  async lstat(path: string): Promise<SftpAttrs> {
    return this.attrsOf(FXP.LSTAT, (w) => w.string(path), 'lstat', path)
  }

  async fstat(h: SftpHandle): Promise<SftpAttrs> {
    return this.attrsOf(FXP.FSTAT, (w) => w.string(h.handle), 'fstat', h.path)
  }

  /** Sets attributes by path (size truncates, uid/gid chown, permissions chmod, times utimes). */
  async setstat(path: string, attrs: SftpAttrs): Promise<void> {
    await this.ch.status(FXP.SETSTAT, (w) => w.string(path).attrs(attrs), 'setstat', path)
  }

  /** Sets attributes by path without following a link (`lsetstat@openssh.com`): of a link, the link's own. */
  async lsetstat(path: string, attrs: SftpAttrs): Promise<void> {
    await this.extended(
      'lsetstat@openssh.com',
      (w) => w.string(path).attrs(attrs),
      'lsetstat',
      path,
    )
  }

  async fsetstat(h: SftpHandle, attrs: SftpAttrs): Promise<void> {
    await this.ch.status(FXP.FSETSTAT, (w) => w.string(h.handle).attrs(attrs), 'fsetstat', h.path)
  }

  // ---- directories and names ----

  async opendir(path: string): Promise<SftpHandle> {
    const reply = await this.ch.request(FXP.OPENDIR, (w) => w.string(path), 'opendir', path)
    return { handle: this.ch.expect(reply, FXP.HANDLE, 'opendir', path).bytes(), path }
  }

  /** The next entries of an open directory, undefined once it is exhausted. */
  async readdirBatch(h: SftpHandle): Promise<SftpEntry[] | undefined> {
    const reply = await this.ch.request(FXP.READDIR, (w) => w.string(h.handle), 'readdir', h.path)
    if (reply.type === FXP.STATUS && reply.r.peekU32() === FX.EOF) return undefined
    return readNames(this.ch.expect(reply, FXP.NAME, 'readdir', h.path))
  }

  /** Every entry of a directory but `.` and `..`. */
  async readdir(path: string): Promise<SftpEntry[]> {
    const h = await this.opendir(path)
    const out: SftpEntry[] = []
    try {
      for (let batch; (batch = await this.readdirBatch(h));)
        out.push(...batch.filter((e) => e.filename !== '.' && e.filename !== '..'))
    } finally {
      await this.close(h).catch(() => undefined)
    }
    return out
  }

  async remove(path: string): Promise<void> {
    await this.ch.status(FXP.REMOVE, (w) => w.string(path), 'unlink', path)
  }

  async mkdir(path: string, attrs: SftpAttrs = {}): Promise<void> {
    try {
      await this.ch.status(FXP.MKDIR, (w) => w.string(path).attrs(attrs), 'mkdir', path)
    } catch (e) {
      if (isFailure(e) && (await this.exists(path)))
        throw this.ch.error('EEXIST', 'mkdir', path, FX.FAILURE, 'file exists')
      throw e
    }
  }

  async rmdir(path: string): Promise<void> {
    try {
      await this.ch.status(FXP.RMDIR, (w) => w.string(path), 'rmdir', path)
    } catch (e) {
      if (isFailure(e) && (await this.readdir(path).catch(() => [])).length > 0)
        throw this.ch.error('ENOTEMPTY', 'rmdir', path, FX.FAILURE, 'directory not empty')
      throw e
    }
  }

  /**
   * The draft's RENAME, which OpenSSH implements without replacing: it fails (EEXIST) when `to`
   * exists. {@link posixRename} replaces.
   */
  async rename(from: string, to: string): Promise<void> {
    try {
      await this.ch.status(FXP.RENAME, (w) => w.string(from).string(to), 'rename', from)
    } catch (e) {
      if (isFailure(e) && (await this.exists(to)))
        throw this.ch.error('EEXIST', 'rename', to, FX.FAILURE, 'file exists')
      throw e
    }
  }

  /** rename(2): `to` replaced atomically when it exists (`posix-rename@openssh.com`). */
  async posixRename(from: string, to: string): Promise<void> {
    await this.extended(
      'posix-rename@openssh.com',
      (w) => w.string(from).string(to),
      'rename',
      from,
    )
  }

  async readlink(path: string): Promise<string> {
    return this.oneName(FXP.READLINK, 'readlink', path)
  }

  /** The canonical absolute path (the server resolves `.`, `..` and links). */
  async realpath(path: string): Promise<string> {
    return this.oneName(FXP.REALPATH, 'realpath', path)
  }

  /** Creates the link `linkPath` pointing at `target`. */
  async symlink(target: string, linkPath: string): Promise<void> {
    // OpenSSH reads the two paths in the opposite order to the draft's (target first), and every
    // client follows OpenSSH: see PROTOCOL in OpenSSH's sources.
    await this.ch.status(FXP.SYMLINK, (w) => w.string(target).string(linkPath), 'symlink', linkPath)
  }

  // ---- whole files ----

  /** The bytes of a file (a link followed), read in pipelined chunks. */
  async readFile(path: string): Promise<Buffer> {
    const h = await this.open(path, OPEN_FLAGS.READ)
    try {
      return await readAll(this, h)
    } finally {
      await this.close(h).catch(() => undefined)
    }
  }

  /**
   * Writes a file: created (mode `mode`, 0644 by default, less the server's umask) or truncated;
   * `exclusive`: fails with `EEXIST` when anything is there, a link included.
   */
  async writeFile(
    path: string,
    data: Buffer,
    options: { mode?: number; exclusive?: boolean } = {},
  ): Promise<void> {
    const flags =
      OPEN_FLAGS.WRITE | OPEN_FLAGS.CREAT | (options.exclusive ? OPEN_FLAGS.EXCL : OPEN_FLAGS.TRUNC)
    const h = await this.open(path, flags, { permissions: options.mode ?? 0o644 })
    let closed = false
    try {
      await this.write(h, 0, data)
      closed = true
      await this.close(h)
    } finally {
      if (!closed) await this.close(h).catch(() => undefined)
    }
  }

  /** Ends the session: closes the server's input and waits for its output to end. */
  async end(): Promise<void> {
    await this.ch.end()
  }

  /** Requests sent so far, and the bursts they came in (for the trace). */
  get counts(): { requests: number; bursts: number } {
    return this.ch.counts
  }

  /** Whether the channel still works. */
  get alive(): boolean {
    return this.ch.alive
  }

  // ---- the protocol ----

  private async readLimits(): Promise<void> {
    const r = await this.extended('limits@openssh.com', () => {}, 'limits', undefined, true)
    const packet = Number(r.u64())
    const read = Number(r.u64())
    const write = Number(r.u64())
    // 0 means "no limit given"; a WRITE must also fit a packet with its header
    if (read > 0) this.readChunk = Math.min(read, MAX_CHUNK)
    if (write > 0) this.writeChunk = Math.min(write, MAX_CHUNK)
    if (packet > 0) this.writeChunk = Math.min(this.writeChunk, packet - 1024)
  }

  private async extended(
    name: string,
    build: (w: PacketWriter) => void,
    syscall: string,
    path: string | undefined,
    replies = false,
  ): Promise<PacketReader> {
    if (!this.extensions.has(name))
      throw this.ch.error('ENOTSUP', syscall, path, undefined, `the server does not offer ${name}`)
    const reply = await this.ch.request(
      FXP.EXTENDED,
      (w) => {
        w.string(name)
        build(w)
      },
      syscall,
      path,
    )
    if (replies) return this.ch.expect(reply, FXP.EXTENDED_REPLY, syscall, path)
    this.ch.expect(reply, FXP.STATUS, syscall, path)
    return reply.r
  }

  private async attrsOf(
    type: number,
    build: (w: PacketWriter) => void,
    syscall: string,
    path: string,
  ): Promise<SftpAttrs> {
    return this.ch
      .expect(await this.ch.request(type, build, syscall, path), FXP.ATTRS, syscall, path)
      .attrs()
  }

  private async oneName(type: number, syscall: string, path: string): Promise<string> {
    const r = this.ch.expect(
      await this.ch.request(type, (w) => w.string(path), syscall, path),
      FXP.NAME,
      syscall,
      path,
    )
    const names = readNames(r)
    if (names.length !== 1)
      throw this.ch.error('EPROTO', syscall, path, undefined, `${names.length} names in the reply`)
    return names[0]!.filename
  }

  private async exists(path: string): Promise<boolean> {
    return this.lstat(path).then(
      () => true,
      () => false,
    )
  }
}

function readNames(r: PacketReader): SftpEntry[] {
  const n = r.u32()
  const out: SftpEntry[] = []
  for (let i = 0; i < n; i++)
    out.push({ filename: r.string(), longname: r.string(), attrs: r.attrs() })
  return out
}

const isFailure = (e: unknown): boolean => e instanceof SftpError && e.status === FX.FAILURE
