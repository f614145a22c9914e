import { posix } from 'node:path'
import { describeTimeout, type CommandCheck, type TcpCheck } from '@cutover/rewrite'
import type { Machine } from './machine.js'
import { run, shellQuote } from './remote-shell.js'

/** One line of `cutover check`'s table: what was checked on a machine, and what it gave. */
export interface CheckRow {
  machine: string
  /** `name db.example.net`, `addr tcp://db:5432`, `command systemctl is-active apache2`. */
  check: string
  expected: string
  got: string
  ok: boolean
}

/** What {@link checkMachine} checks on one machine. */
export interface MachineChecks {
  /** Each name of the spec's `hosts:` and the address it must resolve to there (its `new`). */
  names: ReadonlyArray<{ name: string; address: string }>
  tcp: readonly TcpCheck[]
  commands: readonly CommandCheck[]
  /**
   * The IPv4 addresses a hosts(5) text gives `name`, in the order glibc's files source returns
   * them: for a machine whose root is not `/`, whose
   * own resolver does not read the root's etc/hosts.
   */
  resolveIn: (hostsText: string, name: string) => string[]
}

/**
 * Runs the checks on `machine`, over its connection (a local machine: on this one): each name
 * resolved there, each TCP connection made from there, each command run there. A machine whose
 * root is `/` resolves with its own resolver (`getent ahostsv4`: the getaddrinfo of its
 * programs, its nsswitch.conf, IPv4 as the spec's addresses); one whose root is another
 * directory (a copy, a mounted image) is resolved from `ROOT/etc/hosts` alone, read as glibc's
 * files source reads it, and says so. Rejects only when the machine cannot be reached.
 */
export async function checkMachine(machine: Machine, c: MachineChecks): Promise<CheckRow[]> {
  const rows: CheckRow[] = []
  const name = machine.spec.name
  rows.push(...(await checkNames(machine, c)))
  for (const t of c.tcp) {
    const got = await probe(machine, t)
    rows.push({
      machine: name,
      check: `addr ${t.addr}`,
      expected: t.reachable ? 'reachable' : 'not reachable',
      got: got.text,
      ok: got.reachable !== undefined && got.reachable === t.reachable,
    })
  }
  for (const cmd of c.commands) {
    const got = await command(machine, cmd)
    rows.push({
      machine: name,
      check: `command ${cmd.command}`,
      expected: `exit ${cmd.exitStatus}`,
      got: got.text,
      ok: got.status === cmd.exitStatus,
    })
  }
  return rows
}

