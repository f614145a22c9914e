import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { localStateFileSystem, parseMountinfo } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import {
  localExec,
  machineFacts,
  remoteFileSystem,
  remoteStateFileSystem,
  SftpError,
} from '../src/index.js'
import { FSYNC_WINDOW, fsyncPaths } from '../src/remote-shell.js'
import type { Exec } from '../src/machine.js'
import { haveSftpServer, startSftp, type ServerSession } from './sftp-server.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * What a machine's file systems ask of it besides the transaction's own reads: its facts (one
 * probe a connection, shared by its target and state file systems), fsyncs over SFTP (no
 * command), and the as-root check of a state directory in one walk.
 */

/** `localExec` that records the scripts it runs. */
function counting(edit?: (script: string, stdout: string) => string) {
  const scripts: string[] = []
  const exec: Exec = async (script, options) => {
    scripts.push(script)
    const r = await localExec(script, options)
    return edit ? { ...r, stdout: Buffer.from(edit(script, r.stdout.toString('utf8'))) } : r
  }
  return { exec, scripts }
}

/** getfattr and setfacl (under CI=true their absence fails the test). */
const haveAcl = need('getfattr') && need('setfacl')

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

describe('machineFacts', () => {
  it('answers identity, the xattr tools and the pack tools with one command, asked once', async () => {
    const { exec, scripts } = counting()
    const facts = machineFacts(exec, 'here:')
    const [id, xattr, pack] = await Promise.all([
      facts.identity(),
      facts.xattrTools(),
      facts.packTools(),
    ])
    expect(id).toEqual({ uid: process.getuid!(), gid: process.getgid!() })
    expect(xattr).toBe(has('getfattr') && has('setfattr'))
    expect(pack).toBe(['stat', 'cat', 'tail', 'head', 'sha256sum'].every(has))
    expect(await facts.identity()).toEqual(id)
    expect(scripts).toHaveLength(1)
  })

  it('reads no fact from an answer cut short or not a probe', async () => {
    for (const edit of [
      (o: string) => o.slice(0, -4),
      (o: string) => o.replace(/^id \d+ \d+/, 'id 0'),
      (o: string) => o.replace('xattr ', 'xattr maybe '),
    ]) {
      const facts = machineFacts(counting((_s, o) => edit(o)).exec, 'here:')
      await expect(facts.identity()).rejects.toThrow(/here:the probe of id/)
      await expect(facts.xattrTools()).rejects.toThrow(/here:the probe of id/)
      await expect(facts.packTools()).rejects.toThrow(/here:the probe of id/)
    }
  })

  it('rejects identity when id fails there, still telling which tools it has', async () => {
    const exec: Exec = (script, options) =>
      localExec(script.replace('u=$(id -u)', 'u=$(id -u --no-such-option)'), options)
    const facts = machineFacts(exec, 'here:')
    await expect(facts.identity()).rejects.toThrow(/^here:id: .*(unrecognized|invalid)/)
    expect(await facts.packTools()).toBe(['stat', 'cat', 'tail', 'head', 'sha256sum'].every(has))
  })
})

