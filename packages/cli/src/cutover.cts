#!/usr/bin/env node
/*
 * The `cutover` command. Its fsyncs (the staged files, the backup pack, directories) wait on
 * libuv's thread pool, 4 threads unless UV_THREADPOOL_SIZE says otherwise; many in flight share
 * the file system's journal commits. The pool reads that variable once, when it starts, and under
 * Node 20 it starts before the first line of an ES module runs (the module loader reads files
 * through it): so the command is this CommonJS file, which sets the size when the environment
 * does not, and only then loads the CLI: its bundle (bundle/cutover.mjs, made from bin.js and
 * what it imports by scripts/bundle.mjs), a few files to load instead of hundreds.
 */

// a CommonJS file under verbatimModuleSyntax: its imports are written as require
// eslint-disable-next-line @typescript-eslint/no-require-imports
import v8 = require('node:v8')

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
// made after tsc has built dist/: a specifier that tsc does not look for
const BUNDLE = './bundle/cutover.mjs'
import(BUNDLE).catch((e: unknown) => {
  // the CLI reports its own errors: what lands here is a bundle that is missing or does not load
  const err = e as { code?: string; message?: string; stack?: string } | undefined
  const missing = err?.code === 'ERR_MODULE_NOT_FOUND'
  process.stderr.write(
    missing
      ? `cutover: this installation is incomplete: ${err?.message ?? String(e)}; reinstall @cutover/cli\n`
      : `cutover: internal error: ${err?.message ?? String(e)}${process.env.CUTOVER_DEBUG ? `\n${err?.stack ?? ''}` : ' (set CUTOVER_DEBUG=1 for details)'}\n`,
  )
  process.exitCode = 1
})
