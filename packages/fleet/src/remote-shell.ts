import { chainOf, getfattrSaysGone, type DirOnPath } from '@cutover/rewrite'
import type { Exec, ExecResult } from './machine.js'
import { SFTP_OPEN, type SftpClient } from './sftp/index.js'

/*
 * What a remote file system asks of the machine's shell (POSIX sh and coreutils) beside SFTP:
 * what SFTP does not carry (device and inode numbers, directory fsync, extended attributes).
 * Paths go into scripts single-quoted; file contents and attribute values never do (they go
 * over SFTP or on stdin).
 */

/** `s` as one word of a POSIX shell, whatever it holds (a newline, a quote, a leading dash). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Bytes of quoted paths per command line, far below any machine's limit (ARG_MAX ≥ 128 KiB). */
const LINE_BYTES = 32 * 1024

/** `words` in runs whose joined length stays within {@link LINE_BYTES} (one run per word at least). */
export function byLength(words: readonly string[]): string[][] {
  const out: string[][] = []
  let run: string[] = []
  let bytes = 0
  for (const w of words) {
    const n = Buffer.byteLength(w) + 1
    if (run.length && bytes + n > LINE_BYTES) {
      out.push(run)
      run = []
      bytes = 0
    }
    run.push(w)
    bytes += n
  }
  if (run.length) out.push(run)
  return out
}

/** The messages of the machine's tools in English, whatever the session's locale. */
const C_LOCALE = 'LC_ALL=C; export LC_ALL; '

/** Runs `script` with the C locale; rejects (as exec does) only when the machine cannot be reached. */
export function run(exec: Exec, script: string, stdin?: Buffer): Promise<ExecResult> {
  return exec(C_LOCALE + script, stdin ? { stdin } : undefined)
}

/** The errno of a coreutils message (`stat: cannot statx 'x': No such file or directory`). */
export function errnoOf(stderr: string): string {
  if (/No such file or directory/.test(stderr)) return 'ENOENT'
  if (/Not a directory/.test(stderr)) return 'ENOTDIR'
  if (/Permission denied/.test(stderr)) return 'EACCES'
  if (/Operation not permitted/.test(stderr)) return 'EPERM'
  if (/Read-only file system/.test(stderr)) return 'EROFS'
  if (/No space left on device/.test(stderr)) return 'ENOSPC'
  return 'EIO'
}

/** An error of a command run on the machine, with the errno its message gives. */
export function commandError(label: string, what: string, r: ExecResult): Error {
  const detail = r.stderr.trim() || `exit code ${r.code}`
  return Object.assign(new Error(`${label}${what}: ${detail}`), { code: errnoOf(r.stderr) })
}

/**
 * What follows a `getfattr` of a script: its exit code 1 said (a line of stderr that
 * {@link getfattrFailed} reads), any code past 1 made `code`.
 */
export const GETFATTR_STATUS = (code: number) =>
  `s=$?; [ $s -eq 1 ] && echo '${GETFATTR_EXIT_1}' >&2; [ $s -le 1 ] || exit ${code}`

const GETFATTR_EXIT_1 = 'cutover: getfattr exited 1'

/**
 * Whether what a script's `getfattr` printed on stderr (with {@link GETFATTR_STATUS}) is a
 * failure: getfattr exits 1 for a file gone since it was looked at (`No such file or directory`,
 * `Not a directory`), which leaves nothing to read, but also for any other error of a file
 * (permission denied) and for options it lacks (busybox's getfattr prints its usage): attributes
 * read as none there would be dropped without a word. Only the first is let through.
 */
export function getfattrFailed(stderr: string): boolean {
  const lines = stderr.split('\n').filter((l) => l !== '')
  const said = lines.filter((l) => l !== GETFATTR_EXIT_1)
  if (said.some((l) => !getfattrSaysGone(l))) return true
  return said.length === 0 && said.length < lines.length
}

/** What `stat -c '%f %d %i %u %g'` tells of a path (its link not followed). */
export interface ShellStat extends DirOnPath {
  /** `dev`, as node's lstat gives `st_dev`. */
  dev: number
}

/** Why a path could not be stat'ed: the message of `stat`, naming the errno. */
export interface ShellStatError {
  error: string
}

/**
 * The stat of many paths in one command: the paths go on its stdin (NUL-separated, so any number
 * and any name, a newline in it included); one `stat` reads every path there is, and a path that
 * is not (missing, a file on the way, a directory not searchable) gets a `stat` of its own for
 * the message that names why. Each answer comes back as two NUL-ended fields: the path, then `+`
 * and the fields or `-` and stat's message.
 */
