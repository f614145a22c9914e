/*
 * The wire format of SFTP version 3 (draft-ietf-secsh-filexfer-02): every packet is a uint32
 * length, a type byte and its fields; integers are big-endian, strings a uint32 length and bytes.
 */

/** Packet types (section 3). */
export const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const

/** Status codes (section 7). */
export const FX = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const

/** `pflags` of OPEN (section 6.3). */
export const OPEN_FLAGS = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const

const ATTR_SIZE = 0x1
const ATTR_UIDGID = 0x2
const ATTR_PERMISSIONS = 0x4
const ATTR_ACMODTIME = 0x8
const ATTR_EXTENDED = 0x80000000

/** File attributes (section 5): each field present only when the server (or the caller) gave it. */
export interface SftpAttrs {
  size?: bigint
  uid?: number
  gid?: number
  /** `st_mode`: the permission bits and, from a server, the file type bits. */
  permissions?: number
  /** Seconds since the epoch; `atime` and `mtime` go together. */
  atime?: number
  mtime?: number
  extended?: Array<[string, Buffer]>
}

/** An open file or directory of the server; `path` names it in errors. */
export interface SftpHandle {
  readonly handle: Buffer
  readonly path: string
}

/** Builds one packet: the type, then fields in order; {@link finish} prepends the length. */
export class PacketWriter {
  private parts: Buffer[] = []
  private length = 0

  constructor(type: number) {
    this.byte(type)
  }

  byte(n: number): this {
    return this.push(Buffer.from([n]))
  }

  u32(n: number): this {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n >>> 0)
    return this.push(b)
  }

  u64(n: bigint | number): this {
    const b = Buffer.alloc(8)
    b.writeBigUInt64BE(BigInt(n))
    return this.push(b)
  }

  /** A string field: a path (UTF-8), or raw bytes (a handle, file data). */
  string(s: string | Buffer): this {
    const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s
    this.u32(b.length)
    return this.push(b)
  }

  attrs(a: SftpAttrs): this {
    let flags = 0
    if (a.size !== undefined) flags |= ATTR_SIZE
    if (a.uid !== undefined || a.gid !== undefined) flags |= ATTR_UIDGID
    if (a.permissions !== undefined) flags |= ATTR_PERMISSIONS
    if (a.atime !== undefined || a.mtime !== undefined) flags |= ATTR_ACMODTIME
    if (a.extended?.length) flags |= ATTR_EXTENDED
    this.u32(flags)
    if (a.size !== undefined) this.u64(a.size)
    if (flags & ATTR_UIDGID) {
      if (a.uid === undefined || a.gid === undefined)
        throw new TypeError('SFTP attributes set the owner and the group together')
      this.u32(a.uid).u32(a.gid)
    }
    if (a.permissions !== undefined) this.u32(a.permissions)
    if (flags & ATTR_ACMODTIME) {
      if (a.atime === undefined || a.mtime === undefined)
        throw new TypeError('SFTP attributes set the access and the modification time together')
      this.u32(a.atime).u32(a.mtime)
    }
    if (a.extended?.length) {
      this.u32(a.extended.length)
      for (const [k, v] of a.extended) this.string(k).string(v)
    }
    return this
  }

  /** The packet with its length in front. */
  finish(): Buffer {
    const head = Buffer.alloc(4)
    head.writeUInt32BE(this.length)
    return Buffer.concat([head, ...this.parts], this.length + 4)
  }

  private push(b: Buffer): this {
    this.parts.push(b)
    this.length += b.length
    return this
  }
}

/** A malformed packet from the server: the channel cannot be trusted after it. */
export class BadPacket extends Error {}

/** Reads the fields of one packet's payload in order; throws {@link BadPacket} past its end. */
export class PacketReader {
  private at = 0

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.at >= this.buf.length
  }

  byte(): number {
    this.need(1)
    return this.buf[this.at++]!
  }

  u32(): number {
    this.need(4)
    const n = this.buf.readUInt32BE(this.at)
    this.at += 4
    return n
  }

  /** The next uint32 without moving past it (the code of a STATUS, to tell EOF from an error). */
  peekU32(): number {
    this.need(4)
    return this.buf.readUInt32BE(this.at)
  }

  u64(): bigint {
    this.need(8)
    const n = this.buf.readBigUInt64BE(this.at)
    this.at += 8
    return n
  }

  bytes(): Buffer {
    const n = this.u32()
    this.need(n)
    const b = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return b
  }

  string(): string {
    return this.bytes().toString('utf8')
  }

  attrs(): SftpAttrs {
    const flags = this.u32()
    const a: SftpAttrs = {}
    if (flags & ATTR_SIZE) a.size = this.u64()
    if (flags & ATTR_UIDGID) {
      a.uid = this.u32()
      a.gid = this.u32()
    }
    if (flags & ATTR_PERMISSIONS) a.permissions = this.u32()
    if (flags & ATTR_ACMODTIME) {
      a.atime = this.u32()
      a.mtime = this.u32()
    }
    if (flags & ATTR_EXTENDED) {
      const n = this.u32()
      a.extended = []
      for (let i = 0; i < n; i++) a.extended.push([this.string(), Buffer.from(this.bytes())])
    }
    return a
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new BadPacket('SFTP packet shorter than its fields')
  }
}
