import { createHash, randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path/posix'
import { sha256, type PackRange, type StateFileSystem, type StatePack } from '@cutover/rewrite'
import type { Exec } from './machine.js'
import { machineFacts, type MachineFacts } from './machine-facts.js'
import { remoteFileSystem, type RemoteFileSystem } from './remote-fs.js'
import {
  byLength,
  commandError,
  fsyncPaths,
  run,
  setXattrs,
  shellQuote as q,
  typeOfMode,
} from './remote-shell.js'
import { SFTP_OPEN, type SftpClient, type SftpError } from './sftp/index.js'

/** A machine's {@link StateFileSystem}, and the same with the originals of its targets known. */
export interface RemoteStateFileSystem extends StateFileSystem {
  /**
   * This file system, its pack's {@link StatePack.copyFrom} told the bytes the controller read of
   * the originals (real path on the machine → bytes): the copy of a set whose every source is
   * known runs a fixed number of processes on the machine (one `cat` of them all, the new part of
   * the pack hashed once and compared with the hash of the known bytes, joined) instead of about
   * five a file; a set that does not match is copied again file by file, as without it.
   */
  expecting(originals: ReadonlyMap<string, Buffer>): StateFileSystem
}

/**
 * The {@link StateFileSystem} of a machine over its SFTP channel and its {@link Exec}: its
 * journals, backups and lock stay on it, beside its targets, while another machine coordinates.
 * Contents go over SFTP (a new file: O_EXCL, mode 0600 set by fsetstat whatever the server's
 * umask, written, `fsync@openssh.com`; a replacement: such a file renamed with
 * `posix-rename@openssh.com`, then the directory fsynced by `sync -- DIR`); removing a tree, a
 * path's fsync, identity and extended attributes are commands run there. As the local one, it
 * acts by path: the state directory belongs to the user cutover runs as there.
 */
export function remoteStateFileSystem(o: {
  sftp: SftpClient
  exec: Exec
  label?: string
  /** The machine's facts (shared with its target file system: one probe a connection). */
  facts?: MachineFacts
  /** The target file system of the same connection, whose checks this one makes. */
  targets?: RemoteFileSystem
}): RemoteStateFileSystem {
  const { sftp, exec } = o
  const label = o.label ?? ''
  const facts = o.facts ?? machineFacts(exec, label)
  const targets = o.targets ?? remoteFileSystem({ sftp, exec, label, facts })

  const lstat = async (path: string) => {
    const a = await sftp.lstat(path).catch((e: SftpError) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    if (!a) return undefined
    const mode = a.permissions ?? 0
    return { type: typeOfMode(mode), mode, uid: a.uid ?? 0, size: Number(a.size ?? 0n) }
  }

  const syncPath = (path: string) => fsyncPaths(sftp, exec, label, [path])

  const createExclusive = async (path: string, data: string | Buffer) => {
    const h = await sftp.open(path, SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.EXCL, {
      permissions: 0o600,
    })
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    if (bytes.length > sftp.writeChunk) {
      try {
        await sftp.fsetstat(h, { permissions: 0o600 })
        await sftp.write(h, 0, bytes)
        await sftp.fsync(h)
      } finally {
        await sftp.close(h).catch(() => undefined)
      }
      return
    }
    // one WRITE: the mode, the bytes, the fsync and the close sent together (the server answers
    // a channel's requests in order: the fsync follows the write); an error of any is the error,
    // as when each waited for the one before (the file stays 0600; the caller removes it)
    const done = await Promise.allSettled([
      sftp.fsetstat(h, { permissions: 0o600 }),
      sftp.write(h, 0, bytes),
      sftp.fsync(h),
      sftp.close(h).catch(() => undefined),
    ])
    const failed = done.find((r) => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
  }

  /** Creates `path` (0700) and its missing parents; true when `path` itself was created. */
  const mkdir = async (path: string): Promise<boolean> => {
    if (await lstat(path)) return false
    const parent = dirname(path)
    if (parent !== path) await mkdir(parent)
    try {
      await sftp.mkdir(path, { permissions: 0o700 })
    } catch (e) {
      if ((e as SftpError).code === 'EEXIST') return false
      throw e
    }
    // the server's umask may have taken bits off: 0700 whatever it is
    await sftp.setstat(path, { permissions: 0o700 })
    return true
  }

  /** Whether the machine has what {@link StatePack.copyFrom} runs there. */
  const havePackTools = () => facts.packTools()

  /**
   * The backup pack: appends are SFTP writes at offsets taken when called; `copyFrom` copies the
   * originals into it on the machine itself (their bytes never travel) and hashes each slice
   * there as it is in the pack afterwards, all in one command.
   */
  const openPack = async (
    path: string,
    originals?: ReadonlyMap<string, Buffer>,
  ): Promise<StatePack> => {
    const h = await sftp.open(path, SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.EXCL, {
      permissions: 0o600,
    })
    let copies: boolean
    try {
      await sftp.fsetstat(h, { permissions: 0o600 })
      copies = await havePackTools()
    } catch (e) {
      await sftp.close(h).catch(() => undefined)
      throw e
    }
    let end = 0
    let closed = false
    const writing = new Set<Promise<void>>()
    /** A copy on the machine running: appends wait for it (it appends at the pack's end). */
    let copying: Promise<unknown> | undefined
    const assertOpen = () => {
      if (closed) throw new Error(`backup pack ${path} is closed`)
    }
    const append = async (bytes: Buffer): Promise<PackRange> => {
      while (copying) await copying.catch(() => undefined)
      assertOpen()
      const at: PackRange = [end, bytes.length]
      end += bytes.length
      const w = sftp.write(h, at[0], bytes)
      writing.add(w)
      try {
        await w
      } finally {
        writing.delete(w)
      }
      return at
    }
    const copyFrom = async (sources: readonly string[]) => {
      while (copying) await copying.catch(() => undefined)
      assertOpen()
      const done = copyNow(sources)
      copying = done
      try {
        return await done
      } finally {
        copying = undefined
      }
    }
    const copyNow = async (
      sources: readonly string[],
    ): Promise<Array<{ at: PackRange; hash: string } | undefined>> => {
      if (sources.length === 0) return []
      // the appends allocated so far are written first: the pack's size is then `end`
      await Promise.allSettled([...writing])
      const out: Array<{ at: PackRange; hash: string } | undefined> = []
      let k = 0
      // one command, unless the paths would make its line too long
      for (const part of byLength(sources.map(q))) {
        const known = originals && sources.slice(k, k + part.length).map((s) => originals.get(s))
        k += part.length
        if (known?.every((b) => b !== undefined)) {
          const fast = await copyKnown(part, known)
          if (fast) {
            out.push(...fast)
            continue
          }
        }
        const r = await run(exec, copyScript(path, end, part))
        const lines = r.stdout.toString('utf8').split('\n')
        const last = /^end (\d+)$/.exec(lines[part.length] ?? '')
        if (r.code !== 0 || !last) throw commandError(label, `copy into the backup pack ${path}`, r)
        end = Number(last[1])
        for (const line of lines.slice(0, part.length)) {
          const m = /^(\d+) (\d+) ([0-9a-f]{64})$/.exec(line)
          out.push(m ? { at: [Number(m[1]), Number(m[2])], hash: `sha256:${m[3]}` } : undefined)
        }
      }
      return out
    }
    /**
     * The copy of `quoted` (every one a regular file whose bytes should be `known`) in a fixed
     * number of processes: their slices when the pack's new part is exactly `known` joined (its
     * length and its hash, read back from the pack: each slice is then its known bytes) and each
     * source, hashed after the copy, is still its known bytes (the joined hash alone would take
     * bytes moved across a boundary, "x" then "" for "" then "x"); undefined when not (a source
     * changed, or is no regular file: copied again file by file, after what this appended).
     */
    const copyKnown = async (
      quoted: readonly string[],
      known: readonly Buffer[],
    ): Promise<Array<{ at: PackRange; hash: string }> | undefined> => {
      const joined = createHash('sha256')
      let total = 0
      for (const b of known) {
        joined.update(b)
        total += b.length
      }
      const r = await run(exec, copyKnownScript(path, end, quoted))
      const [first = '', ...each] = r.stdout.toString('utf8').split('\n')
      const m = /^(\d+) (\d+) ([0-9a-f]{64})$/.exec(first)
      if (r.code === 5) return undefined
      if (r.code !== 0 || !m) throw commandError(label, `copy into the backup pack ${path}`, r)
      const from = end
      end = Number(m[2])
      if (m[1] !== '0' || end - from !== total || m[3] !== joined.digest('hex')) return undefined
      // one `HASH  NAME` line a source (a name with a backslash or a newline: `\HASH  ESCAPED`
      // with GNU's tool; another's extra lines answer none), then the line's end
      if (each.length !== known.length + 1 || each[known.length] !== '') return undefined
      for (const [i, b] of known.entries())
        if (`sha256:${/^\\?([0-9a-f]{64}) /.exec(each[i]!)?.[1]}` !== sha256(b)) return undefined
      const out: Array<{ at: PackRange; hash: string }> = []
      let at = from
      for (const b of known) {
        out.push({ at: [at, b.length], hash: sha256(b) })
        at += b.length
      }
      return out
    }
    return {
      append,
      ...(copies ? { copyFrom } : {}),
      sync: async () => {
        await Promise.allSettled([...writing])
        await sftp.fsync(h)
      },
      close: async () => {
        if (closed) return
        closed = true
        await sftp.close(h)
      },
    }
  }

  /** `length` bytes of `path` from `offset`, fewer when it is shorter. */
  const readRange = async (path: string, offset: number, length: number): Promise<Buffer> => {
    const h = await sftp.open(path, SFTP_OPEN.READ)
    try {
      const parts: Buffer[] = []
      let got = 0
      while (got < length) {
        const b = await sftp.read(h, offset + got, Math.min(length - got, sftp.readChunk))
        if (!b || b.length === 0) break
        parts.push(b)
        got += b.length
      }
      return Buffer.concat(parts)
    } finally {
      await sftp.close(h).catch(() => undefined)
    }
  }

  const fs: RemoteStateFileSystem = {
    expecting: (originals) => ({ ...fs, openPack: (path) => openPack(path, originals) }),
    identity: async () => ({ uid: (await targets.identity()).uid }),
    openPack: (path) => openPack(path),
    readRange,
    mkdir,
    lstat,
    realpath: (path) => targets.realpath(path),
    userWritableDir: (dir) => targets.userWritableNow(dir, 0),
    readFile: (path) => sftp.readFile(path),
    // in byte order, as node's readdir gives them (libuv sorts the names it scans with strcmp)
    readdir: async (path) =>
      (await sftp.readdir(path))
        .map((e) => e.filename)
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    createExclusive,
    writeDurable: async (path, data) => {
      const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`)
      let renamed = false
      try {
        await createExclusive(temp, data)
        // replaces a link at `path`, never follows it
        await sftp.posixRename(temp, path)
        renamed = true
      } finally {
        if (!renamed) await sftp.remove(temp).catch(() => undefined)
      }
      await syncPath(dirname(path))
    },
    unlink: async (path) => {
      await sftp.remove(path).catch((e: SftpError) => {
        if (e.code !== 'ENOENT') throw e
      })
    },
    removeTree: async (path) => {
      const r = await run(exec, `rm -rf -- ${q(path)}`)
      if (r.code !== 0) throw commandError(label, `rm -rf ${path}`, r)
    },
    fsync: syncPath,
    xattrsAvailable: () => targets.xattrsAvailable(),
    readXattrs: (paths) => targets.readXattrs(paths),
    writeXattrs: (path, attrs) => setXattrs(exec, label, path, attrs),
  }
  return fs
}

/** The start of a copy's script: `$p` the pack, `$o` its size, which must be `end` (else exit 3). */
function packAt(pack: string, end: number): string[] {
  return [
    `p=${q(pack)}`,
    `o=${end}`,
    'n=$(stat -c %s -- "$p") || exit 3',
    '[ "$n" = "$o" ] || { echo "the pack has $n bytes, not $o" >&2; exit 3; }',
  ]
}

/**
 * The script of the copy of sources whose bytes the controller knows: checks that the pack's
 * size is `end` and that every source is a regular file (not a link: exit 5, nothing appended),
 * appends them all with one `cat`, then prints cat's exit code, the pack's size and the SHA-256
 * of the pack from `end` on, read back from it, then each source's SHA-256 as it is after the
 * copy (sha256sum's lines; `-` when it fails). Processes: a fixed number, whatever the sources.
 */
function copyKnownScript(pack: string, end: number, quoted: readonly string[]): string {
  return [
    ...packAt(pack, end),
    `for f in ${quoted.join(' ')}; do`,
    '  { [ -f "$f" ] && [ ! -h "$f" ]; } || exit 5',
    'done',
    'c=0',
    `cat -- ${quoted.join(' ')} >> "$p" || c=$?`,
    'n=$(stat -c %s -- "$p") || exit 3',
    'h=$(tail -c +$((o + 1)) -- "$p" | sha256sum) || exit 3',
    'echo "$c $n ${h%% *}"',
    `sha256sum -- ${quoted.join(' ')} 2>/dev/null || echo -`,
  ].join('\n')
}

/**
 * The script of {@link StatePack.copyFrom}: appends each regular file of `quoted` (shell-quoted paths) (a link or
 * anything else is skipped: `-`) to the pack `pack`, whose size must be `end`, and prints per
 * source `OFFSET LENGTH SHA256` of its slice as read back from the pack (a file changing
 * meanwhile gives a hash the caller refuses), then `end SIZE`. A copy that fails while its
 * source is still a regular file (the pack's disk full, a read error) fails the whole command.
 */
function copyScript(pack: string, end: number, quoted: readonly string[]): string {
  return [
    ...packAt(pack, end),
    `for f in ${quoted.join(' ')}; do`,
    '  if [ ! -f "$f" ] || [ -h "$f" ]; then',
    '    echo -',
    '  elif cat -- "$f" >> "$p"; then',
    '    n=$(stat -c %s -- "$p") || exit 3',
    '    h=$(tail -c +$((o + 1)) -- "$p" | head -c $((n - o)) | sha256sum) || exit 3',
    '    echo "$o $((n - o)) ${h%% *}"',
    // gone or replaced meanwhile: the caller finds it changed
    '  elif [ ! -f "$f" ] || [ -h "$f" ]; then',
    // a copy cut short may have appended some bytes: the next slice starts after them
    '    n=$(stat -c %s -- "$p") || exit 3',
    '    echo -',
    // still a file: the pack could not take it (a full disk), which no source explains
    '  else',
    '    echo "cannot copy $f into the pack" >&2',
    '    exit 4',
    '  fi',
    '  o=$n',
    'done',
    'echo "end $o"',
  ].join('\n')
}
