import type { FlatCommand } from '../src/index.js'

type JMember = Record<string, string | number | boolean>

/** A cvtsudoers JSON member as the key `memberKey` gives for the same member. */
export function jsonMemberKey(m: JMember, list: 'users' | 'groups' | 'hosts' | 'cmnds'): string {
  let key = ''
  const neg = m.negated === true ? '!' : ''
  const digests: string[] = []
  for (const [k, v] of Object.entries(m)) {
    if (k === 'negated') continue
    if (/^sha(224|256|384|512)$/.test(k)) {
      digests.push(`[${k}=${v}]`)
      continue
    }
    const s = String(v)
    if (s === 'ALL' && ['username', 'hostname', 'command', 'usergroup'].includes(k)) key = 'all'
    else if (k === 'username') key = s === '' ? 'myself' : `user:${s}`
    else if (k === 'usergroup') key = `group:${s}`
    else if (k === 'userid') key = `uid:${s}`
    else if (k === 'usergid') key = `gid:${s}`
    else if (k === 'nonunixgroup' || k === 'nonunixgid' || k === 'netgroup') key = `${k}:${s}`
    else if (k.endsWith('alias')) key = `alias:${s}`
    else if (k === 'hostname') key = `host:${s}`
    else if (k === 'networkaddr') key = `network:${s}`
    else if (k === 'command') key = `command:${s}`
    else key = `${k}:${s}`
  }
  void list
  return neg + key + digests.sort().join('')
}

const JSON_TAGS: Record<string, [string, (v: boolean) => boolean]> = {
  authenticate: ['nopasswd', (v) => !v],
  noexec: ['noexec', (v) => v],
  setenv: ['setenv', (v) => v],
  log_input: ['log_input', (v) => v],
  log_output: ['log_output', (v) => v],
  send_mail: ['send_mail', (v) => v],
  sudoedit_follow: ['follow', (v) => v],
  intercept: ['intercept', (v) => v],
}
const JSON_OPTIONS: Record<string, string> = {
  command_timeout: 'TIMEOUT',
  notbefore: 'NOTBEFORE',
  notafter: 'NOTAFTER',
  runcwd: 'CWD',
  runchroot: 'CHROOT',
}

/** Options whose value sudo converts (seconds, normalised times): compared by presence only. */
export const CONVERTED = new Set(['TIMEOUT', 'NOTBEFORE', 'NOTAFTER'])

interface JSpec {
  User_List: JMember[]
  Host_List: JMember[]
  Cmnd_Specs: Array<Record<string, unknown>>
}

/** cvtsudoers' User_Specs as flat commands, in order. */
export function jsonFlat(doc: Record<string, unknown>): FlatCommand[] {
  const out: FlatCommand[] = []
  for (const spec of (doc.User_Specs ?? []) as JSpec[]) {
    const users = spec.User_List.map((m) => jsonMemberKey(m, 'users'))
    const hosts = spec.Host_List.map((m) => jsonMemberKey(m, 'hosts'))
    for (const cs of spec.Cmnd_Specs) {
      const tags: Record<string, boolean> = {}
      const options: Record<string, string> = {}
      for (const o of (cs.Options ?? []) as Array<Record<string, unknown>>) {
        for (const [k, v] of Object.entries(o)) {
          const t = JSON_TAGS[k]
          if (t) tags[t[0]] = t[1](v as boolean)
          else options[JSON_OPTIONS[k] ?? k.toUpperCase()] = String(v)
        }
      }
      for (const o of (cs.SELinux_Spec ?? []) as Array<Record<string, unknown>>)
        for (const [k, v] of Object.entries(o)) options[k.toUpperCase()] = String(v)
      for (const c of (cs.Commands ?? []) as JMember[]) {
        const flat: FlatCommand = {
          users,
          hosts,
          tags: sortKeys(tags),
          options: sortKeys(options),
          command: jsonMemberKey(c, 'cmnds'),
        }
        if (cs.runasusers)
          flat.runasUsers = (cs.runasusers as JMember[]).map((m) => jsonMemberKey(m, 'users'))
        if (cs.runasgroups)
          flat.runasGroups = (cs.runasgroups as JMember[]).map((m) => jsonMemberKey(m, 'groups'))
        out.push(flat)
      }
    }
  }
  return out
}

const ALIAS_KEYS: Record<string, string> = {
  User_Aliases: 'User',
  Runas_Aliases: 'Runas',
  Host_Aliases: 'Host',
  Command_Aliases: 'Cmnd',
}

/** cvtsudoers' aliases as `type → name → member keys`. */
export function jsonAliases(
  doc: Record<string, unknown>,
): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {}
  for (const [k, type] of Object.entries(ALIAS_KEYS)) {
    const group = (doc[k] ?? {}) as Record<string, JMember[]>
    for (const [name, members] of Object.entries(group)) {
      ;(out[type] ??= {})[name] = members.map((m) =>
        jsonMemberKey(m, type === 'Cmnd' ? 'cmnds' : type === 'Host' ? 'hosts' : 'users'),
      )
    }
  }
  return out
}

/**
 * Blanks converted option values so that presence alone is compared. NOTAFTER is left out:
 * cvtsudoers 1.9.13 groups commands that differ only in it and prints the first one's.
 */
export function presenceOnly(flat: FlatCommand[]): FlatCommand[] {
  return flat.map((f) => ({
    ...f,
    options: Object.fromEntries(
      Object.entries(f.options)
        .filter(([k]) => k !== 'NOTAFTER')
        .map(([k, v]) => [k, CONVERTED.has(k) ? '*' : v]),
    ),
  }))
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))
}
