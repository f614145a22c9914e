import { connect } from 'node:net'

/*
 * The two requests of ssh's control-socket protocol (OpenSSH's PROTOCOL.mux) that `ssh -O check`
 * and `ssh -O exit` send, spoken by this process over the master's socket instead of by an ssh
 * client started for each: a child of a large process costs a fork, and a connection's end asked
 * for two of them one after the other. Nothing else of the protocol is spoken (no session: those
 * pass file descriptors, which node cannot). Every message is `uint32 length`, `uint32 type`, its
 * body; both ends first send a hello with the protocol's version, 4 (an ssh client refuses a
 * master of another version, and so does this: the caller then asks an ssh client).
 */

const MUX_MSG_HELLO = 0x00000001
const MUX_C_ALIVE_CHECK = 0x10000004
const MUX_C_TERMINATE = 0x10000005
const MUX_S_OK = 0x80000001
const MUX_S_PERMISSION_DENIED = 0x80000002
const MUX_S_FAILURE = 0x80000003
const MUX_S_ALIVE = 0x80000005
const MUX_VERSION = 4

/** Longest reply read: a hello with extensions, or a failure's reason. */
const MAX_MESSAGE = 64 * 1024

/** What a master answered, or why there was no answer. */
export type MuxAnswer =
  /** `check`: the master runs, with this process id. */
  | { kind: 'alive'; pid: number }
  /** `exit`: the master ends. */
  | { kind: 'ok' }
  /** The master refused (`ControlMaster ask`, a confirmation declined) or failed: its reason. */
  | { kind: 'refused'; reason: string }
  /** Nobody answers on the socket (no socket, refused, closed before its answer, no answer in time). */
  | { kind: 'none' }
  /** The master speaks another version of the protocol, or something else than it. */
  | { kind: 'unsupported' }

/** A message of two uint32: its type and the hello's version or a request's id. */
function message(type: number, value: number): Buffer {
  const b = Buffer.alloc(12)
  b.writeUInt32BE(8, 0)
  b.writeUInt32BE(type, 4)
  b.writeUInt32BE(value, 8)
  return b
}

/**
 * Asks the master listening on `socketPath`: `check` (is it running, its pid) or `exit` (end
 * now), as `ssh -O` does. Never rejects; gives up after `ms` (a master that does not answer is
 * none).
 */
export function muxRequest(
  socketPath: string,
  request: 'check' | 'exit',
  ms: number,
): Promise<MuxAnswer> {
  return new Promise((resolve) => {
    const id = 1
    let got = Buffer.alloc(0)
    let hello = false
    let settled = false
    const socket = connect(socketPath)
    const done = (answer: MuxAnswer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done({ kind: 'none' }), ms)
    // a master told to exit may end before its answer (ssh's own client allows for it too)
    const ended = () => done(request === 'exit' && hello ? { kind: 'ok' } : { kind: 'none' })
    socket.on('error', ended)
    socket.on('close', ended)
    socket.on('connect', () => {
      socket.write(
        Buffer.concat([
          message(MUX_MSG_HELLO, MUX_VERSION),
          message(request === 'check' ? MUX_C_ALIVE_CHECK : MUX_C_TERMINATE, id),
        ]),
      )
    })
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk])
      for (;;) {
        if (got.length < 4) return
        const length = got.readUInt32BE(0)
        if (length < 4 || length > MAX_MESSAGE) return done({ kind: 'unsupported' })
        if (got.length < 4 + length) return
        const body = got.subarray(4, 4 + length)
        got = got.subarray(4 + length)
        const answer = read(body)
        if (answer) return done(answer)
      }
    })

    /** The answer a message gives, or undefined when another must follow (the hello). */
    function read(body: Buffer): MuxAnswer | undefined {
      const type = body.readUInt32BE(0)
      if (!hello) {
        if (type !== MUX_MSG_HELLO || body.length < 8 || body.readUInt32BE(4) !== MUX_VERSION)
          return { kind: 'unsupported' }
        hello = true
        return undefined
      }
      if (body.length < 8 || body.readUInt32BE(4) !== id) return { kind: 'unsupported' }
      if (request === 'check' && type === MUX_S_ALIVE && body.length >= 12)
        return { kind: 'alive', pid: body.readUInt32BE(8) }
      if (request === 'exit' && type === MUX_S_OK) return { kind: 'ok' }
      if (type === MUX_S_PERMISSION_DENIED || type === MUX_S_FAILURE)
        return { kind: 'refused', reason: reason(body) }
      return { kind: 'unsupported' }
    }
  })
}

/** The reason string of a refusal (`uint32 length`, its bytes), as far as it is there. */
function reason(body: Buffer): string {
  if (body.length < 12) return ''
  const n = body.readUInt32BE(8)
  return body.subarray(12, 12 + n).toString('utf8')
}
