import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { structuredPatch } from 'diff'
import { describe, expect, it } from 'vitest'
import { tempDir as kitTempDir } from '@cutover/test-kit/temp'
import { createEngine, textStep, unifiedDiff } from '../src/index.js'
import { Prefilter } from '../src/match/prefilter.js'
import { fileReader } from '../src/plan/reader.js'
import { decodeText, encodeText, sha256 } from '../src/text/source.js'

/** A reader's data: one needle, 10.0.10.48 (group 1), for files of one profile. */
function needleData(maxSize: number, always: boolean) {
  const prefilter = new Prefilter([[], ['10.0.10.48']])
  const profiles = [{ groups: [1], always }]
  return { ...prefilter.tables(), size: prefilter.size, profiles, maxSize }
}

/** A new directory (the test kit's, removed when the file ends), by its real path. */
function tempDir(prefix: string): string {
  return realpathSync(kitTempDir(prefix))
}

describe('Prefilter', () => {
  it('reports each group that has a needle, prefixes included, as UTF-8 and as latin1 bytes', () => {
    const p = new Prefilter([['10.0.10.13'], ['10.0.10.130'], ['café'], ['absent'], []])
    const scan = (s: Buffer) => p.scan(s)
    expect(scan(Buffer.from('host=10.0.10.130\n'))).toEqual([true, true, false, false, false])
    expect(scan(Buffer.from('host=10.0.10.13\n'))).toEqual([true, false, false, false, false])
    expect(scan(Buffer.from('au café', 'utf8'))).toEqual([false, false, true, false, false])
    expect(scan(Buffer.from('au café', 'latin1'))).toEqual([false, false, true, false, false])
    expect(scan(Buffer.from('10.0.10.1x café absen'))).toEqual([false, false, true, false, false])
    expect(new Prefilter([[''], []]).scan(Buffer.from('anything'))).toEqual([false, false])
  })
})

describe('the reader of a plan', () => {
  it('runs from its source alone, as a reader thread runs it, and sorts each file out', () => {
    const root = tempDir('cutover-reader-')
    writeFileSync(join(root, 'hot'), 'db 10.0.10.48\n')
    writeFileSync(join(root, 'cold'), 'nothing here\n')
    writeFileSync(join(root, 'big'), 'x'.repeat(200))
    execFileSync('mkfifo', [join(root, 'fifo')])
    const data = needleData(100, false)
    // evaluated where no name of its module is in scope: a name from outside its body would throw
    const make = new Function('load', 'data', `return (${fileReader.toString()})(load, data)`)
    const read = make(createRequire(import.meta.url), data) as ReturnType<typeof fileReader>
    const names = ['hot', 'cold', 'big', 'fifo']
    const reply = read({
      first: 10,
      paths: names.map((n) => join(root, n)),
      profileOf: new Int32Array(names.length),
    })
    expect([...reply.skipped]).toEqual([11])
    expect(reply.results.map((r) => [names[r.i - 10], r.kind, r.size])).toEqual([
      ['hot', 'read', undefined],
      ['big', 'too-large', 200],
      ['fifo', 'not-file', undefined],
    ])
    expect(Buffer.from(reply.results[0]!.bytes!).toString()).toBe('db 10.0.10.48\n')
    expect(reply.results[0]!.found).toEqual([false, true])
  })
})

describe('a file over 1 MiB on a file system that reads less than asked', () => {
  it('is read to its end, not to the first short read', () => {
    // as Linux past 2 GiB - 4 KiB, or a network file system: at most 1 MiB a read, however much
    // is asked; the reused buffer's reads (64 KiB and less) are whole
    const root = tempDir('cutover-reader-short-')
    const bytes = Buffer.from(`db 10.0.10.48\n${'x'.repeat(5 << 20)}\nend\n`)
    writeFileSync(join(root, 'big'), bytes)
    const load = createRequire(import.meta.url)
    const fs = load('node:fs') as typeof import('node:fs')
    const shortFs = {
      ...fs,
      readSync: (fd: number, buf: Buffer, offset: number, length: number, at: null) =>
        fs.readSync(fd, buf, offset, Math.min(length, 1 << 20), at),
    }
    const make = new Function('load', 'data', `return (${fileReader.toString()})(load, data)`)
    const read = make(
      (id: string) => (id === 'node:fs' ? shortFs : load(id)),
      needleData(64 << 20, true),
    ) as ReturnType<typeof fileReader>
    const r = read({ first: 0, paths: [join(root, 'big')], profileOf: new Int32Array(1) })
      .results[0]!
    expect(r.kind).toBe('read')
    expect(r.large?.hash).toBe(sha256(bytes))
    expect(r.text?.length).toBe(bytes.length)
  })
})

