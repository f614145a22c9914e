import type * as Fs from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Prefilter } from '../match/prefilter.js'

/**
 * What reading found for one file: not a regular file, over the size limit, nothing to look at
 * (no needle of its groups and no step that always plans), or its bytes, permission bits and which
 * groups have a needle in it; a file over {@link LARGE_FILE} bytes has no bytes (`bytes` is empty)
 * but its text (unless binary) and what {@link LargeRead} says of its bytes.
 */
export type ReadOutcome =
  | { kind: 'not-file' }
  | { kind: 'skip' }
  | { kind: 'too-large'; size: number }
  | {
      kind: 'read'
      bytes: Buffer
      mode: number
      found: boolean[]
      text?: string
      large?: LargeRead
    }

/**
 * A file over {@link LARGE_FILE} bytes, given without its bytes (freed as soon as it was read)
 * but decoded (`text`, in `encoding`, as `decodeText` decodes it), hashed (`sha256:` of the
 * bytes) and checked for NUL bytes in its first 8000 (`binary`: no text is kept).
 */
export interface LargeRead {
  hash: string
  encoding: 'utf8' | 'utf8-bom' | 'latin1'
  binary: boolean
}

/** Files over this size are read by the large-file path (`readLarge`). */
export const LARGE_FILE = 1 << 20

const SKIP: ReadOutcome = Object.freeze({ kind: 'skip' })

/** The needle groups a file's steps use, and whether one of them plans every file. */
export interface ReadProfile {
  groups: number[]
  always: boolean
}

/** What a reader is given once: the prefilter's tables, the profiles and the size limit. */
interface ReaderData {
  source: string | undefined
  groupsOf: Array<[string, number[]]>
  size: number
  profiles: readonly ReadProfile[]
  maxSize: number
}

/** Files to read: absolute paths with no link in them, and the profile of each. */
interface Chunk {
  first: number
  paths: string[]
  profileOf: Int32Array
}

/**
 * The answer for a chunk: the files with nothing to look at as a list of indices (most of a
 * tree: no object each), the others one by one.
 */
interface Reply {
  skipped: Int32Array
  results: Array<{
    i: number
    kind: 'not-file' | 'read' | 'too-large'
    bytes?: Uint8Array
    text?: string
    mode?: number
    size?: number
    found?: boolean[]
    large?: LargeRead
  }>
}

/**
 * The one reader of a plan's files, run on this thread or, as its source, on a reader thread: so
 * it uses no import and no name from outside its body but what it is given (`load`, the `require` of its place, and `data`).
 * Each file is opened non-blocking and without following a link (a FIFO in the tree is reported,
 * not waited on; a link put on the path since is not followed), read into a reused buffer and
 * prefiltered on its raw bytes; a file over 1 MiB is read whole into a buffer whose memory is given
 * back as soon as it is decoded (see `readLarge`), so that its text is its only copy. A file that
 * holds no needle (most of a tree) costs an open, a read and a close: nothing of it is used. Any
 * other outcome is given only once the file proves to have been opened where it was resolved
 * (`TARGET_MOVED` when a directory on its path was swapped for a link since); a file over the
 * size limit is refused as soon as the reused buffer is full, without being read further. The
 * raw bytes are scanned viewed as latin1 with the prefilter's regex (measured: irregexp's one
 * pass beats a `Buffer#indexOf` pass per needle form, even for a few forms).
 */
