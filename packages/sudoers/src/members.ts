import { Reader, type Word } from './reader.js'
import type { Digest, Member, MemberKind } from './types.js'

const ALIAS_NAME = /^[A-Z][A-Z0-9_]*$/
const NETWORK = /^[0-9]+(\.[0-9]+){3}(\/[0-9.]+)?$/
const IPV6 = /^(?=[0-9A-Fa-f]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:.]+(\/[0-9]+)?/
const DIGEST = /^(sha224|sha256|sha384|sha512):([A-Za-z0-9+/=_-]+)/
const WORD_END = /^(?:[\s,:#)]|\\\r?\n|$)/

/** Reads `!`s before a member; returns how many and where the first was. */
function negations(r: Reader): { count: number; start: number } {
  const start = r.pos
  let count = 0
  for (;;) {
    if (r.peek() !== '!') break
    r.pos++
    count++
    r.blanks()
  }
  return { count, start }
}

function classifyUser(w: Word): { kind: MemberKind; value: string } {
  const v = w.value
  if (!w.quoted && v === 'ALL') return { kind: 'all', value: 'ALL' }
  if (!w.quoted && ALIAS_NAME.test(v)) return { kind: 'alias', value: v }
  if (v.startsWith('%:#')) return { kind: 'nonunixgid', value: v.slice(3) }
  if (v.startsWith('%:')) return { kind: 'nonunixgroup', value: v.slice(2) }
  if (v.startsWith('%#')) return { kind: 'gid', value: v.slice(2) }
  if (v.startsWith('%')) return { kind: 'group', value: v.slice(1) }
  if (v.startsWith('+')) return { kind: 'netgroup', value: v.slice(1) }
  if (/^#-?[0-9]+$/.test(v)) return { kind: 'uid', value: v.slice(1) }
  return { kind: 'user', value: v }
}

function member(
  kind: MemberKind,
  value: string,
  w: Word,
  neg: { count: number; start: number },
): Member {
  return {
    kind,
    value,
    negated: neg.count % 2 === 1,
    range: { start: neg.count ? neg.start : w.range.start, end: w.range.end },
    word: w.range,
  }
}

function need(r: Reader, w: Word | undefined, what: string): Word {
  if (!w) r.fail('SYNTAX', `expected ${what}, got ${r.describe()}`)
  if (!w.quoted && w.value === '') r.fail('SYNTAX', `expected ${what}`)
  if (w.quoted && w.value === '') r.fail('EMPTY', 'empty string', w.range)
  return w
}

/** A member of a user list or runas user list: user, `%group`, `+netgroup`, `#uid`, alias, `ALL`. */
export function userMember(r: Reader): Member {
  const neg = negations(r)
  const w = need(r, r.name(), 'a user name, %group, +netgroup, #uid, alias or ALL')
  const c = classifyUser(w)
  if (c.value === '' && c.kind !== 'user') r.fail('EMPTY', 'empty group name', w.range)
  return member(c.kind, c.value, w, neg)
}

/** A member of a runas group list: group, `#gid`, alias, `ALL`. */
export function groupMember(r: Reader): Member {
  const neg = negations(r)
  const w = need(r, r.name(), 'a group name, alias or ALL')
  const kind: MemberKind =
    !w.quoted && w.value === 'ALL'
      ? 'all'
      : !w.quoted && ALIAS_NAME.test(w.value)
        ? 'alias'
        : 'group'
  return member(kind, w.value, w, neg)
}

/** A member of a host list: host name, network address, `+netgroup`, alias, `ALL`. */
export function hostMember(r: Reader): Member {
  const neg = negations(r)
  const v6 = r.match(IPV6)
  if (v6 && WORD_END.test(r.src.slice(r.pos + v6[0].length, r.pos + v6[0].length + 3))) {
    const w: Word = {
      value: v6[0],
      range: { start: r.pos, end: r.pos + v6[0].length },
      quoted: false,
    }
    r.pos = w.range.end
    return member('network', w.value, w, neg)
  }
  const w = need(r, r.name(), 'a host name, network address, +netgroup, alias or ALL')
  const v = w.value
  if (!w.quoted && v === 'ALL') return member('all', 'ALL', w, neg)
  if (!w.quoted && ALIAS_NAME.test(v)) return member('alias', v, w, neg)
  if (v.startsWith('+')) return member('netgroup', v.slice(1), w, neg)
  return member(NETWORK.test(v) ? 'network' : 'host', v, w, neg)
}

function digests(r: Reader): Digest[] {
  const out: Digest[] = []
  for (;;) {
    const m = r.match(DIGEST)
    if (!m) break
    out.push({
      algorithm: m[1] as Digest['algorithm'],
      value: m[2]!,
      range: { start: r.pos, end: r.pos + m[0].length },
    })
    r.pos += m[0].length
    r.blanks()
    if (r.eat(',')) r.blanks()
  }
  return out
}

/**
 * A command: `ALL`, an alias, or a path (absolute, `sudoedit`, `list`, `^regex$`) with
 * arguments when `withArgs`; optionally negated and preceded by digests.
 */
export function cmndMember(r: Reader, withArgs: boolean): Member {
  const neg = negations(r)
  const start = r.pos
  const ds = digests(r)
  const neg2 = negations(r)
  const negAll = { count: neg.count + neg2.count, start: neg.count ? neg.start : neg2.start }
  const head = r.match(/^[A-Z][A-Z0-9_]*/)
  if (head && WORD_END.test(r.src.slice(r.pos + head[0].length, r.pos + head[0].length + 3))) {
    const w: Word = {
      value: head[0],
      range: { start: r.pos, end: r.pos + head[0].length },
      quoted: false,
    }
    r.pos = w.range.end
    if (ds.length && w.value !== 'ALL') r.fail('DIGEST', 'a digest requires a path name', w.range)
    const m = member(w.value === 'ALL' ? 'all' : 'alias', w.value, w, negAll)
    return withDigests(m, ds, start)
  }
  const w = need(r, r.cmndWord(), 'a command (a full path, sudoedit, an alias or ALL)')
  const path = w.value
  if (!(path.startsWith('/') || path.startsWith('^') || path === 'sudoedit' || path === 'list')) {
    r.fail('RELATIVE_PATH', `expected a fully-qualified path name, got "${path}"`, w.range)
  }
  const args: string[] = []
  let end = w.range.end
  while (withArgs) {
    const save = r.pos
    if (!r.blanks() || r.atEnd() || r.peek() === ',' || r.peek() === ':') {
      r.pos = save
      break
    }
    const a = r.peek() === '"' && r.peek(1) === '"' ? takeEmpty(r) : r.cmndWord()
    if (!a) {
      r.pos = save
      break
    }
    args.push(a.value)
    end = a.range.end
  }
  const m = member(
    'command',
    args.length ? `${path} ${args.join(' ')}` : path,
    { ...w, range: { start: w.range.start, end } },
    negAll,
  )
  m.path = path
  if (args.length) m.args = args.join(' ')
  return withDigests(m, ds, start)
}

function takeEmpty(r: Reader): Word {
  const w: Word = { value: '""', range: { start: r.pos, end: r.pos + 2 }, quoted: true }
  r.pos += 2
  return w
}

function withDigests(m: Member, ds: Digest[], start: number): Member {
  if (!ds.length) return m
  return { ...m, digests: ds, range: { start: Math.min(start, m.range.start), end: m.range.end } }
}

/** A comma-separated list; blanks may surround the commas. */
export function list(r: Reader, item: (r: Reader) => Member): Member[] {
  const out = [item(r)]
  for (;;) {
    if (!r.separator(',')) return out
    out.push(item(r))
  }
}
