import { spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { crc32 } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The `cutover` launcher (dist/cutover.cjs) loads the bundle; a bundle that is missing (an
 * installation cut short) or that throws while it loads is a clear line and exit 1, not Node's
 * unhandled rejection with its stack. It runs each chunk from the V8 code cache the build made
 * beside it, and runs it as its text says when a cache is missing, damaged, made under other V8
 * flags or made from another text.
 */

const launcher = resolve(import.meta.dirname, '../dist/cutover.cjs')
const EXAMPLES = resolve(import.meta.dirname, '../../../examples')
const codeCache = resolve(import.meta.dirname, '../scripts/code-cache.mjs')
const dir = tempDir('cutover-launcher-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The environment of the tests' commands: none of the variables that change the launcher's ways. */
function cleanEnv(): NodeJS.ProcessEnv {
  const base = { ...process.env }
  delete base.CUTOVER_DEBUG
  delete base.CUTOVER_TRACE_PHASES
  delete base.CUTOVER_BUILD_CODE_CACHE
  // V8 flags of the environment (a heap limit) would make V8 reject every cache
  delete base.NODE_OPTIONS
  return base
}

function run(at: string, env: Record<string, string> = {}, args = ['--version']) {
  return spawnSync(process.execPath, [at, ...args], {
    encoding: 'utf8',
    env: { ...cleanEnv(), ...env },
  })
}

/** Whether process `pid` has ended (gone, or a zombie no one reaps here), waiting up to 20 s for it. */
function waitGone(pid: number): boolean {
  for (let i = 0; i < 200; i++) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      return true
    }
    // the state follows the command's name in parentheses, which may hold any character
    if (/\) Z /.test(stat.slice(stat.lastIndexOf(')')))) return true
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
  }
  return false
}

