import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { constants } from 'node:os'
import type { ExecResult } from '../machine.js'
import { shellQuote } from '../remote-shell.js'

/*
 * A long-lived shell on a machine: one ssh session that runs command after command, so that a
 * command costs one round trip on an open channel instead of an ssh client, an sshd session and
 * a login shell of its own.
 *
 * The protocol, on the session's stdin: a header line `MARKER LINES STDIN_BYTES SECONDS`, the
 * script's lines, the stdin's bytes. The shell reads the header and the script with `read`
 * (which reads no byte past its line; a script cut short is never run) and the stdin with
 * `head -c` (GNU head reads no byte past its count: a self-test checks it first), and runs the
 * script as a session of its own would: `timeout -s KILL SECONDS /bin/sh -c REPORTER sh SCRIPT`,
 * its stdin a pipe of those bytes (/dev/null when there are none), its stdout and stderr the
 * session's. Once the script has exited, what is left of its process group (a process it left
 * behind would write into the next command's output) is killed, and the shell prints `MARKER
 * CODE` (`MARKER timeout` when the machine's timeout killed it) on stdout and `MARKER` on
 * stderr: what came before them is the script's output, byte for byte. The
 * marker is 128 random bits the controller draws for each command; the script never sees it (a
 * variable of the loop, not exported). The script is on the machine's command line (`sh -c`) as
 * it was in a session; the stdin, which may hold a secret, never is.
 */

const BANNER = 'cutover-shell '

/**
 * Unread stdin a script may leave (a page): the loop reads it away with `read` (one byte a
 * system call); past it, with `cat`.
 */
const PIPE_HOLDS = 4096

/**
 * The script's parent under the machine's `timeout` (`/bin/sh -c REPORTER sh SCRIPT`, stdout the
 * script's, fd 3 a pipe the caller reads): runs the script and writes its exit code on fd 3 once
 * it has ended (a signal's death as `128+N`, as a shell says it). `timeout -s KILL` gives 137
 * whether it fired (it kills its process group, itself too) or the script died of SIGKILL on its
 * own: only a code on fd 3 tells the second from the first. No code and 137 is the machine's
 * timeout (or something that killed the group from outside, as it does). The reporter's own
 * stderr is /dev/null: a shell says `Killed` there when its child died of a signal; the script's
 * is the command's (a subshell's redirection, undone before the reporter waits).
 */
export const REPORTER = 'exec 4>&2 2>/dev/null; (/bin/sh -c "$1" sh) 2>&4 3>&- 4>&-; echo "$?" >&3'

/**
 * The loop, run by `/bin/sh -c` in the C locale. It first says on stdout and on stderr whether
 * it can frame: `timeout` is there and is coreutils' (which kills its process group, the
 * script's with it: busybox's and toybox's kill only the reporter), and `head -c` leaves what
 * follows its count on a pipe for the next reader (busybox's buffered head does not). When it
 * cannot, it ends, having read nothing.
 * `wait` says nothing of a job that a signal ended (dash would print `Killed` on the script's
 * stderr). A background job of a non-interactive shell starts with SIGINT and SIGQUIT ignored;
 * nothing sends them to a script. Each command costs the processes of a session's own command
 * (`timeout`, {@link REPORTER}'s `sh` and the script's), the subshell that reads the reporter's
 * pipe and, with stdin, a `head` and a subshell. The line after the marker says `timeout` when
 * the machine's timeout fired (see {@link REPORTER}), else the script's exit code: the
 * controller's own timer, which may come later than the machine's (a loaded controller reads
 * the answer first), never has to guess which from 137.
 *
 * What the script leaves of its stdin is read away before the markers, however little: `head`
 * must have read its whole count from the session's stdin before the next header is read, and a
 * head that writes what it reads at once (unbuffered, or musl's 1 KiB buffer) ends on a pipe its
 * reader closed, the rest of its count unread: those bytes would be read as the next header and
 * script. The loop's variables are named `cutover_*`: a variable of the environment is exported
 * (a machine's environment may hold an `m` or an `s`), and the script sees the environment a
 * session of its own would, never the marker or the previous command's exit code.
 */
