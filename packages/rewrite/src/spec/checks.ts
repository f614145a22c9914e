import { commonKeys, onMachines } from '../step/step.js'
import { isScalar } from 'yaml'
import {
  array,
  boolean,
  expectedError,
  integer,
  mapPairs,
  object,
  refine,
  string,
  type Infer,
  type Schema,
} from './schema.js'

/**
 * One entry of `checks:` (goss's names, so that a goss file's `addr` and `command` checks port):
 * a TCP connection made from each machine it runs `on`, or a command run there.
 */
export type SpecCheck = TcpCheck | CommandCheck

/** `- { addr: "tcp://HOST:PORT", reachable: true, timeout: 500 }`: can the machine connect there. */
export interface TcpCheck {
  kind: 'addr'
  /** As written: `tcp://db.example.net:5432`. */
  addr: string
  host: string
  port: number
  /** Whether the connection must succeed (`true`, the default) or fail (`false`: a closed port). */
  reachable: boolean
  /** Milliseconds (default 500, as goss). */
  timeout: number
  on?: string[]
  profiles?: string[]
}

/** `- { command: "…", exit-status: 0, timeout: 10000 }`: the command's exit status on the machine. */
export interface CommandCheck {
  kind: 'command'
  /** Run by the machine's `/bin/sh -c`. */
  command: string
  /** The exit status expected (default 0). */
  exitStatus: number
  /** Milliseconds (default 10000, as goss). */
  timeout: number
  on?: string[]
  profiles?: string[]
}

// a host never starts with `-`: the probe's `nc` would read it as an option
const TCP = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*):(\d{1,5})$/

const addr = string({
  describe: 'tcp://HOST:PORT',
  check: (v) => {
    const m = TCP.exec(v)
    if (!m)
      return /^(udp|unix):/.test(v)
        ? `"${v}": only tcp:// addresses are checked (a connection made from the machine)`
        : `expected tcp://HOST:PORT (goss's addr), got "${v}"`
    const port = Number(m[2])
    return port >= 1 && port <= 65535 ? undefined : `port ${m[2]} of "${v}" is not 1-65535`
  },
})

const timeout = refine(integer('a timeout in milliseconds'), (v) =>
  v >= 1 && v <= 3_600_000 ? undefined : `a timeout is 1 to 3600000 milliseconds, got ${v}`,
)

const tcpShape = object(
  {
    addr,
    reachable: boolean(),
    timeout,
    on: onMachines,
    profiles: commonKeys.profiles,
  },
  {
    required: ['addr'],
    describe: 'a mapping { addr: tcp://HOST:PORT, reachable?, timeout?, on? }',
  },
)

const commandShape = object(
  {
    command: string({ describe: 'a shell command', pattern: /\S/ }),
    'exit-status': integer('an exit status (0-255)'),
    timeout,
    on: onMachines,
    profiles: commonKeys.profiles,
  },
  {
    required: ['command'],
    describe: 'a mapping { command: TEXT, exit-status?, timeout?, on? }',
  },
)

/** The schema of `checks:`: each entry an `addr` or a `command` check. */
export const checksShape: Schema<SpecCheck[]> = (() => {
  const expected = 'a check: { addr: tcp://HOST:PORT, … } or { command: TEXT, … }'
  // the key it has says which check an entry is: its errors are that check's
  const entry: Schema<Infer<typeof tcpShape> | Infer<typeof commandShape>> = {
    expected,
    parse(node, ctx, at) {
      const keys = (mapPairs(node, ctx) ?? []).map((p) =>
        isScalar(p.key) ? p.key.value : undefined,
      )
      if (keys.includes('addr')) return tcpShape.parse(node, ctx, at)
      if (keys.includes('command')) return commandShape.parse(node, ctx, at)
      return expectedError(ctx, node, at, expected, keys.length ? 'SPEC_MISSING_KEY' : 'SPEC_TYPE')
    },
    json: () => ({ oneOf: [tcpShape.json(), commandShape.json()] }),
  }
  const list = array(entry, { describe: 'a list of checks ({ addr } or { command })' })
  return {
    expected: list.expected,
    parse(node, ctx, at) {
      const items = list.parse(node, ctx, at)
      return items?.map((c): SpecCheck => {
        const rest = {
          ...(c.on ? { on: c.on } : {}),
          ...(c.profiles ? { profiles: c.profiles } : {}),
        }
        if ('addr' in c) {
          const m = TCP.exec(c.addr)!
          return {
            kind: 'addr',
            addr: c.addr,
            host: m[1]!.replace(/^\[|\]$/g, ''),
            port: Number(m[2]),
            reachable: c.reachable ?? true,
            timeout: c.timeout ?? 500,
            ...rest,
          }
        }
        return {
          kind: 'command',
          command: c.command,
          exitStatus: c['exit-status'] ?? 0,
          timeout: c.timeout ?? 10_000,
          ...rest,
        }
      })
    },
    json: list.json,
  }
})()
