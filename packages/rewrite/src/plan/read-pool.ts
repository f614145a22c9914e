import { Worker } from 'node:worker_threads'
import type { Prefilter } from '../match/prefilter.js'

/**
 * What a reader thread found for one file: not a regular file, nothing to look at (no needle of
 * its groups and no step that always plans), or its bytes and which groups have a needle in it.
 */
export type ReadOutcome =
  | { kind: 'not-file' }
  | { kind: 'skip' }
  | { kind: 'too-large'; size: number }
  | { kind: 'read'; bytes: Buffer; mode: number; size: number; found: boolean[] }

const SKIP: ReadOutcome = Object.freeze({ kind: 'skip' })

/** The needle groups a file's steps use, and whether one of them plans every file. */
export interface ReadProfile {
  groups: number[]
  always: boolean
}

/**
 * A thread's answer for a chunk: the files with nothing to look at as a list of indices (most of
 * a tree: no object each), the others one by one.
 */
interface Reply {
  id: number
  skipped: Int32Array
  results: Array<{
    i: number
    kind: 'not-file' | 'read' | 'too-large'
    bytes?: Uint8Array
    mode?: number
    size?: number
    found?: boolean[]
  }>
  error?: { message: string; code?: string; syscall?: string; path?: string; errno?: number }
}

