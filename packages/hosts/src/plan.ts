import { applyEdits, type Diagnostic, type Edit } from '@cutover/rewrite'
import { HostsError } from './errors.js'
import { addressFamily, sameAddress, type AddressFamily } from './address.js'
import { appendEdit, lineEdits, mergeDeletions } from './emit.js'
import {
  buildModels,
  settleLine,
  shortName,
  type LineModel,
  type NameModel,
  type Rewrite,
} from './model.js'
import { parseHosts, type HostsDocument } from './parse.js'
import { conflictsOf, namedIn } from './resolve.js'
import { foldName } from './table.js'
import { verifyPlan } from './verify.js'

/** A name that must resolve to an address. */
export interface EnsureRequest {
  name: string
  address: string
}

/** Everything one plan does to a hosts file; all edits are computed against the same text. */
export interface HostsIntent {
  /** Names that must resolve (first match) to these addresses, and only to them in their family. */
  ensure?: readonly EnsureRequest[]
  /** Names to take out of every entry (an entry left without names is deleted). */
  remove?: readonly string[]
  /** A new text for a name (whole token), or undefined to keep it. */
  rename?: (name: string) => Rewrite | undefined
  /** A new text for an address (whole token), or undefined to keep it. */
  readdress?: (address: string) => Rewrite | undefined
  /** The comment line that opens the block new entries are appended to (default `# cutover`). */
  marker?: string
}

/** Edits (against the document's text) and what a reviewer should know. */
export interface HostsPlan {
  edits: Edit[]
  diagnostics: Diagnostic[]
}

/** The default comment line above appended entries. */
export const DEFAULT_MARKER = '# cutover'

interface Target {
  name: string
  lower: string
  address: string
  family: AddressFamily
}

function targets(ensure: readonly EnsureRequest[]): Map<string, Target> {
  const out = new Map<string, Target>()
  for (const e of ensure) {
    checkName(e.name)
    const family = addressFamily(e.address)
    if (!family)
      throw new HostsError(
        'BAD_ADDRESS',
        `cannot ensure "${e.name}": "${e.address}" is not an IPv4 or IPv6 address`,
      )
    const lower = foldName(e.name)
    const prior = out.get(lower)
    if (prior && !sameAddress(prior.address, e.address)) {
      throw new HostsError(
        'RULE_CONFLICT',
        `"${e.name}" is ensured at both ${prior.address} and ${e.address}`,
      )
    }
    out.set(lower, { name: e.name, lower, address: e.address, family })
  }
  return out
}

