import { dirname, join } from 'node:path/posix'
import {
  chainOf,
  CutoverError,
  idName,
  parseGetfattr,
  parseMountinfo,
  pinMismatch,
  targetMoved,
  writableByOthers,
  type NewFileMeta,
  type PinnedDir,
  type TxAnswer,
  type TxFileSystem,
  type TxOwner,
  type TxXattrs,
} from '@cutover/rewrite'
import type { Exec } from './machine.js'
import { machineFacts, type MachineFacts } from './machine-facts.js'
import {
  commandError,
  errnoOf,
  fsyncPaths,
  GETFATTR_STATUS,
  getfattrFailed,
  run,
  setXattrs,
  shellQuote as q,
  statEach,
  typeOfMode,
  walkFrom,
  walkWithXattrs,
  type ShellStat,
  type ShellStatError,
} from './remote-shell.js'
import { SFTP_OPEN, SftpError, type SftpClient } from './sftp/index.js'

/*
 * The transaction's file system on a machine reached over SSH: file contents and the calls SFTP
 * has (lstat, realpath, open with O_EXCL, fsetstat, fsync@openssh.com, posix-rename@openssh.com,
 * remove) over the SFTP channel; what it lacks by commands run on the machine (`stat -c %d:%i`
 * for device and inode numbers, `sync` for a directory's fsync, getfattr/setfattr, `id`).
 *
 * The narrower guarantee: SFTP has no openat and no directory handle that writes could go
 * through. A pinned operation here walks the directory's path again with `stat` (every component
 * from `/` down, compared with the pin as the local file system does) and then acts by path.
 * The transaction checks the pins of a whole phase (stage, backup, rename) at once
 * (`pinsChanged`: one `stat` command); the operations of that phase in a directory it found
 * pinned then act by path without walking again. A swap of a directory on the path during the
 * phase (a window of one phase) is not caught as the local `/proc/self/fd` descriptors catch it;
 * it is caught by the next phase's walk, the rename phase's right before its renames. This is why
 * targets in directories that another user than root and their owner can change are refused on
 * every file system (USER_WRITABLE): only such a user could make that swap.
 */

/**
 * getfattr of the NUL-separated paths on stdin (as many commands as xargs needs, one session);
 * an exit code above 1 is made xargs' 124, an exit code 1 said on stderr ({@link getfattrFailed}).
 */
const GETFATTR_EACH = `xargs -0 sh -c ${q(
  `getfattr --absolute-names --no-dereference -d -m - -e base64 -- "$@"; ${GETFATTR_STATUS(255)}`,
)} sh`

/** The {@link TxFileSystem} of a machine, and the check of a directory its state file system makes. */
export interface RemoteFileSystem extends TxFileSystem {
  /** {@link TxFileSystem.userWritableDir} of `dir` with the ACLs read on the way, in one walk. */
  userWritableNow(dir: string, owner: number): Promise<string | undefined>
}

/**
 * The {@link TxFileSystem} of a machine over its SFTP channel and its {@link Exec}. Pins are the
 * `dev:ino` strings of rewrite's local file system (read with `stat -c` on the machine), so that
 * the machine's own `cutover recover` reads its journals the same way. `label` (`finance:`) names
 * the machine in the errors of its commands.
 */
