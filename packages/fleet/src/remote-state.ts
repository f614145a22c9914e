import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path/posix'
import type { StateFileSystem } from '@cutover/rewrite'
import type { Exec } from './machine.js'
import { remoteFileSystem } from './remote-fs.js'
import { commandError, run, setXattrs, shellQuote as q, typeOfMode } from './remote-shell.js'
import { SFTP_OPEN, type SftpClient, type SftpError } from './sftp/index.js'

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
}): StateFileSystem {
  const { sftp, exec } = o
  const label = o.label ?? ''
  const targets = remoteFileSystem({ sftp, exec, label })

  const lstat = async (path: string) => {
    const a = await sftp.lstat(path).catch((e: SftpError) => {
      if (e.code === 'ENOENT') return undefined
      throw e
    })
    if (!a) return undefined
    const mode = a.permissions ?? 0
    return { type: typeOfMode(mode), mode, uid: a.uid ?? 0, size: Number(a.size ?? 0n) }
  }

  const syncPath = async (path: string) => {
    // coreutils' sync with an operand fsyncs that file or directory
    const r = await run(exec, `sync -- ${q(path)}`)
    if (r.code !== 0) throw commandError(label, `sync ${path}`, r)
  }

  const createExclusive = async (path: string, data: string | Buffer) => {
    const h = await sftp.open(path, SFTP_OPEN.WRITE | SFTP_OPEN.CREAT | SFTP_OPEN.EXCL, {
      permissions: 0o600,
    })
    try {
      await sftp.fsetstat(h, { permissions: 0o600 })
      await sftp.write(h, 0, typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
      await sftp.fsync(h)
    } finally {
      await sftp.close(h).catch(() => undefined)
    }
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

  return {
    identity: async () => ({ uid: (await targets.identity()).uid }),
    mkdir,
    lstat,
    realpath: (path) => targets.realpath(path),
    userWritableDir: async (dir) => {
      const candidates = await targets.aclCandidates([dir])
      const acls = new Map<string, string>()
      if (candidates.length && (await targets.xattrsAvailable()))
        for (const [d, a] of await targets.readXattrs(candidates))
          if (a.has('system.posix_acl_access')) acls.set(d, a.get('system.posix_acl_access')!)
      return targets.userWritableDir(dir, 0, acls)
    },
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
}
