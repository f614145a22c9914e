import type { Diagnostic, Edit } from '@cutover/rewrite'
import {
  bumpSerial,
  effectiveTtls,
  keepFollowingTtls,
  movePtrs,
  setAddress,
  setDefaultTtl,
  setRecordTtl,
  type PtrMove,
  type SerialMode,
} from './edit.js'
import { absoluteName, recordType, spanText, type ZoneDocument, type ZoneEntry } from './parse.js'

/** Everything one plan does to a zone file; all edits are computed against the same text. */
export interface ZoneIntent {
  /** The host names whose records the plan is about (absolute or not; any case). */
  names?: readonly string[]
  /** The TTL the records of `names` get (SOA and NS records excepted). */
  ttl?: number
  /** A records of `names` at `from` get `to`. */
  moves?: readonly PtrMove[]
  /** The value of every `$TTL` directive. */
  defaultTtl?: number
  /** The origin of the file when it is a reverse zone: its PTRs follow `moves`. */
  reverse?: string
  /** How the SOA serial moves when anything else changes (default `date`). */
  serial?: SerialMode
  /** The day a `date` serial is made of (default: now). */
  now?: Date
}

/** Edits (against the document's text) and what a reviewer should know. */
export interface ZonePlan {
  edits: Edit[]
  diagnostics: Diagnostic[]
}

const absolute = (n: string) => n.toLowerCase().replace(/\.?$/, '.')

/**
 * Plans `intent` on a zone: the TTL of the records of the names, the address of their A
 * records, `$TTL`, and, in a reverse zone, the PTRs of the moved addresses; then, when any of
 * these changes the file, the SOA serial, once. Records are found under every spelling of
 * their owner (relative, absolute, `@`, blank, any case). CNAMEs that lead to one of the names
 * are left alone and noted (`ZONE_CNAME`). Idempotent: planning what is already so gives no edit.
 * Throws `BAD_TTL`/`BAD_ADDRESS` ZoneErrors for an intent a zone cannot hold.
 */
export function planZone(doc: ZoneDocument, intent: ZoneIntent): ZonePlan {
  const names = new Set((intent.names ?? []).map(absolute))
  const edits: Edit[] = []
  const diagnostics: Diagnostic[] = []
  const moves = new Map<string, PtrMove[]>()
  for (const m of intent.moves ?? [])
    moves.set(absolute(m.name), [...(moves.get(absolute(m.name)) ?? []), m])
  const effective = intent.ttl !== undefined ? effectiveTtls(doc) : undefined
  const ttlSet = new Map<ZoneEntry, number>()
  for (const e of doc.entries) {
    if (e.kind !== 'record' || e.name === undefined) continue
    const type = recordType(doc, e)!
    if (type === 'CNAME' && e.rdata[0]) {
      const to = absoluteName(spanText(doc, e.rdata[0]), e.origin)
      if (to !== undefined && names.has(to))
        diagnostics.push({
          code: 'ZONE_CNAME',
          severity: 'warning',
          message: `${e.name} is a CNAME of ${to}, which this step moves: it follows the A record and is left alone`,
          range: { start: e.rdata[0].start, end: e.rdata[0].end },
        })
    }
    if (!names.has(e.name)) continue
    if (intent.ttl !== undefined && type !== 'SOA' && type !== 'NS') {
      const ttl = setRecordTtl(doc, e, intent.ttl, effective!.get(e))
      if (ttl) {
        edits.push(ttl)
        ttlSet.set(e, intent.ttl)
      }
    }
    if (type === 'A' && e.rdata[0]) {
      const was = spanText(doc, e.rdata[0])
      const m = moves.get(e.name)?.find((x) => x.from === was)
      const edit = m && setAddress(doc, e, m.to)
      if (edit) edits.push(edit)
    }
  }
  edits.push(...keepFollowingTtls(doc, ttlSet))
  if (intent.defaultTtl !== undefined) edits.push(...setDefaultTtl(doc, intent.defaultTtl))
  if (intent.reverse !== undefined) edits.push(...movePtrs(doc, intent.reverse, intent.moves ?? []))
  if (edits.length > 0) {
    const serial = bumpSerial(doc, intent.serial ?? 'date', intent.now)
    if (serial) edits.push(serial)
    else if ((intent.serial ?? 'date') !== 'keep')
      diagnostics.push({
        code: 'ZONE_SERIAL',
        severity: 'warning',
        message:
          'this file has no SOA with a numeric serial: its serial is not bumped (a file $INCLUDEd by the zone?)',
        range: { start: 0, end: 0 },
      })
  }
  return { edits, diagnostics }
}
