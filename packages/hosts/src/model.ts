import { HostsError } from './errors.js'
import { addressFamily, sameAddress, type AddressFamily } from './address.js'
import { lineOf, spanText, type HostsDocument, type HostsLine, type Span } from './parse.js'
import type { NamedHit } from './locate.js'
import { ENTRY, foldName } from './table.js'

/** A change of one token's text, and the rule that asks for it. */
export interface Rewrite {
  text: string
  rule: string
  once?: string
}

/** One name of an entry as the plan sees it. */
export interface NameModel {
  span: Span
  /** The name after renames. */
  text: string
  lower: string
  renamed?: Rewrite
  /** Set when the name leaves this line; the rule that removes it. */
  removed?: string
  /** The address the name must end up at, when a rule says so. */
  dest?: string
  /** The ensured name this one goes with (itself, or the name it is the short form of). */
  leader?: string
}

/** An entry line that some rule concerns. */
export interface LineModel {
  line: HostsLine
  /** The address before any rule. */
  original: string
  /** The address after `readdress`. */
  address: string
  readdressed?: Rewrite
  family: AddressFamily
  names: NameModel[]
}

/** Hooks and names that decide which lines are worth a model. */
export interface ModelOptions {
  interest: ReadonlySet<string>
  rename?: (name: string) => Rewrite | undefined
  readdress?: (address: string) => Rewrite | undefined
}

/**
 * Models of the entry lines that a rule concerns: a name of `interest` (lower case), a rename or
 * an address rewrite. `hits` are the names of `interest` in the document ({@link namedIn}):
 * without renames or address rewrites only their lines are looked at, so a 200,000-line file
 * stays cheap; with them, every entry is.
 */
export function buildModels(
  doc: HostsDocument,
  o: ModelOptions,
  hits: readonly NamedHit[],
): LineModel[] {
  if (!o.rename && !o.readdress) {
    const out: LineModel[] = []
    for (let k = 0; k < hits.length; k++) {
      const line = hits[k]!.line
      if (k > 0 && hits[k - 1]!.line.start === line.start) continue
      const model = modelOf(doc, line, o, undefined)
      if (model) out.push(model)
    }
    return out
  }
  const lengths = new Set<number>()
  for (const n of o.interest) lengths.add(n.length)
  const { text, table: t } = doc
  const out: LineModel[] = []
  for (let i = 0; i < t.count; i++) {
    if (t.kind[i] !== ENTRY) continue
    const readdressed = o.readdress?.(text.slice(t.addrStart[i]!, t.addrEnd[i]!))
    let hit = readdressed !== undefined || o.rename !== undefined
    for (let k = t.nameFirst[i]!; !hit && k < t.nameFirst[i + 1]!; k++) {
      const s = t.tokens[k * 2]!
      const e = t.tokens[k * 2 + 1]!
      hit = lengths.has(e - s) && o.interest.has(foldName(text.slice(s, e)))
    }
    if (!hit) continue
    const model = modelOf(doc, lineOf(doc, i), o, readdressed)
    if (model) out.push(model)
  }
  return out
}

function modelOf(
  doc: HostsDocument,
  line: HostsLine,
  o: ModelOptions,
  readdressed: Rewrite | undefined,
): LineModel | undefined {
  let hit = readdressed !== undefined
  const names: NameModel[] = []
  for (const span of line.names) {
    const raw = spanText(doc, span)
    const renamed = o.rename?.(raw)
    const text = renamed?.text ?? raw
    const lower = foldName(text)
    if (renamed || o.interest.has(lower)) hit = true
    names.push({ span, text, lower, ...(renamed ? { renamed } : {}) })
  }
  if (!hit) return undefined
  const original = spanText(doc, line.address!)
  const address = readdressed?.text ?? original
  const family = readdressed ? addressFamily(address) : line.family
  if (!family)
    throw new HostsError(
      'BAD_ADDRESS',
      `rule "${readdressed!.rule}" would write "${address}" where hosts(5) needs an address (${original})`,
    )
  return { line, original, address, family, names, ...(readdressed ? { readdressed } : {}) }
}

/** The first label of a dotted name (`finance` of `finance.example.net`), or undefined for a bare name. */
export function shortName(lower: string): string | undefined {
  const dot = lower.indexOf('.')
  return dot > 0 ? lower.slice(0, dot) : undefined
}

/**
 * Decides where the names of one line go once each name has its `dest`: names that stay keep the
 * line; when no name stays, the group of the first name keeps it and the line's address changes.
 * Returns the line's final address and marks every name that must leave (to be appended).
 */
export function settleLine(m: LineModel): { address: string; leaving: NameModel[] } {
  const live = m.names.filter((n) => !n.removed)
  const staysHere = (n: NameModel) => n.dest === undefined || sameAddress(n.dest, m.address)
  const anchor = live.find(staysHere) ?? live[0]
  if (!anchor) return { address: m.address, leaving: [] }
  const address = staysHere(anchor) ? m.address : anchor.dest!
  const leaving: NameModel[] = []
  for (const n of live) {
    if (n.dest === undefined || sameAddress(n.dest, address)) continue
    n.removed = 'hosts.ensure'
    leaving.push(n)
  }
  return { address, leaving }
}
