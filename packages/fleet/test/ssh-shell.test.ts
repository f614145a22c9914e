import { execFileSync } from 'node:child_process'
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { need } from '@cutover/test-kit'
import { startFleet, type TestFleet } from '@cutover/test-kit/sshd'
import { tempDir } from '@cutover/test-kit/temp'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openMachine } from '../src/open.js'
import { SshConnection } from '../src/ssh/connection.js'
import { KILL_LOOP_SHELL } from './kill-loop-shell.js'

// A connection's commands in long-lived shells (src/ssh/shell.ts), against real sshd processes:
// how many sessions they take, and that they fail as a session of their own would.
describe.runIf(need('sshd'))('commands in long-lived shells over ssh', () => {
  let fleet: TestFleet
  let controlDir: string
  const env = { PATH: process.env.PATH, HOME: process.env.HOME }
  const timeout = process.env.CUTOVER_TOOL_TIMEOUT_MS
  beforeAll(async () => {
    fleet = await startFleet(1)
    controlDir = tempDir('csh-')
  })
  afterAll(async () => {
    await fleet?.stop()
  })
  afterEach(() => {
    if (timeout === undefined) delete process.env.CUTOVER_TOOL_TIMEOUT_MS
    else process.env.CUTOVER_TOOL_TIMEOUT_MS = timeout
  })

  const m = () => fleet.machines[0]!
  const open = () =>
    SshConnection.open(
      { name: m().name, dest: m().name, sshConfig: fleet.sshConfig },
      { controlDir, env },
    )
  /** The sessions sshd has started on the machine so far (`Starting session: command …`). */
  const sessions = () => readFileSync(m().log, 'utf8').split('Starting session').length - 1

  it('runs command after command in one session, a few at once in as many', async () => {
    const c = await open()
    try {
      const before = sessions()
      for (let i = 0; i < 12; i++) {
        const r = await c.exec(`echo ${i}; cat`, { stdin: Buffer.from([i]) })
        expect(r).toEqual({
          code: 0,
          stdout: Buffer.concat([Buffer.from(`${i}\n`), Buffer.from([i])]),
          stderr: '',
        })
      }
      expect(sessions() - before).toBe(1)
      // three at once: two more shells, which the next commands reuse
      const three = await Promise.all([0, 1, 2].map((i) => c.exec(`sleep 0.3; echo ${i}`)))
      expect(three.map((r) => r.stdout.toString())).toEqual(['0\n', '1\n', '2\n'])
      await Promise.all([0, 1, 2].map((i) => c.exec(`echo ${i}`)))
      expect(sessions() - before).toBe(3)
    } finally {
      await c.close()
    }
  })

  it("starts a machine's first shell as it opens, which its first commands take", async () => {
    /** The command sessions sshd has started (an SFTP one is a subsystem's). */
    const commandSessions = () =>
      readFileSync(m().log, 'utf8').split('Starting session: command').length - 1
    const before = commandSessions()
    const commands = () => commandSessions() - before
    const machine = await openMachine(
      { name: 'm1', ssh: m().name, root: m().root },
      { controlDir, env, sshConfig: fleet.sshConfig },
    )
    try {
      // no command asked yet: the shell's session starts all the same
      for (let i = 0; i < 200 && commands() === 0; i++) await new Promise((r) => setTimeout(r, 50))
      expect(commands()).toBe(1)
      for (let i = 0; i < 3; i++)
        expect((await machine.exec(`echo ${i}`)).stdout.toString()).toBe(`${i}\n`)
      expect(commands()).toBe(1)
    } finally {
      await machine.close()
    }
  })

  it('times a command out (ETIMEDOUT) and runs the next one in a new shell', async () => {
    const c = await open()
    try {
      await c.exec('true')
      process.env.CUTOVER_TOOL_TIMEOUT_MS = '1500'
      await expect(c.exec('echo started; sleep 30')).rejects.toMatchObject({ code: 'ETIMEDOUT' })
      expect((await c.exec('echo after')).stdout.toString()).toBe('after\n')
    } finally {
      await c.close()
    }
  })

  it('fails a command whose shell is killed on the machine, as a session killed there, and goes on', async () => {
    const c = await open()
    try {
      const r = await c.exec(`echo partial; ${KILL_LOOP_SHELL}`)
      expect(r.code, r.stderr).not.toBe(0)
      expect(r.stdout.toString()).toBe('partial\n')
      expect((await c.exec('echo next')).stdout.toString()).toBe('next\n')
    } finally {
      await c.close()
    }
  })

  /**
   * The machine's `timeout` (the real one, first on the sessions' PATH) made to fire after 1 s
   * for a script that sleeps 30 s, the controller's timer at 600 s (past the test's own limit):
   * the machine's answer comes first, as it may on a loaded controller, and is the only one. `also` is written beside it (a head that reads
   * ahead).
   */
  async function machineFiresFirst(also: Record<string, string>, body: () => Promise<void>) {
    const real = execFileSync('/bin/sh', ['-c', 'command -v timeout'], { encoding: 'utf8' }).trim()
    const made = {
      timeout: `#!/bin/sh\n[ "$1" = --version ] && exec ${real} --version\ns=$3; shift 3\ncase "$*" in *"sleep 30"*) s=1 ;; esac\nexec ${real} -s KILL "$s" "$@"\n`,
      ...also,
    }
    for (const [name, text] of Object.entries(made)) {
      writeFileSync(join(m().bin, name), text)
      chmodSync(join(m().bin, name), 0o755)
    }
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '600000'
    try {
      await body()
    } finally {
      for (const name of Object.keys(made)) rmSync(join(m().bin, name), { force: true })
    }
  }

  for (const [how, also] of [
    ['in a long-lived shell', {}],
    ['in a session of its own', { head: '#!/bin/sh\nexec cat >/dev/null\n' }],
  ] as const)
    it(`the machine's timeout firing before the controller's timer is a timeout (ETIMEDOUT), a script's own SIGKILL its exit 137: ${how}`, async () => {
      await machineFiresFirst(also, async () => {
        const c = await open()
        try {
          const before = sessions()
          await expect(c.exec('echo started; sleep 30')).rejects.toMatchObject({
            code: 'ETIMEDOUT',
            message: expect.stringMatching(/ran longer than 600 s and was killed/),
          })
          expect(await c.exec('echo own; kill -KILL $$')).toEqual({
            code: 137,
            stdout: Buffer.from('own\n'),
            stderr: '',
          })
          expect((await c.exec('echo after')).stdout.toString()).toBe('after\n')
          // a shell the machine's timeout answered for takes the next commands
          if (how === 'in a long-lived shell') expect(sessions() - before).toBe(1)
        } finally {
          await c.close()
        }
      })
    })

  it("runs each command in a session of its own where the machine's head reads ahead", async () => {
    const head = join(m().bin, 'head')
    writeFileSync(head, '#!/bin/sh\nexec cat >/dev/null\n')
    chmodSync(head, 0o755)
    const c = await open()
    try {
      const before = sessions()
      for (let i = 0; i < 3; i++) {
        const r = await c.exec('tr a-z A-Z', { stdin: Buffer.from(`x${i}`) })
        expect(r).toEqual({ code: 0, stdout: Buffer.from(`X${i}`), stderr: '' })
      }
      // the shell that said it cannot frame, then a session a command
      expect(sessions() - before).toBe(4)
    } finally {
      await c.close()
      rmSync(head, { force: true })
    }
  })

  it('runs each command in a session of its own where a login script prints, its output as before', async () => {
    const rc = join(dirname(m().root), '.bashrc')
    writeFileSync(rc, 'echo from-rc\n')
    const c = await open()
    try {
      const r = await c.exec('echo cmd')
      expect(r.stdout.toString()).toBe('from-rc\ncmd\n')
    } finally {
      await c.close()
      writeFileSync(rc, '')
    }
  })
  it('leaves no ssh process once closed; a command not yet sent fails as closed, one running ends', async () => {
    const dir = tempDir('csh-ran-')
    const c = await open()
    /** The ssh processes of this connection (their command line names its socket). */
    const ssh = () =>
      readdirSync('/proc').filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(c.controlPath)
        } catch {
          return false
        }
      })
    try {
      // eight commands run at once over a connection, the ninth waits for one of them to end
      const all = Promise.allSettled(
        Array.from({ length: 9 }, (_, i) => c.exec(`touch ${dir}/${i}; sleep 0.5; echo ${i}`)),
      )
      for (let i = 0; i < 600 && readdirSync(dir).length < 8; i++)
        await new Promise((r) => setTimeout(r, 50))
      await c.close()
      expect(ssh()).toEqual([])
      const results = await all
      expect(
        results.map((r) => (r.status === 'fulfilled' ? r.value.stdout.toString() : r.reason)),
      ).toEqual([
        ...Array.from({ length: 8 }, (_, i) => `${i}\n`),
        expect.objectContaining({ message: expect.stringMatching(/the connection is closed/) }),
      ])
      expect(readdirSync(dir)).toHaveLength(8)
      // closed while its shell starts: the command is never sent
      const d = await open()
      const early = d.exec(`touch ${dir}/early`).catch((e: unknown) => e)
      await d.close()
      expect(await early).toMatchObject({
        message: expect.stringMatching(/the connection is closed/),
      })
      expect(readdirSync(dir)).toHaveLength(8)
    } finally {
      await c.close()
    }
  })
})