export function fileReader(load: NodeJS.Require, data: ReaderData): (chunk: Chunk) => Reply {
  const fs = load('node:fs') as typeof Fs
  const { isAscii, isUtf8, constants } = load('node:buffer') as {
    isAscii: (b: Uint8Array) => boolean
    isUtf8: (b: Uint8Array) => boolean
    constants: { MAX_STRING_LENGTH: number }
  }
  const { createHash } = load('node:crypto') as typeof import('node:crypto')
  const { source, groupsOf, size, profiles, maxSize } = data
  const re = source === undefined ? undefined : new RegExp(source, 'g')
  const groups = new Map(groupsOf)
  // a needle found across the cut between two chunks lies within this many characters of it
  let reach = 0
  for (const [form] of groupsOf) reach = Math.max(reach, form.length - 1)
  const proc = fs.existsSync('/proc/self/fd')
  const LARGE = 1 << 20
  // the bytes of a large file that is not latin1 text are scanned as latin1 this many at a time
  const WINDOW = 1 << 16
  let scratch = Buffer.allocUnsafe(1 << 16)
  // a resizable ArrayBuffer (ES2024, in node since 20; not in the ES2023 lib this is built with)
  const Resizable = ArrayBuffer as unknown as new (
    length: number,
    options: { maxByteLength: number },
  ) => ArrayBuffer & { resize(length: number): void }

  /**
   * Throws `TARGET_MOVED` unless the file open as `fd` was opened at `path` (a link-free path in
   * the root): a directory on the way swapped for a link since it was resolved would have led the
   * open elsewhere, maybe out of the root. The kernel says where (`/proc/self/fd/N`, which names
   * the open file however long ago it was opened); without /proc, nothing is checked.
   */
  function checkPlace(fd: number, path: string): void {
    if (!proc) return
    let at: string
    try {
      at = fs.readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      return
    }
    if (at !== path) {
      const message = `${path}: a directory on its path changed while it was read (it led to ${at}); nothing outside the root is read: plan again`
      throw Object.assign(new Error(message), { code: 'TARGET_MOVED' })
    }
  }

  /**
   * Reads an open file to its end: its bytes, `'not-file'` when it is not a regular file (any
   * more), or its size when that is over the limit (known once the buffer is full, or at the end).
   */
  function readAll(fd: number): { buf: Buffer; length: number } | Large | 'not-file' | number {
    let buf = scratch
    let length = 0
    for (;;) {
      if (length === buf.length) {
        const st = fs.fstatSync(fd)
        if (!st.isFile()) return 'not-file'
        if (st.size > maxSize) return st.size
        if (length > maxSize) return length
        const want = Math.max(buf.length * 2, st.size + 1)
        if (want > LARGE) return readLarge(fd, buf, st.size)
        const bigger = Buffer.allocUnsafe(want)
        buf.copy(bigger, 0, 0, length)
        buf = scratch = bigger
      }
      const want = buf.length - length
      let n: number
      try {
        n = fs.readSync(fd, buf, length, want, null)
      } catch (e) {
        if (!fs.fstatSync(fd).isFile()) return 'not-file'
        throw e
      }
      length += n
      // a short read is the end of a regular file
      if (n < want) break
    }
    if (length === 0 && !fs.fstatSync(fd).isFile()) return 'not-file'
    if (length > maxSize) return Math.max(length, fs.fstatSync(fd).size)
    return { buf, length }
  }

  /** Which groups have a needle in `text` (the bytes as latin1). */
  function scan(text: string): boolean[] {
    const found = new Array<boolean>(size).fill(false)
    scanInto(found, size, text)
    return found
  }

  /**
   * Marks in `found` the groups with a needle in `text`, `missing` of them not found yet; returns
   * how many are still missing.
   */
  function scanInto(found: boolean[], missing: number, text: string): number {
    if (!re) return missing
    re.lastIndex = 0
    for (let m = re.exec(text); m && missing > 0; m = re.exec(text)) {
      for (const g of groups.get(m[0])!) {
        if (!found[g]) {
          found[g] = true
          missing--
        }
      }
      re.lastIndex = m.index + 1
    }
    return missing
  }

  /** What the large-file path gives: the text (but of a binary file), its hash and encoding. */
  interface Large {
    large: LargeRead
    text: string | undefined
    found: boolean[]
  }

  /**
   * Reads a file over 1 MiB, whose first `head.length` bytes are read and whose size was
   * `fileSize`, whole into a buffer over a resizable `ArrayBuffer` (grown in place if the file
   * grew), then hashes, scans and decodes those bytes as `decodeText` decodes them, and shrinks
   * the buffer to nothing: its memory goes back at once, where a buffer or decoded chunks of the
   * whole stayed until a late full collection (46 MB of a dump): the text is then the only copy
   * of the file in memory. A file over the size limit gives its size, a file with a NUL byte in
   * its first 8000 no text; a file past 4 GiB or whose text is longer than a string can be
   * throws `ERR_STRING_TOO_LONG`, as node does.
   */
  function readLarge(fd: number, head: Buffer, fileSize: number): Large | number {
    // V8 resizes an ArrayBuffer up to 4 GiB: a file past that (or than the limit) is refused
    const cap = Math.min(maxSize + 1, 2 ** 32)
    const whole = new Resizable(Math.min(Math.max(fileSize, head.length) + 1, cap), {
      maxByteLength: cap,
    })
    try {
      let buf = Buffer.from(whole)
      head.copy(buf)
      let length = head.length
      for (;;) {
        if (length === buf.length) {
          if (length === cap) {
            if (cap > maxSize) return Math.max(length, fs.fstatSync(fd).size)
            // under the limit: past 4 GiB, a text is longer than a string can be anyway
            throw tooLong()
          }
          whole.resize(Math.min(length * 2, cap))
          buf = Buffer.from(whole)
        }
        const want = buf.length - length
        const n = fs.readSync(fd, buf, length, want, null)
        length += n
        // a short read is the end once the file's size is read; before it, only a read of
        // nothing is: Linux reads at most 2 GiB - 4 KiB at once, and a network or FUSE file
        // system may give less than asked
        if (n === 0 || (n < want && length >= fileSize)) break
      }
      return decodeLarge(buf.subarray(0, length))
    } finally {
      whole.resize(0)
    }
  }

  /** The hash, encoding, needles and text (unless binary) of a large file's bytes. */
  function decodeLarge(bytes: Buffer): Large {
    const hash = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    const binary = bytes.subarray(0, 8000).includes(0)
    const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
    const ascii = !binary && isAscii(bytes)
    const utf8 = binary || ascii || isUtf8(bom ? bytes.subarray(3) : bytes)
    const encoding = !utf8 ? 'latin1' : bom ? 'utf8-bom' : 'utf8'
    // a character a byte: refused before node copies it all to find out (a UTF-8 text that is
    // too long throws the same error when it is made)
    if (!binary && (ascii || !utf8) && bytes.length > constants.MAX_STRING_LENGTH) throw tooLong()
    // the needles are looked for in the bytes as latin1: the text of an ASCII or latin1 file (an
    // ASCII text made as UTF-8, in V8's heap: measured, fewer collections than a string outside it)
    const latin1 = !binary && !utf8 ? bytes.toString('latin1') : undefined
    const text = binary ? undefined : (latin1 ?? bytes.toString('utf8', bom ? 3 : 0))
    const found = ascii ? scan(text!) : latin1 === undefined ? scanWindows(bytes) : scan(latin1)
    return { large: { hash, encoding, binary }, text, found }
  }

  /** The error node throws for a text longer than a string can be (`readOne` names the file). */
  function tooLong(): Error {
    return Object.assign(new Error('text too long'), { code: 'ERR_STRING_TOO_LONG' })
  }

  /**
   * {@link scan} of bytes without their latin1 string: read as latin1 in windows of 64 KiB
   * (strings V8 makes in its young generation), each with the end of the one before for a needle
   * across the cut, until every group is found.
   */
  function scanWindows(bytes: Buffer): boolean[] {
    const found = new Array<boolean>(size).fill(false)
    let missing = re ? size : 0
    for (let w = 0; w < bytes.length && missing > 0; w += WINDOW)
      missing = scanInto(
        found,
        missing,
        bytes.toString('latin1', Math.max(0, w - reach), w + WINDOW),
      )
    return found
  }

  function readOne(path: string, profile: ReadProfile, i: number): Reply['results'][number] | 0 {
    const fd = fs.openSync(
      path,
      fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW,
    )
    try {
      let got
      try {
        got = readAll(fd)
      } catch (e) {
        checkPlace(fd, path)
        if ((e as { code?: unknown }).code !== 'ERR_STRING_TOO_LONG') throw e
        const message = `${path}: ${fs.fstatSync(fd).size} bytes, more text than a plan can hold (a string of at most ${constants.MAX_STRING_LENGTH} characters), nothing was planned: exclude it from the steps' files`
        throw Object.assign(new Error(message), { code: 'FILE_TOO_LARGE' })
      }
      if (got === 'not-file') {
        checkPlace(fd, path)
        return { i, kind: 'not-file' }
      }
      if (typeof got === 'number') {
        checkPlace(fd, path)
        return { i, kind: 'too-large', size: got }
      }
      if ('large' in got) {
        const { large, text, found } = got
        if (!profile.always && !found[0] && !profile.groups.some((g) => found[g])) return 0
        checkPlace(fd, path)
        const mode = fs.fstatSync(fd).mode
        return { i, kind: 'read', bytes: new Uint8Array(0), mode, found, text, large }
      }
      const found = scan(got.buf.toString('latin1', 0, got.length))
      if (!profile.always && !found[0] && !profile.groups.some((g) => found[g])) return 0
      // the file is used: it must be the one at `path`
      checkPlace(fd, path)
      // the permission bits are needed only for a file that may change
      const mode = fs.fstatSync(fd).mode
      return {
        i,
        kind: 'read',
        bytes: new Uint8Array(got.buf.subarray(0, got.length)),
        mode,
        found,
      }
    } finally {
      fs.closeSync(fd)
    }
  }

  return ({ first, paths, profileOf }) => {
    const results: Reply['results'] = []
    const skipped = new Int32Array(paths.length)
    let skips = 0
    for (let k = 0; k < paths.length; k++) {
      const r = readOne(paths[k]!, profiles[profileOf[k]!]!, first + k)
      if (r === 0) skipped[skips++] = first + k
      else results.push(r)
    }
    return { skipped: skipped.slice(0, skips), results }
  }
}

