import type { SftpHandle } from './packet.js'

/** What a whole-file transfer needs of the client. */
interface ChunkIO {
  readonly readChunk: number
  readonly writeChunk: number
  read(h: SftpHandle, offset: number, length: number): Promise<Buffer | undefined>
  writeChunkAt(h: SftpHandle, offset: number, data: Buffer): Promise<void>
}

/**
 * Requests kept in flight by a whole-file transfer: enough to hide the round trip of a remote
 * machine (16 × 255 KiB), few enough that the pipes' buffers stay bounded.
 */
const WINDOW = 16

/**
 * Reads an open file to its end with up to {@link WINDOW} READs in flight, each at its own offset.
 * A short reply (a server may return fewer bytes than asked anywhere) is followed by a READ of
 * the rest of its range; the file ends at the lowest offset answered with EOF.
 */
export async function readAll(client: ChunkIO, h: SftpHandle): Promise<Buffer> {
  const chunk = client.readChunk
  const pieces = new Map<number, Buffer>()
  const gaps: Array<[number, number]> = []
  let next = 0
  let end = Infinity

  const take = (): [number, number] | undefined => {
    const gap = gaps.shift()
    if (gap) return gap
    if (next >= end) return undefined
    const range: [number, number] = [next, chunk]
    next += chunk
    return range
  }

  const worker = async () => {
    for (let range; (range = take());) {
      const [offset, length] = range
      if (offset >= end) continue
      const data = await client.read(h, offset, length)
      if (data === undefined || data.length === 0) {
        end = Math.min(end, offset)
        continue
      }
      pieces.set(offset, data)
      if (data.length < length) gaps.push([offset + data.length, length - data.length])
    }
  }
  // every worker runs until no range is left; a later one picks up gaps an earlier one left
  for (;;) {
    await Promise.all(Array.from({ length: WINDOW }, worker))
    if (gaps.length === 0) break
  }

  const out: Buffer[] = []
  let at = 0
  for (const offset of [...pieces.keys()].sort((a, b) => a - b)) {
    if (offset >= end) break
    if (offset !== at) throw new Error(`SFTP read of ${h.path} left a hole at ${at}`)
    const piece = pieces.get(offset)!
    out.push(piece.subarray(0, Math.min(piece.length, end - offset)))
    at += piece.length
  }
  return Buffer.concat(out)
}

/** Writes `data` at `offset` in chunks of the client's write size, up to {@link WINDOW} in flight. */
export async function writeAll(
  client: ChunkIO,
  h: SftpHandle,
  offset: number,
  data: Buffer,
): Promise<void> {
  const chunk = client.writeChunk
  let next = 0
  let failed = false
  const worker = async () => {
    while (next < data.length && !failed) {
      const at = next
      next += chunk
      try {
        await client.writeChunkAt(h, offset + at, data.subarray(at, at + chunk))
      } catch (e) {
        failed = true
        throw e
      }
    }
  }
  const results = await Promise.allSettled(Array.from({ length: WINDOW }, worker))
  const rejected = results.find((r) => r.status === 'rejected')
  if (rejected) throw rejected.reason
}
