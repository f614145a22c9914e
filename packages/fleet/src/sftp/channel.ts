import type { Readable, Writable } from 'node:stream'
import { codeOfStatus, SftpError, type SftpErrorCode } from './errors.js'
import { BadPacket, FX, FXP, PacketReader, PacketWriter } from './packet.js'

interface Pending {
  resolve: (reply: { type: number; r: PacketReader }) => void
  reject: (e: SftpError) => void
  syscall: string
  path: string | undefined
}

/** A packet longer than this is garbage, not SFTP: OpenSSH's own bound is 256 KiB. */
const MAX_PACKET = 4 * 1024 * 1024

/**
 * The request layer of an SFTP session over a server's stdin and stdout: ids, the packets in
 * and out, the replies matched to their requests, and the end of the channel (every pending
 * request and every later one rejected). The client (client.ts) builds the requests on it.
 */
export class SftpChannel {
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private inbox: Buffer[] = []
  private inboxLength = 0
  private lost: string | undefined
  private onVersion: ((r: PacketReader) => void) | undefined
  private readonly ended: Promise<void>
  /** Requests sent, and the bursts they came in (one sent with none in flight starts a burst): for the trace. */
  readonly counts = { requests: 0, bursts: 0 }

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.on('data', (b: Buffer) => this.receive(b))
    this.ended = new Promise((resolve) => {
      const gone = (why: string) => () => {
        this.fail(why)
        resolve()
      }
      output.on('end', gone('connection lost'))
      output.on('close', gone('connection lost'))
      output.on('error', (e: Error) => gone(`connection lost (${e.message})`)())
    })
    input.on('error', (e: Error) => this.fail(`connection lost (${e.message})`))
  }

  /** INIT, then the server's VERSION: its payload after the version, which must be 3. */
  async hello(): Promise<PacketReader> {
    const version = new Promise<PacketReader>((resolve, reject) => {
      this.onVersion = resolve
      this.pending.set(0, { resolve: () => {}, reject, syscall: 'init', path: undefined })
    })
    this.send(new PacketWriter(FXP.INIT).u32(3))
    const r = await version
    this.pending.delete(0)
    const v = r.u32()
    if (v !== 3) {
      this.fail(`server speaks SFTP version ${v}, not 3`)
      throw this.error('EPROTO', 'init', undefined, undefined, `server speaks SFTP version ${v}`)
    }
    return r
  }

  /** Closes the server's input and waits for its output to end. */
  async end(): Promise<void> {
    if (!this.input.writableEnded) this.input.end()
    await this.ended
  }

  /** Whether the channel still works. */
  get alive(): boolean {
    return this.lost === undefined
  }

  async status(
    type: number,
    build: (w: PacketWriter) => void,
    syscall: string,
    path: string | undefined,
  ): Promise<void> {
    this.expect(await this.request(type, build, syscall, path), FXP.STATUS, syscall, path)
  }

  /**
   * The payload after the id of a reply of type `want`; a STATUS other than OK throws its error
   * (a STATUS OK is what a `want` of STATUS expects).
   */
  expect(
    reply: { type: number; r: PacketReader },
    want: number,
    syscall: string,
    path: string | undefined,
  ): PacketReader {
    if (reply.type === FXP.STATUS) {
      const code = reply.r.u32()
      const message = reply.r.done ? '' : reply.r.string()
      if (code === FX.OK && want === FXP.STATUS) return reply.r
      if (code !== FX.OK)
        throw this.error(
          codeOfStatus(code),
          syscall,
          path,
          code,
          message.toLowerCase() || 'failure',
        )
    }
    if (reply.type !== want) {
      const why = `reply of type ${reply.type} to ${syscall}`
      this.fail(why)
      throw this.error('EPROTO', syscall, path, undefined, why)
    }
    return reply.r
  }

  request(
    type: number,
    build: (w: PacketWriter) => void,
    syscall: string,
    path: string | undefined,
  ): Promise<{ type: number; r: PacketReader }> {
    if (this.lost !== undefined)
      return Promise.reject(this.error('ECONNRESET', syscall, path, undefined, this.lost))
    const id = this.nextId
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1
    const w = new PacketWriter(type).u32(id)
    build(w)
    this.counts.requests++
    if (this.pending.size === 0) this.counts.bursts++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, syscall, path })
      this.send(w)
    })
  }

  private send(w: PacketWriter): void {
    if (this.input.destroyed || this.input.writableEnded) {
      this.fail('connection lost')
      return
    }
    this.input.write(w.finish())
  }

  private receive(chunk: Buffer): void {
    this.inbox.push(chunk)
    this.inboxLength += chunk.length
    while (this.inboxLength >= 4 && this.lost === undefined) {
      let all = this.inbox.length === 1 ? this.inbox[0]! : Buffer.concat(this.inbox)
      const length = all.readUInt32BE(0)
      if (length < 1 || length > MAX_PACKET) {
        this.fail(`bad packet length ${length} from the server`)
        return
      }
      if (all.length < 4 + length) {
        this.inbox = [all]
        return
      }
      const packet = all.subarray(4, 4 + length)
      all = all.subarray(4 + length)
      this.inbox = all.length ? [all] : []
      this.inboxLength = all.length
      try {
        this.dispatch(new PacketReader(packet))
      } catch (e) {
        if (!(e instanceof BadPacket)) throw e
        this.fail(e.message)
      }
    }
  }

  private dispatch(r: PacketReader): void {
    const type = r.byte()
    if (type === FXP.VERSION && this.onVersion) {
      const resolve = this.onVersion
      this.onVersion = undefined
      resolve(r)
      return
    }
    const id = r.u32()
    const p = this.pending.get(id)
    if (!p) throw new BadPacket(`reply to an unknown request ${id}`)
    this.pending.delete(id)
    p.resolve({ type, r })
  }

  /** The channel is unusable: every pending request and every later one rejects. */
  fail(why: string): void {
    if (this.lost !== undefined) return
    this.lost = why
    const code: SftpErrorCode = why.startsWith('connection lost') ? 'ECONNRESET' : 'EPROTO'
    for (const p of this.pending.values())
      p.reject(this.error(code, p.syscall, p.path, undefined, why))
    this.pending.clear()
    if (!this.input.destroyed && !this.input.writableEnded) this.input.end()
  }

  error(
    code: SftpErrorCode,
    syscall: string,
    path: string | undefined,
    status: number | undefined,
    detail: string,
  ): SftpError {
    return new SftpError(code, syscall, path, status, detail)
  }
}