const LOOP = [
  `if command -v timeout >/dev/null 2>&1 && case $(timeout --version 2>/dev/null) in *coreutils*) ;; *) false ;; esac && [ "$(printf 'ab\n' | { head -c 1 >/dev/null; IFS= read -r cutover_x; printf %s "$cutover_x"; })" = b ]; then`,
  `  printf '${BANNER}ready\n'; printf '${BANNER}ready\n' >&2`,
  `else`,
  `  printf '${BANNER}unframed\n'; printf '${BANNER}unframed\n' >&2; exit 0`,
  `fi`,
  `exec 5>&1`,
  `cutover_go() {`,
  `  cutover_r=$(timeout -s KILL "$cutover_t" /bin/sh -c ${shellQuote(REPORTER)} sh "$cutover_s" 3>&1 >&5 5>&- <&4 4<&- &`,
  `    cutover_p=$!`,
  `    exec 4<&-`,
  `    wait "$cutover_p" 2>/dev/null; cutover_c=$?`,
  `    kill -s KILL -- "-$cutover_p" 2>/dev/null`,
  `    exit "$cutover_c"); cutover_c=$?`,
  `  exec 4<&-`,
  `  if [ -n "$cutover_r" ]; then cutover_c=$cutover_r; elif [ "$cutover_c" -eq 137 ]; then cutover_c=timeout; fi`,
  `}`,
  `while IFS=' ' read -r cutover_m cutover_lines cutover_n cutover_t; do`,
  `  cutover_s=; cutover_i=0`,
  `  while [ "$cutover_i" -lt "$cutover_lines" ]; do IFS= read -r cutover_l || exit 0; cutover_s="$cutover_s$cutover_l`,
  `"; cutover_i=$((cutover_i+1)); done`,
  `  if [ "$cutover_n" -eq 0 ]; then`,
  `    exec 4</dev/null`,
  `    cutover_go`,
  `    printf '%s\n' "$cutover_m" >&2`,
  `    printf '%s %s\n' "$cutover_m" "$cutover_c"`,
  `    continue`,
  `  fi`,
  `  head -c "$cutover_n" | {`,
  `    exec 4<&0`,
  `    cutover_go`,
  `    if [ "$cutover_n" -le ${PIPE_HOLDS} ]; then while IFS= read -r cutover_l; do :; done; else cat >/dev/null; fi`,
  `    printf '%s\n' "$cutover_m" >&2`,
  `    printf '%s %s\n' "$cutover_m" "$cutover_c"`,
  `  }`,
  `done`,
].join('\n')

/** The remote command line of a shell's session. */
export const SHELL_COMMAND = `exec env LC_ALL=C LANG=C /bin/sh -c ${shellQuote(LOOP)}`

/** What {@link RemoteShell.run} gave. */
export type ShellOutcome =
  /** The script ran to its end: its exit code and output. */
  | { kind: 'done'; result: ExecResult }
  /** The shell ended while the script ran (the connection lost, the shell killed): what came of it. */
  | { kind: 'died'; code: number; stdout: Buffer; stderr: string }
  /** No answer within the time given: the shell is killed. */
  | { kind: 'timeout' }
  /** The machine's own timeout killed the script (its group): the shell takes the next command. */
  | { kind: 'expired' }

/** What came on a stream before its marker, and the rest of the marker's line. */
interface MarkerLine {
  body: Buffer
  line: string
}

/** Both marker lines; or the session ended first, with what came of them; or the time passed. */
type Answer =
  | { kind: 'both'; o: MarkerLine; e: MarkerLine }
  | { kind: 'ended'; o: MarkerLine | undefined; e: MarkerLine | undefined }
  | { kind: 'timeout' }

/**
 * One stream of the shell: the bytes that came, up to a marker and the rest of the marker's
 * line. Chunks are kept as they came; each is searched with the end of the ones before it (a
 * marker may straddle two).
 */
class Scan {
  private chunks: Buffer[] = []
  private length = 0
  private marker: Buffer | undefined
  private hit: { body: Buffer; after: Buffer } | undefined
  /** Called when bytes came. */
  onData: () => void = () => {}

  /** Looks for `marker` in what came and what comes. */
  look(marker: string): void {
    this.marker = Buffer.from(marker, 'latin1')
    const held = Buffer.concat(this.chunks)
    this.chunks = []
    this.length = 0
    if (held.length) this.scan(held)
  }