const STAT_EACH = `xargs -0 sh -c ${shellQuote(
  [
    'for p do [ -e "$p" ] || [ -h "$p" ] || { if o=$(stat -c "%f %d %i %u %g" -- "$p" 2>&1); then printf "%s\\0+%s\\0" "$p" "$o"; else printf "%s\\0-%s\\0" "$p" "$o"; fi; }; done',
    'for p do [ -e "$p" ] || [ -h "$p" ] && printf "%s\\0" "$p"; done | xargs -0 -r stat --printf "%n\\0+%f %d %i %u %g\\0" --',
  ].join('; '),
)} sh`

/**
 * lstat of many paths in one command: each path's stat, or the message of why it cannot be
 * stat'ed (missing, or a directory on the way not searchable).
 */
export async function statEach(
  exec: Exec,
  label: string,
  paths: readonly string[],
): Promise<Map<string, ShellStat | ShellStatError>> {
  const out = new Map<string, ShellStat | ShellStatError>()
  const unique = [...new Set(paths)]
  if (unique.length === 0) return out
  const r = await run(exec, STAT_EACH, Buffer.from(unique.map((p) => p + '\0').join(''), 'utf8'))
  return readStats(label, unique, r, r.stdout.toString('utf8'))
}

/** The answers of {@link STAT_EACH} to `unique` (distinct paths) in `text`, the stdout of `r`. */
function readStats(
  label: string,
  unique: readonly string[],
  r: ExecResult,
  text: string,
): Map<string, ShellStat | ShellStatError> {
  const out = new Map<string, ShellStat | ShellStatError>()
  const failed = () => commandError(label, `stat of ${unique.length} paths failed`, r)
  // An answer cut short (a command killed, a lost session) may end inside a number, which would
  // still read as one: only a whole answer, each record ended, of a command that succeeded is read.
  if (r.code !== 0 || !text.endsWith('\0')) throw failed()
  const fields = text.slice(0, -1).split('\0')
  if (fields.length % 2 !== 0) throw failed()
  const answers = new Map<string, string>()
  for (let k = 0; k + 1 < fields.length; k += 2) answers.set(fields[k]!, fields[k + 1]!)
  for (const path of unique) {
    const rec = answers.get(path)
    // none: the path vanished between the two reads, or the machine lacks the tools
    if (rec === undefined) throw failed()
    if (rec[0] === '-') {
      out.set(path, { error: rec.slice(1).trim() || rec })
      continue
    }
    // a stat that does not read as one is a failure, never the fact of a missing path
    if (!/^\+[0-9a-f]+ \d+ \d+ \d+ \d+$/.test(rec)) throw failed()
    const f = rec.slice(1).split(' ')
    const [mode, dev, ino, uid, gid] = f as [string, string, string, string, string]
    out.set(path, {
      path,
      id: `${dev}:${ino}`,
      dev: Number(dev),
      mode: Number.parseInt(mode, 16),
      uid: Number(uid),
      gid: Number(gid),
    })
  }
  return out
}

const S_IFMT = 0o170000

/** The type of an `st_mode`. */
export function typeOfMode(mode: number): 'file' | 'directory' | 'symlink' | 'other' {
  switch (mode & S_IFMT) {
    case 0o100000:
      return 'file'
    case 0o040000:
      return 'directory'
    case 0o120000:
      return 'symlink'
    default:
      return 'other'
  }
}

/**
 * The directories from `/` down to `dir` as the machine has them, or why the walk stopped (a
 * component missing, a link, not a directory): the walk of rewrite's local pins, its messages
 * included.
 */
export function walkFrom(
  stats: ReadonlyMap<string, ShellStat | ShellStatError>,
  dir: string,
): { chain: ShellStat[]; broken?: string } {
  const chain: ShellStat[] = []
  for (const path of chainOf(dir)) {
    const st = stats.get(path)
    if (!st || 'error' in st) return { chain, broken: `${path} no longer exists` }
    const type = typeOfMode(st.mode)
    if (type === 'symlink') return { chain, broken: `${path} is now a symlink` }
    if (type !== 'directory') return { chain, broken: `${path} is no longer a directory` }
    chain.push(st)
  }
  return { chain }
}

/**
 * {@link walkFrom} of `dir` and the extended attributes (getfattr's text, `-e base64`) of the
 * directories on the way, in one command: the stat answers, one more NUL (no answer holds two in
 * a row), then getfattr's output; `xattrs` false leaves getfattr out (the machine lacks it).
 */