/** Reads chunks of files somewhere: on this thread or on a reader thread. */
interface ChunkReader {
  /** How many files a chunk has. */
  size: number
  /** Reads a chunk; `answer` is given what was read, at once or in parts. */
  read(chunk: Chunk, answer: (reply: Reply) => void): Promise<void>
  close(): Promise<unknown>
}

/**
 * The reader on this thread: a chunk waits for the event loop's turn, then each file is read and
 * answered at once (its planning starts before the next file is read, as a file that holds a
 * needle is planned soon after it was read).
 */
function hereReader(data: ReaderData): ChunkReader {
  const read = fileReader(createRequire(import.meta.url), data)
  return {
    size: 16,
    read: ({ first, paths, profileOf }, answer) =>
      new Promise((done, fail) =>
        setImmediate(() => {
          try {
            paths.forEach((path, k) =>
              answer(
                read({ first: first + k, paths: [path], profileOf: profileOf.subarray(k, k + 1) }),
              ),
            )
            done()
          } catch (e) {
            fail(e)
          }
        }),
      ),
    close: () => Promise.resolve(),
  }
}

// A reader thread runs the source of `fileReader` (as a script: the same from sources and dist);
// the answer's buffers are moved, not copied.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const read = (${fileReader.toString()})(require, workerData)
parentPort.on('message', (chunk) => {
  let reply
  try {
    reply = read(chunk)
  } catch (e) {
    const { message, code, syscall, path, errno } = e
    return parentPort.postMessage({ error: { message, code, syscall, path, errno } })
  }
  const moved = [reply.skipped.buffer]
  for (const r of reply.results) if (r.bytes) moved.push(r.bytes.buffer)
  parentPort.postMessage({ reply }, [...new Set(moved)])
})
`

/** A reader thread: a chunk is sent to it and its answer (or its error, as fs threw it) awaited. */
function threadReader(data: ReaderData): ChunkReader {
  const worker = new Worker(THREAD, { eval: true, workerData: data })
  let pending:
    { done: () => void; fail: (e: unknown) => void; answer: (r: Reply) => void } | undefined
  let broken: unknown
  worker.on('message', (m: { reply?: Reply; error?: Record<string, unknown> }) => {
    const p = pending!
    pending = undefined
    if (m.error) return p.fail(Object.assign(new Error(String(m.error.message)), m.error))
    p.answer(m.reply!)
    p.done()
  })
  worker.on('error', (e) => {
    broken = e
    pending?.fail(e)
  })
  return {
    size: 256,
    read: (chunk, answer) =>
      new Promise((done, fail) => {
        if (broken !== undefined) return fail(broken)
        pending = { done, fail, answer }
        worker.postMessage(chunk, [chunk.profileOf.buffer as ArrayBuffer])
      }),
    close: () => worker.terminate(),
  }
}

/**
 * Reads and prefilters files, in chunks, on this thread (`threads` 0) or on `threads` reader
 * threads, so that opening, reading and scanning a large tree run beside the planning of the
 * few files that hold a needle. `each` receives every file's outcome (in no particular order);
 * at most `limit` of the promises it returns are pending before more files are read. Rejects
 * with the first read error, as `fs` threw it, or the first rejection of `each`.
 */
export async function readFiles(
  files: ReadonlyArray<{ path: string; profile: number }>,
  profiles: readonly ReadProfile[],
  prefilter: Prefilter,
  options: { threads: number; limit: number; maxSize: number },
  each: (index: number, outcome: ReadOutcome) => void | Promise<void>,
): Promise<void> {
  const data: ReaderData = {
    ...prefilter.tables(),
    size: prefilter.size,
    profiles,
    maxSize: options.maxSize,
  }
  const readers =
    options.threads > 0
      ? Array.from({ length: options.threads }, () => threadReader(data))
      : [hereReader(data)]
  try {
    await pump(readers, files, options.limit, each)
  } finally {
    await Promise.all(readers.map((r) => r.close()))
  }
}

/** Gives chunks of `files` to the idle readers while fewer than `limit` plans are pending. */
function pump(
  readers: ChunkReader[],
  files: ReadonlyArray<{ path: string; profile: number }>,
  limit: number,
  each: (index: number, outcome: ReadOutcome) => void | Promise<void>,
): Promise<void> {
  return new Promise<void>((done, fail) => {
    let next = 0
    let busy = 0
    let inflight = 0
    let failed = false
    const idle = [...readers]
    const stop = (e: unknown) => {
      if (!failed) fail(e)
      failed = true
    }
    const answer = (reply: Reply) => {
      if (failed) return
      for (const [i, outcome] of outcomes(reply)) {
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
            send()
          }, stop)
        }
      }
    }
    const answered = (reader: ChunkReader) => {
      busy--
      idle.push(reader)
      send()
    }
    const send = () => {
      if (failed) return
      while (idle.length && next < files.length && inflight < limit) {
        const reader = idle.pop()!
        const first = next
        next = Math.min(files.length, next + reader.size)
        const paths: string[] = []
        const profileOf = new Int32Array(next - first)
        for (let i = first; i < next; i++) {
          paths.push(files[i]!.path)
          profileOf[i - first] = files[i]!.profile
        }
        busy++
        reader.read({ first, paths, profileOf }, answer).then(() => answered(reader), stop)
      }
      if (next >= files.length && busy === 0 && inflight === 0) done()
    }
    send()
  })
}

/** The outcome of each file of a chunk's answer. */
function* outcomes(reply: Reply): Generator<[number, ReadOutcome]> {
  for (const i of reply.skipped) yield [i, SKIP]
  for (const r of reply.results) {
    if (r.kind === 'read') {
      const bytes = Buffer.from(r.bytes!.buffer, r.bytes!.byteOffset, r.bytes!.byteLength)
      const read = { kind: 'read' as const, bytes, mode: r.mode!, found: r.found! }
      yield [
        r.i,
        {
          ...read,
          ...(r.text === undefined ? {} : { text: r.text }),
          ...(r.large === undefined ? {} : { large: r.large }),
        },
      ]
    } else
      yield [r.i, r.kind === 'too-large' ? { kind: 'too-large', size: r.size! } : { kind: r.kind }]
  }
}