async function checkNames(machine: Machine, c: MachineChecks): Promise<CheckRow[]> {
  if (c.names.length === 0) return []
  const root = machine.spec.root
  const row = (name: string, address: string, got: string[], how: string): CheckRow => ({
    machine: machine.spec.name,
    check: `name ${name}`,
    expected: address,
    got: got.length
      ? `${got[0]}${got.length > 1 ? ` (then ${got.slice(1).join(', ')})` : ''}${how}`
      : `not resolved${how}`,
    // every address, not the first only: which one comes first depends on the program
    // (gethostbyname: the file's order; getaddrinfo: sorted by the machine's own addresses), and
    // a client falls back to the next one when the first does not answer
    ok: got.length > 0 && got.every((a) => a === address),
  })
  if (root !== '/') {
    const path = posix.join(root, 'etc/hosts')
    let text = ''
    try {
      text = (await machine.readFile(path)).toString('latin1')
    } catch (e) {
      const how = ` (${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
      return c.names.map((n) => row(n.name, n.address, [], how))
    }
    return c.names.map((n) =>
      row(n.name, n.address, c.resolveIn(text, n.name), ` (from ${path}: the root is not /)`),
    )
  }
  // the names on stdin, one a line (they are host names: no newline); each answer framed
  const script = [
    'command -v getent >/dev/null 2>&1 || { echo "no getent"; exit 0; }',
    'while IFS= read -r n; do',
    '  printf "== %s\\n" "$n"',
    '  getent ahostsv4 "$n" 2>/dev/null',
    'done',
  ].join('\n')
  const r = await run(machine.exec, script, Buffer.from(c.names.map((n) => `${n.name}\n`).join('')))
  const out = r.stdout.toString('utf8')
  if (out.startsWith('no getent'))
    return c.names.map((n) => row(n.name, n.address, [], ' (the machine has no getent)'))
  const found = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of out.split('\n')) {
    if (line.startsWith('== ')) found.set(line.slice(3), (current = []))
    else if (current && line.trim()) {
      const address = line.trim().split(/\s+/)[0]!
      if (!current.includes(address)) current.push(address)
    }
  }
  return c.names.map((n) => row(n.name, n.address, found.get(n.name) ?? [], ''))
}

/** A TCP connection from the machine: `nc -z -w` when it has nc, else bash's /dev/tcp under `timeout`. */
async function probe(
  machine: Machine,
  t: TcpCheck,
): Promise<{ reachable?: boolean; text: string }> {
  const seconds = Math.max(1, Math.ceil(t.timeout / 1000))
  const host = shellQuote(t.host)
  const port = String(t.port)
  const script = [
    'if command -v nc >/dev/null 2>&1; then',
    `  nc -z -w ${seconds} ${host} ${port} >/dev/null 2>&1; echo "nc $?"`,
    'elif command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then',
    `  timeout ${t.timeout / 1000} bash -c 'exec 3<>"/dev/tcp/$0/$1"' ${host} ${port} >/dev/null 2>&1; echo "bash $?"`,
    'else echo none; fi',
  ].join('\n')
  const r = await run(machine.exec, script)
  const [tool, status] = r.stdout.toString('utf8').trim().split(' ')
  if (tool === 'none' || status === undefined)
    return {
      text: 'cannot probe: the machine has neither nc nor bash with timeout',
    }
  const how = tool === 'nc' ? 'nc -z' : 'bash /dev/tcp'
  if (status === '0') return { reachable: true, text: `reachable (${how})` }
  return {
    reachable: false,
    text: `not reachable (${how}${status === '124' ? `, no answer within ${t.timeout} ms` : ''})`,
  }
}

/**
 * The command's parent under `timeout` (`/bin/sh -c REPORTER sh COMMAND`, fd 3 a pipe the caller
 * reads, stdout and stderr /dev/null): runs the command and writes its exit code on fd 3 once it
 * has ended (a signal's death as `128+N`, as a shell says it), unless a TERM came meanwhile. It
 * catches TERM rather than dying of it, so that it waits for a command that ignores TERM until
 * `timeout` KILLs the group (it would otherwise end, and `timeout` with it, the command left
 * running); a caught signal is the default again in the command. Got TERM, it closes fd 3, so
 * that it writes nothing, and exits with the command's code (`timeout` exits 124 when it sent
 * the TERM, else with it). The TERM is told by the closed fd, not by a variable: a variable of
 * the machine's environment would be set before any TERM came (and is the command's as it was).
 */
const REPORTER = `trap 'exec 3>&-' TERM; (/bin/sh -c "$1" sh) 3>&-; cutover_c=$?; echo "$cutover_c" >&3; exit "$cutover_c"`

/**
 * The command run by the machine's sh, stopped after its timeout (with `timeout` when the machine
 * has it): TERM first, KILL a second later (`-k 1`). coreutils' `timeout` exits 124 when the
 * command obeyed TERM, but 137 when it had to KILL (it sends KILL to its process group, itself
 * too), which is also the status of a command that died of SIGKILL by itself: the command's
 * parent ({@link REPORTER}) writes the command's exit code on a pipe of its own when no TERM
 * came. A code on that pipe is the command's exit; none, and 124 or 137, is the timeout (or
 * the command killed its own process group). Only coreutils' `timeout` signals its group:
 * busybox's and toybox's signal the one process they run (the reporter, the command left
 * running), so with them the command runs under `timeout` itself, 124 the timeout.
 */
async function command(
  machine: Machine,
  c: CommandCheck,
): Promise<{ status?: number; text: string }> {
  const cmd = shellQuote(c.command)
  const limit = `timeout -k 1 ${c.timeout / 1000}`
  const script = [
    'if command -v timeout >/dev/null 2>&1; then',
    '  case $(timeout --version 2>/dev/null) in',
    '  *coreutils*)',
    `    r=$(${limit} /bin/sh -c ${shellQuote(REPORTER)} sh ${cmd} 3>&1 >/dev/null 2>&1); s=$?`,
    '    if [ -n "$r" ]; then echo "$r"; elif [ $s = 124 ] || [ $s = 137 ]; then echo timeout; else echo "$s"; fi ;;',
    '  *)',
    `    ${limit} /bin/sh -c ${cmd} >/dev/null 2>&1; s=$?; [ $s = 124 ] && echo timeout || echo "$s" ;;`,
    '  esac',
    `else /bin/sh -c ${cmd} >/dev/null 2>&1; echo "$?"; fi`,
  ].join('\n')
  const r = await run(machine.exec, script)
  const out = r.stdout.toString('utf8').trim().split('\n').pop() ?? ''
  if (out === 'timeout')
    return { text: `did not finish within ${describeTimeout(c.timeout)}: stopped` }
  const status = Number(out)
  return Number.isInteger(status) && out !== ''
    ? { status, text: `exit ${status}` }
    : { text: `no exit status (${r.stderr.trim().split('\n')[0] || 'no output'})` }
}
