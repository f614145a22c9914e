#!/usr/bin/env node
// node scripts/code-cache.mjs [LAUNCHER]: makes the code cache of each chunk of the bundle beside
// LAUNCHER (default dist/cutover.cjs; `<chunk>.cjs.cache`, read by src/cutover.cts); scripts/bundle.mjs
// runs it after the bundle. It runs the built command, as a user would, on a small tree of the
// common step kinds: its help, a plan and an apply; V8 then caches every function compiled by the
// end of a command, and a chunk keeps the largest of its caches. The commands set the V8 flags
// the launcher sets, which a cache must have been made under (another machine's heap limit may
// change them: its caches are then rejected and the chunks compiled as without them); so they run
// without the builder's NODE_OPTIONS (a heap limit there would make every cache one that a
// command run without it rejects) and without CUTOVER_DEBUG (the chunks then load by require(),
// and no cache would be made).
//
// Each command has a time limit (TIMEOUT_MS, or CUTOVER_CODE_CACHE_TIMEOUT_MS): one that does not
// end by then is killed with the processes it started (it runs as the leader of its own process
// group) and the build fails naming it; so does one the build's own end by a signal interrupts.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const TRAINING = {
  'cutover.yaml': [
    'version: 1',
    'hosts:',
    '  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }',
    'steps:',
    '  - php: { files: ["**/*.php"], addresses: names }',
    '  - ini: { files: ["**/*.ini"], addresses: names }',
    '  - json: { files: ["**/*.json"], addresses: names }',
    '  - text: { files: ["**/*.conf", "**/*.txt"], addresses: names }',
    '',
  ].join('\n'),
  'www/config.php': "<?php\n$db = '10.0.10.48'; // the database\n$port = 5432;\n",
  'php/app.ini': '[db]\nhost = 10.0.10.48\nport = 5432\n',
  'app/settings.json': '{ "db": { "host": "10.0.10.48", "port": 5432 } }\n',
  'nginx/site.conf': 'upstream db { server 10.0.10.48:5432; }\n',
  'notes.txt': 'the database moved from 10.0.10.48\n',
}

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

/**
 * Runs `node launcher ...args` in its own process group; resolves when it has exited 0, rejects
 * when it exits otherwise, is killed by a signal, or runs past `timeoutMs` (then the whole group
 * is killed first, so that a hung child of the command, a `php` or `visudo`, goes too).
 */
function runTraining(launcher, args, { cwd, env, timeoutMs }) {
  const name = `cutover ${args.join(' ')}`
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [launcher, ...args], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stdout.resume()
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d) => {
      if (stderr.length < STDERR_KEPT) stderr += d
    })
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // the group has ended already
      }
    }
    const finish = (error) => {
      clearTimeout(timer)
      for (const s of SIGNALS) process.off(s, onSignal)
      if (error) reject(error)
      else resolveRun()
    }
    // the build ended by a signal: the command's group goes first (it is no longer in the
    // terminal's group, which would have had it), then the build as the signal says
    const onSignal = (signal) => {
      killGroup()
      for (const s of SIGNALS) process.off(s, onSignal)
      process.kill(process.pid, signal)
    }
    for (const s of SIGNALS) process.on(s, onSignal)
    const timer = setTimeout(() => {
      killGroup()
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
  const env = { ...process.env, CUTOVER_BUILD_CODE_CACHE: '1', NO_COLOR: '1' }
  delete env.NODE_OPTIONS
  delete env.CUTOVER_DEBUG
  const training = mkdtempSync(join(tmpdir(), 'cutover-bundle-'))
  try {
    for (const [file, text] of Object.entries(TRAINING)) {
      mkdirSync(dirname(join(training, file)), { recursive: true })
      writeFileSync(join(training, file), text)
    }
    const commands = [
      ['--help'],
      ['plan', '--root', '.', '--out', 'plan.json'],
      ['apply', '--root', '.', '--yes', '--quiet', '--state-dir', 'state'],
    ]
    for (const args of commands)
      await runTraining(launcher, args, { cwd: training, env, timeoutMs })
  } finally {
    rmSync(training, { recursive: true, force: true })
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
