import { spawn, type ChildProcessByStdio } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll } from 'vitest'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { runCli } from '../run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

/** The built `cutover` command. */
export const BIN = resolve(import.meta.dirname, '../../dist/bin.js')

/** The `cutover` bin as installed: the launcher that loads the bundle's chunks with their code caches. */
export const LAUNCHER = resolve(import.meta.dirname, '../../dist/cutover.cjs')

export const OLD = '10.0.10.48'
export const NEW = '10.0.10.49'

/** What a run of the built CLI gave. */
export interface Ran {
  code: number | null
  signal: NodeJS.Signals | null
  out: string
  err: string
}

/** A run of the built CLI under way. */
export interface Running {
  child: ChildProcessByStdio<null, Readable, Readable>
  /** What it has written so far. */
  output(): { out: string; err: string }
  /** What it gave, once it has exited and its output is closed. */
  closed: Promise<Ran>
}

/**
 * Starts the built `cutover` in `cwd` (no fault injected unless `env` says so), collecting its
 * output: `bin` is {@link BIN} unless told ({@link LAUNCHER}).
 */
export function startCutover(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  bin: string = BIN,
): Running {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, CUTOVER_FAULT_INJECT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const closed = new Promise<Ran>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, out, err })),
  )
  return { child, output: () => ({ out, err }), closed }
}

/** Runs the built `cutover` in `cwd` (asynchronously: the test's sshd processes keep being served). */
export function cutover(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Ran> {
  return new Promise((done, fail) => {
    const { child, output } = startCutover(args, cwd, env)
    child.on('error', fail)
    // a controller killed with SIGKILL leaves its ssh connections' processes behind for a moment,
    // holding its output pipes: its exit is what counts, with what it wrote by then
    child.on('exit', (code, signal) => {
      const settle = setTimeout(() => done({ code, signal, ...output() }), 2000)
      child.on('close', () => {
        clearTimeout(settle)
        done({ code, signal, ...output() })
      })
    })
  })
}

/**
 * {@link cutover} in this process (`run()` with its output captured, this process's environment
 * with `env` added), for a fleet of local directories whose test checks what the command does,
 * not the process: no node start or bundle load per run. A run with an injected fault spawns.
 */
export async function cutoverIn(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Ran> {
  const r = await runCli(args, { cwd, env })
  return { code: r.code, signal: null, out: r.out, err: r.err }
}

/** A fleet over real sshd shared by a test file's tests, and a temporary directory beside it. */
export interface SharedFleet {
  readonly fleet: TestFleet
  /** A temporary directory made for the file (controller directories go under it). */
  readonly dir: string
  /** The environment that has the CLI reach the fleet's machines by the fleet's ssh config. */
  env(): Record<string, string>
}

/**
 * Starts `size` machines before the file's tests (its directory named from `prefix`) and stops
 * them after; the fields may be read once the tests run.
 */
export function useFleet(size: number, prefix: string): SharedFleet {
  let fleet: TestFleet | undefined
  let dir: string | undefined
  beforeAll(async () => {
    fleet = await startFleet(size)
    dir = tempDir(prefix)
  }, 120_000)
  afterAll(async () => {
    await fleet?.stop()
  })
  return {
    get fleet() {
      return fleet!
    },
    get dir() {
      return dir!
    },
    env: () => ({ CUTOVER_SSH_CONFIG: fleet!.sshConfig }),
  }
}

/** How long a test over real sshd may take: it plans and applies across every machine. */
export const SSH_TEST_MS = 240_000

/** The files of a machine's tree before any apply (paths relative to its root), with their modes. */
export function machineFiles(i: number): Record<string, { text: string; mode: number }> {
  return {
    'var/www/app/config.php': {
      text: `<?php\ndefine('DB_HOST', '${OLD}');\ndefine('DB_PASSWORD', 'old-pw-${i}');\n`,
      mode: 0o640,
    },
    'etc/hosts': { text: `127.0.0.1 localhost\n${OLD} db.example.net db\n`, mode: 0o644 },
    'etc/sudoers.d/app': { text: 'Defaults:www-data !requiretty\n', mode: 0o440 },
    'etc/app.conf': { text: `# machine m${i}\ndb = ${OLD}\n`, mode: 0o600 },
  }
}

/** Writes every machine's tree afresh (and removes what an earlier test left, its state directory too). */
export function writeTrees(
  fleet: TestFleet,
  edit?: (i: number, files: ReturnType<typeof machineFiles>) => void,
): void {
  fleet.machines.forEach((m, k) => {
    const i = k + 1
    rmSync(m.root, { recursive: true, force: true })
    mkdirSync(m.root, { recursive: true })
    const files = machineFiles(i)
    edit?.(i, files)
    for (const [rel, f] of Object.entries(files)) {
      const path = join(m.root, rel)
      mkdirSync(join(path, '..'), { recursive: true })
      writeFileSync(path, f.text)
      chmodSync(path, f.mode)
    }
  })
}

/** The spec of the fleet: php, hosts, sudoers and text steps on every machine. */
export function fleetSpec(fleet: TestFleet, extra = ''): string {
  return [
    'version: 1',
    'machines:',
    ...fleet.machines.map((m) => `  ${m.name}: { ssh: ${m.name}, root: ${m.root} }`),
    'hosts:',
    `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
    extra,
    'steps:',
    '  - php: { files: ["var/www/*/config.php"], addresses: names }',
    '  - hosts: { files: [etc/hosts], ensure: new }',
    '  - sudoers:',
    '      files: [etc/sudoers.d/app]',
    '      rules: ["www-data ALL=(root) NOPASSWD: /usr/sbin/service app restart"]',
    '  - text: { files: ["etc/*.conf"], addresses: new }',
    '',
  ]
    .filter((l) => l !== '')
    .join('\n')
    .concat('\n')
}

/**
 * Every entry under a root, byte for byte: files with their mode and bytes, links with their
 * target, directories with their mode. The state directory (`var/lib/cutover`, and `var/lib`, which no tree here has otherwise) is left out.
 */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name
      // the machine's state directory (and the var/lib made for it): a transaction's own record
      if (r === 'var/lib/cutover' || r === 'var/lib') continue
      const st = lstatSync(join(root, r))
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(join(root, r))}`
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`
        walk(r)
      } else
        out[r] =
          `file ${mode} ${st.uid}:${st.gid} ${readFileSync(join(root, r)).toString('base64')}`
    }
  }
  walk('')
  return out
}

/** The temp files a transaction may leave beside its targets (`.NAME.cutover-…`), anywhere under a root but its state directory. */
export function strays(root: string): string[] {
  return Object.keys(snapshot(root)).filter((p) => p.split('/').pop()!.includes('.cutover-'))
}

/** What every machine of the fleet holds now. */
export function fleetSnapshot(fleet: TestFleet): Record<string, Record<string, string>> {
  return Object.fromEntries(fleet.machines.map((m) => [m.name, snapshot(m.root)]))
}

/** Waits until a process is stopped (state T in /proc/PID/stat). */
export async function waitStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (!existsSync(`/proc/${pid}/stat`)) throw new Error(`process ${pid} exited before it stopped`)
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`process ${pid} did not stop`)
}
