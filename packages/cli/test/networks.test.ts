import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree } from './tree.js'

const io = (cwd: string) => memoryIo({ cwd, env: {} })

describe('networks: and verify --strict', () => {
  const SPEC = `version: 1
hosts:
  db-a.dept.example.edu: { old: 172.20.0.5, new: 10.20.0.5 }
networks:
  - { old: 172.20.0.0/24, new: 10.20.0.0/24 }
scan:
  files: ["etc/**"]
steps:
  - text:
      files: ["etc/pg_hba.conf"]
      addresses: new
  - text:
      files: ["etc/app.conf"]
      addresses: names
`
  const files = {
    'cutover.yaml': SPEC,
    'root/etc/pg_hba.conf': 'host all all 172.20.0.0/24 md5\nhost all all 172.20.0.77/32 md5\n',
    'root/etc/app.conf': 'db = 172.20.0.5\nprinter = 172.20.0.77\nallow 172.20.0.0/24\n',
    'root/etc/notes.txt': 'the gateway is 172.20.0.1\n',
  }

  it('moves the network, and lists every old-network address left until none is', async () => {
    const dir = makeTree(files)
    expect(await run(['apply', '--root', 'root', '--yes', '--quiet'], io(dir))).toBe(0)
    expect(readFileSync(join(dir, 'root/etc/pg_hba.conf'), 'utf8')).toBe(
      'host all all 10.20.0.0/24 md5\nhost all all 10.20.0.77/32 md5\n',
    )
    expect(readFileSync(join(dir, 'root/etc/app.conf'), 'utf8')).toBe(
      'db = db-a.dept.example.edu\nprinter = 172.20.0.77\nallow 10.20.0.0/24\n',
    )
    const v = io(dir)
    expect(await run(['verify', '--root', 'root', '--strict'], v)).toBe(1)
    expect(v.out()).toContain(
      'Leftovers: 2\n' +
        '  etc/app.conf:2:11: 172.20.0.77 — old address in network 172.20.0.0/24 with no name in hosts:\n' +
        '  etc/notes.txt:1:16: 172.20.0.1 — old address in network 172.20.0.0/24: in a file no step rewrites\n',
    )
    expect(v.err()).toContain('2 leftover(s)')
    // a second plan has nothing to change
    const p = io(dir)
    expect(await run(['plan', '--root', 'root'], p)).toBe(0)
    expect(p.out()).toContain('No changes')
  })

  it('passes --strict once the addresses left are gone', async () => {
    const dir = makeTree({
      ...files,
      'root/etc/app.conf': 'db = 172.20.0.5\nallow 172.20.0.0/24\n',
      'root/etc/notes.txt': 'the gateway is 10.20.0.1\n',
    })
    expect(await run(['apply', '--root', 'root', '--yes', '--quiet'], io(dir))).toBe(0)
    const v = io(dir)
    expect(await run(['verify', '--root', 'root', '--strict'], v)).toBe(0)
  })
})
