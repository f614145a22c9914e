import type { Diagnostic } from '@cutover/rewrite'
import { listAliases } from './canon.js'
import type { AliasType, Member, SudoersDocument } from './types.js'

const ALIAS_NAME = /^[A-Z][A-Z0-9_]*$/

/** Options of {@link checkSudoers}. */
export interface CheckOptions {
  /** Alias names defined elsewhere (the main sudoers file): not reported as undefined. */
  external?: Partial<Record<AliasType, readonly string[]>>
}

interface Ref {
  type: AliasType
  member: Member
  from?: string
}

/**
 * The package's own checks of a parsed document, beyond its syntax: `DUPLICATE_ALIAS`,
 * `BAD_ALIAS_NAME` (alias names are upper case), `UNDEFINED_ALIAS` and `ALIAS_CYCLE`.
 * Each diagnostic has severity `error` and a range into `doc.source`.
 */
export function checkSudoers(doc: SudoersDocument, options: CheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = []
  const defined = new Map<string, string[]>()
  for (const { type, def } of listAliases(doc)) {
    const key = `${type}:${def.name}`
    if (!ALIAS_NAME.test(def.name) || def.name === 'ALL') {
      out.push({
        code: 'BAD_ALIAS_NAME',
        severity: 'error',
        range: def.nameRange,
        message: `alias names are upper case (A-Z, 0-9, _), got "${def.name}"`,
      })
    }
    if (defined.has(key)) {
      out.push({
        code: 'DUPLICATE_ALIAS',
        severity: 'error',
        range: def.nameRange,
        message: `${type}_Alias "${def.name}" is already defined`,
      })
      continue
    }
    defined.set(
      key,
      def.members.filter((m) => m.kind === 'alias').map((m) => m.value),
    )
  }
  for (const ref of references(doc)) {
    const ext = options.external?.[ref.type] ?? []
    if (!defined.has(`${ref.type}:${ref.member.value}`) && !ext.includes(ref.member.value)) {
      out.push({
        code: 'UNDEFINED_ALIAS',
        severity: 'error',
        range: ref.member.word,
        message: `${ref.type}_Alias "${ref.member.value}" is used but not defined`,
      })
    }
  }
  out.push(...cycles(doc, defined))
  return out.sort((a, b) => a.range.start - b.range.start)
}

function references(doc: SudoersDocument): Ref[] {
  const refs: Ref[] = []
  const add = (type: AliasType, ms: readonly Member[] | undefined) => {
    for (const m of ms ?? []) if (m.kind === 'alias') refs.push({ type, member: m })
  }
  for (const e of doc.entries) {
    if (e.type === 'alias') for (const d of e.defs) add(e.aliasType, d.members)
    if (e.type === 'defaults' && e.binding) {
      const k = e.binding.kind
      add(k === ':' ? 'User' : k === '@' ? 'Host' : k === '>' ? 'Runas' : 'Cmnd', e.binding.members)
    }
    if (e.type !== 'rule') continue
    add('User', e.users)
    for (const p of e.privileges) {
      add('Host', p.hosts)
      for (const c of p.cmnds) {
        add('Runas', c.runas?.users)
        add('Runas', c.runas?.groups)
        add('Cmnd', [c.command])
      }
    }
  }
  return refs
}

function cycles(doc: SudoersDocument, defined: Map<string, string[]>): Diagnostic[] {
  const out: Diagnostic[] = []
  const reported = new Set<string>()
  for (const { type, def } of listAliases(doc)) {
    const start = `${type}:${def.name}`
    if (reported.has(start)) continue
    const path = findCycle(start, type, defined, [])
    if (!path) continue
    for (const p of path) reported.add(p)
    out.push({
      code: 'ALIAS_CYCLE',
      severity: 'error',
      range: def.nameRange,
      message: `${type}_Alias "${def.name}" refers to itself: ${path.map((p) => p.slice(p.indexOf(':') + 1)).join(' -> ')}`,
    })
  }
  return out
}

function findCycle(
  node: string,
  type: AliasType,
  defined: Map<string, string[]>,
  stack: string[],
): string[] | undefined {
  if (stack.includes(node)) return stack[0] === node ? [...stack, node] : undefined
  for (const next of defined.get(node) ?? []) {
    const found = findCycle(`${type}:${next}`, type, defined, [...stack, node])
    if (found) return found
  }
  return undefined
}
