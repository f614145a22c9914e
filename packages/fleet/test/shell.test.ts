import {
  execFileSync,
  spawn,
  spawnSync,
  type ChildProcessWithoutNullStreams,
} from 'node:child_process'
import { EventEmitter } from 'node:events'
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { fakeTools } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'
import { afterEach, describe, expect, it } from 'vitest'
import { remoteCommand } from '../src/ssh/connection.js'
import { RemoteShell, SHELL_COMMAND, type ShellOutcome } from '../src/ssh/shell.js'
import { KILL_LOOP_SHELL } from './kill-loop-shell.js'

// The long-lived shell of a connection, run here by this machine's /bin/sh over pipes: the
// same loop an ssh session runs on a machine, without sshd.

/**
 * busybox's `timeout`: the command runs in its own process, a watcher (its stdio on /dev/null,
 * its other descriptors kept) looks once a second whether it still runs and kills that one
 * process only when the time is up. Its `--version` is an unknown option.
 */
const BUSYBOX_TIMEOUT = [
  `[ "$1" = -s ] || { echo "timeout: unrecognized option '$1'" >&2; exit 1; }`,
  'sig=$2 s=$3; shift 3; me=$$',
  '(while sleep 1; do s=$((s-1)); kill -0 "$me" 2>/dev/null || exit 0; [ "$s" -gt 0 ] || break; done; kill -s "$sig" "$me") </dev/null >/dev/null 2>&1 &',
  'exec "$@"',
].join('\n')

