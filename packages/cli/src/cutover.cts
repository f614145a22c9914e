#!/usr/bin/env node
/*
 * The `cutover` command. Its fsyncs (the staged files, the backup pack, directories) wait on
 * libuv's thread pool, 4 threads unless UV_THREADPOOL_SIZE says otherwise; many in flight share
 * the file system's journal commits. The pool reads that variable once, when it starts, and under
 * Node 20 it starts before the first line of an ES module runs (the module loader reads files
 * through it): so the command is this CommonJS file, which sets the size when the environment
 * does not, and only then loads the CLI: its bundle (bundle/cutover.cjs, made from bin.js and
 * what it imports by scripts/bundle.mjs), a few files to load instead of hundreds.
 *
 * It loads the bundle's CommonJS chunks itself, each with the V8 code cache the build made for it
 * (`<chunk>.cjs.cache`), so that a command does not parse and compile again the code it runs:
 * Node 20's loaders take no cached data. A cache is used only for the exact text it was made
 * from and intact: its first 4 bytes are a CRC-32 of the chunk and of V8's data, neither of which
 * V8 checks (it compares only the text's length; a damaged cache crashes it). V8 rejects
 * one made by another version of it or under other flags, and the chunk is then compiled as
 * without one. Under CUTOVER_DEBUG, Node's require() loads the chunks: its stacks then name the
 * TypeScript sources through the chunks' source maps.
 */

// a CommonJS file under verbatimModuleSyntax: its imports are written as require
// eslint-disable-next-line @typescript-eslint/no-require-imports
import v8 = require('node:v8')
// eslint-disable-next-line @typescript-eslint/no-require-imports
import fs = require('node:fs')
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeModule = require('node:module')
// eslint-disable-next-line @typescript-eslint/no-require-imports
import path = require('node:path')
// eslint-disable-next-line @typescript-eslint/no-require-imports
import vm = require('node:vm')
// eslint-disable-next-line @typescript-eslint/no-require-imports
import zlib = require('node:zlib')

/** How much V8 lets the heap grow past what a full collection kept, in percent. */
const HEAP_GROWING_PERCENT = 50

/**
 * The heap limit from which V8's own growth factor may exceed 1.5: V8 caps it by the limit (1.3×
 * at 256 MB of old space, 1.5× at 768 MB, 4× from 2 GB), so below this the setting would let
 * the heap grow more than V8 does, on the small machines where memory is short.
 */
const HEAP_LIMIT_FOR_GROWING_PERCENT = 1024 * 1024 * 1024

/**
 * V8's interrupt budget, 4× its default (67,584 in Node 20): how much bytecode a function runs
 * between V8's looks at whether to optimize it. A command of a few hundred ms spent ≈ 15% of
 * its CPU in TurboFan compiling functions it left soon after; a plan of a large tree still has
 * its hot loops optimized, a little later (see bench/README.md "Known limits").
 */
const INTERRUPT_BUDGET = 4 * 67_584

