import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { commitFiles, rollbackLast, sha256, type TxTarget } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openMachine } from '../src/open.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The transaction's whole-file operations on a machine over real OpenSSH (sshd and its
 * sftp-server on loopback): a file removed, a new file with its owner in two new directories and
 * a new link, written and rolled back through the machine's file system and state directory.
 */

const isRoot = process.getuid?.() === 0

describe.runIf(need('sshd'))('whole files on a machine over ssh', () => {
  let fleet: TestFleet
  let controlDir: string
  const env = { PATH: process.env.PATH, HOME: process.env.HOME }
  beforeAll(async () => {
    fleet = await startFleet(1)
    controlDir = tempDir('co-')
  })
  afterAll(async () => {
    await fleet?.stop()
    if (controlDir) rmSync(controlDir, { recursive: true, force: true })
  })

  it('removes a file, makes a file with its owner, its directories and a link; rollback puts all back', async () => {
    const t = fleet.machines[0]!
    const p = (...s: string[]) => join(t.root, 'etc', ...s)
    // the owner another user's when the test runs as root (sshd logs in as this user)
    const owner = isRoot
      ? { uid: 1234, gid: 4321 }
      : { uid: process.getuid!(), gid: process.getgid!() }
    mkdirSync(p(), { recursive: true })
    writeFileSync(p('gone.pem'), 'secret\n')
    chmodSync(p('gone.pem'), 0o600)
    chownSync(p('gone.pem'), owner.uid, owner.gid)
    const newD = { path: p('mentat'), mode: 0o755, ...owner }
    const targets: TxTarget[] = [
      {
        target: 'etc/gone.pem',
        path: p('gone.pem'),
        before: sha256('secret\n'),
        content: Buffer.alloc(0),
        remove: true,
      },
      {
        target: 'etc/mentat/core/a.json',
        path: p('mentat', 'core', 'a.json'),
        before: 'absent',
        content: Buffer.from('{}\n'),
        mode: 0o640,
        owner,
        dirs: [newD, { path: p('mentat', 'core'), mode: 0o750, ...owner }],
      },
      {
        target: 'etc/mentat/current',
        path: p('mentat', 'current'),
        before: 'absent',
        content: Buffer.alloc(0),
        symlink: 'core/a.json',
        owner,
        dirs: [newD],
      },
    ]
    const list = () =>
      (readdirSync(p(), { recursive: true }) as string[]).sort().map((n) => {
        const st = lstatSync(p(n))
        const what = st.isSymbolicLink()
          ? `-> ${readlinkSync(p(n))}`
          : st.isDirectory()
            ? 'dir'
            : readFileSync(p(n), 'utf8').trim()
        return `${n} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid === owner.uid && st.gid === owner.gid}`
      })
    const before = list()
    const m = await openMachine(
      { name: 'mentat-alt', ssh: t.name, root: t.root },
      { controlDir, env, sshConfig: fleet.sshConfig },
    )
    try {
      const stateDir = join(t.root, 'var', 'lib', 'cutover')
      const o = { stateDir, fileSystem: m.fileSystem, stateFileSystem: m.stateFileSystem }
      const r = await commitFiles(targets, o)
      expect(r.warnings).toEqual([])
      expect(list()).toEqual([
        'mentat dir 755 true',
        'mentat/core dir 750 true',
        'mentat/core/a.json {} 640 true',
        'mentat/current -> core/a.json 777 true',
      ])
      const back = await rollbackLast(o)
      expect(back.warnings).toEqual([])
      expect(list()).toEqual(before)
      expect(before).toEqual(['gone.pem secret 600 true'])
    } finally {
      await m.close()
    }
  }, 180_000)

  it('opens as many ssh sessions for an apply of 40 files in 20 directories as for 2 files (none per target)', async () => {
    const t = fleet.machines[0]!
    /** The sessions the machine's sshd started for a transaction of `n` files. */
    const sessionsOf = async (n: number) => {
      const dir = join(t.root, `srv${n}`)
      const targets: TxTarget[] = []
      for (let i = 0; i < n; i++) {
        const path = join(dir, `d${i >> 1}`, `f${i}.conf`)
        mkdirSync(join(path, '..'), { recursive: true })
        writeFileSync(path, `old ${i}\n`)
        targets.push({
          target: `srv${n}/d${i >> 1}/f${i}.conf`,
          path,
          before: sha256(`old ${i}\n`),
          content: Buffer.from(`new ${i}\n`),
        })
      }
      const m = await openMachine(
        { name: `sessions-${n}`, ssh: t.name, root: t.root },
        { controlDir, env, sshConfig: fleet.sshConfig },
      )
      const from = readFileSync(t.log, 'latin1').length
      try {
        const stateDir = join(t.root, 'var', 'lib', 'cutover')
        const r = await commitFiles(targets, {
          stateDir,
          fileSystem: m.fileSystem,
          stateFileSystem: m.stateFileSystem,
        })
        expect(r.written).toHaveLength(n)
      } finally {
        await m.close()
      }
      for (const [i, x] of targets.entries())
        expect(readFileSync(x.path, 'utf8')).toBe(`new ${i}\n`)
      const log = readFileSync(t.log, 'latin1').slice(from)
      return (log.match(/Starting session: command/g) ?? []).length
    }
    const few = await sessionsOf(2)
    const many = await sessionsOf(40)
    expect(few).toBeGreaterThan(0)
    expect(many).toBe(few)
  }, 180_000)
})