describe.runIf(haveSftpServer)('probes over sftp-server and a shell', () => {
  let s: ServerSession
  let dir: string
  beforeAll(async () => {
    s = await startSftp()
  })
  afterAll(async () => {
    await s.client.end()
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const tree = () => (dir = realpathSync(tempDir('cutover-probes-')))

  it("shares one probe between a connection's target and state file systems", async () => {
    const { exec, scripts } = counting()
    const facts = machineFacts(exec, 'here:')
    const targets = remoteFileSystem({ sftp: s.client, exec, label: 'here:', facts })
    const state = remoteStateFileSystem({ sftp: s.client, exec, label: 'here:', facts, targets })
    await targets.identity()
    await targets.xattrsAvailable()
    await state.identity()
    await state.xattrsAvailable()
    const pack = await state.openPack!(join(tree(), 'pack'))
    await pack.close()
    expect(scripts.filter((c) => /\bid -u\b/.test(c))).toHaveLength(1)
    expect(scripts.filter((c) => /command -v/.test(c))).toHaveLength(1)
  })

  it('fsyncs files and directories over SFTP without a command; without the extension, with one sync', async () => {
    const d = tree()
    mkdirSync(join(d, 'a'))
    writeFileSync(join(d, 'a', 'f'), 'x')
    const paths = [d, join(d, 'a'), join(d, 'a', 'f')]
    const over = counting()
    await fsyncPaths(s.client, over.exec, 'here:', paths)
    expect(over.scripts).toEqual([])
    // a missing path: the open fails, and sync then says why
    await expect(fsyncPaths(s.client, over.exec, 'here:', [join(d, 'none')])).rejects.toMatchObject(
      { code: 'ENOENT' },
    )
    expect(over.scripts).toHaveLength(1)

    const without = Object.create(s.client) as typeof s.client
    Object.defineProperty(without, 'extensions', { value: new Map() })
    const old = counting()
    await fsyncPaths(without, old.exec, 'here:', paths)
    expect(old.scripts).toHaveLength(1)
    for (const p of paths) expect(old.scripts[0]).toContain(`'${p}'`)
  })

  it('holds at most a window of handles open at once, however many paths', async () => {
    const d = tree()
    const paths = Array.from({ length: FSYNC_WINDOW * 2 + 5 }, (_, i) => join(d, `f${i}`))
    for (const p of paths) writeFileSync(p, 'x')
    const counted = Object.create(s.client) as typeof s.client
    let open = 0
    let most = 0
    let synced = 0
    counted.open = async (path, flags) => {
      const h = await s.client.open(path, flags)
      most = Math.max(most, ++open)
      return h
    }
    counted.fsync = async (h) => {
      synced++
      return s.client.fsync(h)
    }
    counted.close = async (h) => {
      open--
      return s.client.close(h)
    }
    const { exec, scripts } = counting()
    await fsyncPaths(counted, exec, 'here:', paths)
    expect(synced).toBe(paths.length)
    expect(most).toBeLessThanOrEqual(FSYNC_WINDOW)
    expect(open).toBe(0)
    expect(scripts).toEqual([])
  })

  it("never retries a failed fsync with sync: the open worked, so the error is the fsync's", async () => {
    const d = tree()
    mkdirSync(join(d, 'a'))
    const paths = [d, join(d, 'a')]
    // the server opens both; the fsync of one fails (EIO, as after a lost write-back)
    const failing = Object.create(s.client) as typeof s.client
    const closed: string[] = []
    failing.fsync = (h) =>
      h.path === join(d, 'a')
        ? Promise.reject(new SftpError('EIO', 'fsync', h.path, 4, 'input/output error'))
        : s.client.fsync(h)
    failing.close = (h) => {
      closed.push(h.path)
      return s.client.close(h)
    }
    const { exec, scripts } = counting()
    await expect(fsyncPaths(failing, exec, 'here:', paths)).rejects.toMatchObject({
      code: 'EIO',
      path: join(d, 'a'),
    })
    // no `sync --` after it (a second fsync may succeed with the data lost), every handle closed
    expect(scripts).toEqual([])
    expect(closed.sort()).toEqual([...paths].sort())
  })

  it('reads the mount table over SFTP without a command; with cat when that read fails', async () => {
    const own = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    const over = counting()
    const fs = remoteFileSystem({ sftp: s.client, exec: over.exec, label: 'here:' })
    // sftp-server's /proc/self: a process of this mount namespace, as a command would be
    expect(await fs.mountPoints()).toEqual(own)
    expect(over.scripts).toEqual([])

    const refusing = Object.create(s.client) as typeof s.client
    refusing.readFile = (path) =>
      path === '/proc/self/mountinfo'
        ? Promise.reject(new SftpError('EACCES', 'open', path, 3, 'permission denied'))
        : s.client.readFile(path)
    const old = counting()
    const viaCat = remoteFileSystem({ sftp: refusing, exec: old.exec, label: 'here:' })
    expect(await viaCat.mountPoints()).toEqual(own)
    expect(old.scripts).toHaveLength(1)
    expect(old.scripts[0]).toContain('cat /proc/self/mountinfo')
  })

  it('checks a state directory as root with one command (its walk and the ACLs on the way), as the local state file system does', async () => {
    const d = tree()
    mkdirSync(join(d, 'open', 'state'), { recursive: true })
    chmodSync(join(d, 'open'), 0o775)
    chownSync(join(d, 'open'), 0, 1234)
    const { exec, scripts } = counting()
    const state = remoteStateFileSystem({ sftp: s.client, exec, label: 'here:' })
    const at = join(d, 'open', 'state')
    expect(await state.userWritableDir(at)).toBe(await localStateFileSystem.userWritableDir(at))
    expect(await state.userWritableDir(at)).toMatch(/group gid 1234/)
    // per check: one command walks the path and reads the ACLs on the way (and the facts' probe)
    expect(scripts.filter((c) => c.includes('stat -c "%f %d %i %u %g"'))).toHaveLength(2)
    expect(scripts).toHaveLength(3)
    chmodSync(join(d, 'open'), 0o755)
    chownSync(join(d, 'open'), 0, 0)
    expect(await state.userWritableDir(at)).toBeUndefined()
    if (haveAcl) {
      // a user an access ACL lets write: read from the same command's getfattr
      execFileSync('setfacl', ['-m', 'u:1234:rwx', join(d, 'open')])
      const why = await state.userWritableDir(at)
      expect(why).toBe(await localStateFileSystem.userWritableDir(at))
      expect(why).toMatch(/1234/)
    }
  })
})
