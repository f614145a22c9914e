import { spawn } from 'node:child_process'
import { stat } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import { describeTimeout, toolTimeoutMs } from '@cutover/rewrite'
import { FleetError } from './errors.js'
import type { MachineSpec } from './machine.js'

/**
 * The machines of an Ansible inventory: its hosts as machines, in the inventory's order, and its
 * groups (each with the hosts of its child groups too), for `on: ['@group']`.
 */
export interface Inventory {
  /** The inventory as the user named it (`machines.ansible`, `--inventory`), for messages. */
  file: string
  machines: MachineSpec[]
  /** Every group (`all` and `ungrouped` too) → the names of its hosts, its children's included. */
  groups: Record<string, string[]>
}

/** The Debian package that provides `ansible-inventory` (the `ansible` package depends on it). */
export const INVENTORY_PACKAGE = 'ansible-core'

/** Connections of Ansible that are OpenSSH (cutover reaches every such host with the system's ssh). */
const SSH_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko', 'paramiko_ssh'])
/** A machine name, as the spec's `machines:` takes it. */
const MACHINE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/**
 * Reads the Ansible inventory `path` with the real `ansible-inventory -i PATH --list` (so that
 * every inventory format and plugin Ansible reads works, with its variables merged as Ansible
 * merges them), and makes its hosts machines (see {@link inventoryMachines}). `shown` is how the
 * user named the file. The tool runs with `env` (an inventory plugin may read its credentials
 * there), told to fail when it cannot parse the source rather than give an empty inventory.
 * Rejects with a {@link FleetError}: `INVENTORY_TOOL` when `ansible-inventory` is not installed,
 * `INVENTORY` when the inventory cannot be read or a host cannot be a machine.
 */