// The thread's code, evaluated as a script so that it runs the same from sources and from dist.
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { openSync, fstatSync, readSync, closeSync, readlinkSync, existsSync, constants } = require('node:fs')
const proc = existsSync('/proc/self/fd')
const { resolve } = require('node:path')
const { source, groupsOf, size, profiles, root, maxSize } = workerData
const re = source ? new RegExp(source, 'g') : undefined
const groups = new Map(groupsOf)
let buf = Buffer.allocUnsafe(1 << 16)
const LARGE = 1 << 20
function readOne(path) {
  // the path has no link in it (resolved within the root): one put there since is not followed
  const abs = resolve(root, path)
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
  try {
    // a directory on the way swapped for a link since it was resolved would lead elsewhere
    let at = abs
    if (proc) try { at = readlinkSync('/proc/self/fd/' + fd) } catch {}
    if (at !== abs) throw Object.assign(new Error(abs + ': a directory on its path changed while it was read (it led to ' + at + '); nothing outside the root is read: plan again'), { code: 'TARGET_MOVED' })
    const bytes = fstatSync(fd).size
    if (bytes > maxSize) { closeSync(fd); return { kind: 'too-large', size: bytes } }
    let length = 0
    for (;;) {
      if (length === buf.length) { const b = Buffer.allocUnsafe(Math.max(buf.length * 2, fstatSync(fd).size + 1)); buf.copy(b, 0, 0, length); buf = b }
      const want = buf.length - length
      let n
      try { n = readSync(fd, buf, length, want, null) } catch (e) { if (!fstatSync(fd).isFile()) return { kind: 'not-file' }; throw e }
      length += n
      if (n < want) break
    }
    if (length === 0 && !fstatSync(fd).isFile()) return { kind: 'not-file' }
    return { kind: 'read', length, fd }
  } catch (e) { closeSync(fd); throw e }
}
function scan(length) {
  const found = new Array(size).fill(false)
  if (!re) return found
  const text = buf.toString('latin1', 0, length)
  let missing = size
  re.lastIndex = 0
  for (let m = re.exec(text); m && missing > 0; m = re.exec(text)) {
    for (const g of groups.get(m[0])) if (!found[g]) { found[g] = true; missing-- }
    re.lastIndex = m.index + 1
  }
  return found
}
parentPort.on('message', ({ id, paths, profileOf }) => {
  const results = []
  const skipped = new Int32Array(paths.length)
  let skips = 0
  const transfer = []
  try {
    for (let k = 0; k < paths.length; k++) {
      const i = id + k
      const r = readOne(paths[k])
      if (r.kind !== 'read') { results.push({ i, kind: r.kind, size: r.size }); continue }
      let info
      try {
        const found = scan(r.length)
        const p = profiles[profileOf[k]]
        if (!p.always && !found[0] && !p.groups.some((g) => found[g])) { skipped[skips++] = i; continue }
        info = fstatSync(r.fd)
        const bytes = new Uint8Array(r.length)
        bytes.set(buf.subarray(0, r.length))
        transfer.push(bytes.buffer)
        results.push({ i, kind: 'read', bytes, mode: info.mode, size: r.length, found })
      } finally { closeSync(r.fd) }
      if (buf.length > LARGE) buf = Buffer.allocUnsafe(1 << 16)
    }
    const list = skipped.slice(0, skips)
    transfer.push(list.buffer)
    parentPort.postMessage({ id, skipped: list, results }, transfer)
  } catch (e) {
    parentPort.postMessage({ id, skipped: new Int32Array(0), results: [], error: { message: e.message, code: e.code, syscall: e.syscall, path: e.path, errno: e.errno } })
  }
})
`

/**
 * Reads and prefilters files on `threads` worker threads, in chunks, so that opening, reading and
 * scanning a large tree run beside the planning of the few files that hold a needle. `each`
 * receives every file's outcome (in no particular order); at most `limit` of the promises it
 * returns are pending before more files are read. Rejects with the first read error, as `fs`
 * would have thrown it, or the first rejection of `each`.
 */
export async function readInThreads(
  root: string,
  files: ReadonlyArray<{ path: string; profile: number }>,
  profiles: readonly ReadProfile[],
  prefilter: Prefilter,
  options: { threads: number; limit: number; maxSize: number },
  each: (index: number, outcome: ReadOutcome) => void | Promise<void>,
): Promise<void> {
  const { source, groupsOf } = prefilter.tables()
  const workerData = {
    source,
    groupsOf,
    size: prefilter.size,
    profiles,
    root,
    maxSize: options.maxSize,
  }
  const workers = Array.from(
    { length: options.threads },
    () => new Worker(SOURCE, { eval: true, workerData }),
  )
  const chunk = 256
  try {
    await new Promise<void>((done, fail) => {
      let next = 0
      let busy = 0
      let inflight = 0
      let failed = false
      const idle = [...workers]
      const stop = (e: unknown) => {
        if (!failed) fail(e)
        failed = true
      }
      const pump = () => {
        if (failed) return
        while (idle.length && next < files.length && inflight < options.limit) {
          const w = idle.pop()!
          const start = next
          next = Math.min(files.length, next + chunk)
          const paths: string[] = []
          const profileOf = new Int32Array(next - start)
          for (let i = start; i < next; i++) {
            paths.push(files[i]!.path)
            profileOf[i - start] = files[i]!.profile
          }
          busy++
          w.postMessage({ id: start, paths, profileOf }, [profileOf.buffer])
        }
        if (next >= files.length && busy === 0 && inflight === 0) done()
      }
      for (const w of workers) {
        w.on('error', stop)
        w.on('message', (reply: Reply) => {
          busy--
          idle.push(w)
          if (reply.error) return stop(Object.assign(new Error(reply.error.message), reply.error))
          const outcomes = (function* (): Generator<[number, ReadOutcome]> {
            for (const i of reply.skipped) yield [i, SKIP]
            for (const r of reply.results) {
              yield [
                r.i,
                r.kind === 'read'
                  ? {
                      kind: 'read',
                      bytes: Buffer.from(r.bytes!.buffer, r.bytes!.byteOffset, r.bytes!.byteLength),
                      mode: r.mode!,
                      size: r.size!,
                      found: r.found!,
                    }
                  : r.kind === 'too-large'
                    ? { kind: 'too-large', size: r.size! }
                    : { kind: r.kind },
              ]
            }
          })()
          for (const [i, outcome] of outcomes) {
            let p: void | Promise<void>
            try {
              p = each(i, outcome)
            } catch (e) {
              return stop(e)
            }
            if (p) {
              inflight++
              p.then(() => {
                inflight--
                pump()
              }, stop)
            }
          }
          pump()
        })
      }
      pump()
    })
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}
