import type { Diagnostic } from '@cutover/rewrite'
import { cmndMember, groupMember, hostMember, list, userMember } from './members.js'
import { ParseFail, Reader } from './reader.js'
import type {
  AliasDef,
  AliasEntry,
  AliasType,
  CmndOption,
  CmndSpec,
  DefaultsEntry,
  DefaultsParam,
  Entry,
  Member,
  Privilege,
  Runas,
  RuleEntry,
  SudoersDocument,
  Tag,
} from './types.js'

const INCLUDE = /^[ \t]*([#@]include(?:dir)?)[ \t]+(.*?)[ \t]*\r?$/
const ALIAS_KW = /^(User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias)(?=[ \t]|\\\r?\n)/
const DEFAULTS_KW = /^Defaults(?=[:@>! \t]|\\\r?\n)/
const OPTION =
  /^(CWD|CHROOT|ROLE|TYPE|TIMEOUT|NOTBEFORE|NOTAFTER|APPARMOR_PROFILE|PRIVS|LIMITPRIVS)=/
const TAG =
  /^(NOPASSWD|PASSWD|NOEXEC|EXEC|SETENV|NOSETENV|LOG_INPUT|NOLOG_INPUT|LOG_OUTPUT|NOLOG_OUTPUT|MAIL|NOMAIL|FOLLOW|NOFOLLOW|INTERCEPT|NOINTERCEPT)[ \t]*:/
const PARAM = /^[A-Za-z_][A-Za-z0-9_]*/

type Body =
  | Omit<AliasEntry, keyof BaseFields>
  | Omit<DefaultsEntry, keyof BaseFields>
  | Omit<RuleEntry, keyof BaseFields>
interface BaseFields {
  start: number
  end: number
  contentEnd: number
  raw: string
}

/**
 * Parses a sudoers(5) file into entries that cover the source exactly: `printSudoers(doc)`
 * gives `source` back. Never throws: a line that cannot be parsed is kept as an `unparsed`
 * entry and `doc.errors` says where and why.
 */
export function parseSudoers(source: string): SudoersDocument {
  const entries: Entry[] = []
  const errors: Diagnostic[] = []
  let pos = 0
  while (pos < source.length) {
    const e = parseEntry(source, pos, errors)
    entries.push(e)
    pos = e.end
  }
  return { source, entries, errors, eol: source.includes('\r\n') ? '\r\n' : '\n' }
}

/** The source again, from the entries: the identity on an untouched document. */
export function printSudoers(doc: SudoersDocument): string {
  return doc.entries.map((e) => e.raw).join('')
}

function parseEntry(src: string, start: number, errors: Diagnostic[]): Entry {
  const r = new Reader(src, start)
  r.blanks()
  if (r.atEnd()) {
    const lineEnd = physicalEnd(src, r.pos)
    const inc = INCLUDE.exec(src.slice(start, lineEnd))
    const base = fields(
      src,
      start,
      lineEnd,
      r.peek() === '#' ? trimEnd(src, start, lineEnd) : start,
    )
    if (inc && inc[1]!.startsWith('#'))
      return { ...base, type: 'include', directive: inc[1]!, path: unquote(inc[2]!) }
    return { ...base, type: r.peek() === '#' ? 'comment' : 'blank' }
  }
  const inc = r.peek() === '@' ? INCLUDE.exec(src.slice(start, physicalEnd(src, start))) : null
  if (inc) {
    const lineEnd = physicalEnd(src, start)
    return {
      ...fields(src, start, lineEnd, trimEnd(src, start, lineEnd)),
      type: 'include',
      directive: inc[1]!,
      path: unquote(inc[2]!),
    }
  }
  try {
    const body = parseBody(r)
    const contentEnd = r.pos
    r.blanks()
    if (r.peek() === '#') r.pos = physicalEnd(src, r.pos)
    if (r.peek() === '\r' && r.peek(1) === '\n') r.pos++
    if (r.peek() !== undefined && r.peek() !== '\n') r.fail('SYNTAX', `unexpected ${r.describe()}`)
    return { ...fields(src, start, r.pos, contentEnd), ...body } as Entry
  } catch (e) {
    if (!(e instanceof ParseFail)) throw e
    errors.push({ code: e.code, message: e.message, range: e.range, severity: 'error' })
    const end = logicalEnd(src, e.range.start)
    return { ...fields(src, start, end, trimEnd(src, start, end)), type: 'unparsed' }
  }
}

function fields(src: string, start: number, lineEnd: number, contentEnd: number): BaseFields {
  const end = src[lineEnd] === '\n' ? lineEnd + 1 : lineEnd
  return { start, end, contentEnd, raw: src.slice(start, end) }
}

/** Offset of the next line break at or after `from` (or the end). */
function physicalEnd(src: string, from: number): number {
  const i = src.indexOf('\n', from)
  return i === -1 ? src.length : i
}

/** Offset of the line break ending the logical line holding `from`: continuations are followed. */
function logicalEnd(src: string, from: number): number {
  let i = from
  for (;;) {
    const nl = physicalEnd(src, i)
    const before = src[nl - 1] === '\r' ? nl - 2 : nl - 1
    if (
      nl >= src.length ||
      src[before] !== '\\' ||
      src.lastIndexOf('#', nl) > src.lastIndexOf('\n', nl - 1)
    )
      return nl
    i = nl + 1
  }
}

function trimEnd(src: string, start: number, end: number): number {
  let e = end
  while (e > start && /[ \t\r]/.test(src[e - 1]!)) e--
  return e
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s
}

function parseBody(r: Reader): Body {
  const kw = r.match(ALIAS_KW)
  if (kw) return parseAlias(r, kw[1]!)
  if (r.match(DEFAULTS_KW)) return parseDefaults(r)
  return parseRule(r)
}

function aliasType(keyword: string): AliasType {
  return keyword === 'Cmd_Alias' ? 'Cmnd' : (keyword.slice(0, keyword.indexOf('_')) as AliasType)
}

function parseAlias(r: Reader, keyword: string): Body {
  r.pos += keyword.length
  const type = aliasType(keyword)
  const item =
    type === 'User' || type === 'Runas'
      ? userMember
      : type === 'Host'
        ? hostMember
        : (x: Reader) => cmndMember(x, true)
  const defs: AliasDef[] = []
  r.blanks()
  for (;;) {
    const name = r.name()
    if (!name || name.quoted) r.fail('SYNTAX', `expected an alias name, got ${r.describe()}`)
    r.blanks()
    r.expect('=', `"=" after the alias name ${name.value}`)
    r.blanks()
    const membersStart = r.pos
    const members = list(r, item)
    const last = members[members.length - 1]!
    defs.push({
      name: name.value,
      nameRange: name.range,
      members,
      range: { start: name.range.start, end: last.range.end },
      membersRange: { start: membersStart, end: last.range.end },
    })
    if (!r.separator(':')) break
  }
  return { type: 'alias', aliasType: type, keyword, defs }
}

function parseDefaults(r: Reader): Body {
  r.pos += 'Defaults'.length
  let binding: DefaultsEntry['binding']
  const k = r.peek()
  if (k === ':' || k === '@' || k === '>' || k === '!') {
    r.pos++
    const item =
      k === '@' ? hostMember : k === '!' ? (x: Reader) => cmndMember(x, false) : userMember
    binding = { kind: k, members: list(r, item) }
  }
  if (!r.blanks())
    r.fail('SYNTAX', `expected a blank before the Defaults settings, got ${r.describe()}`)
  const params: DefaultsParam[] = []
  for (;;) {
    params.push(defaultsParam(r))
    if (!r.separator(',')) break
  }
  return { type: 'defaults', ...(binding ? { binding } : {}), params }
}

function defaultsParam(r: Reader): DefaultsParam {
  const start = r.pos
  let negated = false
  while (r.eat('!')) {
    negated = !negated
    r.blanks()
  }
  const m = r.match(PARAM)
  if (!m) r.fail('SYNTAX', `expected a Defaults setting name, got ${r.describe()}`)
  r.pos += m[0].length
  const name = m[0]
  const save = r.pos
  r.blanks()
  const op = r.eat('+=') ? '+=' : r.eat('-=') ? '-=' : r.eat('=') ? '=' : undefined
  if (!op) {
    r.pos = save
    return { name, negated, range: { start, end: r.pos } }
  }
  r.blanks()
  const v = r.defaultsValue()
  if (!v) r.fail('SYNTAX', `expected a value for ${name}, got ${r.describe()}`)
  return { name, negated, op, value: v.value, range: { start, end: v.range.end } }
}

function parseRule(r: Reader): Body {
  const users = list(r, userMember)
  if (!r.blanks()) r.fail('SYNTAX', `expected a blank after the user list, got ${r.describe()}`)
  const privileges: Privilege[] = []
  for (;;) {
    const start = r.pos
    const hosts = list(r, hostMember)
    r.blanks()
    r.expect('=', '"=" after the host list')
    r.blanks()
    const cmnds: CmndSpec[] = [cmndSpec(r)]
    for (;;) {
      if (!r.separator(',')) break
      cmnds.push(cmndSpec(r))
    }
    privileges.push({ hosts, cmnds, range: { start, end: cmnds[cmnds.length - 1]!.range.end } })
    if (!r.separator(':')) break
  }
  return { type: 'rule', users, privileges }
}

function cmndSpec(r: Reader): CmndSpec {
  const start = r.pos
  const runas = r.peek() === '(' ? runasSpec(r) : undefined
  const options: CmndOption[] = []
  for (let m = r.match(OPTION); m; m = r.match(OPTION)) {
    const at = r.pos
    r.pos += m[0].length
    const v = r.defaultsValue()
    if (!v) r.fail('SYNTAX', `expected a value for ${m[1]}=, got ${r.describe()}`)
    options.push({ name: m[1]!, value: v.value, range: { start: at, end: v.range.end } })
    if (!r.blanks()) r.fail('SYNTAX', `expected a blank after ${m[0]}${v.value}`)
  }
  const tags: Tag[] = []
  for (let m = r.match(TAG); m; m = r.match(TAG)) {
    tags.push({ name: m[1]!, range: { start: r.pos, end: r.pos + m[0].length } })
    r.pos += m[0].length
    r.blanks()
  }
  const command = cmndMember(r, true)
  return {
    ...(runas ? { runas } : {}),
    options,
    tags,
    command,
    range: { start, end: command.range.end },
  }
}

function runasSpec(r: Reader): Runas {
  const start = r.pos
  r.pos++
  r.blanks()
  let users: Member[] | undefined
  let groups: Member[] | undefined
  if (r.peek() !== ':' && r.peek() !== ')') users = list(r, userMember)
  r.blanks()
  if (r.eat(':')) {
    r.blanks()
    if (r.peek() !== ')') groups = list(r, groupMember)
    r.blanks()
  }
  r.expect(')', '")" to close the runas list')
  const range = { start, end: r.pos }
  r.blanks()
  return { ...(users ? { users } : {}), ...(groups ? { groups } : {}), range }
}
