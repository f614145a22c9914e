import { CutoverError, type Edit } from '@cutover/rewrite'
import { listAliases, memberKey, ruleKey } from './canon.js'
import { cmndMember, hostMember, userMember } from './members.js'
import { parseSudoers } from './parse.js'
import { ParseFail, Reader } from './reader.js'
import type { AliasEntry, AliasType, Entry, Member, RuleEntry, SudoersDocument } from './types.js'

/** Sudoers text given to an operation (a rule, an alias member) that does not parse. */
export class SudoersSyntaxError extends CutoverError<'SUDOERS_SYNTAX'> {
  /** 0-based offset of the problem in the given text. */
  readonly offset: number
  readonly text: string
  constructor(what: string, text: string, offset: number, message: string) {
    super(
      'SUDOERS_SYNTAX',
      `sudoers: ${what} "${text}" is malformed at column ${offset + 1}: ${message}`,
    )
    this.name = 'SudoersSyntaxError'
    this.offset = offset
    this.text = text
  }
}

/** The keyword that defines an alias of each type. */
export const ALIAS_KEYWORD: Readonly<Record<AliasType, string>> = {
  User: 'User_Alias',
  Runas: 'Runas_Alias',
  Host: 'Host_Alias',
  Cmnd: 'Cmnd_Alias',
}

const ITEM: Record<AliasType, (r: Reader) => Member> = {
  User: userMember,
  Runas: userMember,
  Host: hostMember,
  Cmnd: (r) => cmndMember(r, true),
}

/** Parses one alias member written in sudoers syntax; throws {@link SudoersSyntaxError}. */
export function parseMember(type: AliasType, text: string): Member {
  const r = new Reader(text, 0)
  try {
    r.blanks()
    const m = ITEM[type](r)
    r.blanks()
    if (r.peek() !== undefined) r.fail('SYNTAX', `unexpected ${r.describe()} after the member`)
    return m
  } catch (e) {
    if (e instanceof ParseFail)
      throw new SudoersSyntaxError(`${ALIAS_KEYWORD[type]} member`, text, e.range.start, e.message)
    throw e
  }
}

/** Parses one user specification such as `www-data ALL=(finance) NOPASSWD: FOO`; throws {@link SudoersSyntaxError}. */
export function parseRule(text: string): RuleEntry {
  const doc = parseSudoers(text.trim())
  const err = doc.errors[0]
  if (err) throw new SudoersSyntaxError('rule', text.trim(), err.range.start, err.message)
  const rules = doc.entries.filter((e): e is RuleEntry => e.type === 'rule')
  const other = doc.entries.find((e) => e.type !== 'rule' && e.type !== 'blank')
  if (rules.length !== 1 || other)
    throw new SudoersSyntaxError('rule', text.trim(), 0, 'expected exactly one user specification')
  return rules[0]!
}

/**
 * Defines alias `name` of `type` with `members` (each in sudoers syntax), or redefines it in
 * place when it exists with other members; `[]` when it already has exactly these members.
 * A new alias goes after the last alias of its type (else after any alias, else before the
 * first rule, else at the end). Throws {@link SudoersSyntaxError} for a malformed member.
 */
export function ensureAlias(
  doc: SudoersDocument,
  type: AliasType,
  name: string,
  members: readonly string[],
): Edit[] {
  const wanted = members.map((m) => memberKey(parseMember(type, m)))
  const text = members.map((m) => m.trim()).join(', ')
  const found = listAliases(doc).find((a) => a.type === type && a.def.name === name)
  if (found) {
    const have = found.def.members.map(memberKey)
    if (have.length === wanted.length && have.every((k, i) => k === wanted[i])) return []
    return [
      {
        ...found.def.membersRange,
        text,
        rule: 'sudoers.aliases',
        summary: `redefine ${ALIAS_KEYWORD[type]} ${name}`,
      },
    ]
  }
  return [
    insertLine(
      doc,
      aliasInsertPoint(doc, type),
      `${ALIAS_KEYWORD[type]} ${name} = ${text}`,
      'sudoers.aliases',
      `define ${ALIAS_KEYWORD[type]} ${name}`,
    ),
  ]
}

/** Removes every definition of alias `name` (of `type`, or of any type); `[]` when there is none. */
export function removeAlias(
  doc: SudoersDocument,
  type: AliasType | undefined,
  name: string,
): Edit[] {
  const edits: Edit[] = []
  for (const e of doc.entries) {
    if (e.type !== 'alias' || (type && e.aliasType !== type)) continue
    const hit = e.defs.map((d) => d.name === name)
    if (!hit.includes(true)) continue
    const summary = `remove ${ALIAS_KEYWORD[e.aliasType]} ${name}`
    if (hit.every(Boolean)) {
      edits.push({ start: e.start, end: e.end, text: '', rule: 'sudoers.remove', summary })
      continue
    }
    edits.push(...removeDefs(e, hit, summary))
  }
  return edits
}

