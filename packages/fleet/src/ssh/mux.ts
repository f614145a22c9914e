import { connect } from 'node:net'
import { Worker } from 'node:worker_threads'

/*
 * The two requests of ssh's control-socket protocol (OpenSSH's PROTOCOL.mux) that `ssh -O check`
 * and `ssh -O exit` send, spoken by this process over the master's socket instead of by an ssh
 * client started for each: a child of a large process costs a fork, and a connection's end asked
 * for two of them one after the other. Nothing else of the protocol is spoken (no session: those
 * pass file descriptors, which node cannot). Every message is `uint32 length`, `uint32 type`, its
 * body; both ends first send a hello with the protocol's version, 4 (an ssh client refuses a
 * master of another version, and so does this: a connection then asks an ssh client, and the
 * removal of a sockets' directory kills a master that has not gone after its wait).
 */

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

/**
 * The requests, spoken over sockets that `connectTo` opens: self-contained (it names nothing of
 * the module around it), so that a thread can run its source too ({@link muxRequestsSync}).
 */
function muxClient(connectTo: typeof connect) {
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
  return function muxRequest(
    socketPath: string,
    request: 'check' | 'exit',
    ms: number,
  ): Promise<MuxAnswer> {
    return new Promise((resolve) => {
      const id = 1
      let got = Buffer.alloc(0)
      let hello = false
      let settled = false
      let socket: ReturnType<typeof connect>
      try {
        socket = connectTo(socketPath)
      } catch {
        // a path no socket can have (node refuses it before connecting): nobody answers
        return resolve({ kind: 'none' })
      }
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
}

/**
 * Asks the master listening on `socketPath`: `check` (is it running, its pid) or `exit` (end
 * now), as `ssh -O` does. Never rejects; gives up after `ms` (a master that does not answer is
 * none).
 */
export const muxRequest = muxClient(connect)

/** The kinds of {@link MuxAnswer} by their number in {@link muxRequestsSync}'s shared memory (0: no answer yet). */
const KINDS = ['', 'alive', 'ok', 'refused', 'none', 'unsupported'] as const

/**
 * A thread that asks every master of `workerData.paths` at once with {@link muxClient}'s source,
 * writes each answer's kind (and a pid) in the shared memory, then sets its first slot and wakes
 * the thread that waits for it.
 */
const THREAD = `
const { workerData } = require('node:worker_threads')
const request = (${muxClient.toString()})(require('node:net').connect)
const { paths, request: what, ms, memory } = workerData
const slots = new Int32Array(memory)
const kinds = ${JSON.stringify(KINDS)}
Promise.all(
  paths.map((path, i) =>
    request(path, what, ms).then((a) => {
      slots[1 + 2 * i] = kinds.indexOf(a.kind)
      slots[2 + 2 * i] = a.kind === 'alive' ? a.pid : 0
    }),
  ),
).then(() => {
  Atomics.store(slots, 0, 1)
  Atomics.notify(slots, 0)
})
`

/**
 * {@link muxRequest} of each socket of `socketPaths` at once, synchronously: for a signal's
 * handler, where nothing asynchronous runs any more. A thread speaks the protocol while this one
 * blocks, at most `ms` and a moment for the thread to start; a request the thread did not
 * answer (or could not: no thread) is none. A refusal's reason is not kept (`''`).
 */
export function muxRequestsSync(
  socketPaths: readonly string[],
  request: 'check' | 'exit',
  ms: number,
): MuxAnswer[] {
  if (socketPaths.length === 0) return []
  const memory = new SharedArrayBuffer(4 * (1 + 2 * socketPaths.length))
  const slots = new Int32Array(memory)
  let worker: Worker | undefined
  try {
    worker = new Worker(THREAD, {
      eval: true,
      workerData: { paths: socketPaths, request, ms, memory },
    })
    // the thread starts in some tens of milliseconds (more on a loaded machine)
    Atomics.wait(slots, 0, 0, ms + 5_000)
  } catch {
    // no thread: no answer
  } finally {
    void worker?.terminate()
  }
  return socketPaths.map((_, i): MuxAnswer => {
    const kind = KINDS[slots[1 + 2 * i]!] || 'none'
    if (kind === 'alive') return { kind, pid: slots[2 + 2 * i]! }
    if (kind === 'refused') return { kind, reason: '' }
    return { kind }
  })
}
