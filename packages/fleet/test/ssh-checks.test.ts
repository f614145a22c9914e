import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  commitFiles,
  sha256,
  ValidationError,
  type TxTarget,
  type Validator,
} from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { remoteChecks } from '../src/checks.js'
import type { Machine } from '../src/machine.js'
import { readFile } from 'node:fs/promises'
import { openMachine } from '../src/open.js'
import { commandRows, ENDS, ENDS_GOT, left } from './command-ends.js'
import { tempDir } from '@cutover/test-kit/temp'

/** sudo's own check as a step kind gives it: here by `run`, on another machine by `tool`. */
const visudo: Validator = {
  name: 'visudo',
  run: () => Promise.reject(new Error('visudo ran on the controller')),
  tool: {
    argv: (p) => ['visudo', '-cf', p],
    verdict: (r, target, staged) =>
      r.code === 0
        ? undefined
        : `rejects ${target}: ${(r.stdout + r.stderr).split(staged).join(target).trim()}`,
  },
}

/** A check of the staged bytes only (no tool): here, on a copy. */
const noLowerAlias: Validator = {
  name: 'no-lower-alias',
  async run(stagedPath, target) {
    const text = await readFile(stagedPath, 'utf8')
    return /Cmnd_Alias [a-z]/.test(text)
      ? `${target}: a lower-case alias (read ${stagedPath})`
      : undefined
  },
}

