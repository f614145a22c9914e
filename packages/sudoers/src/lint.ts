import { readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Diagnostic, Range } from '@cutover/rewrite'
import { flattenRule, listAliases } from './canon.js'
import type { Member, SudoersDocument } from './types.js'

/** Options of {@link lintSudoers}. */
export interface LintOptions {
  /**
   * A root holding the machine's files (`/` or a copy): commands and `etc/passwd` / `etc/group`
   * are looked up under it for the writable-command check, which is skipped without it.
   */
  root?: string
  /**
   * Where a path of the machine (`etc/passwd`, `/usr/bin/x`) is under `root`, links followed as
   * a chroot to the root would (undefined: not there, or out of the root). Without it, paths are
   * joined to `root` and links are followed on this machine.
   */
  inRoot?(path: string): string | undefined
}

const GLOB = /[*?[]/
const RELATIVE_ARG = /^\.\.?(\/|$)/

/**
 * Risky but valid sudoers, as warnings: `WILDCARD_ARGS` (a wildcard in a command's arguments
 * allows any arguments), `NOPASSWD_ALL`, `RELATIVE_PATH` (`.`/`..` in a command or a relative
 * argument, resolved against the caller's directory) and `RUNAS_WRITABLE` (a command, or a file
 * given to it, that the user it runs as can change). Ranges index `doc.source`.
 */
export async function lintSudoers(
  doc: SudoersDocument,
  options: LintOptions = {},
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = []
  for (const c of allCommands(doc)) out.push(...commandLint(c, doc.source))
  const cmndAliases = new Map(
    listAliases(doc)
      .filter((a) => a.type === 'Cmnd')
      .map((a) => [a.def.name, a.def.members]),
  )
  const root = options.root
  const at = options.inRoot ?? ((path: string) => join(root!, path))
  const accounts = root ? await readAccounts(at) : undefined
  for (const e of doc.entries) {
    if (e.type !== 'rule') continue
    const flat = flattenRule(e)
    const specs = e.privileges.flatMap((p) => p.cmnds)
    for (const [i, f] of flat.entries()) {
      const spec = specs[i]!
      const expanded = expand(spec.command, cmndAliases, new Set())
      if (f.tags.nopasswd && expanded.some((m) => m.kind === 'all' && !m.negated)) {
        const users = e.users.map((u) => doc.source.slice(u.range.start, u.range.end)).join(', ')
        out.push(
          warn(
            'NOPASSWD_ALL',
            spec.command.range,
            `the rule for ${users}: NOPASSWD with ALL lets these users run any command without a password`,
          ),
        )
      }
      if (!accounts || !options.root) continue
      const targets = (f.runasUsers ?? []).filter(
        (u) => u.startsWith('user:') || u.startsWith('uid:'),
      )
      for (const t of targets) {
        const account = t.startsWith('uid:')
          ? accounts.byUid(Number(t.slice(4)))
          : accounts.byName(t.slice(5))
        if (!account || account.uid === 0) continue
        for (const m of expanded) {
          for (const path of filesOf(m)) {
            const abs = at(path)
            const why = abs === undefined ? undefined : await writableBy(abs, account, path)
            if (why)
              out.push(
                warn(
                  'RUNAS_WRITABLE',
                  spec.command.range,
                  `${why}: ${account.name}, whom this rule runs it as, can change what runs`,
                ),
              )
          }
        }
      }
    }
  }
  return dedupe(out).sort((a, b) => a.range.start - b.range.start)
}

function warn(code: string, range: Range, message: string): Diagnostic {
  return { code, message, range, severity: 'warning' }
}

/** A command and what holds it (`Cmnd_Alias NAME`, `the rule for USERS`), so that a warning says which. */
interface Command {
  m: Member
  subject: string
}

function allCommands(doc: SudoersDocument): Command[] {
  const out: Command[] = []
  for (const e of doc.entries) {
    if (e.type === 'alias' && e.aliasType === 'Cmnd')
      for (const d of e.defs)
        out.push(...d.members.map((m) => ({ m, subject: `${e.keyword} ${d.name}` })))
    if (e.type === 'rule') {
      const users = e.users.map((u) => doc.source.slice(u.range.start, u.range.end)).join(', ')
      for (const p of e.privileges)
        for (const c of p.cmnds) out.push({ m: c.command, subject: `the rule for ${users}` })
    }
  }
  return out.filter((c) => c.m.kind === 'command' && !c.m.negated)
}

/** The range of the argument `arg` (a whole word) inside the command `m`, or the command's range. */
function argRange(m: Member, source: string, arg: string): Range {
  const text = source.slice(m.range.start, m.range.end)
  const at = new RegExp(`(?<=\\s)${arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=\\s|$)`).exec(text)
  return at
    ? { start: m.range.start + at.index, end: m.range.start + at.index + arg.length }
    : m.range
}

function commandLint({ m, subject }: Command, source: string): Diagnostic[] {
  const out: Diagnostic[] = []
  const args = m.args && m.args !== '""' ? m.args.split(' ') : []
  const wild = args.find((a) => !a.startsWith('^') && GLOB.test(a))
  if (wild)
    out.push(
      warn(
        'WILDCARD_ARGS',
        argRange(m, source, wild),
        `${subject}: "${m.value}" allows any arguments where "${wild}" stands: the wildcard also matches spaces, options and other paths`,
      ),
    )
  if (m.path && /(^|\/)\.\.?(\/|$)/.test(m.path))
    out.push(
      warn(
        'RELATIVE_PATH',
        m.range,
        `${subject}: "${m.path}" holds "." or ".." segments: write the path it means`,
      ),
    )
  const rel = args.find((a) => RELATIVE_ARG.test(a))
  if (rel)
    out.push(
      warn(
        'RELATIVE_PATH',
        argRange(m, source, rel),
        `${subject}: argument "${rel}" of "${m.path}" is relative: it resolves against the caller's working directory`,
      ),
    )
  return out
}

function expand(m: Member, aliases: Map<string, Member[]>, seen: Set<string>): Member[] {
  if (m.kind !== 'alias') return [m]
  if (seen.has(m.value)) return []
  seen.add(m.value)
  return (aliases.get(m.value) ?? []).flatMap((x) => expand(x, aliases, seen))
}

/** The command's path and the absolute paths among its arguments (a wrapper runs them too). */
function filesOf(m: Member): string[] {
  if (m.kind !== 'command' || m.negated || !m.path?.startsWith('/')) return []
  const args = m.args ? m.args.split(' ').filter((a) => a.startsWith('/') && !GLOB.test(a)) : []
  return [m.path, ...args]
}

interface Account {
  name: string
  uid: number
  gids: number[]
}
interface Accounts {
  byName(n: string): Account | undefined
  byUid(u: number): Account | undefined
}

async function readAccounts(
  at: (path: string) => string | undefined,
): Promise<Accounts | undefined> {
  const read = (path: string) => {
    const abs = at(path)
    return abs === undefined
      ? Promise.resolve(undefined)
      : readFile(abs, 'utf8').catch(() => undefined)
  }
  const passwd = await read('etc/passwd')
  if (passwd === undefined) return undefined
  const group = (await read('etc/group')) ?? ''
  const accounts: Account[] = []
  for (const line of passwd.split('\n')) {
    const f = line.split(':')
    if (f.length < 4 || line.startsWith('#')) continue
    accounts.push({ name: f[0]!, uid: Number(f[2]), gids: [Number(f[3])] })
  }
  for (const line of group.split('\n')) {
    const f = line.split(':')
    if (f.length < 4) continue
    for (const member of f[3]!.split(','))
      accounts.find((a) => a.name === member.trim())?.gids.push(Number(f[2]))
  }
  return {
    byName: (n) => accounts.find((a) => a.name === n),
    byUid: (u) => accounts.find((a) => a.uid === u),
  }
}

async function writableBy(abs: string, a: Account, shown: string): Promise<string | undefined> {
  const file = await stat(abs).catch(() => undefined)
  if (!file) return undefined
  if (canWrite(file, a)) return `${shown} is writable by ${a.name}`
  const dir = await stat(dirname(abs)).catch(() => undefined)
  if (dir && canWrite(dir, a) && !(dir.mode & 0o1000))
    return `${dirname(shown)}/ is writable by ${a.name}, who can replace ${shown}`
  return undefined
}

function canWrite(s: { uid: number; gid: number; mode: number }, a: Account): boolean {
  if (s.uid === a.uid) return (s.mode & 0o200) !== 0
  if (a.gids.includes(s.gid)) return (s.mode & 0o020) !== 0
  return (s.mode & 0o002) !== 0
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>()
  return ds.filter((d) => {
    const k = `${d.code}@${d.range.start}:${d.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
