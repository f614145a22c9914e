import { spawnSync } from 'node:child_process'
import {
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { socketDir } from '../src/ssh/socket-dir.js'
import { tempDir } from '@cutover/test-kit/temp'

describe('socketDir: where a command keeps its control sockets', () => {
  it('is a new 0700 directory under ssh/ of the state directory', async () => {
    const state = join(tempDir('sd-'), '.cutover')
    const a = await socketDir(state)
    const b = await socketDir(state)
    expect(dirname(a)).toBe(join(state, 'ssh'))
    expect(a).not.toBe(b)
    for (const d of [a, join(state, 'ssh')]) expect(statSync(d).mode & 0o777).toBe(0o700)
  })

  it('is under the temp directory when the state directory is too long for a socket path', async () => {
    const state = join(tempDir('sd-'), 'x'.repeat(80))
    const d = await socketDir(state)
    onTestFinished(() => rmSync(d, { recursive: true, force: true }))
    expect(d.startsWith(join(tmpdir(), 'cutover-ssh-'))).toBe(true)
    expect(statSync(d).mode & 0o777).toBe(0o700)
  })

  it("removes the directories of processes that are gone, never a running process's or another name", async () => {
    const state = join(tempDir('sd-'), '.cutover')
    const base = join(state, 'ssh')
    // a process that has ended: its pid names a directory left by a killed command
    const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim()
    const dead = join(base, `${gone}-abcDEF`)
    const live = join(base, `${process.ppid}-abcDEF`)
    const other = join(base, 'keep-me')
    for (const d of [dead, live, other]) mkdirSync(d, { recursive: true, mode: 0o700 })
    writeFileSync(join(dead, '0123456789ab.log'), 'log\n')
    const made = await socketDir(state)
    expect(made).toMatch(new RegExp(`/ssh/${process.pid}-\\w{6}$`))
    expect(readdirSync(base).sort()).toEqual([basename(made), basename(live), 'keep-me'].sort())
  })

  it('names its host, and leaves the directory of a gone PID made on another machine or by another user', async () => {
    const state = join(tempDir('sd-'), '.cutover')
    const base = join(state, 'ssh')
    const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim()
    // the same PID on two machines sharing the state directory: only this one's is stale
    const here = join(base, `${gone}-aaaaaa`)
    const there = join(base, `${gone}-bbbbbb`)
    for (const d of [here, there]) mkdirSync(d, { recursive: true, mode: 0o700 })
    writeFileSync(join(here, 'host'), hostname())
    writeFileSync(join(there, 'host'), `${hostname()}-other`)
    const kept = [there]
    if (process.getuid?.() === 0) {
      // another user's (only root can make one here)
      const theirs = join(base, `${gone}-cccccc`)
      mkdirSync(theirs, { mode: 0o700 })
      chownSync(theirs, 65534, 65534)
      kept.push(theirs)
    }
    const made = await socketDir(state)
    expect(readFileSync(join(made, 'host'), 'utf8')).toBe(hostname())
    expect(readdirSync(base).sort()).toEqual([made, ...kept].map((d) => basename(d)).sort())
  })
})