  push(chunk: Buffer): void {
    this.scan(chunk)
    this.onData()
  }

  private scan(chunk: Buffer): void {
    if (this.hit) {
      this.hit.after = Buffer.concat([this.hit.after, chunk])
      return
    }
    this.chunks.push(chunk)
    this.length += chunk.length
    const m = this.marker
    if (!m) return
    const back = Math.min(m.length - 1, this.length - chunk.length)
    const window = back > 0 ? this.tail(back + chunk.length) : chunk
    const at = window.indexOf(m)
    if (at < 0) return
    const all = Buffer.concat(this.chunks)
    const start = this.length - window.length + at
    this.chunks = []
    this.length = 0
    this.hit = { body: all.subarray(0, start), after: all.subarray(start + m.length) }
  }

  /**
   * The bytes before the marker and the rest of its line (without its newline), once both came;
   * what follows the line is kept for the next marker.
   */
  take(): MarkerLine | undefined {
    const hit = this.hit
    const nl = hit ? hit.after.indexOf(10) : -1
    if (!hit || nl < 0) return undefined
    const rest = hit.after.subarray(nl + 1)
    this.hit = undefined
    this.marker = undefined
    this.chunks = rest.length ? [rest] : []
    this.length = rest.length
    return { body: hit.body, line: hit.after.subarray(0, nl).toString('latin1') }
  }

  /** What came since the last marker taken. */
  sofar(): Buffer {
    return this.hit ? this.hit.body : Buffer.concat(this.chunks)
  }

  /** The last `n` bytes that came. */
  private tail(n: number): Buffer {
    const parts: Buffer[] = []
    for (let i = this.chunks.length - 1; i >= 0 && n > 0; i--) {
      const c = this.chunks[i]!
      parts.unshift(c.length <= n ? c : c.subarray(c.length - n))
      n -= Math.min(c.length, n)
    }
    return Buffer.concat(parts)
  }
}

/**
 * One long-lived shell over a session of a machine's connection (the protocol above); it runs
 * one command at a time. {@link ready} says whether it can: false when the machine cannot frame
 * ({@link unframed}: no `timeout`, a head that reads ahead, or a login script that prints), or
 * when the session ended or stayed silent first.
 */
export class RemoteShell {
  private readonly out = new Scan()
  private readonly err = new Scan()
  private exit: number | undefined
  private wake: () => void = () => {}
  /** Set once the shell takes no more commands (ended, killed, out of step, or running one). */
  private closed = false
  /** Set while the shell waits for a command: the loop says nothing then. */
  private quiet = false
  /** Whether the machine said it cannot frame, or said something else first. */
  unframed = false
  /** Resolves with the session's exit code once it has ended. */
  readonly ended: Promise<number>
  /** Whether the shell takes commands. */
  readonly ready: Promise<boolean>

