import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { tempDir } from '@cutover/test-kit/temp'
import { afterEach, describe, expect, it } from 'vitest'
import { muxRequest, muxRequestsSync } from '../src/ssh/mux.js'

// The control-socket requests against a socket server that answers as told (a real master's
// answers are in ssh-connect.test.ts): what each kind of answer, and each lack of one, gives.

const u32 = (...n: number[]) => {
  const b = Buffer.alloc(4 * n.length)
  n.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i))
  return b
}
/** A message: its length, then its fields. */
const msg = (...fields: Buffer[]) => {
  const body = Buffer.concat(fields)
  return Buffer.concat([u32(body.length), body])
}
const string = (s: string) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)])
const HELLO = msg(u32(1, 4))

describe('ssh control-socket requests', () => {
  const dir = tempDir('mux-')
  let server: Server | undefined
  let n = 0
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

  /**
   * A socket whose server runs `answer` with the connection and each message the client sent (as
   * its fields of uint32); its path.
   */
  async function serve(answer: (s: Socket, fields: number[]) => void): Promise<string> {
    const path = join(dir, `s${n++}`)
    server = createServer((s) => {
      let got = Buffer.alloc(0)
      s.on('data', (c: Buffer) => {
        got = Buffer.concat([got, c])
        while (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
          const len = got.readUInt32BE(0)
          const fields: number[] = []
          for (let i = 4; i + 4 <= 4 + len; i += 4) fields.push(got.readUInt32BE(i))
          got = got.subarray(4 + len)
          answer(s, fields)
        }
      })
      s.on('error', () => {})
    })
    await new Promise<void>((r) => server!.listen(path, r))
    return path
  }

  it('sends a hello of version 4 and the request, and reads the pid of an alive master', async () => {
    const seen: number[][] = []
    const path = await serve((s, f) => {
      seen.push(f)
      if (f[0] === 1) s.write(HELLO)
      else s.write(msg(u32(0x80000005, f[1]!, 4242)))
    })
    expect(await muxRequest(path, 'check', 5000)).toEqual({ kind: 'alive', pid: 4242 })
    expect(seen).toEqual([
      [1, 4],
      [0x10000004, 1],
    ])
  })

  it('takes a hello with extensions and answers split across writes', async () => {
    const path = await serve((s, f) => {
      if (f[0] !== 0x10000005) return
      const all = Buffer.concat([
        msg(u32(1, 4), string('ext@example'), string('value')),
        msg(u32(0x80000001, f[1]!)),
      ])
      for (let i = 0; i < all.length; i += 3) s.write(all.subarray(i, i + 3))
    })
    expect(await muxRequest(path, 'exit', 5000)).toEqual({ kind: 'ok' })
  })

  it('counts a master that closes after its hello, told to exit, as ending', async () => {
    const path = await serve((s, f) => {
      if (f[0] === 1) s.write(HELLO)
      else s.end()
    })
    expect(await muxRequest(path, 'exit', 5000)).toEqual({ kind: 'ok' })
    // asked whether it runs, a master that closes is none
    expect(await muxRequest(path, 'check', 5000)).toEqual({ kind: 'none' })
  })

  it('gives the reason of a refusal', async () => {
    const path = await serve((s, f) => {
      if (f[0] === 1) s.write(HELLO)
      else s.write(msg(u32(0x80000002, f[1]!), string('Permission denied')))
    })
    expect(await muxRequest(path, 'exit', 5000)).toEqual({
      kind: 'refused',
      reason: 'Permission denied',
    })
  })

  it('refuses another version of the protocol, a wrong request id and an unknown answer', async () => {
    const v5 = await serve((s, f) => f[0] === 1 && s.write(msg(u32(1, 5))))
    expect(await muxRequest(v5, 'check', 5000)).toEqual({ kind: 'unsupported' })
    await new Promise<void>((r) => server!.close(() => r()))
    const otherId = await serve((s, f) => {
      if (f[0] === 1) s.write(HELLO)
      else s.write(msg(u32(0x80000005, 99, 4242)))
    })
    expect(await muxRequest(otherId, 'check', 5000)).toEqual({ kind: 'unsupported' })
    await new Promise<void>((r) => server!.close(() => r()))
    const ok = await serve((s, f) => {
      if (f[0] === 1) s.write(HELLO)
      else s.write(msg(u32(0x80000001, f[1]!)))
    })
    // an OK to an alive check is not an alive master
    expect(await muxRequest(ok, 'check', 5000)).toEqual({ kind: 'unsupported' })
  })

  it('is none when nothing listens, or nothing answers in time', async () => {
    expect(await muxRequest(join(dir, 'absent'), 'check', 5000)).toEqual({ kind: 'none' })
    const silent = await serve(() => {})
    expect(await muxRequest(silent, 'check', 50)).toEqual({ kind: 'none' })
    // a path node refuses before connecting: none, never a rejection or a throw
    expect(await muxRequest('', 'check', 5000)).toEqual({ kind: 'none' })
  })

  it('asks several sockets at once synchronously, while a server on another thread answers', async () => {
    // this thread blocks while it asks: the master stand-in runs on a thread of its own
    const alive = join(dir, `s${n++}`)
    const ends = join(dir, `s${n++}`)
    const thread = new Worker(
      `
      const { createServer } = require('node:net')
      const { parentPort, workerData } = require('node:worker_threads')
      const u32 = (...n) => { const b = Buffer.alloc(4 * n.length); n.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i)); return b }
      const msg = (...f) => { const body = Buffer.concat(f); return Buffer.concat([u32(body.length), body]) }
      let listening = 0
      for (const [path, answer] of [[workerData.alive, (id) => msg(u32(0x80000005, id, 4242))], [workerData.ends, (id) => msg(u32(0x80000001, id))]])
        createServer((s) => {
          s.on('error', () => {})
          s.on('data', (c) => {
            // the hello and the request arrive together: answer both
            s.write(Buffer.concat([msg(u32(1, 4)), answer(c.readUInt32BE(20))]))
          })
        }).listen(path, () => ++listening === 2 && parentPort.postMessage('up'))
      `,
      { eval: true, workerData: { alive, ends } },
    )
    try {
      await new Promise((r) => thread.once('message', r))
      expect(muxRequestsSync([alive, ends, join(dir, 'none')], 'check', 5000)).toEqual([
        { kind: 'alive', pid: 4242 },
        { kind: 'unsupported' },
        { kind: 'none' },
      ])
      expect(muxRequestsSync([ends], 'exit', 5000)).toEqual([{ kind: 'ok' }])
      expect(muxRequestsSync([], 'exit', 5000)).toEqual([])
    } finally {
      await thread.terminate()
    }
  })
})