// Validators of a file staged on a machine run there: a tool on the machine, through its ssh
// connection; the transaction stages the file over SFTP.
describe.runIf(need('sshd') && need('visudo'))('remoteChecks', () => {
  let fleet: TestFleet
  let machine: Machine
  let marker: string
  const controlDir = tempDir('cc-')
  beforeAll(async () => {
    fleet = await startFleet(1)
    const m = fleet.machines[0]!
    machine = await openMachine(
      { name: 'finance', ssh: m.name, root: m.root },
      {
        controlDir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        sshConfig: fleet.sshConfig,
      },
    )
    // the machine's visudo (first on its sessions' PATH only) notes each file it checks
    marker = join(fleet.dir, 'visudo-ran-on-m1')
    writeFileSync(
      join(m.bin, 'visudo'),
      `#!/bin/sh\necho "$2" >> '${marker}'\nexec /usr/sbin/visudo "$@"\n`,
    )
    chmodSync(join(m.bin, 'visudo'), 0o755)
  })
  afterAll(async () => {
    await machine?.close()
    await fleet?.stop()
    rmSync(controlDir, { recursive: true, force: true })
  })

  function sudoersTarget(text: string): { target: TxTarget; path: string; stateDir: string } {
    const m = fleet.machines[0]!
    const dir = join(m.root, 'etc', 'sudoers.d')
    mkdirSync(dir, { recursive: true })
    const path = join(dir, 'finance')
    const before = 'Cmnd_Alias OLD = /bin/ls\n'
    writeFileSync(path, before, { mode: 0o440 })
    chmodSync(path, 0o440)
    const stateDir = join(m.root, 'var', 'lib', 'cutover')
    const target: TxTarget = {
      target: 'etc/sudoers.d/finance',
      path,
      before: sha256(Buffer.from(before)),
      content: Buffer.from(text),
      validators: [visudo, noLowerAlias],
    }
    return { target: remoteChecks(machine, target), path, stateDir }
  }

  /** The transaction's options for the machine: its files and its state directory there. */
  const on = (stateDir: string) => ({
    stateDir,
    fileSystem: machine.fileSystem,
    stateFileSystem: machine.stateFileSystem,
  })

  const ran = () => {
    try {
      return readFileSync(marker, 'utf8').split('\n').filter(Boolean)
    } catch {
      return []
    }
  }

  it('runs visudo on the machine and refuses a file it rejects: nothing written', async () => {
    const { target, path, stateDir } = sudoersTarget('Cmnd_Alias NEW = /bin/ls\nroot ALL = (\n')
    const before = ran().length
    const e = await commitFiles([target], on(stateDir)).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(ValidationError)
    expect((e as Error).message).toMatch(
      /etc\/sudoers\.d\/finance: visudo: rejects etc\/sudoers\.d\/finance: .*syntax error/,
    )
    // the machine's visudo checked the staged file beside the target
    expect(ran().length).toBe(before + 1)
    expect(ran().at(-1)).toMatch(/\/etc\/sudoers\.d\/\.finance\..*/)
    expect(readFileSync(path, 'utf8')).toBe('Cmnd_Alias OLD = /bin/ls\n')
  })

  it('installs a file visudo accepts on the machine; checks without a tool run here on the same bytes', async () => {
    const { target, path, stateDir } = sudoersTarget('Cmnd_Alias NEW = /bin/ls\nroot ALL = NEW\n')
    const before = ran().length
    await commitFiles([target], on(stateDir))
    expect(ran().length).toBe(before + 1)
    expect(readFileSync(path, 'utf8')).toBe('Cmnd_Alias NEW = /bin/ls\nroot ALL = NEW\n')
    // a check without a tool read a private local copy of the same bytes
    const bad = sudoersTarget('Cmnd_Alias lower = /bin/ls\nroot ALL = lower\n')
    const e = (await commitFiles([bad.target], on(bad.stateDir)).catch(
      (err: unknown) => err,
    )) as Error
    expect(e.message).toMatch(
      /etc\/sudoers\.d\/finance: no-lower-alias: etc\/sudoers\.d\/finance: a lower-case alias \(read (\S+)\)/,
    )
    const copy = /\(read (\S+)\)/.exec(e.message)![1]!
    expect(copy.startsWith(join(tmpdir(), 'cutover-check-'))).toBe(true)
    expect(copy.startsWith(fleet.machines[0]!.root)).toBe(false)
  })

  it('skips a tool the machine lacks with the warning of a tool missing here', async () => {
    const absent: Validator = {
      name: 'absent-tool',
      run: () => Promise.resolve('never run here'),
      tool: {
        argv: (p) => ['cutover-no-such-tool', p],
        verdict: () => 'never run on the machine',
      },
    }
    const { target, stateDir } = sudoersTarget('Cmnd_Alias NEW = /bin/ls\nroot ALL = NEW\n')
    const t = remoteChecks(machine, { ...target, validators: [absent] })
    const result = await commitFiles([t], on(stateDir))
    expect(result.warnings).toContain(
      'validator absent-tool is not installed here: files of its kind were not checked by it',
    )
  })

  it('checks many staged files with the tool in one session, each with the verdict of its own run', async () => {
    const m = fleet.machines[0]!
    const stateDir = join(m.root, 'var', 'lib', 'cutover')
    /** `n` sudoers files (the `bad`-th one with a syntax error); the sessions of their commit and its error. */
    const commitOf = async (n: number, bad?: number) => {
      const dir = join(m.root, 'etc', `sudoers-${n}-${bad ?? 'ok'}`)
      mkdirSync(dir, { recursive: true })
      const targets = Array.from({ length: n }, (_, i) => {
        const path = join(dir, `f${i}`)
        writeFileSync(path, 'Cmnd_Alias OLD = /bin/ls\n', { mode: 0o440 })
        return remoteChecks(machine, {
          target: `etc/f${i}`,
          path,
          before: sha256('Cmnd_Alias OLD = /bin/ls\n'),
          content: Buffer.from(
            i === bad ? 'root ALL = (\n' : `Cmnd_Alias N${i} = /bin/ls\nroot ALL = N${i}\n`,
          ),
          validators: [visudo],
        })
      })
      const from = readFileSync(m.log, 'latin1').length
      const ranBefore = ran().length
      const e = await commitFiles(targets, on(stateDir)).then(
        () => undefined,
        (err: unknown) => err as Error,
      )
      const log = readFileSync(m.log, 'latin1').slice(from)
      return {
        sessions: (log.match(/Starting session: command/g) ?? []).length,
        ran: ran().length - ranBefore,
        error: e,
      }
    }
    // the first commit of the machine also reads what is read once (the tool's presence, …)
    await commitOf(1)
    const few = await commitOf(2)
    const many = await commitOf(12)
    expect(few.error).toBeUndefined()
    expect(many.error).toBeUndefined()
    expect(many.ran).toBe(12)
    expect(many.sessions).toBe(few.sessions)
    // a rejected file among them: the message of its own run, naming the target
    const refused = await commitOf(12, 7)
    expect(refused.ran).toBe(12)
    expect(refused.error).toBeInstanceOf(ValidationError)
    const lines = refused.error!.message.split('\n')
    expect(lines.slice(0, 2)).toEqual([
      'validation failed, nothing was written:',
      'etc/f7: visudo: rejects etc/f7: etc/f7:1:13: syntax error',
    ])
    // the staged path replaced by the target's, as in a single run; no other file named
    expect(refused.error!.message).not.toContain('.cutover-')
    expect(lines.filter((l) => /^etc\/f\d+: /.test(l))).toHaveLength(1)
  })

  it('leaves nothing on the machine when its batch is killed there (its timeout)', async () => {
    const m = fleet.machines[0]!
    const stateDir = join(m.root, 'var', 'lib', 'cutover')
    // every temporary directory made on the machine is noted; the tool never answers
    const made = join(fleet.dir, 'mktemp-made')
    const real = execFileSync('sh', ['-c', 'command -v mktemp'], { encoding: 'utf8' }).trim()
    writeFileSync(
      join(m.bin, 'mktemp'),
      `#!/bin/sh\nd=$('${real}' "$@") || exit\necho "$d" >> '${made}'\necho "$d"\n`,
      { mode: 0o755 },
    )
    writeFileSync(join(m.bin, 'hangs'), '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 })
    const hangs: Validator = {
      name: 'hangs',
      run: () => Promise.reject(new Error('hangs ran on the controller')),
      tool: {
        argv: (p) => ['hangs', p],
        verdict: (r, target) => (r.timedOut ? `${target}: timed out` : `${target}: ${r.code}`),
      },
    }
    const dir = join(m.root, 'etc', 'hangs')
    mkdirSync(dir, { recursive: true })
    const targets = [0, 1].map((i) => {
      const path = join(dir, `f${i}`)
      writeFileSync(path, 'old\n')
      return remoteChecks(machine, {
        target: `etc/hangs/f${i}`,
        path,
        before: sha256('old\n'),
        content: Buffer.from('new\n'),
        validators: [hangs],
      })
    })
    const saved = process.env.CUTOVER_TOOL_TIMEOUT_MS
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '1000'
    try {
      const e = (await commitFiles(targets, on(stateDir)).catch((err: unknown) => err)) as Error
      expect(e).toBeInstanceOf(ValidationError)
      expect(e.message).toContain('etc/hangs/f0: hangs: etc/hangs/f0: timed out')
    } finally {
      if (saved === undefined) delete process.env.CUTOVER_TOOL_TIMEOUT_MS
      else process.env.CUTOVER_TOOL_TIMEOUT_MS = saved
      rmSync(join(m.bin, 'mktemp'))
      rmSync(join(m.bin, 'hangs'))
    }
    const left = existsSync(made)
      ? readFileSync(made, 'utf8')
          .split('\n')
          .filter((d) => d && existsSync(d))
      : []
    for (const d of left) rmSync(d, { recursive: true, force: true })
    expect(left).toEqual([])
    expect(readFileSync(join(dir, 'f0'), 'utf8')).toBe('old\n')
  })
})

// A spec's `command` checks over ssh: run by the machine's sh under its `timeout`, framed by the
// connection's long-lived shell (and its own `timeout -s KILL`) around them.
describe.runIf(need('sshd'))('checkMachine over ssh', () => {
  let fleet: TestFleet
  const controlDir = tempDir('cm-')
  beforeAll(async () => {
    fleet = await startFleet(1)
  })
  afterAll(async () => {
    await fleet?.stop()
  })

  it('reports a command that outlives its limit as not finished, whether it obeys TERM or must be killed, and a SIGKILL of its own as its exit', async () => {
    const m = fleet.machines[0]!
    const machine = await openMachine(
      { name: m.name, ssh: m.name, root: '/' },
      {
        controlDir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        sshConfig: fleet.sshConfig,
      },
    )
    try {
      expect(await commandRows(machine, ENDS)).toEqual(ENDS_GOT)
      // the machine is this one: the command that ignored TERM was killed, not left running
      expect(await left()).toEqual([])
    } finally {
      await machine.close()
    }
  })
})