describe('the cutover launcher', () => {
  it('says the installation is incomplete when its bundle is missing', () => {
    const at = join(dir, 'missing')
    mkdirSync(at)
    copyFileSync(launcher, join(at, 'cutover.cjs'))
    const r = run(join(at, 'cutover.cjs'))
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^cutover: this installation is incomplete: .*bundle\/cutover\.cjs.*; reinstall @cutover\/cli\n$/,
    )
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('calls a bundle that throws as it loads an internal error, with its stack only under CUTOVER_DEBUG', () => {
    const at = join(dir, 'throws')
    mkdirSync(join(at, 'bundle'), { recursive: true })
    copyFileSync(launcher, join(at, 'cutover.cjs'))
    writeFileSync(join(at, 'bundle', 'cutover.cjs'), "throw new Error('broken chunk')\n")
    const r = run(join(at, 'cutover.cjs'))
    expect(r.status).toBe(1)
    expect(r.stderr).toBe(
      'cutover: internal error: broken chunk (set CUTOVER_DEBUG=1 for details)\n',
    )
    const debug = run(join(at, 'cutover.cjs'), { CUTOVER_DEBUG: '1' })
    expect(debug.status).toBe(1)
    expect(debug.stderr).toMatch(
      /^cutover: internal error: broken chunk\nError: broken chunk\n\s+at /,
    )
  })

  it('runs a chunk that threw as it loaded again when it is required again, as Node does', () => {
    // a chunk whose evaluation failed (here: a chunk it requires is missing) must not hand its
    // exports of that moment to the next chunk that requires it
    const at = join(dir, 'rethrows')
    mkdirSync(join(at, 'bundle'), { recursive: true })
    copyFileSync(launcher, join(at, 'cutover.cjs'))
    writeFileSync(join(at, 'bundle', 'half.cjs'), "exports.half = 1\nrequire('./gone.cjs')\n")
    writeFileSync(
      join(at, 'bundle', 'cutover.cjs'),
      [
        'const tries = []',
        'for (let i = 0; i < 2; i++)',
        '  try {',
        "    tries.push(`exports ${JSON.stringify(require('./half.cjs'))}`)",
        '  } catch (e) {',
        "    tries.push(e.message.includes('gone.cjs') ? 'threw' : e.message)",
        '  }',
        "process.stdout.write(tries.join(', ') + '\\n')",
        'exports.done = Promise.resolve()',
        '',
      ].join('\n'),
    )
    for (const env of [{}, { CUTOVER_DEBUG: '1' }] as Record<string, string>[]) {
      const r = run(join(at, 'cutover.cjs'), env)
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe('threw, threw\n')
    }
  })

  /** A copy of the built command (launcher, bundle and caches, package.json) to damage. */
  function copy(name: string): { launcher: string; entry: string } {
    const at = join(dir, name)
    cpSync(resolve(launcher, '..', 'bundle'), join(at, 'dist', 'bundle'), { recursive: true })
    copyFileSync(launcher, join(at, 'dist', 'cutover.cjs'))
    copyFileSync(resolve(launcher, '../../package.json'), join(at, 'package.json'))
    return {
      launcher: join(at, 'dist', 'cutover.cjs'),
      entry: join(at, 'dist', 'bundle', 'cutover.cjs'),
    }
  }
  const traced = { CUTOVER_TRACE_PHASES: '1' }
  const cacheLine = (stderr: string) => /^cutover: code cache: .*$/m.exec(stderr)?.[0]
  const help = run(launcher, {}, ['--help'])

  it('runs every chunk of --help and of a plan from the code cache the build made', () => {
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('Usage: cutover')
    const r = run(launcher, traced, ['--help'])
    expect(r.stdout).toBe(help.stdout)
    expect(cacheLine(r.stderr)).toMatch(
      /^cutover: code cache: [1-9]\d* chunks used it, 0 rejected, 0 without$/,
    )
    const tree = join(dir, 'tree')
    mkdirSync(tree)
    writeFileSync(join(tree, 'motd'), 'a\n')
    writeFileSync(
      join(tree, 'cutover.yaml'),
      'version: 1\nsteps:\n  - text: { files: [motd], replace: { a: b } }\n',
    )
    const plan = run(launcher, traced, [
      'plan',
      '--spec',
      join(tree, 'cutover.yaml'),
      '--root',
      tree,
    ])
    expect(plan.status, plan.stderr).toBe(0)
    expect(plan.stdout).toContain('+b')
    expect(cacheLine(plan.stderr)).toMatch(
      /^cutover: code cache: [1-9]\d* chunks used it, 0 rejected, 0 without$/,
    )
  })

  // the build's training names the step kinds of the bundled examples, so that their plans and
  // applies (a fleet of local directories) find a cache for every chunk they load
  const examples = readdirSync(EXAMPLES).filter((e) =>
    existsSync(join(EXAMPLES, e, 'cutover.yaml')),
  )
  it.each(examples)(
    'runs every chunk of the plans and applies of the %s example from the code cache the build made',
    (example) => {
      const spec = parse(readFileSync(join(EXAMPLES, example, 'cutover.yaml'), 'utf8')) as {
        profiles?: string[]
        secrets?: Record<string, { env: string }>
      }
      const env = { ...traced } as Record<string, string>
      for (const { env: name } of Object.values(spec.secrets ?? {})) env[name] = `${name} (test)`
      for (const profile of spec.profiles ?? [undefined]) {
        const as = profile ? ['--profile', profile] : []
        const what = `${example}${profile ? ` --profile ${profile}` : ''}`
        const plan = run(launcher, env, [
          'plan',
          '--spec',
          join(EXAMPLES, example, 'cutover.yaml'),
          ...as,
        ])
        expect(plan.status, `plan ${what}: ${plan.stderr}`).toBe(0)
        expect(cacheLine(plan.stderr), `plan ${what}`).toMatch(
          /^cutover: code cache: [1-9]\d* chunks used it, 0 rejected, 0 without$/,
        )
        const copy = join(dir, `example-${example}-${profile ?? 'all'}`)
        cpSync(join(EXAMPLES, example), copy, { recursive: true })
        const apply = run(launcher, env, [
          'apply',
          '--spec',
          join(copy, 'cutover.yaml'),
          ...as,
          '--yes',
          '--quiet',
        ])
        expect(apply.status, `apply ${what}: ${apply.stderr}`).toBe(0)
        expect(cacheLine(apply.stderr), `apply ${what}`).toMatch(
          /^cutover: code cache: [1-9]\d* chunks used it, 0 rejected, 0 without$/,
        )
      }
    },
  )

  it('runs a chunk as its text says when its cache was made from another text of the same length', () => {
    // V8 itself compares only the text's length: without the CRC-32 that heads the cache file, the
    // old text's code would run and print the old words
    const c = copy('edited')
    const text = readFileSync(c.entry, 'utf8')
    expect(text).toContain('output the version number')
    writeFileSync(c.entry, text.replace('output the version number', 'OUTPUT THE VERSION NUMBER'))
    const r = run(c.launcher, traced, ['--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(
      help.stdout.replace('output the version number', 'OUTPUT THE VERSION NUMBER'),
    )
    expect(cacheLine(r.stderr)).toMatch(/ 0 rejected, 1 without$/)
  })

  it('makes a cache for the text it compiled, not for the text its file holds by the end', () => {
    // another build rewrites a chunk while a training command runs (here: as the command ends,
    // before it writes its caches); a cache made from the old text must not run for the new one
    const c = copy('rewritten')
    rmSync(`${c.entry}.cache`)
    const rewrite = join(dir, 'rewrite-at-exit.cjs')
    writeFileSync(
      rewrite,
      [
        "const fs = require('node:fs')",
        "process.on('exit', () => {",
        '  const file = process.env.REWRITE',
        "  const text = fs.readFileSync(file, 'utf8')",
        "  fs.writeFileSync(file, text.replace('output the version number', 'OUTPUT THE VERSION NUMBER'))",
        '})',
        '',
      ].join('\n'),
    )
    const made = spawnSync(process.execPath, ['--require', rewrite, c.launcher, '--help'], {
      encoding: 'utf8',
      env: { ...cleanEnv(), CUTOVER_BUILD_CODE_CACHE: '1', REWRITE: c.entry },
    })
    expect(made.status, made.stderr).toBe(0)
    expect(made.stdout).toBe(help.stdout)
    expect(readFileSync(`${c.entry}.cache`).length).toBeGreaterThan(4)
    const r = run(c.launcher, traced, ['--help'])
    expect(r.stdout).toBe(
      help.stdout.replace('output the version number', 'OUTPUT THE VERSION NUMBER'),
    )
    expect(cacheLine(r.stderr)).toMatch(/ 0 rejected, 1 without$/)

    // a larger cache of another text does not keep the build from writing this text's
    const other = copy('replaced')
    writeFileSync(`${other.entry}.cache`, Buffer.alloc(8 << 20, 1))
    const remade = run(other.launcher, { CUTOVER_BUILD_CODE_CACHE: '1' }, ['--help'])
    expect(remade.status, remade.stderr).toBe(0)
    expect(cacheLine(run(other.launcher, traced, ['--help']).stderr)).toMatch(
      /^cutover: code cache: [1-9]\d* chunks used it, 0 rejected, 0 without$/,
    )
  })

  it("makes the caches for the flags a command runs with, whatever the builder's NODE_OPTIONS and CUTOVER_DEBUG", () => {
    // a heap limit in the builder's NODE_OPTIONS made caches every command without it rejects;
    // CUTOVER_DEBUG made none (the chunks loaded by require())
    const c = copy('trained')
    const at = resolve(c.launcher, '../..')
    // the plan and the apply of the training find the packages as the built command does
    symlinkSync(resolve(launcher, '../../node_modules'), join(at, 'node_modules'))
    for (const f of readdirSync(join(at, 'dist', 'bundle')))
      if (f.endsWith('.cache')) rmSync(join(at, 'dist', 'bundle', f))
    const made = spawnSync(process.execPath, [codeCache, c.launcher], {
      encoding: 'utf8',
      env: { ...cleanEnv(), NODE_OPTIONS: '--max-old-space-size=3000', CUTOVER_DEBUG: '1' },
    })
    expect(made.stderr).toBe('')
    expect(made.status).toBe(0)
    const r = run(c.launcher, traced, ['--help'])
    expect(r.stdout).toBe(help.stdout)
    expect(cacheLine(r.stderr)).toMatch(
      /^cutover: code cache: [1-9]\d* chunks used it, 0 rejected, 0 without$/,
    )
  })

  /**
   * A stand-in for the built command that starts a child holding its stderr, then hangs (or, with
   * `exitCode`, a child holding none of its output, then exits so); `ids()` reads the two pids
   * once it has written them, `end()` kills what a failed test left.
   */
  function hanging(name: string, exitCode?: number) {
    const at = join(dir, name)
    mkdirSync(at)
    const pids = join(at, 'pids')
    writeFileSync(
      join(at, 'cutover.cjs'),
      [
        "const { spawn } = require('node:child_process')",
        "const fs = require('node:fs')",
        `const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: ['ignore', 'ignore', ${exitCode === undefined ? "'inherit'" : "'ignore'"}] })`,
        ...(exitCode === undefined
          ? [
              `fs.writeFileSync(${JSON.stringify(pids)} + '.tmp', process.pid + ' ' + child.pid)`,
              `fs.renameSync(${JSON.stringify(pids)} + '.tmp', ${JSON.stringify(pids)})`,
              'setInterval(() => {}, 1e6)',
            ]
          : [
              // run once for each training command that does not fail
              `fs.appendFileSync(${JSON.stringify(pids)}, process.pid + ' ' + child.pid + ' ')`,
              `${exitCode ? "process.stderr.write('stand-in failed\\n'); " : ''}process.exit(${exitCode})`,
            ]),
        '',
      ].join('\n'),
    )
    const all = () => readFileSync(pids, 'utf8').trim().split(' ').map(Number)
    const ids = () => all() as [number, number]
    // the build's temporary directory, where it makes its training tree
    const tmp = join(at, 'tmp')
    mkdirSync(tmp)
    return {
      launcher: join(at, 'cutover.cjs'),
      env: { ...cleanEnv(), TMPDIR: tmp },
      /** What the build left in its temporary directory. */
      left: () => readdirSync(tmp),
      started: () => existsSync(pids),
      ids,
      /** The pids of every run: the command's, its child's, the next command's, … */
      all,
      end() {
        for (const pid of existsSync(pids) ? all() : [])
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // gone
          }
      },
    }
  }

  it("kills a training command that runs past the build's limit, with the processes it started, and names it", () => {
    // the build must wait for neither the command nor its child (spawnSync's timeout killed only
    // the command, and waited on the pipe the child still held)
    const h = hanging('hangs')
    try {
      // the build's limit leaves the stand-in time to start its child under load; the test's own
      // limit, far above it, makes a build that waits forever fail this test instead of hanging it
      const r = spawnSync(process.execPath, [codeCache, h.launcher], {
        encoding: 'utf8',
        env: { ...h.env, CUTOVER_CODE_CACHE_TIMEOUT_MS: '5000' },
        timeout: 60_000,
        killSignal: 'SIGKILL',
      })
      expect(r.stderr).toBe(
        'code cache: "cutover --help" did not end within 5 s and was killed with the processes it started (CUTOVER_CODE_CACHE_TIMEOUT_MS sets the limit, in ms)\n',
      )
      expect(r.status).toBe(1)
      const [command, child] = h.ids()
      expect(waitGone(command), 'the command').toBe(true)
      expect(waitGone(child), "the command's child").toBe(true)
      expect(h.left(), 'the training tree').toEqual([])
    } finally {
      h.end()
    }

    const bad = spawnSync(process.execPath, [codeCache, h.launcher], {
      encoding: 'utf8',
      env: { ...cleanEnv(), CUTOVER_CODE_CACHE_TIMEOUT_MS: '2m' },
    })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toBe(
      'CUTOVER_CODE_CACHE_TIMEOUT_MS must be a number of ms (a positive integer), got "2m"\n',
    )
  })

  it('kills what a training command left running when it ends, failed or not', () => {
    // a child of the command that it did not wait for (here: holding none of its output, so that
    // nothing waits for it) outlived the build
    for (const [name, exitCode, stderr, status] of [
      ['fails', 1, 'code cache: "cutover --help" exited 1: stand-in failed\n\n', 1],
      ['succeeds', 0, '', 0],
    ] as const) {
      const h = hanging(name, exitCode)
      try {
        // the build's limit only keeps a build that would wait for the child from hanging the test
        const r = spawnSync(process.execPath, [codeCache, h.launcher], {
          encoding: 'utf8',
          env: { ...h.env, CUTOVER_CODE_CACHE_TIMEOUT_MS: '30000' },
          timeout: 60_000,
          killSignal: 'SIGKILL',
        })
        expect(r.stderr, name).toBe(stderr)
        expect(r.status, name).toBe(status)
        const ids = h.all()
        // the failing one is the first command; the other ran all four
        expect(ids.length, name).toBe(exitCode === 0 ? 8 : 2)
        for (const [i, pid] of ids.entries())
          expect(waitGone(pid), `${name}: ${i % 2 ? "a command's child" : 'a command'}`).toBe(true)
        expect(h.left(), `${name}: the training tree`).toEqual([])
      } finally {
        h.end()
      }
    }
  })

  it('kills the training command with the processes it started when the build is ended by a signal', async () => {
    // the command leads a process group of its own (so that its children can be killed with it),
    // out of the terminal's: Ctrl-C no longer reaches it, the build passes it on
    const h = hanging('interrupted')
    const build = spawn(process.execPath, [codeCache, h.launcher], {
      env: h.env,
      stdio: 'ignore',
    })
    const ended = new Promise<NodeJS.Signals | null>((r) =>
      build.on('exit', (_, signal) => r(signal)),
    )
    try {
      for (let i = 0; i < 600 && !h.started(); i++) await new Promise((r) => setTimeout(r, 100))
      expect(h.started(), 'the stand-in started').toBe(true)
      build.kill('SIGTERM')
      expect(await ended).toBe('SIGTERM')
      const [command, child] = h.ids()
      expect(waitGone(command), 'the command').toBe(true)
      expect(waitGone(child), "the command's child").toBe(true)
      expect(h.left(), 'the training tree').toEqual([])
    } finally {
      build.kill('SIGKILL')
      await ended
      h.end()
    }
  })

  it('leaves to V8 a cache of this text made by another V8: rejected, and the chunk compiled', () => {
    // V8's own header (after the CRC-32) names the V8 that made it; the CRC-32 made again over
    // it, as a cache from another Node would have
    const c = copy('other-v8')
    const cache = readFileSync(`${c.entry}.cache`)
    const v8data = cache.subarray(4)
    v8data.writeUInt32LE(v8data.readUInt32LE(4) ^ 1, 4)
    cache.writeUInt32LE(crc32(v8data, crc32(readFileSync(c.entry))), 0)
    writeFileSync(`${c.entry}.cache`, cache)
    const r = run(c.launcher, traced, ['--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(help.stdout)
    expect(cacheLine(r.stderr)).toMatch(/ 1 rejected, 0 without$/)
  })

  it('answers as with its caches when a cache is damaged, missing, or made under other V8 flags', () => {
    const c = copy('damaged')
    // V8's data damaged (the header no longer matches it): V8 itself would crash on it
    const cache = readFileSync(`${c.entry}.cache`)
    cache.fill(0x5a, 4 + 64)
    writeFileSync(`${c.entry}.cache`, cache)
    const damaged = run(c.launcher, traced, ['--help'])
    expect(damaged.stdout).toBe(help.stdout)
    expect(damaged.status).toBe(0)
    expect(cacheLine(damaged.stderr)).toMatch(/ 0 rejected, 1 without$/)
    // a header only, and one cut short
    writeFileSync(`${c.entry}.cache`, cache.subarray(0, 4))
    expect(run(c.launcher, {}, ['--help']).stdout).toBe(help.stdout)
    const short = Buffer.alloc(3)
    short.writeUIntLE(crc32(readFileSync(c.entry)) & 0xffffff, 0, 3)
    writeFileSync(`${c.entry}.cache`, short)
    const none = run(c.launcher, traced, ['--help'])
    expect(none.stdout).toBe(help.stdout)
    expect(cacheLine(none.stderr)).toMatch(/ 0 rejected, 1 without$/)
    rmSync(`${c.entry}.cache`)
    expect(run(c.launcher, {}, ['--help']).stdout).toBe(help.stdout)
    // another heap limit: other V8 flags than the build's, every cache rejected
    const flags = run(launcher, { ...traced, NODE_OPTIONS: '--max-old-space-size=3000' }, [
      '--help',
    ])
    expect(flags.stdout).toBe(help.stdout)
    expect(flags.status).toBe(0)
    expect(cacheLine(flags.stderr)).toMatch(
      /^cutover: code cache: 0 chunks used it, [1-9]\d* rejected, 0 without$/,
    )
  })
})