function removeDefs(e: AliasEntry, hit: boolean[], summary: string): Edit[] {
  const out: Edit[] = []
  e.defs.forEach((d, i) => {
    if (!hit[i]) return
    // take the separator on the side of a kept neighbour so that the line stays valid
    const next = e.defs[i + 1]
    const prev = e.defs[i - 1]
    if (next && !hit[i + 1])
      out.push({
        start: d.range.start,
        end: next.range.start,
        text: '',
        rule: 'sudoers.remove',
        summary,
      })
    else if (prev)
      out.push({
        start: prev.range.end,
        end: d.range.end,
        text: '',
        rule: 'sudoers.remove',
        summary,
      })
  })
  return mergeAdjacent(out)
}

function mergeAdjacent(edits: Edit[]): Edit[] {
  const out: Edit[] = []
  for (const e of edits.sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1]
    if (last && e.start <= last.end) last.end = Math.max(last.end, e.end)
    else out.push({ ...e })
  }
  return out
}

/**
 * Adds the user specification `text` after the last rule (else after the aliases, else at the
 * end), unless a rule that sudo reads the same way is already there in any formatting
 * (`NOPASSWD:FOO` and `NOPASSWD: FOO` are one rule). Throws {@link SudoersSyntaxError}.
 */
export function ensureRule(doc: SudoersDocument, text: string): Edit[] {
  const key = ruleKey(parseRule(text))
  if (doc.entries.some((e) => e.type === 'rule' && ruleKey(e) === key)) return []
  return [
    insertLine(doc, ruleInsertPoint(doc), text.trim(), 'sudoers.rules', `add rule ${text.trim()}`),
  ]
}

/** Removes every rule that sudo reads as `text`, whole lines; `[]` when there is none. */
export function removeRule(doc: SudoersDocument, text: string): Edit[] {
  const key = ruleKey(parseRule(text))
  return doc.entries
    .filter((e): e is RuleEntry => e.type === 'rule' && ruleKey(e) === key)
    .map((e) => ({
      start: e.start,
      end: e.end,
      text: '',
      rule: 'sudoers.remove',
      summary: `remove rule ${text.trim()}`,
    }))
}

/** Renames host `from` to `to` in rules' host lists, Host_Alias members and `Defaults@` lines. */
export function renameHost(doc: SudoersDocument, from: string, to: string): Edit[] {
  const edits: Edit[] = []
  const visit = (ms: readonly Member[] | undefined) => {
    for (const m of ms ?? []) {
      if ((m.kind === 'host' || m.kind === 'network') && m.value === from)
        edits.push({ ...m.word, text: to, rule: 'sudoers.renameHost', summary: `${from} -> ${to}` })
    }
  }
  for (const e of doc.entries) {
    if (e.type === 'rule') e.privileges.forEach((p) => visit(p.hosts))
    else if (e.type === 'alias' && e.aliasType === 'Host') e.defs.forEach((d) => visit(d.members))
    else if (e.type === 'defaults' && e.binding?.kind === '@') visit(e.binding.members)
  }
  return edits
}

function insertLine(
  doc: SudoersDocument,
  at: number,
  line: string,
  rule: string,
  summary: string,
): Edit {
  const needsBreak = at === doc.source.length && at > 0 && !doc.source.endsWith('\n')
  let prefix = needsBreak ? doc.eol : ''
  // after a backslash continuation the new line would join the one before: a blank line ends it
  if (/\\\r?\n$/.test(doc.source.slice(Math.max(0, at - 3), at) + prefix)) prefix += doc.eol
  return { start: at, end: at, text: `${prefix}${line}${doc.eol}`, rule, summary }
}

function lastEnd(entries: readonly Entry[], pick: (e: Entry) => boolean): number | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (pick(entries[i]!)) return entries[i]!.end
  return undefined
}

function aliasInsertPoint(doc: SudoersDocument, type: AliasType): number {
  const e = doc.entries
  const same = lastEnd(e, (x) => x.type === 'alias' && x.aliasType === type)
  if (same !== undefined) return same
  const any = lastEnd(e, (x) => x.type === 'alias')
  if (any !== undefined) return any
  let i = e.findIndex((x) => x.type === 'rule')
  if (i === -1) return doc.source.length
  // keep the comment lines just above the first rule with it
  while (i > 0 && e[i - 1]!.type === 'comment') i--
  return e[i]!.start
}

function ruleInsertPoint(doc: SudoersDocument): number {
  return (
    lastEnd(doc.entries, (x) => x.type === 'rule') ??
    lastEnd(doc.entries, (x) => x.type === 'alias') ??
    doc.source.length
  )
}