describe('the long-lived shell', () => {
  const tools = fakeTools()
  const shells: RemoteShell[] = []
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(shells.splice(0).map((s) => s.end(2_000)))
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  const child = (command = SHELL_COMMAND) =>
    spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] })
  const start = (command?: string) => {
    const s = new RemoteShell(child(command), 10_000)
    shells.push(s)
    return s
  }
  const done = (o: ShellOutcome) => {
    if (o.kind !== 'done') throw new Error(`expected a finished command, got ${o.kind}`)
    return o.result
  }
  /** Processes of this machine whose command line holds `needle`. */
  const running = (needle: string) =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0/g, ' ').includes(needle)
        } catch {
          return false
        }
      })

  it('runs command after command with their stdin, exit codes, and output byte for byte', async () => {
    const s = start()
    expect(await s.ready).toBe(true)
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0])
    const a = done(await s.run('cat; printf "\\0\\377" >&2; exit 3', bytes, 60, 10_000))
    expect(a.code).toBe(3)
    expect(a.stdout).toEqual(bytes)
    expect(Buffer.from(a.stderr, 'utf8')).toEqual(Buffer.from('\0\uFFFD', 'utf8'))
    // quotes, a line ending in a backslash, a carriage return, a last line without a newline:
    // as `sh -c` runs it
    const script = `x='it'"'"'s \\\\'\necho "$x"\r\nprintf 'no newline'`
    const b = done(await s.run(script, Buffer.alloc(0), 60, 10_000))
    expect(b).toEqual({ code: 0, stdout: execFileSync('/bin/sh', ['-c', script]), stderr: '' })
    expect(b.stdout.toString()).toContain('no newline')
    // output that names what the shell prints itself, without a newline at its end
    const c = done(
      await s.run("printf 'cutover-shell ready\\ncutover-00 0\\n0'", Buffer.alloc(0), 60, 10_000),
    )
    expect(c.stdout.toString()).toBe('cutover-shell ready\ncutover-00 0\n0')
    expect(done(await s.run('exit 255', Buffer.alloc(0), 60, 10_000)).code).toBe(255)
  })

  it('carries megabytes both ways, and a stdin the script leaves unread never reaches the next command', async () => {
    const s = start()
    expect(await s.ready).toBe(true)
    const big = Buffer.alloc(3_000_000)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251
    const echo = done(
      await s.run('cat; cat /dev/null >&2; head -c 2000000 /dev/zero >&2', big, 60, 30_000),
    )
    expect(echo.stdout.equals(big)).toBe(true)
    expect(echo.stderr.length).toBe(2_000_000)
    // read 10 bytes of 3 MB, or none of 5 KB, or none of 100 bytes
    expect(
      done(await s.run('head -c 10 >/dev/null; echo read', big, 60, 30_000)).stdout.toString(),
    ).toBe('read\n')
    expect(
      done(await s.run('echo none', Buffer.alloc(5000, 1), 60, 10_000)).stdout.toString(),
    ).toBe('none\n')
    expect(done(await s.run('echo none', Buffer.alloc(100, 1), 60, 10_000)).stdout.toString()).toBe(
      'none\n',
    )
    const next = done(await s.run('wc -c', Buffer.from('four'), 60, 10_000))
    expect(next.stdout.toString().trim()).toBe('4')
  })

  it('reads the whole stdin of a script that left it unread, however it comes, before the next header', async () => {
    // a head that writes each byte as it reads it (unbuffered; musl's stdio buffers 1 KiB):
    // once its reader is gone it ends on its next write, the rest of its count unread
    dirs.push(tools.fakeTool('head', 'exec dd bs=1 count="$2" 2>/dev/null'))
    const c = child()
    let out = ''
    c.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')))
    c.stderr.resume()
    const closed = new Promise((resolve) => c.on('close', resolve))
    const seen = async (text: string, ms: number) => {
      for (let i = 0; i < ms / 10 && !out.includes(text); i++)
        await new Promise((r) => setTimeout(r, 10))
    }
    await seen('cutover-shell ready\n', 10_000)
    expect(out).toBe('cutover-shell ready\n')
    // the rest of the stdin bytes, shaped as a command of their own
    const rest = 'm2 1 0 60\necho INJECTED\n'
    c.stdin.write(`m1 1 ${1 + rest.length} 60\nexit 3\n`)
    // the script has ended without reading (its answer comes now where the loop does not wait)
    await seen('m1 ', 500)
    c.stdin.write('a')
    await new Promise((r) => setTimeout(r, 300))
    c.stdin.end(`${rest}m3 1 0 60\necho three\n`)
    await closed
    expect(out).toBe('cutover-shell ready\nm1 3\nthree\nm3 0\n')
  })

  it("gives the script the environment a session of its own has: the loop's variables are never there", async () => {
    // one-letter names, as the loop's variables once were: a machine's environment may hold them
    const names = ['c', 'i', 'l', 'm', 'n', 'p', 's', 't', 'x', 'sl']
    const env = { ...process.env, ...Object.fromEntries(names.map((n) => [n, `env-${n}`])) }
    const s = new RemoteShell(
      spawn('/bin/sh', ['-c', SHELL_COMMAND], { stdio: ['pipe', 'pipe', 'pipe'], env }),
      10_000,
    )
    shells.push(s)
    expect(await s.ready).toBe(true)
    const script = `env | grep -E '^(${names.join('|')})=' | sort`
    const session = execFileSync('/bin/sh', ['-c', script], { env })
    expect(session.toString()).toContain('m=env-m\n')
    for (const stdin of [Buffer.alloc(0), Buffer.from('in'), Buffer.alloc(0)]) {
      expect(done(await s.run(script, stdin, 60, 10_000))).toEqual({
        code: 0,
        stdout: session,
        stderr: '',
      })
    }
  })

  it('kills what a command left running, which never writes into the next command', async () => {
    const s = start()
    expect(await s.ready).toBe(true)
    const tag = `${process.pid}.${Date.now() % 1000}`
    const r = done(
      await s.run(`(sleep 3${tag}; echo late) & echo now`, Buffer.alloc(0), 60, 10_000),
    )
    expect(r.stdout.toString()).toBe('now\n')
    const withStdin = done(
      await s.run(`(sleep 4${tag}; echo late) & cat`, Buffer.from('in\n'), 60, 10_000),
    )
    expect(withStdin.stdout.toString()).toBe('in\n')
    expect(running(`sleep 3${tag}`)).toEqual([])
    expect(running(`sleep 4${tag}`)).toEqual([])
    expect(done(await s.run('echo next', Buffer.alloc(0), 60, 10_000)).stdout.toString()).toBe(
      'next\n',
    )
  })

  it('takes no more commands once a process a script left outside its group writes on', async () => {
    const s = start()
    expect(await s.ready).toBe(true)
    // setsid: a group of its own, which the loop's kill of the script's group does not reach;
    // the script ends once it is there (it says so on a fifo)
    const script =
      'd=$(mktemp -d); mkfifo "$d/f"; setsid sh -c \'echo >"$1/f"; sleep 0.3; echo late\' sh "$d" & read x <"$d/f"; rm -r "$d"; echo now'
    const r = done(await s.run(script, Buffer.alloc(0), 60, 10_000))
    expect(r.stdout.toString()).toBe('now\n')
    expect(s.idle).toBe(true)
    for (let i = 0; i < 200 && s.idle; i++) await new Promise((r) => setTimeout(r, 25))
    expect(s.idle).toBe(false)
  })

  it("ends a command at the machine's own limit, and kills a shell that outlives the controller's", async () => {
    const s = start()
    expect(await s.ready).toBe(true)
    const tag = `${process.pid}.${Date.now() % 1000}`
    // the machine's limit (1 s): timeout kills the script's group and the shell says so (not
    // the exit 137 of a script killed by itself), the shell goes on
    expect(await s.run(`sleep 5${tag}`, Buffer.alloc(0), 1, 30_000)).toEqual({ kind: 'expired' })
    expect(running(`sleep 5${tag}`)).toEqual([])
    expect(done(await s.run('echo x; kill -KILL $$', Buffer.alloc(0), 60, 10_000))).toEqual({
      code: 137,
      stdout: Buffer.from('x\n'),
      stderr: '',
    })
    expect(done(await s.run('echo on', Buffer.alloc(0), 60, 10_000)).stdout.toString()).toBe('on\n')
    // the controller's limit: the shell is killed and takes nothing more
    expect(await s.run(`sleep 6${tag}`, Buffer.alloc(0), 2, 300)).toEqual({ kind: 'timeout' })
    await s.ended
    expect(s.idle).toBe(false)
  })

  it('reports a shell that ended during a command, with what the command had said', async () => {
    const s = start()
    expect(await s.ready).toBe(true)
    const o = await s.run(
      `echo partial; echo why >&2; ${KILL_LOOP_SHELL}`,
      Buffer.alloc(0),
      60,
      10_000,
    )
    expect(o, o.kind === 'done' ? o.result.stderr : o.kind).toMatchObject({
      kind: 'died',
      code: 137,
    })
    expect(o.kind === 'died' && o.stdout.toString()).toBe('partial\n')
    expect(o.kind === 'died' && o.stderr).toBe('why\n')
    expect(s.idle).toBe(false)
  })

  it('never runs a script cut short: the shell ends instead', async () => {
    const dir = tempDir('cutover-shell-')
    const c = child()
    const exit = new Promise((resolve) => c.on('close', resolve))
    // three lines announced, two sent, then the stream ends
    c.stdin.end(`m1 3 0 60\ntouch ${join(dir, 'ran')}\necho second\n`)
    expect(await exit).toBe(0)
    expect(existsSync(join(dir, 'ran'))).toBe(false)
  })

  it("says it cannot frame, having read nothing, where head reads ahead, timeout is missing or is not coreutils'", async () => {
    // busybox's head reads a pipe in blocks: what follows its count is gone
    tools.fakeTool('head', 'exec cat >/dev/null')
    const ahead = start()
    expect(await ahead.ready).toBe(false)
    expect(ahead.unframed).toBe(true)
    // busybox's timeout kills the reporter, not the script (nor its group)
    tools.fakeTool('timeout', BUSYBOX_TIMEOUT)
    const busybox = start()
    expect(await busybox.ready).toBe(false)
    expect(busybox.unframed).toBe(true)
    // no timeout on the machine
    const bin = tempDir('cutover-shell-bin-')
    for (const t of ['env', 'sh', 'head']) {
      const real = tools.realTool(t)
      await new Promise((r) => spawn('ln', ['-s', real, join(bin, t)]).on('close', r))
    }
    process.env.PATH = bin
    const none = start()
    expect(await none.ready).toBe(false)
    expect(none.unframed).toBe(true)
  })

  it("runs a session's script under a timeout that kills only the process it runs: the script itself, as before the reporter", async () => {
    tools.fakeTool('timeout', BUSYBOX_TIMEOUT)
    const sleep = `sleep 30.${process.pid}${Date.now() % 1000}`
    const dir = tempDir('cutover-rc-')
    const out = openSync(join(dir, 'out'), 'w')
    const err = openSync(join(dir, 'err'), 'w')
    try {
      // the session's command line, run by the login shell; its output in files, not pipes that
      // a script left running would hold open
      const r = spawnSync(
        '/bin/sh',
        ['-c', remoteCommand(`echo started; exec ${sleep}`, 1, 'mark')],
        {
          stdio: ['ignore', out, err],
        },
      )
      expect(running(sleep)).toEqual([])
      // the session's own process is the script, killed (ssh says 255 for that, as before)
      expect([r.status, r.signal]).toEqual([null, 'SIGKILL'])
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('started\n')
      expect(readFileSync(join(dir, 'err'), 'utf8')).toBe('')
    } finally {
      closeSync(out)
      closeSync(err)
      for (const p of running(sleep)) process.kill(Number(p), 'SIGKILL')
    }
  })

  it('takes a session that says anything before its banner (a login script that prints) as one that cannot frame', async () => {
    const junk = start(`echo hello from .bashrc; ${SHELL_COMMAND}`)
    expect(await junk.ready).toBe(false)
    expect(junk.unframed).toBe(true)
    const warned = start(`echo warning >&2; ${SHELL_COMMAND}`)
    expect(await warned.ready).toBe(false)
    expect(warned.unframed).toBe(true)
    // a session that ends before its banner is not ready, but says nothing of the machine
    const gone = start('exit 255')
    expect(await gone.ready).toBe(false)
    expect(gone.unframed).toBe(false)
  })

  it('reads its answers in whatever pieces they come, a marker split across any two', async () => {
    // a stand-in for the ssh child: answers as the loop does, one byte at a time
    const fake = Object.assign(new EventEmitter(), {
      stdin: new PassThrough(),
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      kill: () => true,
    }) as unknown as ChildProcessWithoutNullStreams
    const drip = async (stream: PassThrough, text: Buffer) => {
      for (const b of text) {
        stream.write(Buffer.from([b]))
        await new Promise((r) => setImmediate(r))
      }
    }
    const s = new RemoteShell(fake, 10_000)
    await drip(fake.stdout as PassThrough, Buffer.from('cutover-shell ready\n'))
    await drip(fake.stderr as PassThrough, Buffer.from('cutover-shell ready\n'))
    expect(await s.ready).toBe(true)
    let header = ''
    fake.stdin.on('data', (b: Buffer) => (header += b.toString('latin1')))
    const run = s.run('echo x', Buffer.alloc(0), 60, 10_000)
    await new Promise((r) => setImmediate(r))
    const marker = header.split(' ')[0]!
    expect(marker).toMatch(/^cutover-[0-9a-f]{32}$/)
    // output holding the marker's first half, then the marker
    const half = marker.slice(0, 20)
    await drip(fake.stdout as PassThrough, Buffer.from(`${half}x\n\0${marker} 0\n`))
    await drip(fake.stderr as PassThrough, Buffer.from(`e${half}${marker}\n`))
    expect(done(await run)).toEqual({
      code: 0,
      stdout: Buffer.from(`${half}x\n\0`),
      stderr: `e${half}`,
    })
    expect(s.idle).toBe(true)
    // bytes past a marker's line, come with it: the shell is out of step and takes no more
    header = ''
    const next = s.run('echo y', Buffer.alloc(0), 60, 10_000)
    await new Promise((r) => setImmediate(r))
    const second = header.split(' ')[0]!
    const [stdout, stderr] = [fake.stdout, fake.stderr] as PassThrough[]
    stderr!.write(`${second}\n`)
    stdout!.write(`y\n${second} 0\nlate\n`)
    expect(done(await next).stdout.toString()).toBe('y\n')
    expect(s.idle).toBe(false)
  })
})