describe('a file over 1 MiB, read whole', () => {
  // the reader reads 64 KiB into its reused buffer, then the rest of a larger file at once; the
  // bytes of a text that is not latin1 are scanned in windows of 64 KiB: these are cuts of both
  const CUTS = [1 << 16, (1 << 16) + (1 << 20)]
  const SIZE = (1 << 20) + (1 << 16) + 4096
  const root = tempDir('cutover-reader-chunks-')
  // each file is over 1 MiB: removed as soon as it was read, the directory at the file's end
  const prefilter = new Prefilter([['LEFTOVER'], ['10.0.10.48']])
  const data = {
    ...prefilter.tables(),
    size: prefilter.size,
    profiles: [{ groups: [1], always: true }],
    maxSize: 16 << 20,
  }
  const make = new Function('load', 'data', `return (${fileReader.toString()})(load, data)`)
  const read = make(createRequire(import.meta.url), data) as ReturnType<typeof fileReader>
  let n = 0
  /** What the reader gives for `bytes` written to a file. */
  function readBytes(bytes: Buffer) {
    const path = join(root, `f${n++}`)
    writeFileSync(path, bytes)
    const reply = read({ first: 0, paths: [path], profileOf: new Int32Array(1) })
    rmSync(path)
    expect(reply.results).toHaveLength(1)
    return reply.results[0]!
  }
  /** The reader's text, encoding and hash of `bytes` are those of the whole decoded at once. */
  function same(bytes: Buffer) {
    const r = readBytes(bytes)
    const whole = decodeText(bytes)
    expect(r.kind).toBe('read')
    expect(r.bytes!.length).toBe(0)
    expect(r.large).toEqual({ hash: sha256(bytes), encoding: whole.encoding, binary: false })
    // compared as lengths and hashes first: a failing 3 MB string is no help
    expect(r.text!.length).toBe(whole.text.length)
    expect(sha256(r.text!)).toBe(sha256(whole.text))
    expect(encodeText(r.text!, r.large!.encoding).equals(bytes)).toBe(true)
    return r
  }

  it('gives the text, encoding and hash of the whole: ASCII, UTF-8 cut inside characters, with a BOM', () => {
    same(Buffer.from('x = 1;\n'.repeat(SIZE / 7)))
    // characters of 2, 3 and 4 bytes lie across every cut, at every offset
    for (const unit of ['€', '😀', 'a€😀é']) {
      const text = unit.repeat(Math.ceil(SIZE / Buffer.byteLength(unit)))
      expect(same(Buffer.from(text)).large!.encoding).toBe('utf8')
    }
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('é'.repeat(SIZE / 2))])
    expect(same(bom).large!.encoding).toBe('utf8-bom')
    for (const cut of CUTS) {
      for (let k = 1; k <= 3; k++) {
        // a character of 4 bytes across the cut, k of them before it
        const bytes = Buffer.alloc(SIZE, 'a')
        Buffer.from('😀').copy(bytes, cut - k)
        expect(same(bytes).large!.encoding).toBe('utf8')
      }
    }
  })

  it('falls back to latin1 as the whole does: a byte that is not UTF-8 late in the file, a cut-off character at its end', () => {
    const ascii = Buffer.alloc(SIZE, 'b')
    const late = Buffer.from(ascii)
    late[SIZE - 50] = 0xe9
    expect(same(late).large!.encoding).toBe('latin1')
    const utf8Then = Buffer.concat([Buffer.from('é€'.repeat(SIZE / 5)), Buffer.from([0xff, 0x41])])
    expect(same(utf8Then).large!.encoding).toBe('latin1')
    const bomThen = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), late])
    const r = same(bomThen)
    expect([r.large!.encoding, r.text!.slice(0, 3)]).toEqual(['latin1', 'ï»¿'])
    // a lead byte at the very end, its character cut off by the end of the file
    expect(same(Buffer.concat([ascii, Buffer.from([0xe2, 0x82])])).large!.encoding).toBe('latin1')
    // an encoded surrogate is not UTF-8 either
    expect(same(Buffer.concat([ascii, Buffer.from([0xed, 0xa0, 0x80])])).large!.encoding).toBe(
      'latin1',
    )
  })

  it('finds a needle that a cut splits, and says a file with a NUL byte is binary without its text', () => {
    const needle = '10.0.10.48'
    for (const cut of CUTS) {
      for (let k = 1; k < needle.length; k++) {
        const bytes = Buffer.alloc(SIZE, 'c')
        bytes.write(needle, cut - k, 'latin1')
        expect(readBytes(bytes).found).toEqual([false, true])
      }
    }
    expect(readBytes(Buffer.alloc(SIZE, 'c')).found).toEqual([false, false])
    const binary = Buffer.alloc(SIZE, 'd')
    binary[100] = 0
    binary.write(needle, 1 << 20, 'latin1')
    const r = readBytes(binary)
    expect([r.found, r.text, r.large]).toEqual([
      [false, true],
      undefined,
      { hash: sha256(binary), encoding: 'utf8', binary: true },
    ])
  })

  it('gives the text, encoding and hash of the bytes it read of a file that changed while it was read', () => {
    const utf8 = Buffer.from('é'.repeat(SIZE / 2 + 10))
    const latin1 = Buffer.alloc(SIZE + 4096, 'b')
    latin1[SIZE - 50] = 0xe9
    for (const [first, then] of [
      [utf8, latin1],
      [latin1, utf8],
    ] as const) {
      const path = join(root, `f${n++}`)
      writeFileSync(path, first)
      const real = createRequire(import.meta.url)
      const fs = real('node:fs') as typeof import('node:fs')
      let reads = 0
      // rewritten (in place) after the first read, which filled the reader's reused buffer
      const readSync = (fd: number, buf: Buffer, off: number, len: number, pos: null) => {
        if (reads++ === 1) writeFileSync(path, then)
        return fs.readSync(fd, buf, off, len, pos)
      }
      const load = (name: string) => (name === 'node:fs' ? { ...fs, readSync } : real(name))
      const reader = make(load, data) as ReturnType<typeof fileReader>
      const r = reader({ first: 0, paths: [path], profileOf: new Int32Array(1) }).results[0]!
      rmSync(path)
      // what was read: the first 64 KiB of the first content, the rest of the second
      const read = Buffer.concat([first.subarray(0, 1 << 16), then.subarray(1 << 16)])
      expect(r.large).toEqual({
        hash: sha256(read),
        encoding: decodeText(read).encoding,
        binary: false,
      })
      expect(encodeText(r.text!, r.large!.encoding).equals(read)).toBe(true)
    }
  })
})