  /** A shell in `child`, an ssh session running {@link SHELL_COMMAND}; `ms` for its banner. */
  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    ms: number,
  ) {
    // a shell that ended has closed its stdin: the caller learns it from `ended`
    child.stdin.on('error', () => {})
    this.ended = new Promise((resolve) => {
      const end = (code: number) => {
        this.exit ??= code
        this.closed = true
        resolve(this.exit)
        this.wake()
      }
      child.on('error', () => end(255))
      child.on('close', (code, signal) =>
        end(
          code ??
            128 + ((constants.signals as Record<string, number | undefined>)[signal ?? ''] ?? 0),
        ),
      )
    })
    this.out.onData = () => this.heard()
    this.err.onData = () => this.heard()
    child.stdout.on('data', (b: Buffer) => this.out.push(b))
    child.stderr.on('data', (b: Buffer) => this.err.push(b))
    this.ready = this.banner(ms)
  }

  /**
   * Output while the shell waits for a command is a process the last script left outside its
   * process group (`setsid`) writing on: it would be read as a later command's output, so the
   * shell takes no more commands.
   */
  private heard(): void {
    if (this.quiet) this.kill()
    this.wake()
  }

  /** The shell is between commands: no byte may have come past the last marker's line. */
  private between(): void {
    if (this.out.sofar().length || this.err.sofar().length) this.kill()
    else this.quiet = !this.closed
  }

  /** Waits for the banner on both streams: exactly the first bytes of each. */
  private async banner(ms: number): Promise<boolean> {
    this.out.look(BANNER)
    this.err.look(BANNER)
    const outcome = await this.answer(ms)
    if (outcome.kind === 'ended') return false
    if (outcome.kind === 'timeout') {
      this.kill()
      return false
    }
    if (
      outcome.o.body.length ||
      outcome.e.body.length ||
      outcome.o.line !== 'ready' ||
      outcome.e.line !== 'ready'
    ) {
      this.unframed = true
      this.kill()
      return false
    }
    this.between()
    return !this.closed
  }

  /**
   * Waits for the lines of the markers looked for on stdout and stderr, at most `ms`; when the
   * session ends or the time passes first, what came of them.
   */
  private async answer(ms: number): Promise<Answer> {
    let o: MarkerLine | undefined
    let e: MarkerLine | undefined
    const both = await this.until(ms, () => {
      o ??= this.out.take()
      e ??= this.err.take()
      return o && e ? { kind: 'both' as const, o, e } : undefined
    })
    if (both === 'ended') return { kind: 'ended', o, e }
    if (both === 'timeout') return { kind: 'timeout' }
    return both
  }

  /**
   * Waits until `got` gives something, the session ends or `ms` passes; `got` runs after each
   * chunk of output.
   */
  private async until<T>(ms: number, got: () => T | undefined): Promise<T | 'ended' | 'timeout'> {
    let late = false
    const timer = setTimeout(() => {
      late = true
      this.wake()
    }, ms)
    try {
      for (;;) {
        const v = got()
        if (v !== undefined) return v
        if (this.exit !== undefined) return 'ended'
        if (late) return 'timeout'
        await new Promise<void>((resolve) => (this.wake = resolve))
      }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Whether the shell can take a command now (it said it is ready: see {@link ready}). */
  get idle(): boolean {
    return !this.closed && this.exit === undefined
  }

  /**
   * Runs `script` with `stdin` (the protocol above), `seconds` the machine's own limit; gives up
   * after `ms` and kills the shell. Only once {@link ready} said true, and on an {@link idle}
   * shell. Never rejects.
   */
  async run(script: string, stdin: Buffer, seconds: number, ms: number): Promise<ShellOutcome> {
    if (!this.idle) throw new Error('a shell ran a command while it was not idle')
    this.closed = true
    this.quiet = false
    const marker = `cutover-${randomBytes(16).toString('hex')}`
    const text = script.endsWith('\n') ? script : `${script}\n`
    let lines = 0
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++
    this.out.look(`${marker} `)
    this.err.look(marker)
    this.child.stdin.write(`${marker} ${lines} ${stdin.length} ${seconds}\n${text}`)
    if (stdin.length) this.child.stdin.write(stdin)
    const outcome = await this.answer(ms)
    if (outcome.kind === 'timeout') {
      this.kill()
      return { kind: 'timeout' }
    }
    if (outcome.kind === 'ended') {
      return {
        kind: 'died',
        code: this.exit!,
        stdout: outcome.o?.body ?? this.out.sofar(),
        stderr: (outcome.e?.body ?? this.err.sofar()).toString('utf8'),
      }
    }
    const out = outcome.o
    const err = outcome.e
    if (out.line === 'timeout' && err.line === '') {
      this.closed = false
      this.between()
      return { kind: 'expired' }
    }
    const code = /^\d{1,3}$/.test(out.line) ? Number(out.line) : undefined
    if (code === undefined || err.line !== '') {
      // out of step with the shell: an answer is never read as another's
      this.kill()
      return { kind: 'died', code: 255, stdout: out.body, stderr: err.body.toString('utf8') }
    }
    this.closed = false
    this.between()
    return { kind: 'done', result: { code, stdout: out.body, stderr: err.body.toString('utf8') } }
  }

  /** Ends the shell: its stdin closed (the loop ends after the command it runs), killed after `ms`. */
  async end(ms: number): Promise<void> {
    this.closed = true
    this.child.stdin.end()
    const timer = setTimeout(() => this.kill(), ms)
    await this.ended.finally(() => clearTimeout(timer))
  }

  private kill(): void {
    this.closed = true
    if (this.exit === undefined) this.child.kill('SIGKILL')
  }
}