export async function readInventory(
  path: string,
  o: { shown?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Inventory> {
  const shown = o.shown ?? path
  try {
    await stat(path)
  } catch (e) {
    throw new FleetError(
      'INVENTORY',
      `Ansible inventory ${shown}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    )
  }
  const { code, stdout, stderr } = await listInventory(path, shown, o.env ?? process.env)
  if (code !== 0)
    throw new FleetError(
      'INVENTORY',
      `Ansible inventory ${shown}: ansible-inventory failed (exit ${code}): ${condense(stderr) || 'no message'}`,
    )
  let list: unknown
  try {
    list = JSON.parse(stdout)
  } catch (e) {
    throw new FleetError(
      'INVENTORY',
      `Ansible inventory ${shown}: ansible-inventory --list gave no JSON: ${(e as Error).message}`,
    )
  }
  return inventoryMachines(list, shown, dirname(resolve(path)))
}

function listInventory(
  path: string,
  shown: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const ms = toolTimeoutMs()
    const child = spawn('ansible-inventory', ['-i', path, '--list'], {
      env: {
        ...env,
        ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_FORCE_COLOR: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    // a timer of our own: one that outlived a tool that never started would hold the process
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, ms)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      fail(
        e.code === 'ENOENT'
          ? new FleetError(
              'INVENTORY_TOOL',
              `Ansible inventory ${shown}: ansible-inventory is not installed (it reads the inventory as Ansible does): install Ansible (on Debian and Ubuntu: apt-get install ${INVENTORY_PACKAGE}, which provides ansible-inventory; the ansible package depends on it)`,
            )
          : new FleetError(
              'INVENTORY',
              `Ansible inventory ${shown}: ansible-inventory: ${e.message}`,
            ),
      )
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (timedOut)
        fail(
          new FleetError(
            'INVENTORY',
            `Ansible inventory ${shown}: ansible-inventory did not finish within ${describeTimeout(ms)}`,
          ),
        )
      else done({ code: code ?? 1, stdout, stderr })
    })
  })
}

/** ansible-inventory's stderr in one line: its warnings and error, without its line breaks. */
function condense(stderr: string): string {
  return stderr.replace(/\s+/g, ' ').trim().slice(0, 2000)
}

interface GroupEntry {
  hosts?: unknown
  children?: unknown
}

/**
 * The machines of the JSON `ansible-inventory --list` prints (`list`): every host, in the order
 * a walk from `all` meets them (a group's hosts, then its children), as
 *
 * - `ansible_connection: local`: a local directory, `cutover_root` its root (default `/`; a
 *   relative one is relative to `dir`, the inventory's directory);
 * - an OpenSSH connection (`ssh`, the default): `ssh` = `[ansible_user@]ansible_host` (the host's
 *   inventory name without `ansible_host`), `port` = `ansible_port`, `root` = `cutover_root`
 *   (an absolute path on the machine, default `/`). The older `ansible_ssh_host`,
 *   `ansible_ssh_port` and `ansible_ssh_user` are read too.
 *
 * Throws a {@link FleetError} `INVENTORY` naming the host for what cannot be a machine: another
 * connection (winrm, docker…), a value left templated (`{{ … }}`: `--list` does not render them),
 * a name or destination the spec would refuse.
 */
export function inventoryMachines(list: unknown, file: string, dir: string): Inventory {
  const bad = (message: string): never => {
    throw new FleetError('INVENTORY', `Ansible inventory ${file}: ${message}`)
  }
  if (typeof list !== 'object' || list === null) return bad('ansible-inventory gave no mapping')
  const all = list as Record<string, unknown>
  const hostvars = ((all._meta as { hostvars?: unknown } | undefined)?.hostvars ?? {}) as Record<
    string,
    Record<string, unknown>
  >
  // group and host names are the inventory's: `constructor` or `__proto__` is a name like any
  // other, never a property every object inherits
  const own = <T>(o: Record<string, T>, k: string): T | undefined =>
    Object.hasOwn(o, k) ? o[k] : undefined
  const entry = (g: string): GroupEntry => (own(all, g) ?? {}) as GroupEntry
  const names = (v: unknown) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [])
  const groups = new Map<string, string[]>()
  const members = (g: string, seen: Set<string>): string[] => {
    const known = groups.get(g)
    if (known) return known
    if (seen.has(g)) return [] // a cycle of children: Ansible refuses it; never loop here
    seen.add(g)
    const out = [...names(entry(g).hosts)]
    for (const c of names(entry(g).children)) out.push(...members(c, seen))
    const list = [...new Set(out)]
    groups.set(g, list)
    return list
  }
  const order = members('all', new Set())
  for (const g of Object.keys(all)) if (g !== '_meta') members(g, new Set())
  const hosts = [...new Set([...order, ...[...groups.values()].flat(), ...Object.keys(hostvars)])]
  // `all` first, then the groups in the order ansible-inventory gives them (own properties, made
  // as data: a group named __proto__ is one too)
  const ordered = Object.fromEntries([
    ['all', hosts],
    ...Object.keys(all)
      .filter((g) => g !== '_meta' && g !== 'all')
      .map((g) => [g, groups.get(g)!] as const),
  ]) as Record<string, string[]>
  return {
    file,
    machines: hosts.map((h) => hostMachine(h, own(hostvars, h) ?? {}, dir, bad)),
    groups: ordered,
  }
}

function hostMachine(
  name: string,
  vars: Record<string, unknown>,
  dir: string,
  bad: (message: string) => never,
): MachineSpec {
  if (!MACHINE_NAME.test(name))
    bad(
      `host "${name}" cannot be a machine name (letters, digits, _ . -, not starting with - or .): give it such a name and its address in ansible_host`,
    )
  const text = (key: string): string | undefined => {
    const v = vars[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string' && typeof v !== 'number')
      bad(`host "${name}": ${key} is not a single value`)
    const s = String(v)
    if (s.includes('{{') || s.includes('{%'))
      bad(
        `host "${name}": ${key} is a template ("${s}"), which ansible-inventory --list does not render: give the value itself`,
      )
    return s
  }
  const connection = text('ansible_connection') ?? 'ssh'
  const given = text('cutover_root')
  if (
    given !== undefined &&
    (given.split('/').includes('..') || [...given].some((c) => c < ' ' || c === '\u007f'))
  )
    bad(`host "${name}": cutover_root "${given}" has a ".." part or a control character`)
  if (connection === 'local') return { name, root: given === undefined ? '/' : resolve(dir, given) }
  if (!SSH_CONNECTIONS.has(connection))
    bad(
      `host "${name}": ansible_connection ${connection}: cutover reaches a machine over OpenSSH (ssh) or as a local directory (local)`,
    )
  const host = text('ansible_host') ?? text('ansible_ssh_host') ?? name
  const user = text('ansible_user') ?? text('ansible_ssh_user')
  const port = text('ansible_port') ?? text('ansible_ssh_port')
  if (!/^[^\s@-][^\s@]*$/.test(host))
    bad(`host "${name}": ansible_host "${host}" is not a host name or address`)
  if (user !== undefined && !/^[^\s@-][^\s@]*$/.test(user))
    bad(`host "${name}": ansible_user "${user}" is not a user name`)
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    bad(`host "${name}": ansible_port "${port}" is not a TCP port (1-65535)`)
  if (given !== undefined && !isAbsolute(given))
    bad(
      `host "${name}": cutover_root "${given}" is relative: a machine reached over ssh needs the absolute path there`,
    )
  return {
    name,
    ssh: user !== undefined ? `${user}@${host}` : host,
    ...(port !== undefined ? { port: Number(port) } : {}),
    root: given ?? '/',
  }
}