describe('the calls of the reader to the file system', () => {
  /** The reader on `data`, with node:fs counted: how many calls of each name it made. */
  function counted(data: Parameters<typeof fileReader>[1]) {
    const calls: Record<string, number> = {}
    const real = createRequire(import.meta.url)
    const fs = real('node:fs') as Record<string, unknown>
    const spy = new Proxy(fs, {
      get(target, name: string) {
        const v = target[name]
        if (typeof v !== 'function' || !name.endsWith('Sync')) return v
        return (...args: unknown[]) => {
          calls[name] = (calls[name] ?? 0) + 1
          return (v as (...a: unknown[]) => unknown).apply(target, args)
        }
      },
    })
    const load = ((id: string) => (id === 'node:fs' ? spy : real(id))) as NodeJS.Require
    const read = fileReader(load, data)
    // what making it looked up once is not counted
    for (const k of Object.keys(calls)) delete calls[k]
    return { read, calls }
  }

  it('opens, reads once and closes a file without a needle, and checks where a file it uses is', () => {
    const root = tempDir('cutover-reader-calls-')
    const cold = Array.from({ length: 20 }, (_, k) => join(root, `cold${k}`))
    for (const p of cold) writeFileSync(p, `nothing here ${'x'.repeat(5000)}\n`)
    writeFileSync(join(root, 'hot'), 'db 10.0.10.48\n')
    const data = needleData(1 << 20, false)
    const one = counted(data)
    const reply = one.read({ first: 0, paths: cold, profileOf: new Int32Array(cold.length) })
    expect(reply.skipped.length).toBe(20)
    expect(one.calls).toEqual({ openSync: 20, readSync: 20, closeSync: 20 })
    const two = counted(data)
    const hot = two.read({ first: 0, paths: [join(root, 'hot')], profileOf: new Int32Array(1) })
    expect(hot.results.map((r) => [r.kind, r.found])).toEqual([['read', [false, true]]])
    // the place of the file used is checked (on /proc) and its permission bits read
    expect(two.calls).toEqual({
      openSync: 1,
      readSync: 1,
      closeSync: 1,
      fstatSync: 1,
      ...(existsSync('/proc/self/fd') ? { readlinkSync: 1 } : {}),
    })
  })

  it('reads a file over 1 MiB whole into one buffer and gives its memory back once its text is made', () => {
    const root = tempDir('cutover-reader-large-')
    const size = (1 << 20) + (1 << 16) + 4096
    const data = needleData(16 << 20, true)
    for (const [name, bytes, encoding] of [
      ['ascii', Buffer.alloc(size, 'x'), 'utf8'],
      ['utf8', Buffer.from('é'.repeat(size / 2)), 'utf8'],
      ['latin1', Buffer.concat([Buffer.alloc(size - 1, 'x'), Buffer.from([0xe9])]), 'latin1'],
    ] as const) {
      const path = join(root, name)
      writeFileSync(path, bytes)
      const real = createRequire(import.meta.url)
      const fs = real('node:fs') as typeof import('node:fs')
      const buffers: Buffer[] = []
      const readSync = (fd: number, buf: Buffer, off: number, len: number, pos: null) => {
        buffers.push(buf)
        return fs.readSync(fd, buf, off, len, pos)
      }
      const load = (id: string) => (id === 'node:fs' ? { ...fs, readSync } : real(id))
      const read = fileReader(load as NodeJS.Require, data)
      const r = read({ first: 0, paths: [path], profileOf: new Int32Array(1) }).results[0]!
      expect([r.kind, r.text?.length, r.large?.encoding]).toEqual([
        'read',
        decodeText(bytes).text.length,
        encoding,
      ])
      // the first 64 KiB into the reused buffer, then the rest at once (a read short of the
      // file's size and one byte more) into one of its size, which holds nothing any more
      expect(buffers.map((b) => b.buffer.byteLength)).toEqual([1 << 16, 0])
    }
  })

  it('reads a file over 1 MiB under a size limit larger than a buffer can grow to (4 GiB)', () => {
    const root = tempDir('cutover-reader-large-')
    const path = join(root, 'big')
    writeFileSync(path, 'z'.repeat((1 << 20) + 10))
    const data = needleData(2 ** 33, true)
    const read = fileReader(createRequire(import.meta.url), data)
    const r = read({ first: 0, paths: [path], profileOf: new Int32Array(1) }).results[0]!
    expect([r.kind, r.text?.length]).toEqual(['read', (1 << 20) + 10])
  })

  it('refuses, naming it, a file under the size limit whose text is longer than a string can be', () => {
    const root = tempDir('cutover-reader-large-')
    const data = needleData(16 << 20, true)
    const real = createRequire(import.meta.url)
    const buffer = real('node:buffer') as typeof import('node:buffer')
    // strings of at most 2 MiB characters, where V8's are of at most 512 MiB
    const constants = { ...buffer.constants, MAX_STRING_LENGTH: 2 << 20 }
    const load = (id: string) => (id === 'node:buffer' ? { ...buffer, constants } : real(id))
    const read = fileReader(load as NodeJS.Require, data)
    const size = 3 << 20
    const latin1 = Buffer.alloc(size, 'x')
    latin1[size - 1] = 0xe9
    for (const [name, bytes] of [
      ['ascii', Buffer.alloc(size, 'x')],
      ['latin1', latin1],
    ] as const) {
      const path = join(root, name)
      writeFileSync(path, bytes)
      expect(() => read({ first: 0, paths: [path], profileOf: new Int32Array(1) })).toThrow(
        expect.objectContaining({
          code: 'FILE_TOO_LARGE',
          message: expect.stringContaining(
            `${path}: ${size} bytes, more text than a plan can hold`,
          ),
        }),
      )
    }
    // UTF-8 of 2 bytes a character: 1.5 MiB characters, a text a string holds
    const path = join(root, 'utf8')
    writeFileSync(path, 'é'.repeat(size / 2))
    const r = read({ first: 0, paths: [path], profileOf: new Int32Array(1) }).results[0]!
    expect([r.kind, r.text?.length, r.large?.encoding]).toEqual(['read', size / 2, 'utf8'])
  })

  it('refuses a file over the size limit once its reused buffer is full, not reading it all', () => {
    const root = tempDir('cutover-reader-large-')
    const big = join(root, 'big')
    writeFileSync(big, 'y'.repeat(3 << 20))
    const data = needleData(1 << 20, true)
    const { read, calls } = counted(data)
    const reply = read({ first: 0, paths: [big], profileOf: new Int32Array(1) })
    expect(reply.results.map((r) => [r.kind, r.size])).toEqual([['too-large', 3 << 20]])
    expect(calls.readSync).toBe(1)
  })
})

