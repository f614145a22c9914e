#!/usr/bin/env node
// node scripts/code-cache.mjs [LAUNCHER]: makes the code cache of each chunk of the bundle beside
// LAUNCHER (default dist/cutover.cjs; `<chunk>.cjs.cache`, read by src/cutover.cts); scripts/bundle.mjs
// runs it after the bundle. It runs the built command, as a user would, on a small tree of the
// step kinds of the bundled examples (scripts/code-cache-tree.mjs): its help, a plan and an apply
// of one root, an apply of a fleet of local directories; V8 then caches every function compiled
// by the end of a command, those it took from the caches made before included, and a chunk
// keeps the largest of its caches. The commands set the V8 flags
// the launcher sets, which a cache must have been made under (another machine's heap limit may
// change them: its caches are then rejected and the chunks compiled as without them); so they run
// without the builder's NODE_OPTIONS (a heap limit there would make every cache one that a
// command run without it rejects) and without CUTOVER_DEBUG (the chunks then load by require(),
// and no cache would be made).
//
// Each command has a time limit (TIMEOUT_MS, or CUTOVER_CODE_CACHE_TIMEOUT_MS): one that does not
// end by then is killed with the processes it started (it runs as the leader of its own process
// group) and the build fails naming it; so does one the build's own end by a signal interrupts.
// A command that ends by itself, failed or not, takes what it left running in its group along.
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMANDS, SECRET_ENV, TREE } from './code-cache-tree.mjs'

/**
 * How long one training command may run, in ms: generous, as the build machine may be loaded.
 * Alone each takes 0.3–0.6 s; two minutes is ≈ 200× that, room for a machine far more loaded
 * than the load of 15–20 this project's builds and tests have shared 2 cores with, while a hang
 * ends the build within minutes instead of never.
 */
export const TIMEOUT_MS = 120_000

/** The signals that end the build: a training command's process group is killed first. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP']

/** The most of a failed command's stderr kept for the build's message. */
const STDERR_KEPT = 64 * 1024

/** The limit: `CUTOVER_CODE_CACHE_TIMEOUT_MS` (ms, a positive integer) when set, else TIMEOUT_MS. */
function timeoutFromEnv() {
  const text = process.env.CUTOVER_CODE_CACHE_TIMEOUT_MS
  if (text === undefined || text === '') return TIMEOUT_MS
  if (!/^[1-9]\d*$/.test(text))
    throw new Error(
      `CUTOVER_CODE_CACHE_TIMEOUT_MS must be a number of ms (a positive integer), got "${text}"`,
    )
  return Number(text)
}

/** `ms` for a person: "120 s", "1.5 s", "500 ms". */
function describeMs(ms) {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`
}

/** Kills the process group that `child` leads (the command and what it started), if any is left. */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // the group has ended already
  }
}

/** Removes the training tree; a killed command's processes may still be ending in it. */
function removeTree(training) {
  rmSync(training, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
}

/**
 * Runs `node launcher ...args` in its own process group (`started` gets it); resolves when it has
 * exited 0, rejects when it exits otherwise, is killed by a signal, or runs past `timeoutMs`
 * (then the whole group is killed first, so that a hung child of the command, a `php` or
 * `visudo`, goes too). When the command has ended, by itself or not, what is left of its group
 * is killed.
 */
function runTraining(launcher, args, { cwd, env, timeoutMs, started }) {
  const name = `cutover ${args.join(' ')}`
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [launcher, ...args], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    started(child)
    let stderr = ''
    child.stdout.resume()
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d) => {
      if (stderr.length < STDERR_KEPT) stderr += d
    })
    const finish = (error) => {
      clearTimeout(timer)
      if (error) reject(error)
      else resolveRun()
    }
    const timer = setTimeout(() => {
      killGroup(child)
      // a process that left the group may still hold the pipes: 'close' would never come
      child.stdout.destroy()
      child.stderr.destroy()
      finish(
        new Error(
          `code cache: "${name}" did not end within ${describeMs(timeoutMs)} and was killed with the processes it started (CUTOVER_CODE_CACHE_TIMEOUT_MS sets the limit, in ms)`,
        ),
      )
    }, timeoutMs)
    child.on('error', (e) =>
      finish(new Error(`code cache: "${name}" could not start: ${e.message}`)),
    )
    child.on('close', (code, signal) => {
      // what the command started and left running (a child it did not wait for) goes with it,
      // whether it succeeded or failed: nothing of the training outlives it
      killGroup(child)
      if (code === 0) finish()
      else
        finish(
          new Error(
            `code cache: "${name}" ${signal ? `was killed by ${signal}` : `exited ${code}`}: ${stderr}`,
          ),
        )
    })
  })
}

/**
 * Runs the command of `launcher` on the training tree, its caches written; rejects when one
 * fails or runs past `timeoutMs` (default: CUTOVER_CODE_CACHE_TIMEOUT_MS, else TIMEOUT_MS).
 */
export async function makeCodeCaches(launcher, { timeoutMs = timeoutFromEnv() } = {}) {
  const env = { ...process.env, ...SECRET_ENV, CUTOVER_BUILD_CODE_CACHE: '1', NO_COLOR: '1' }
  delete env.NODE_OPTIONS
  delete env.CUTOVER_DEBUG
  const training = mkdtempSync(join(tmpdir(), 'cutover-bundle-'))
  let running
  // the build ended by a signal: the command's group goes first (it is no longer in the
  // terminal's group, which would have had it) and the tree, then the build as the signal says
  const onSignal = (signal) => {
    for (const s of SIGNALS) process.off(s, onSignal)
    if (running) killGroup(running)
    removeTree(training)
    process.kill(process.pid, signal)
  }
  for (const s of SIGNALS) process.on(s, onSignal)
  try {
    for (const [file, content] of Object.entries(TREE)) {
      const { text, mode } = typeof content === 'string' ? { text: content } : content
      mkdirSync(dirname(join(training, file)), { recursive: true })
      writeFileSync(join(training, file), text, { mode })
      // the mode as given, whatever the umask
      if (mode !== undefined) chmodSync(join(training, file), mode)
    }
    for (const { cwd, args } of COMMANDS) {
      await runTraining(launcher, args, {
        cwd: join(training, cwd),
        env,
        timeoutMs,
        started: (child) => (running = child),
      })
      // ended: its pid (and group id) may be another's from now on
      running = undefined
    }
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal)
    removeTree(training)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  try {
    await makeCodeCaches(
      resolve(
        process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../dist/cutover.cjs'),
      ),
    )
  } catch (e) {
    process.stderr.write(`${e.message}\n`)
    process.exitCode = 1
  }