export async function walkWithXattrs(
  exec: Exec,
  label: string,
  dir: string,
  xattrs: boolean,
): Promise<{ walk: { chain: ShellStat[]; broken?: string }; getfattr: string }> {
  const chain = [...new Set(chainOf(dir))]
  const script = [
    `${STAT_EACH} || exit $?`,
    "printf '\\0'",
    ...(xattrs
      ? [
          `getfattr --absolute-names --no-dereference -d -m - -e base64 -- ${chain.map(shellQuote).join(' ')}`,
          GETFATTR_STATUS(125),
        ]
      : []),
  ].join('\n')
  const r = await run(exec, script, Buffer.from(chain.map((p) => p + '\0').join(''), 'utf8'))
  const text = r.stdout.toString('utf8')
  const end = text.indexOf('\0\0')
  if (r.code !== 0 || end < 0) {
    if (r.code === 125) throw commandError(label, 'getfattr', r)
    throw commandError(label, `stat of ${chain.length} paths failed`, r)
  }
  if (xattrs && getfattrFailed(r.stderr)) throw commandError(label, 'getfattr', r)
  const stats = readStats(label, chain, r, text.slice(0, end + 1))
  return { walk: walkFrom(stats, dir), getfattr: text.slice(end + 2) }
}

/** Sets extended attributes on a file of the machine (values as getfattr prints them), by `setfattr --restore=-`. */
export async function setXattrs(
  exec: Exec,
  label: string,
  path: string,
  attrs: ReadonlyMap<string, string>,
): Promise<void> {
  const r = await run(exec, 'setfattr --restore=-', restoreInput(path, attrs))
  if (r.code !== 0) throw commandError(label, `setfattr on ${path}`, r)
}

/**
 * `setfattr --restore` input setting `attrs` on `path`: the values travel on stdin, never in a
 * script. The path is escaped as getfattr writes names (octal for every byte but plain ones).
 */
export function restoreInput(path: string, attrs: ReadonlyMap<string, string>): Buffer {
  const escaped = [...Buffer.from(path, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9/._+,:@%-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `\\${b.toString(8).padStart(3, '0')}`,
    )
    .join('')
  const lines = [`# file: ${escaped}`, ...[...attrs].map(([k, v]) => `${k}=${v}`), '']
  return Buffer.from(lines.join('\n'), 'utf8')
}

/** Paths {@link fsyncPaths} holds open at once over SFTP. */
export const FSYNC_WINDOW = 128

/**
 * fsyncs files and directories of a machine: each opened for reading over SFTP and fsynced by
 * `fsync@openssh.com` (every request in flight at once, no command run), as coreutils' `sync --`
 * does; a path the server cannot open that way (a server without the extension, or that refuses
 * a directory) goes to `sync --`, whose message then says why. A failed fsync is never tried
 * again another way: after a failed fsync a second one may succeed with the data lost.
 */
export async function fsyncPaths(
  sftp: SftpClient,
  exec: Exec,
  label: string,
  paths: readonly string[],
): Promise<void> {
  let rest: readonly string[] = paths
  if (sftp.extensions.has('fsync@openssh.com')) {
    const refused: string[] = []
    // a window of handles at a time: sftp-server's open files are its process's (often 1,024),
    // shared with the staging's opens on the same connection
    for (let at = 0; at < paths.length; at += FSYNC_WINDOW) {
      const window = paths.slice(at, at + FSYNC_WINDOW)
      const opened = await Promise.allSettled(window.map((p) => sftp.open(p, SFTP_OPEN.READ)))
      refused.push(...window.filter((_p, i) => opened[i]!.status === 'rejected'))
      const handles = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
      // the closes sent with the fsyncs: the server answers them in order, each after its fsync
      const syncing = handles.map((h) => sftp.fsync(h))
      const closing = handles.map((h) => sftp.close(h).catch(() => undefined))
      const synced = await Promise.allSettled(syncing)
      await Promise.all(closing)
      const failed = synced.find((s) => s.status === 'rejected')
      if (failed) throw (failed as PromiseRejectedResult).reason
    }
    rest = refused
  }
  // one command for the rest (sync fsyncs each operand, reporting any failure)
  for (const part of byLength(rest.map(shellQuote))) {
    const r = await run(exec, `sync -- ${part.join(' ')}`)
    if (r.code !== 0)
      throw commandError(
        label,
        part.length === 1 ? `sync ${rest[0]}` : `sync of ${part.length} paths`,
        r,
      )
  }
}