describe('unifiedDiff of large texts', () => {
  /** The diff rendered from one whole structuredPatch, as unifiedDiff does for small texts. */
  function whole(before: string, after: string): string {
    const out = ['--- a/big', '+++ b/big']
    const range = (s: number, l: number) => (l === 0 ? `${s},0` : l === 1 ? `${s}` : `${s},${l}`)
    for (const h of structuredPatch('a', 'b', before, after, '', '', { context: 3 }).hunks) {
      out.push(
        `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`,
        ...h.lines,
      )
    }
    return out.join('\n') + '\n'
  }

  it('is computed window by window with the same hunks as a whole diff', () => {
    const lines = Array.from({ length: 12000 }, (_, i) => `row ${i} ${i % 5}`)
    const variants: string[][] = []
    const a = lines.map((l, i) => (i % 997 === 0 ? `${l} changed` : l))
    a.splice(5000, 0, 'inserted a', 'inserted b')
    a.splice(9000, 2)
    variants.push(
      a,
      [...a, 'tail'],
      a.slice(0, -1),
      [...a.slice(0, 6000), ...a.slice(6003)],
      ['head', ...a],
    )
    for (const after of variants) {
      for (const end of ['', '\n']) {
        const before = lines.join('\n') + '\n'
        expect(unifiedDiff('big', before, after.join('\n') + end)).toBe(
          whole(before, after.join('\n') + end),
        )
      }
    }
  })
})