export function remoteFileSystem(o: {
  sftp: SftpClient
  exec: Exec
  label: string
  /** The machine's facts, shared with its state file system (one probe a connection). */
  facts?: MachineFacts
}): RemoteFileSystem {
  const { sftp, exec, label } = o
  const facts = o.facts ?? machineFacts(exec, label)
  let idNames: Promise<{ passwd?: string; group?: string }> | undefined

  /**
   * The directories the current phase's {@link TxFileSystem.pinsChanged} found still pinned
   * (`dir` → its pin, joined): an operation there acts without walking the path again.
   */
  let checked = new Map<string, string>()
  /** pinsChanged calls running (the stage and backup phases start side by side). */
  let checking = 0
  /** Throws TARGET_MOVED, having done nothing, when the directory is not the pinned one. */
  const checkPinned = async (at: PinnedDir) => {
    if (at.pin !== undefined && checked.get(at.dir) === at.pin.join(' ')) return
    const why = await fileSystem.pinChanged(at.dir, at.pin)
    if (why) throw targetMoved(at.target, why)
  }

  const names = () =>
    (idNames ??= Promise.all([
      sftp.readFile('/etc/passwd').then(String, () => undefined),
      sftp.readFile('/etc/group').then(String, () => undefined),
    ]).then(([passwd, group]) => ({ passwd, group })))

  const removeAcl = async (path: string) => {
    const r = await run(exec, `setfattr -x system.posix_acl_access -- ${q(path)}`)
    if (r.code !== 0 && !/No such attribute|No data available/i.test(r.stderr))
      throw commandError(label, `setfattr -x on ${path}`, r)
  }

  const createPinned = async (at: PinnedDir, name: string, data: Buffer, meta: NewFileMeta) => {
    await checkPinned(at)
    meta.opening?.()
    const path = join(at.dir, name)
    // O_EXCL: never through a link, never over anything; 0600 until its mode is set below
    const h = await sftp.open(path, SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.EXCL, {
      permissions: 0o600,
    })
    try {
      // before any byte is written: a user the directory's default ACL names must not read it
      if (meta.dropAcl && !meta.xattrs?.has('system.posix_acl_access')) await removeAcl(path)
      await sftp.write(h, 0, data)
      const st = await sftp.fstat(h)
      if (st.uid !== meta.uid || st.gid !== meta.gid) {
        await sftp.fsetstat(h, { uid: meta.uid, gid: meta.gid }).catch((e: Error) => {
          throw new CutoverError(
            'METADATA',
            `cannot keep owner ${meta.uid}:${meta.gid} of ${at.target}: ${e.message} (run as root)`,
            { cause: e },
          )
        })
      }
      // after the owner: a chown clears the set-user-ID bit
      await sftp.fsetstat(h, { permissions: meta.mode })
      if (meta.xattrs) await setXattrs(exec, label, path, meta.xattrs)
      await sftp.fsync(h)
    } finally {
      await sftp.close(h).catch(() => undefined)
    }
  }

  /** lstat of `path`; undefined when nothing is there. */
  const lstatOrAbsent = (path: string) =>
    sftp.lstat(path).catch((e: SftpError) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })

  /**
   * Gives the link or directory `path` (just made) its owner and, for a directory, its mode, never
   * following a link: `lsetstat@openssh.com`, or `chown -h`/`chmod` on the machine without it.
   */
  const setOwnMeta = async (path: string, target: string, meta: TxOwner & { mode?: number }) => {
    const st = await sftp.lstat(path)
    if (st.uid !== meta.uid || st.gid !== meta.gid) {
      const owned = sftp.extensions.has('lsetstat@openssh.com')
        ? sftp.lsetstat(path, { uid: meta.uid, gid: meta.gid })
        : run(exec, `chown -h -- ${meta.uid}:${meta.gid} ${q(path)}`).then((r) => {
            if (r.code !== 0) throw commandError(label, `chown -h ${path}`, r)
          })
      await owned.catch((e: Error) => {
        throw new CutoverError(
          'METADATA',
          `cannot keep owner ${meta.uid}:${meta.gid} of ${target}: ${e.message} (run as root)`,
          { cause: e },
        )
      })
    }
    if (meta.mode === undefined) return
    // after the owner, which may clear set-id bits
    if (sftp.extensions.has('lsetstat@openssh.com'))
      await sftp.lsetstat(path, { permissions: meta.mode })
    else {
      const r = await run(exec, `chmod -- ${meta.mode.toString(8)} ${q(path)}`)
      if (r.code !== 0) throw commandError(label, `chmod ${path}`, r)
    }
  }

  /** The lstat of `path` from its `stat` on the machine: undefined when missing, as the local one. */
  const lstatOf = (path: string, st: ShellStat | ShellStatError) => {
    if ('error' in st) {
      // stat names the errno after the quoted path, which may hold any words: only the end is read
      const errno = errnoOf(st.error.slice(st.error.lastIndexOf("': ") + 3))
      if (errno === 'ENOENT') return undefined
      const e = commandError(label, `stat ${path}`, {
        code: 1,
        stdout: Buffer.alloc(0),
        stderr: st.error,
      })
      throw Object.assign(e, { code: errno })
    }
    return { type: typeOfMode(st.mode), mode: st.mode, uid: st.uid, gid: st.gid, dev: st.dev }
  }

  /** {@link walkFrom} of `dir` as a pin: throws TARGET_MOVED when it cannot be one. */
  const pinOf = (dir: string, walk: { chain: ShellStat[]; broken?: string }) => {
    if (walk.broken)
      throw new CutoverError(
        'TARGET_MOVED',
        `directory ${dir} cannot be pinned: ${walk.broken}; nothing was written`,
      )
    return walk.chain.map((c) => c.id)
  }

  /** Why root must not write in `dir` (see userWritableDir), from its walk. */
  const userWritableOf = async (
    walk: { chain: ShellStat[]; broken?: string },
    owner: number,
    acls: ReadonlyMap<string, string>,
  ) => {
    if (walk.broken) return walk.broken
    const { passwd, group } = await names()
    return writableByOthers(walk.chain, owner, acls, {
      userName: (uid) => idName(passwd, 'uid', uid),
      groupName: (gid) => idName(group, 'gid', gid),
    })
  }

  /**
   * Why a target in `dir` owned by `owner` is unsafe for root to write, from one walk of its
   * path: the access ACLs are read of the directories that walk found group-writable (the ones
   * an ACL can open to others), then the same walk is judged (TxFileSystem's aclCandidates,
   * readXattrs and userWritableDir walk twice, in three commands).
   */
  const userWritableNow = async (dir: string, owner: number) => {
    const { walk, getfattr } = await walkWithXattrs(exec, label, dir, await facts.xattrTools())
    if (walk.broken) return walk.broken
    // getfattr read every directory on the way: the ACLs of the group-writable ones count
    const candidates = new Set(walk.chain.filter((c) => c.mode & 0o020).map((c) => c.path))
    const acls = new Map<string, string>()
    for (const [d, a] of parseGetfattr(getfattr))
      if (candidates.has(d) && a.has('system.posix_acl_access'))
        acls.set(d, a.get('system.posix_acl_access')!)
    return userWritableOf(walk, owner, acls)
  }

  /** What a walk or an lstat reads: the `stat` of each path, or why it has none. */
  type StatOf = (paths: readonly string[]) => Promise<Map<string, ShellStat | ShellStatError>>
  /** Every path stat'ed anew, in one command. */
  const fresh: StatOf = (paths) => statEach(exec, label, paths)
  /**
   * For {@link TxFileSystem.readTogether}: a path stat'ed once for every call made with it
   * (the paths not read yet in one command), for as long as the view that holds it is used.
   */
  const sharedStats = (): StatOf => {
    const known = new Map<string, Promise<ShellStat | ShellStatError>>()
    return async (paths) => {
      const missing = [...new Set(paths)].filter((p) => !known.has(p))
      if (missing.length) {
        const got = statEach(exec, label, missing)
        got.catch(() => undefined)
        for (const p of missing)
          known.set(
            p,
            got.then((m) => m.get(p)!),
          )
      }
      const out = new Map<string, ShellStat | ShellStatError>()
      for (const p of paths) out.set(p, await known.get(p)!)
      return out
    }
  }
  /** {@link walkFrom} of each of `dirs`, from the stats `statOf` reads. */
  const walksOf = async (statOf: StatOf, dirs: readonly string[]) => {
    const stats = await statOf(dirs.flatMap((d) => chainOf(d)))
    return new Map(dirs.map((d) => [d, walkFrom(stats, d)]))
  }

  /** The calls that read paths and walk directories, each by the stats `statOf` reads. */
  const reads = (statOf: StatOf) => {
    const walk = async (dir: string) => (await walksOf(statOf, [dir])).get(dir)!
    const calls: Pick<
      TxFileSystem,
      'lstat' | 'pinDir' | 'pinChanged' | 'aclCandidates' | 'userWritableDir' | 'ask'
    > = {
      lstat: async (path) => lstatOf(path, (await statOf([path])).get(path)!),
      pinDir: async (dir) => pinOf(dir, await walk(dir)),
      pinChanged: async (dir, pin) => {
        const { chain, broken } = await walk(dir)
        return broken ?? pinMismatch(dir, chain, pin)
      },
      aclCandidates: async (dirs) => {
        const out = new Set<string>()
        for (const { chain } of (await walksOf(statOf, [...dirs])).values())
          for (const c of chain) if (c.mode & 0o020) out.add(c.path)
        return [...out]
      },
      userWritableDir: async (dir, owner, acls) => userWritableOf(await walk(dir), owner, acls),
      ask: async (queries) => {
        // one command stats every path to lstat and every directory on the way to those to walk
        const paths: string[] = []
        for (const q of queries)
          if (q.op === 'lstat') paths.push(q.path)
          else if (q.op === 'pinDir' || q.op === 'pinChanged' || q.op === 'userWritableDir')
            paths.push(...chainOf(q.dir))
        const stats = paths.length ? statOf(paths) : undefined
        // realpath and probeWritable go over SFTP, every request in flight at once
        return Promise.all(
          queries.map(async (q): Promise<TxAnswer> => {
            try {
              return { ok: true, value: await answer(q) }
            } catch (error) {
              return { ok: false, error }
            }
          }),
        )
        async function answer(q: (typeof queries)[number]): Promise<unknown> {
          switch (q.op) {
            case 'realpath':
              return fileSystem.realpath(q.path)
            case 'probeWritable':
              return fileSystem.probeWritable(q.path, q.exists)
            case 'lstat':
              return lstatOf(q.path, (await stats!).get(q.path)!)
            case 'pinDir':
              return pinOf(q.dir, walkFrom(await stats!, q.dir))
            case 'pinChanged': {
              const walk = walkFrom(await stats!, q.dir)
              return walk.broken ?? pinMismatch(q.dir, walk.chain, q.pin)
            }
            case 'userWritableDir':
              return userWritableOf(walkFrom(await stats!, q.dir), q.owner, q.acls)
          }
        }
      },
    }
    return calls
  }

  const fileSystem: RemoteFileSystem = {
    userWritableNow,
    identity: () => facts.identity(),

    ...reads(fresh),

    realpath: async (path) => {
      // OpenSSH resolves a path whose last component is missing; the local realpath does not
      const real = await sftp.realpath(path)
      await sftp.lstat(real).catch((e: SftpError) => {
        throw e.code === 'ENOENT'
          ? new SftpError('ENOENT', 'realpath', path, e.status, 'no such file')
          : e
      })
      return real
    },

    mountPoints: async () => {
      // over SFTP (sftp-server is a process of the same login as a command's): no command run
      const viaSftp = await sftp.readFile('/proc/self/mountinfo').then(String, () => undefined)
      if (viaSftp) return parseMountinfo(viaSftp)
      const r = await run(exec, 'cat /proc/self/mountinfo')
      return r.code === 0 ? parseMountinfo(r.stdout.toString('utf8')) : undefined
    },

    probeWritable: async (path, exists) => {
      if (exists) {
        try {
          // the transaction probes regular files only: an open for writing neither blocks nor truncates
          await sftp.close(await sftp.open(path, SFTP_OPEN.WRITE))
        } catch (e) {
          throw await whyNotWritable(e, path)
        }
      }
      await sftp.close(await sftp.opendir(dirname(path)))
    },

    xattrsAvailable: () => facts.xattrTools(),

    readXattrs: async (paths) => {
      const out = new Map<string, TxXattrs>()
      if (paths.length === 0) return out
      // the paths on stdin, in one command; getfattr's exit code 1 passes only for files gone
      // since they were looked at, as on the local file system; anything above stops xargs
      const r = await run(
        exec,
        GETFATTR_EACH,
        Buffer.from(paths.map((p) => p + '\0').join(''), 'utf8'),
      )
      if (r.code !== 0 || getfattrFailed(r.stderr)) throw commandError(label, 'getfattr', r)
      for (const [k, v] of parseGetfattr(r.stdout.toString('utf8'))) out.set(k, v)
      return out
    },

    readPinned: async (at, name) => {
      await checkPinned(at)
      const path = join(at.dir, name)
      const st = await lstatOrAbsent(path)
      if (!st) return undefined
      if (typeOfMode(st.permissions ?? 0) === 'symlink') return 'symlink'
      return sftp.readFile(path)
    },

    createPinned,

    renamePinned: async (at, from, to) => {
      await checkPinned(at)
      await sftp.posixRename(join(at.dir, from), join(at.dir, to))
    },

    unlinkPinned: async (at, name, options) => {
      await checkPinned(at)
      await sftp.remove(join(at.dir, name)).catch((e: SftpError) => {
        if (!options?.missingOk || e.code !== 'ENOENT') throw e
      })
    },

    readlinkPinned: async (at, name) => {
      await checkPinned(at)
      const path = join(at.dir, name)
      const st = await lstatOrAbsent(path)
      if (!st) return undefined
      if (typeOfMode(st.permissions ?? 0) !== 'symlink')
        throw Object.assign(new Error(`EINVAL: not a symbolic link, readlink '${path}'`), {
          code: 'EINVAL',
        })
      return sftp.readlink(path)
    },

    symlinkPinned: async (at, name, text, owner) => {
      await checkPinned(at)
      const path = join(at.dir, name)
      await sftp.symlink(text, path).catch(async (e: SftpError) => {
        // sftp-server answers FAILURE for EEXIST
        if (e.code === 'EIO' && (await sftp.lstat(path).then(Boolean, () => false)))
          throw new SftpError('EEXIST', 'symlink', path, e.status, 'file exists')
        throw e
      })
      await setOwnMeta(path, at.target, owner)
    },

    mkdirPinned: async (at, name, meta) => {
      await checkPinned(at)
      const path = join(at.dir, name)
      await sftp.mkdir(path, { permissions: 0o700 })
      await setOwnMeta(path, at.target, meta)
    },

    rmdirPinned: async (at, name, options) => {
      await checkPinned(at)
      const gone = join(at.dir, name)
      for (const dir of checked.keys())
        if (dir === gone || dir.startsWith(gone + '/')) checked.delete(dir)
      await sftp.rmdir(join(at.dir, name)).catch((e: SftpError) => {
        if (!options?.missingOk || e.code !== 'ENOENT') throw e
      })
    },

    fsyncDir: (dir) => fsyncPaths(sftp, exec, label, [dir]),

    fsyncDirs: (dirs) => fsyncPaths(sftp, exec, label, dirs),

    pinsChanged: async (dirs) => {
      // a phase starts: what an earlier one checked is checked again
      if (checking++ === 0) checked = new Map()
      try {
        const walks = await walksOf(
          fresh,
          dirs.map((d) => d.dir),
        )
        const out = new Map<string, string | undefined>()
        for (const d of dirs) {
          const { chain, broken } = walks.get(d.dir)!
          const why = broken ?? pinMismatch(d.dir, chain, d.pin)
          out.set(d.dir, why)
          if (why === undefined && d.pin !== undefined) checked.set(d.dir, d.pin.join(' '))
          else checked.delete(d.dir)
        }
        return out
      } finally {
        checking--
      }
    },

    readTogether: async (fn) => {
      // shared only while `fn` runs: a view kept after it reads anew
      let open = true
      const shared = sharedStats()
      try {
        return await fn({ ...fileSystem, ...reads((p) => (open ? shared(p) : fresh(p))) })
      } finally {
        open = false
      }
    },
  }
  return fileSystem

  /**
   * The errno of a failed probe: sftp-server reports EPERM (immutable) as EACCES and EROFS as
   * a bare FAILURE, so the same open is tried by `dd` (never creating, writing nothing), whose
   * message names the errno.
   */
  async function whyNotWritable(e: unknown, path: string): Promise<unknown> {
    if (!(e instanceof SftpError) || !['EACCES', 'EIO'].includes(e.code)) return e
    const r = await run(
      exec,
      `dd if=/dev/null of=${q(path)} conv=notrunc,nocreat count=0 status=none`,
    )
    if (r.code === 0) return e
    const code = errnoOf(r.stderr)
    return Object.assign(new Error(`${code}: ${r.stderr.trim()}, open '${path}'`), { code })
  }
}
