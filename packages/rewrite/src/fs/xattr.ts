import { execFile } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CutoverError } from '../errors.js'
import { describeTimeout, toolEnv, toolTimeoutMs } from './tool.js'

const exec = promisify(execFile)

/**
 * getfattr/setfattr, stopped after the tool timeout (a hung tool must not hold the apply and
 * its lock for ever), in a clean environment (no secrets).
 */
const run = (cmd: string, args: readonly string[], options: { maxBuffer?: number } = {}) =>
  exec(cmd, [...args], {
    timeout: toolTimeoutMs(),
    killSignal: 'SIGKILL',
    env: toolEnv(),
    ...options,
  })

/** Extended attributes (POSIX ACLs included, as `system.posix_acl_*`) of a file: name → base64 value. */
export type Xattrs = Map<string, string>

let available: boolean | undefined

/**
 * Whether `getfattr`/`setfattr` (Debian's `attr`) are installed: both executable files in a
 * directory of the tools' search path, as `execvp` finds them. Looked up, not run: a spawn blocks
 * the process until the child has started, and a command then spawned two of them before any
 * target was read. A tool there that does not work fails where it is used ({@link readXattrs}
 * throws), never silently.
 */
export async function xattrToolsAvailable(): Promise<boolean> {
  available ??= toolsOnPath(['getfattr', 'setfattr'], toolEnv().PATH ?? '')
  return available
}

/** Whether every one of `names` is an executable regular file in a directory of `path` (`:`-separated; empty is `.`). */
export function toolsOnPath(names: readonly string[], path: string): boolean {
  const dirs = path.split(':').map((d) => d || '.')
  return names.every((name) =>
    dirs.some((dir) => {
      const file = join(dir, name)
      try {
        if (!statSync(file).isFile()) return false
        accessSync(file, constants.X_OK)
        return true
      } catch {
        // not there, or not executable: the next directory
        return false
      }
    }),
  )
}

/**
 * Reads the extended attributes of many files with one `getfattr` call. Files without any are
 * absent from the result. Throws `METADATA` when the tool fails for another reason than files
 * gone since they were looked at (exit code 1, each error of getfattr's a missing file): the
 * attributes could not be kept.
 */
export async function readXattrs(paths: readonly string[]): Promise<Map<string, Xattrs>> {
  const out = new Map<string, Xattrs>()
  if (paths.length === 0) return out
  const { stdout } = await run(
    'getfattr',
    ['--absolute-names', '--no-dereference', '-d', '-m', '-', '-e', 'base64', '--', ...paths],
    { maxBuffer: 1 << 28 },
  ).catch(
    (e: {
      stdout?: string
      stderr?: string
      code?: number | string
      killed?: boolean
      signal?: string | null
      message?: string
    }) => {
      // exit code 1 is getfattr's for a file it could not read (one without attributes is 0):
      // only files gone since begin looked at them (refused later as stale) are let through; any
      // other error, like a tool that does not start or work (killed, timed out, another code,
      // busybox's getfattr printing its usage for options it lacks), fails
      const errors = (e.stderr ?? '').split('\n').filter((l) => l !== '')
      if (e.killed || e.signal || e.code !== 1 || !errors.length || !errors.every(getfattrSaysGone))
        throw new CutoverError('METADATA', `getfattr failed: ${whyFailed(e, errors)}`)
      return { stdout: e.stdout ?? '' }
    },
  )
  return parseGetfattr(stdout)
}

/**
 * Whether a line of getfattr's stderr (in the C locale) says a file is not there (gone since it
 * was looked at): the one error of its exit code 1 that leaves no attribute unread.
 */
export const getfattrSaysGone = (line: string) =>
  /: (No such file or directory|Not a directory)$/.test(line)

/** Why getfattr failed, for a message: how it ended and the first lines it printed. */
function whyFailed(
  e: { code?: number | string; killed?: boolean; signal?: string | null; message?: string },
  errors: readonly string[],
): string {
  const how =
    typeof e.code === 'string'
      ? e.code
      : e.killed
        ? `stopped after the tool timeout, ${describeTimeout(toolTimeoutMs())} (CUTOVER_TOOL_TIMEOUT_MS)`
        : e.signal
          ? `killed by ${e.signal}`
          : typeof e.code === 'number'
            ? `exit code ${e.code}`
            : (e.message ?? 'no answer')
  if (errors.length === 0) return how
  const more = errors.length > 3 ? `\n… (${errors.length - 3} more lines)` : ''
  return `${how}:\n${errors.slice(0, 3).join('\n')}${more}`
}

/**
 * The attributes in what `getfattr --absolute-names -d -m - -e base64` printed, by file; files
 * without any are absent.
 */
export function parseGetfattr(stdout: string): Map<string, Xattrs> {
  const out = new Map<string, Xattrs>()
  let current: Xattrs | undefined
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map()
      out.set(unescapeName(line.slice(8)), current)
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=')
      current.set(line.slice(0, eq), line.slice(eq + 1))
    }
  }
  for (const [k, v] of out) if (v.size === 0) out.delete(k)
  return out
}

/**
 * A file name as getfattr printed it: a newline, a backslash (and other bytes it quotes) as a
 * backslash and three octal digits. A backslash of the name is always quoted, so every such
 * sequence is one byte.
 */
function unescapeName(printed: string): string {
  const raw = Buffer.from(printed, 'utf8')
  const bytes: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const octal =
      raw[i] === 0x5c && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString('latin1'))
    if (octal) {
      bytes.push(Number.parseInt(raw.subarray(i + 1, i + 4).toString('latin1'), 8))
      i += 3
    } else bytes.push(raw[i]!)
  }
  return Buffer.from(bytes).toString('utf8')
}

/** Sets extended attributes on a file (values as `getfattr -e base64` printed them). */
export async function writeXattrs(path: string, attrs: Xattrs): Promise<void> {
  for (const [name, value] of attrs) await run('setfattr', ['-n', name, '-v', value, '--', path])
}

/** Removes one extended attribute of a file (absent already is fine). */
export async function removeXattr(path: string, name: string): Promise<void> {
  await run('setfattr', ['-x', name, '--', path]).catch((e: { stderr?: string }) => {
    if (!/No such attribute|No data available/i.test(e.stderr ?? '')) throw e
  })
}

/**
 * A path naming an open file descriptor of this process, for a tool it spawns: the tool then
 * acts on the file that was opened, whatever its directory's path has become since.
 */
export function fdPath(fd: number): string {
  return `/proc/${process.pid}/fd/${fd}`
}

/** The directories among `dirs` that have a default ACL (new files there inherit an access ACL from it). */
export async function dirsWithDefaultAcl(dirs: readonly string[]): Promise<Set<string>> {
  if (dirs.length === 0 || !(await xattrToolsAvailable())) return new Set()
  const attrs = await readXattrs(dirs)
  return new Set([...attrs].filter(([, a]) => a.has('system.posix_acl_default')).map(([d]) => d))
}
