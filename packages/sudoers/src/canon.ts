import type {
  AliasDef,
  AliasEntry,
  AliasType,
  CmndSpec,
  Member,
  RuleEntry,
  SudoersDocument,
} from './types.js'

/**
 * One command of a rule with everything sudo attaches to it: the rule's users and hosts, and
 * the runas list, tags and options written before it or inherited from the commands before
 * it in the same `hosts = …` list (sudo's rules; `ALL` implies `SETENV` unless a tag says
 * otherwise, and that implied tag is not inherited).
 */
export interface FlatCommand {
  users: string[]
  hosts: string[]
  runasUsers?: string[]
  runasGroups?: string[]
  /** `nopasswd`, `noexec`, `setenv`, `log_input`, `log_output`, `send_mail`, `follow`, `intercept`. */
  tags: Record<string, boolean>
  /** `CWD`, `CHROOT`, `ROLE`, `TYPE`, `TIMEOUT`, `NOTBEFORE`, `NOTAFTER`, … as written. */
  options: Record<string, string>
  command: string
}

const TAGS: Record<string, [string, boolean]> = {
  NOPASSWD: ['nopasswd', true],
  PASSWD: ['nopasswd', false],
  NOEXEC: ['noexec', true],
  EXEC: ['noexec', false],
  SETENV: ['setenv', true],
  NOSETENV: ['setenv', false],
  LOG_INPUT: ['log_input', true],
  NOLOG_INPUT: ['log_input', false],
  LOG_OUTPUT: ['log_output', true],
  NOLOG_OUTPUT: ['log_output', false],
  MAIL: ['send_mail', true],
  NOMAIL: ['send_mail', false],
  FOLLOW: ['follow', true],
  NOFOLLOW: ['follow', false],
  INTERCEPT: ['intercept', true],
  NOINTERCEPT: ['intercept', false],
}

/** Options sudo inherits one by one, and the pairs it inherits together. */
const SINGLE = ['TIMEOUT', 'NOTBEFORE', 'NOTAFTER', 'CWD', 'CHROOT', 'APPARMOR_PROFILE']
const PAIRS = [
  ['ROLE', 'TYPE'],
  ['PRIVS', 'LIMITPRIVS'],
] as const

/**
 * A member as a comparable string: `user:root`, `group:wheel`, `alias:FOO`, `all`,
 * `command:/bin/ls -l`, with `!` for negation and `[sha256=…]` for digests.
 */
export function memberKey(m: Member): string {
  const base = m.kind === 'all' ? 'all' : `${m.kind}:${m.value}`
  const digests = new Map<string, string>()
  for (const d of m.digests ?? []) digests.set(d.algorithm, d.value)
  const ds = [...digests]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([a, v]) => `[${a}=${v}]`)
    .join('')
  return `${m.negated ? '!' : ''}${base}${ds}`
}

/** The commands of one rule, each with what sudo attaches to it. */
export function flattenRule(rule: RuleEntry): FlatCommand[] {
  const users = rule.users.map(memberKey)
  const out: FlatCommand[] = []
  for (const p of rule.privileges) {
    const hosts = p.hosts.map(memberKey)
    let prev: FlatCommand | undefined
    let prevImplied = false
    for (const c of p.cmnds) {
      const flat = flatten(c, users, hosts, prev, prevImplied)
      prevImplied = flat.implied
      prev = flat.cmd
      out.push(flat.cmd)
    }
  }
  return out
}

function flatten(
  c: CmndSpec,
  users: string[],
  hosts: string[],
  prev: FlatCommand | undefined,
  prevImplied: boolean,
): { cmd: FlatCommand; implied: boolean } {
  const tags: Record<string, boolean> = {}
  for (const t of c.tags) {
    const [k, v] = TAGS[t.name]!
    tags[k] = v
  }
  // sudo marks ALL as SETENV before inheriting, and never passes that implied tag on
  const implied = c.command.kind === 'all' && !c.command.negated && !('setenv' in tags)
  if (implied) tags.setenv = true
  for (const [k, v] of Object.entries(prev?.tags ?? {})) {
    if (!(k in tags) && !(k === 'setenv' && prevImplied)) tags[k] = v
  }
  const own: Record<string, string> = {}
  for (const o of c.options) own[o.name] = o.value
  const options: Record<string, string> = { ...own }
  for (const k of SINGLE)
    if (!(k in options) && prev?.options[k] !== undefined) options[k] = prev.options[k]
  for (const [a, b] of PAIRS) {
    if (!(a in own) && !(b in own)) {
      if (prev?.options[a] !== undefined) options[a] = prev.options[a]
      if (prev?.options[b] !== undefined) options[b] = prev.options[b]
    }
  }
  const cmd: FlatCommand = {
    users,
    hosts,
    tags: sortKeys(tags),
    options: sortKeys(options),
    command: memberKey(c.command),
  }
  if (c.runas) {
    if (!c.runas.users && !c.runas.groups) cmd.runasUsers = ['myself']
    if (c.runas.users) cmd.runasUsers = c.runas.users.map(memberKey)
    if (c.runas.groups) cmd.runasGroups = c.runas.groups.map(memberKey)
  } else if (prev && (prev.runasUsers || prev.runasGroups)) {
    if (prev.runasUsers) cmd.runasUsers = prev.runasUsers
    if (prev.runasGroups) cmd.runasGroups = prev.runasGroups
  }
  return { cmd, implied }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))
}

/** Every rule of a document, flattened, in file order. */
export function flattenRules(doc: SudoersDocument): FlatCommand[] {
  return doc.entries.flatMap((e) => (e.type === 'rule' ? flattenRule(e) : []))
}

/** A string that two rules share exactly when sudo reads them the same way. */
export function ruleKey(rule: RuleEntry): string {
  return JSON.stringify(flattenRule(rule))
}

/** Every alias definition of a document with its type, in file order. */
export function listAliases(
  doc: SudoersDocument,
): Array<{ type: AliasType; def: AliasDef; entry: AliasEntry }> {
  return doc.entries.flatMap((e) =>
    e.type === 'alias' ? e.defs.map((def) => ({ type: e.aliasType, def, entry: e })) : [],
  )
}