/** The pool size the command runs with when UV_THREADPOOL_SIZE is unset (measured: see design.md §10). */
const THREAD_POOL_SIZE = '32'

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = THREAD_POOL_SIZE
// read by V8 whenever it resets a function's budget: set before the bundle's code first runs
v8.setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`)
// V8 lets the heap grow to up to 4× what its last full collection kept before it collects again;
// a plan of a large tree passes hundreds of MB through it, most of it dead soon after, so the
// command lets it grow by half (a plan of 100,000 files: peak RSS 312 → 226 MiB for ≈ 4% more
// CPU in full collections; see bench/README.md "Known limits")
if (v8.getHeapStatistics().heap_size_limit >= HEAP_LIMIT_FOR_GROWING_PERCENT)
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
// the stack that CUTOVER_DEBUG=1 prints for an internal error names the TypeScript sources (the
// bundle's maps, read only then) instead of a line of a chunk of the bundle
if (process.env.CUTOVER_DEBUG) process.setSourceMapsEnabled(true)
/** Node's wrapper of a CommonJS module: the text compiled (and cached) is a chunk inside it. */
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) { ', '\n});'] as const

/**
 * The bytes before V8's data in a cache file: the CRC-32 of the chunk it was made from, then of
 * that data (V8 checks neither in a release build: a damaged cache crashes the process).
 */
const HEADER = 4

/** A chunk as loaded: its module object, the script compiled from it, and whether V8 used its cache. */
interface Chunk {
  exports: unknown
  script: vm.Script
  file: string
  /** The CRC-32 of the bytes compiled: a cache is made for them, not for the file as it is later. */
  crc: number
  cache: 'used' | 'rejected' | 'none'
}

/** V8's data in `file`'s cache, or undefined: none, or one made from another text than `crc`'s. */
function readCache(file: string, crc: number): Buffer | undefined {
  let cache: Buffer
  try {
    cache = fs.readFileSync(`${file}.cache`)
  } catch {
    return undefined
  }
  const data = cache.subarray(HEADER)
  if (cache.length <= HEADER || cache.readUInt32LE(0) !== zlib.crc32(data, crc)) return undefined
  return data
}

/**
 * Runs the chunk `entry` of the bundle in `dir`; the chunks it requires (`./…`) are loaded alike,
 * the rest by Node. Returns the entry's exports; `loaded` gets every chunk, then and later.
 */
function loadBundle(dir: string, entry: string, loaded: Map<string, Chunk>): unknown {
  const start = path.join(dir, entry)
  const outside = nodeModule.createRequire(start)
  const req = Object.assign(
    (id: string): unknown => (id.startsWith('./') ? load(path.join(dir, id)) : outside(id)),
    { resolve: outside.resolve },
  )
  function load(file: string): unknown {
    const seen = loaded.get(file)
    if (seen) return seen.exports
    const source = fs.readFileSync(file)
    const crc = zlib.crc32(source)
    const cachedData = readCache(file, crc)
    const script = new vm.Script(WRAPPER[0] + source.toString('utf8') + WRAPPER[1], {
      filename: file,
      cachedData,
    })
    const cache = !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'
    const module: Chunk = { exports: {}, script, file, crc, cache }
    loaded.set(file, module)
    try {
      const body = script.runInThisContext() as (...args: unknown[]) => void
      body.call(module.exports, module.exports, req, module, file, dir)
    } catch (e) {
      // as Node's require(): a chunk that threw while it ran is run again when required again,
      // so that it throws again rather than hand out what it had exported by then
      loaded.delete(file)
      throw e
    }
    return module.exports
  }
  return load(start)
}

/**
 * Writes the code cache of each chunk loaded beside it, keeping a larger one made before from the
 * same text: the build runs commands so (CUTOVER_BUILD_CODE_CACHE=1), and V8 caches the functions
 * compiled by the command's end. The CRC-32 is of the bytes compiled, which the file may no
 * longer hold (another build wrote it meanwhile): a cache then never matches the new text.
 */
function saveCaches(loaded: ReadonlyMap<string, Chunk>): void {
  for (const { file, script, crc } of loaded.values()) {
    const v8data = script.createCachedData()
    if (v8data.length <= (readCache(file, crc)?.length ?? 0)) continue
    const header = Buffer.alloc(HEADER)
    header.writeUInt32LE(zlib.crc32(v8data, crc))
    fs.writeFileSync(`${file}.cache`, Buffer.concat([header, v8data]))
  }
}

/** Says why the bundle did not load, or what escaped the CLI's own error handling. */
function internalError(e: unknown): void {
  const err = e as { code?: string; message?: string; stack?: string } | undefined
  const missing = err?.code === 'ENOENT' || err?.code === 'MODULE_NOT_FOUND'
  process.stderr.write(
    missing
      ? `cutover: this installation is incomplete: ${err?.message ?? String(e)}; reinstall @cutover/cli\n`
      : `cutover: internal error: ${err?.message ?? String(e)}${process.env.CUTOVER_DEBUG ? `\n${err?.stack ?? ''}` : ' (set CUTOVER_DEBUG=1 for details)'}\n`,
  )
  process.exitCode = 1
}

/** The bundle's entry, made from bin.js: the command's end. */
interface Entry {
  done: Promise<void>
}

const loaded = new Map<string, Chunk>()
if (process.env.CUTOVER_BUILD_CODE_CACHE === '1') process.on('exit', () => saveCaches(loaded))
// with the phase trace, which chunks ran from their cache: one line as the command ends
if (process.env.CUTOVER_TRACE_PHASES)
  process.on('exit', () => {
    const chunks = [...loaded.values()]
    const count = (c: Chunk['cache']) => chunks.filter((k) => k.cache === c).length
    process.stderr.write(
      `cutover: code cache: ${count('used')} chunks used it, ${count('rejected')} rejected, ${count('none')} without\n`,
    )
  })
try {
  const dir = path.join(__dirname, 'bundle')
  const entry = process.env.CUTOVER_DEBUG
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require(path.join(dir, 'cutover.cjs')) as Entry)
    : (loadBundle(dir, 'cutover.cjs', loaded) as Entry)
  entry.done.catch(internalError)
} catch (e) {
  internalError(e)
}