/** Throws a `BAD_NAME` HostsError for a name that cannot stand in a hosts file. */
export function checkName(name: string): void {
  if (!/^[^\s#]+$/.test(name))
    throw new HostsError(
      'BAD_NAME',
      `"${name}" cannot be a host name in a hosts file (empty, blank or "#")`,
    )
}

/**
 * Plans `intent` on a document: renames and address rewrites first, then removals, then every
 * ensured name. An ensured name's first entry of its family is changed in place when every name
 * on it goes to the same address; otherwise the name (with its short form, `finance` for
 * `finance.example.net`) is split off and appended to the marked block at the end, created on
 * first use in the file's line-break style. Later entries giving it another address lose it.
 * Idempotent: planning what is already so gives no edit. Throws `BAD_ADDRESS`/`BAD_NAME`/
 * `RULE_CONFLICT` HostsErrors for a bad intent; never for a bad document.
 */
export function planHosts(doc: HostsDocument, intent: HostsIntent): HostsPlan {
  const wanted = targets(intent.ensure ?? [])
  const removed = new Set((intent.remove ?? []).map((n) => (checkName(n), foldName(n))))
  for (const r of removed)
    if (wanted.has(r)) throw new HostsError('RULE_CONFLICT', `"${r}" is both ensured and removed`)
  const interest = new Set([...wanted.keys(), ...removed])
  const hits = namedIn(doc, interest)
  const models = buildModels(
    doc,
    {
      interest,
      ...(intent.rename ? { rename: intent.rename } : {}),
      ...(intent.readdress ? { readdress: intent.readdress } : {}),
    },
    hits,
  )
  const diagnostics = conflictsOf(
    doc,
    hits.filter((h) => wanted.has(h.lower)),
  )
  for (const m of models)
    for (const n of m.names) if (removed.has(n.lower)) n.removed = 'hosts.remove'
  const primary = primaries(models, wanted)
  diagnostics.push(...otherFamilies(models, wanted))
  const moved = new Map<string, NameModel[]>()
  const finals = new Map<LineModel, string>()
  for (const m of models) {
    assignDests(m, wanted, primary)
    const { address, leaving } = settleLine(m)
    finals.set(m, address)
    for (const n of leaving) moved.set(n.leader!, [...(moved.get(n.leader!) ?? []), n])
  }
  const edits: Edit[] = []
  const kept: Piece[] = []
  for (const m of models) {
    const mine = lineEdits(doc, m, finals.get(m)!)
    edits.push(...mine)
    if (m.names.some((n) => !n.removed))
      kept.push({
        at: m.line.start,
        order: 1,
        text: applyEdits(
          doc.text.slice(m.line.start, m.line.end),
          mine.map((e) => ({ ...e, start: e.start - m.line.start, end: e.end - m.line.start })),
        ),
      })
  }
  mergeDeletions(edits)
  const append = appendEdit(
    doc,
    appendLines(wanted, primary, moved),
    intent.marker ?? DEFAULT_MARKER,
  )
  if (append) {
    edits.push(append)
    kept.push({ at: append.start, order: 0, text: append.text })
  }
  if (edits.length) {
    const renamed = renamedNames(models)
    // without renames, only modelled lines and appended ones can hold the names checked
    const after = renamed.length
      ? parseHosts(applyEdits(doc.text, edits))
      : parseHosts(
          kept
            .sort((a, b) => a.at - b.at || a.order - b.order)
            .map((p) => p.text)
            .join('\n'),
        )
    diagnostics.push(...verifyPlan(after, [...wanted.values()], removed, renamed))
  }
  return { edits, diagnostics }
}

/** A line of the planned result, placed by its offset in the input (insertions first). */
interface Piece {
  at: number
  order: number
  text: string
}

/** The first model of the right family that lists each ensured name (after removals). */
function primaries(
  models: readonly LineModel[],
  wanted: ReadonlyMap<string, Target>,
): Map<string, LineModel> {
  const out = new Map<string, LineModel>()
  for (const m of models) {
    for (const n of m.names) {
      const t = wanted.get(n.lower)
      if (t && !n.removed && m.family === t.family && !out.has(t.lower)) out.set(t.lower, m)
    }
  }
  return out
}

function otherFamilies(
  models: readonly LineModel[],
  wanted: ReadonlyMap<string, Target>,
): Diagnostic[] {
  const out: Diagnostic[] = []
  const seen = new Set<string>()
  for (const m of models) {
    for (const n of m.names) {
      const t = wanted.get(n.lower)
      if (!t || n.removed || m.family === t.family || seen.has(t.lower)) continue
      seen.add(t.lower)
      out.push({
        code: 'HOST_OTHER_FAMILY',
        severity: 'warning',
        message: `"${n.text}" also has the ${m.family === 'ipv6' ? 'IPv6' : 'IPv4'} address ${m.address}, which is left as it is`,
        range: m.line.address!,
      })
    }
  }
  return out
}

/** Sets `dest` (and `leader`) of the names of one line; drops ensured names that disagree later on. */
function assignDests(
  m: LineModel,
  wanted: ReadonlyMap<string, Target>,
  primary: ReadonlyMap<string, LineModel>,
): void {
  const leaders = new Map<string, Target>()
  for (const n of m.names) {
    const t = wanted.get(n.lower)
    if (!t || n.removed || m.family !== t.family) continue
    if (primary.get(t.lower) === m) {
      n.dest = t.address
      n.leader = t.lower
      const short = shortName(t.lower)
      if (short && !leaders.has(short)) leaders.set(short, t)
    } else if (!sameAddress(m.address, t.address)) {
      n.removed = 'hosts.ensure'
    }
  }
  for (const n of m.names) {
    const t = leaders.get(n.lower)
    if (!t || n.removed || n.dest !== undefined || wanted.has(n.lower)) continue
    n.dest = t.address
    n.leader = t.lower
  }
}

/** The lines to append, one per address in the order of `ensure`: names not found, and names split off. */
function appendLines(
  wanted: ReadonlyMap<string, Target>,
  primary: ReadonlyMap<string, LineModel>,
  moved: ReadonlyMap<string, NameModel[]>,
): Array<{ address: string; names: string[]; summary: string }> {
  const byAddress = new Map<string, { address: string; names: string[]; summary: string }>()
  for (const t of wanted.values()) {
    const names = primary.has(t.lower) ? (moved.get(t.lower) ?? []).map((n) => n.text) : [t.name]
    if (names.length === 0) continue
    const row = byAddress.get(t.address) ?? { address: t.address, names: [], summary: '' }
    for (const n of names)
      if (!row.names.some((x) => foldName(x) === foldName(n))) row.names.push(n)
    byAddress.set(t.address, row)
  }
  for (const row of byAddress.values()) row.summary = `${row.names.join(' ')} -> ${row.address}`
  return [...byAddress.values()]
}

function renamedNames(models: readonly LineModel[]): string[] {
  const out: string[] = []
  for (const m of models) for (const n of m.names) if (n.renamed && !n.removed) out.push(n.text)
  return out
}