describe('a directory swapped for a link after the targets were resolved', () => {
  it('is not read through: the plan is refused, naming the file and where the link led', async () => {
    const { renameSync } = await import('node:fs')
    const base = tempDir('cutover-plan-swap-')
    const root = join(base, 'root')
    for (const [p, text] of [
      ['root/a/x.conf', 'host 10.0.10.48\n'],
      ['root/b/y.conf', 'host 10.0.10.48\n'],
      ['outside/y.conf', 'OUTSIDE-ONLY 10.0.10.48\n'],
    ]) {
      mkdirSync(join(base, p!, '..'), { recursive: true })
      writeFileSync(join(base, p!), text!)
    }
    // planning the first file, the owner of b/ swaps it for a link out of the root
    const swapping = {
      ...textStep,
      plan: (
        file: Parameters<typeof textStep.plan>[0],
        o: Parameters<typeof textStep.plan>[1],
        ctx: Parameters<typeof textStep.plan>[2],
      ) => {
        if (file.path === 'a/x.conf') {
          renameSync(join(root, 'b'), join(root, 'b.orig'))
          symlinkSync(join(base, 'outside'), join(root, 'b'))
        }
        return textStep.plan(file, o, ctx)
      },
    }
    const engine = createEngine({ steps: [swapping] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["*/*.conf"], addresses: new }\n',
      'cutover.yaml',
    )
    const err = await engine.plan(spec, { root, threads: 0 }).then(
      (p) => JSON.stringify(p.changes.map((c) => c.beforeText)),
      (e: Error & { code?: string }) => e,
    )
    expect(err).toMatchObject({ code: 'TARGET_MOVED' })
    expect((err as Error).message).toBe(
      `${join(root, 'b/y.conf')}: a directory on its path changed while it was read (it led to ${join(base, 'outside/y.conf')}); nothing outside the root is read: plan again`,
    )
  })
})

