import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localFileSystem, localStateFileSystem } from '@cutover/rewrite'
import { mirrorDir, mirrorMachine, removeMirror, SftpClient, type Machine } from '../src/index.js'
import { SshConnection } from '../src/ssh/connection.js'
import { tempDir } from '@cutover/test-kit/temp'

// The mirror of a machine over real sshd: listing and prefilter run there, only candidates are read over SFTP.
describe.runIf(need('sshd'))('mirrorMachine over ssh', () => {
  let fleet: TestFleet
  let controlDir: string
  beforeAll(async () => {
    fleet = await startFleet(1)
    controlDir = tempDir('cm-')
  })
  afterAll(async () => {
    await fleet?.stop()
    if (controlDir) rmSync(controlDir, { recursive: true, force: true })
  })

  it('fetches only the files that hold a needle out of a larger tree, the needles on stdin', async () => {
    const m = fleet.machines[0]!
    const put = (path: string, text: string) => {
      mkdirSync(dirname(join(m.root, path)), { recursive: true })
      writeFileSync(join(m.root, path), text)
    }
    for (let i = 0; i < 200; i++)
      put(`srv/www/site${i}/config.php`, `<?php $db = 'db${i}.local';\n`)
    put('srv/www/site7/config.php', "<?php $db = '10.0.10.42';\n")
    put('srv/www/site42/config.php', "<?php $db = 'hrdb.old.example';\n")
    const conn = await SshConnection.open(
      { name: m.name, dest: m.name, sshConfig: fleet.sshConfig },
      { controlDir, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
    )
    const child = conn.sftp()
    const sftp = await SftpClient.over(child.stdin, child.stdout)
    const reads: string[] = []
    const scripts: string[] = []
    const machine: Machine = {
      spec: { name: m.name, ssh: m.name, root: m.root },
      label: `${m.name}:`,
      ...(conn.hostKey !== undefined ? { hostKey: conn.hostKey } : {}),
      fileSystem: localFileSystem,
      stateFileSystem: localStateFileSystem,
      exec: (script, o) => (scripts.push(script), conn.exec(script, o)),
      readFile: (path) => (reads.push(path), sftp.readFile(path)),
      close: async () => {},
    }
    const dir = await mirrorDir(m.name)
    try {
      const needles = ['10.0.10.42', 'hrdb.old.example']
      const mirror = await mirrorMachine(
        machine,
        { files: [{ files: ['srv/www/*/config.php'], exclude: [], always: false }], needles },
        { dir, maxFileSize: 1 << 20 },
      )
      expect(mirror.fetched).toEqual(['srv/www/site42/config.php', 'srv/www/site7/config.php'])
      expect(reads.sort()).toEqual(mirror.fetched.map((p) => join(m.root, p)))
      expect(mirror.placeholders).toHaveLength(198)
      expect(readFileSync(join(dir, 'srv/www/site7/config.php'), 'utf8')).toBe(
        "<?php $db = '10.0.10.42';\n",
      )
      for (const s of scripts) for (const n of needles) expect(s).not.toContain(n)
    } finally {
      await removeMirror(dir)
      await sftp.end()
      await conn.close()
    }
  })
})