describe('a file planned again for a link to it', () => {
  it('is not read again through a directory swapped for a link since', async () => {
    const { renameSync } = await import('node:fs')
    const base = tempDir('cutover-plan-swap-')
    const root = join(base, 'root')
    for (const [p, text] of [
      ['root/a/app.conf', 'host 10.0.10.48 old-name\n'],
      ['outside/app.conf', 'OUTSIDE-ONLY 10.0.10.48 old-name\n'],
    ]) {
      mkdirSync(join(base, p!, '..'), { recursive: true })
      writeFileSync(join(base, p!), text!)
    }
    mkdirSync(join(root, 'z'))
    symlinkSync('../a/app.conf', join(root, 'z/link.conf'))
    // the link and its file have different steps: the file is read again with both, after every other read
    const swapping = {
      ...textStep,
      plan: (
        file: Parameters<typeof textStep.plan>[0],
        o: Parameters<typeof textStep.plan>[1],
        ctx: Parameters<typeof textStep.plan>[2],
      ) => {
        if (file.path === 'z/link.conf') {
          renameSync(join(root, 'a'), join(root, 'a.orig'))
          symlinkSync(join(base, 'outside'), join(root, 'a'))
        }
        return textStep.plan(file, o, ctx)
      },
    }
    const engine = createEngine({ steps: [swapping] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["a/*.conf"], addresses: new }\n  - text: { files: ["z/*.conf"], replace: { old-name: new-name } }\n',
      'cutover.yaml',
    )
    const err = await engine.plan(spec, { root, threads: 0 }).then(
      (p) => JSON.stringify(p.changes.map((c) => c.beforeText)),
      (e: Error & { code?: string }) => e,
    )
    expect(err).toMatchObject({ code: 'TARGET_MOVED' })
    expect((err as Error).message).toContain(`(it led to ${join(base, 'outside/app.conf')})`)
  })

  it('refuses a file that grew past the size limit since its first read, not drops its changes', async () => {
    const root = tempDir('cutover-plan-grown-')
    mkdirSync(join(root, 'a'))
    mkdirSync(join(root, 'z'))
    writeFileSync(join(root, 'a/app.conf'), 'host 10.0.10.48 old-name\n')
    symlinkSync('../a/app.conf', join(root, 'z/link.conf'))
    // the link and its file have different steps: the file is read again with both, after every other read
    const growing = {
      ...textStep,
      plan: (
        file: Parameters<typeof textStep.plan>[0],
        o: Parameters<typeof textStep.plan>[1],
        ctx: Parameters<typeof textStep.plan>[2],
      ) => {
        if (file.path === 'z/link.conf')
          writeFileSync(join(root, 'a/app.conf'), `host 10.0.10.48 old-name\n${'#'.repeat(4096)}\n`)
        return textStep.plan(file, o, ctx)
      },
    }
    const engine = createEngine({ steps: [growing] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["a/*.conf"], addresses: new }\n  - text: { files: ["z/*.conf"], replace: { old-name: new-name } }\n',
      'cutover.yaml',
    )
    const err = await engine.plan(spec, { root, threads: 0, maxFileSize: 1024 }).then(
      (p) => JSON.stringify(p.changes.map((c) => c.target)),
      (e: Error & { code?: string }) => e,
    )
    expect(err).toMatchObject({ code: 'TARGET' })
    expect((err as Error).message).toBe(
      'a/app.conf: changed while it was planned (now 4122 bytes, over the size limit); plan again',
    )
  })
})
