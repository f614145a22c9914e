import { isIPv4 } from 'node:net'
import type { Edit } from '@cutover/rewrite'
import { ZoneError } from './errors.js'
import {
  absolute,
  absoluteName,
  recordType,
  spanText,
  ttlSeconds,
  type ZoneDocument,
  type ZoneEntry,
} from './parse.js'

/** How the SOA serial moves when a plan changes the file: `YYYYMMDDnn`, `+1`, or not at all. */
export type SerialMode = 'date' | 'increment' | 'keep'

const MAX_TTL = 2147483647

/** Throws `BAD_TTL` for a TTL a zone cannot hold. */
function checkTtl(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_TTL)
    throw new ZoneError(
      'BAD_TTL',
      `${seconds} is not a TTL (a whole number of seconds, 0 to ${MAX_TTL})`,
    )
}

/**
 * The TTL BIND's loader gives each record of the file, reading it in order: the TTL the record
 * writes, else the default (`$TTL`, or the SOA's minimum when the SOA writes no TTL and no `$TTL`
 * came before), else the last TTL the loader used (RFC 1035). A record whose owner and type
 * already have records just before it (the records of one owner written one after the other,
 * the owner compared as BIND does there: case kept, so `FIN` then `fin` are two) takes their TTL
 * instead ("TTL set to prior TTL"), and that is the last TTL used from then on. The glue of an
 * owner with NS records (records of a name its NS records name, compared without case) read
 * between its records does not end its run: its records after the glue still take their sets'.
 *
 * `written(e, otherwise)` says the TTL record `e` writes, or undefined; `otherwise` is the TTL it
 * gets when it writes none, from what the loader read before it.
 */
function loaderTtls(
  doc: ZoneDocument,
  written: (e: ZoneEntry, otherwise: number | undefined) => number | undefined,
): Map<ZoneEntry, number | undefined> {
  const out = new Map<ZoneEntry, number | undefined>()
  let dflt: number | undefined
  let last: number | undefined
  // the run of records of one owner: its name (case kept), its sets' TTLs, the names its NS
  // records give (lower case); and the run of its glue, read in between
  type Run = { name: string | undefined; sets: Map<string, number>; ns: Set<string> }
  const runOf = (name: string | undefined): Run => ({ name, sets: new Map(), ns: new Set() })
  let current = runOf(undefined)
  let glue: Run | undefined
  for (const e of doc.entries) {
    if (e.kind === 'directive' && spanText(doc, e.type!).toUpperCase() === '$TTL' && e.rdata[0])
      dflt = ttlSeconds(spanText(doc, e.rdata[0])) ?? dflt
    if (e.kind !== 'record') continue
    const name = e.owner ? ownerAsSpelled(spanText(doc, e.owner), e.origin) : (glue ?? current).name
    if (glue && name !== glue.name) glue = undefined
    if (!glue && (name !== current.name || name === undefined)) {
      if (name !== undefined && current.ns.has(lower(name))) glue = runOf(name)
      else current = runOf(name)
    }
    const sets = (glue ?? current).sets
    const type = recordType(doc, e) ?? ''
    if (type === 'NS' && !glue && e.rdata[0]) {
      const target = ownerAsSpelled(spanText(doc, e.rdata[0]), e.origin)
      if (target !== undefined) current.ns.add(lower(target))
    }
    // an RRSIG's set is the type it covers
    const set =
      type === 'RRSIG' && e.rdata[0] ? `RRSIG ${spanText(doc, e.rdata[0]).toUpperCase()}` : type
    const prior = sets.get(set)
    const minimum =
      dflt === undefined && last === undefined && type === 'SOA' && e.rdata[6]
        ? ttlSeconds(spanText(doc, e.rdata[6]))
        : undefined
    let ttl = written(e, prior ?? dflt ?? last ?? minimum)
    if (ttl === undefined && minimum !== undefined) dflt = minimum
    ttl = prior ?? ttl ?? dflt ?? last
    if (prior === undefined && ttl !== undefined) sets.set(set, ttl)
    last = ttl
    out.set(e, ttl)
  }
  return out
}

/**
 * An owner made absolute with its case kept, each escape read as the character it stands for
 * (`\070in` is `Fin`, as the loader compares names), or undefined where no origin is known.
 */
function ownerAsSpelled(spelled: string, origin: string | undefined): string | undefined {
  const o = origin === undefined || origin.endsWith('.') ? origin : `${origin}.`
  if (spelled === '@') return o === undefined ? undefined : unescaped(o)
  if (absolute(spelled)) return unescaped(spelled)
  return o === undefined ? undefined : unescaped(o === '.' ? `${spelled}.` : `${spelled}.${o}`)
}

/** `name` with its ASCII letters in lower case (as DNS compares names). */
function lower(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** `name` with each `\DDD` or `\X` as its character; an escaped dot or backslash stays escaped. */
function unescaped(name: string): string {
  return name.replace(/\\(\d{3}|[^])/g, (_, x: string) => {
    const c = x.length === 3 ? String.fromCharCode(Number(x)) : x
    return c === '.' || c === '\\' ? `\\${c}` : c
  })
}

/** The TTL a record writes, in seconds, or undefined. */
function writtenTtl(doc: ZoneDocument, e: ZoneEntry): number | undefined {
  return e.ttl ? ttlSeconds(spanText(doc, e.ttl)) : undefined
}

/**
 * The TTL each record of the file has as BIND's loader reads it (see `loaderTtls`), or
 * undefined where none is known. One entry per record, by entry.
 */
export function effectiveTtls(doc: ZoneDocument): Map<ZoneEntry, number | undefined> {
  return loaderTtls(doc, (e) => writtenTtl(doc, e))
}

/**
 * Edits that keep the TTL of the records that follow one whose TTL `changed` gives: where no
 * default is in effect (no `$TTL`), a record that writes no TTL takes the last one the loader
 * used (RFC 1035), so each such record whose TTL the change would move gets its TTL written as
 * it was. The file is read as it will be, record by record, each one's TTL kept before the next
 * is read; a record that writes a TTL keeps it, and the sets it joins keep theirs.
 */
export function keepFollowingTtls(
  doc: ZoneDocument,
  changed: ReadonlyMap<ZoneEntry, number>,
): Edit[] {
  if (changed.size === 0) return []
  const before = effectiveTtls(doc)
  const out: Edit[] = []
  loaderTtls(doc, (e, otherwise) => {
    const now = changed.get(e)
    if (now !== undefined) return now
    if (e.ttl) return writtenTtl(doc, e)
    const was = before.get(e)
    if (was === undefined || otherwise === undefined || otherwise === was) return undefined
    const keep = setRecordTtl(doc, e, was)
    if (keep) out.push({ ...keep, summary: `TTL ${was} kept (${e.name ?? 'record'})` })
    return was
  })
  return out
}

/** The blanks the file writes after a TTL field (its first record that has one), or undefined. */
function ttlSeparator(doc: ZoneDocument): string | undefined {
  for (const e of doc.entries) {
    if (e.kind !== 'record' || !e.ttl) continue
    const next = e.tokens[e.tokens.indexOf(e.ttl) + 1]
    const gap = next ? doc.text.slice(e.ttl.end, next.start) : ''
    if (/^[ \t]+$/.test(gap)) return gap
  }
  return undefined
}

/**
 * The edit that gives a record the TTL `seconds`: its TTL field rewritten, or, where it writes
 * none, a field added before its class or type, followed by the blanks the file writes after
 * its TTL fields (else those after the record's owner). `undefined` when the record has that
 * TTL already (written, or by `$TTL`). Throws `BAD_TTL` for a TTL a zone cannot hold.
 */
export function setRecordTtl(
  doc: ZoneDocument,
  entry: ZoneEntry,
  seconds: number,
  effective?: number,
): Edit | undefined {
  checkTtl(seconds)
  const summary = `TTL ${seconds} (${entry.name ?? 'record'} ${recordType(doc, entry)})`
  if (entry.ttl) {
    if (ttlSeconds(spanText(doc, entry.ttl)) === seconds) return undefined
    return { ...entry.ttl, text: String(seconds), rule: 'zone.ttl', summary }
  }
  if (effective === seconds) return undefined
  const at = entry.tokens[entry.owner ? 1 : 0]!
  const ownGap = entry.owner ? doc.text.slice(entry.owner.end, at.start) : ''
  const sep = ttlSeparator(doc) ?? (/^[ \t]+$/.test(ownGap) ? ownGap : '\t')
  return { start: at.start, end: at.start, text: `${seconds}${sep}`, rule: 'zone.ttl', summary }
}

/**
 * The edit that makes an A record's address `address`, or undefined when it is that already.
 * Throws `BAD_ADDRESS` for an address that is not IPv4 (which would make the zone invalid).
 */
export function setAddress(doc: ZoneDocument, entry: ZoneEntry, address: string): Edit | undefined {
  if (!isIPv4(address))
    throw new ZoneError('BAD_ADDRESS', `"${address}" is not an IPv4 address: an A record holds one`)
  const field = entry.rdata[0]
  if (recordType(doc, entry) !== 'A' || !field) return undefined
  const was = spanText(doc, field)
  if (was === address) return undefined
  return {
    ...field,
    text: address,
    rule: 'zone.records',
    summary: `${entry.name ?? 'A'} A ${was} -> ${address}`,
  }
}

/** `YYYYMMDD` of a date, in UTC. */
function ymd(now: Date): number {
  return now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate()
}

/**
 * The serial after `serial` by `mode`: `date` is today's `YYYYMMDD01`, or `serial + 1` when the
 * serial is already there or ahead (it never goes backwards); `increment` is `serial + 1`;
 * `keep` is `serial`. Serials are 32-bit: past 4294967295 they wrap (RFC 1982).
 */
export function nextSerial(serial: number, mode: SerialMode, now: Date = new Date()): number {
  if (mode === 'keep') return serial
  const today = ymd(now) * 100 + 1
  const next = mode === 'date' && serial < today ? today : serial + 1
  return next % 2 ** 32
}

/** The SOA record of the file (the first), or undefined. */
export function soaOf(doc: ZoneDocument): ZoneEntry | undefined {
  return doc.entries.find((e) => recordType(doc, e) === 'SOA')
}

/**
 * The edit that moves the SOA serial by `mode` (see {@link nextSerial}), or undefined for
 * `keep`, a file without SOA, or a serial that is not a number.
 */
export function bumpSerial(doc: ZoneDocument, mode: SerialMode, now?: Date): Edit | undefined {
  const soa = soaOf(doc)
  const field = soa?.rdata[2]
  if (mode === 'keep' || !field) return undefined
  const was = spanText(doc, field)
  if (!/^\d+$/.test(was) || Number(was) >= 2 ** 32) return undefined
  const next = nextSerial(Number(was), mode, now)
  return { ...field, text: String(next), rule: 'zone.serial', summary: `serial ${was} -> ${next}` }
}

/** The reverse name of an IPv4 address: `48.10.0.10.in-addr.arpa.`. */
export function reverseName(address: string): string {
  if (!isIPv4(address)) throw new ZoneError('BAD_ADDRESS', `"${address}" is not an IPv4 address`)
  return `${address.split('.').reverse().join('.')}.in-addr.arpa.`
}

/** True when `name` (absolute) is at or below `zone` (absolute), case-insensitively. */
export function inZone(name: string, zone: string): boolean {
  const n = name.toLowerCase()
  const z = zone.toLowerCase().replace(/\.?$/, '.')
  return z === '.' || n === z || n.endsWith(`.${z}`)
}

/** `name` as the file would write it at `origin`: relative below the origin, else absolute. */
function spell(name: string, origin: string | undefined): string {
  if (origin === undefined) return name
  const o = origin.toLowerCase().replace(/\.?$/, '.')
  if (name === o) return '@'
  return name.endsWith(`.${o}`) ? name.slice(0, -o.length - 1) : name
}

/** A PTR that should follow an address: the host `name` moves from `from` to `to`. */
export interface PtrMove {
  name: string
  from: string
  to: string
}

/**
 * Edits of a reverse zone (its origin `zone`, e.g. `10.0.10.in-addr.arpa.`) for hosts whose
 * address moves: the PTR of the old address that names the host is renamed to the new address
 * when this zone covers both, else removed; a PTR for the new address is added at the end when
 * this zone covers it and has none naming the host. Idempotent: no edit when the PTRs are so.
 */
export function movePtrs(doc: ZoneDocument, zone: string, moves: readonly PtrMove[]): Edit[] {
  const edits: Edit[] = []
  const records = doc.entries.filter((e) => recordType(doc, e) === 'PTR')
  const target = (e: ZoneEntry) =>
    e.rdata[0] ? absoluteName(spanText(doc, e.rdata[0]), e.origin) : undefined
  const add: string[] = []
  const removed = new Map<ZoneEntry, string>()
  for (const m of moves) {
    if (m.from === m.to || !isIPv4(m.to)) continue
    const host = m.name.toLowerCase().replace(/\.?$/, '.')
    const oldName = isIPv4(m.from) ? reverseName(m.from) : undefined
    const newName = reverseName(m.to)
    const coversNew = inZone(newName, zone)
    const mine = (e: ZoneEntry, owner: string | undefined) => e.name === owner && target(e) === host
    let present = records.some((e) => mine(e, newName))
    for (const e of oldName ? records.filter((r) => mine(r, oldName)) : []) {
      const summary = `PTR ${m.from} -> ${m.to} (${host})`
      if (
        coversNew &&
        !present &&
        e.owner &&
        spanText(doc, e.owner) !== '@' &&
        !ownerFollows(doc, e)
      ) {
        const absolute = spanText(doc, e.owner).endsWith('.')
        edits.push({
          ...e.owner,
          text: absolute ? newName : spell(newName, e.origin),
          rule: 'zone.reverse',
          summary,
        })
        present = true
      } else removed.set(e, `PTR of ${m.from} removed (${host})`)
    }
    if (coversNew && !present) add.push(ptrLine(doc, newName, host))
  }
  for (const [e, summary] of removed) edits.push(...removeEntry(doc, e, summary, removed))
  if (add.length) {
    const eol = /\r\n/.test(doc.text) ? '\r\n' : '\n'
    const lead = doc.text.length === 0 || /\n$/.test(doc.text) ? '' : eol
    edits.push({
      start: doc.text.length,
      end: doc.text.length,
      text: lead + add.map((l) => l + eol).join(''),
      rule: 'zone.reverse',
      summary: `PTR added: ${add.length}`,
    })
  }
  return edits
}

/** A PTR line for the end of the file, spaced like its first PTR record (else with tabs). */
function ptrLine(doc: ZoneDocument, owner: string, host: string): string {
  const like = doc.entries.find((e) => recordType(doc, e) === 'PTR' && e.owner)
  const gap = like ? doc.text.slice(like.owner!.end, like.tokens[1]!.start) : '\t'
  const sep = /^[ \t]+$/.test(gap) ? gap : '\t'
  const klass = like?.class ? `${spanText(doc, like.class)}${sep}` : ''
  return `${spell(owner, doc.endOrigin)}${sep}${klass}PTR${sep}${host}`
}

/** The next record after `e` (blank lines and comments skipped), or undefined. */
function nextRecord(doc: ZoneDocument, e: ZoneEntry): ZoneEntry | undefined {
  const i = doc.entries.indexOf(e)
  const next = doc.entries.slice(i + 1).find((x) => x.kind === 'record' || x.kind === 'directive')
  return next?.kind === 'record' ? next : undefined
}

/** True when the record after `e` has a blank owner: it is `e`'s owner's too. */
function ownerFollows(doc: ZoneDocument, e: ZoneEntry): boolean {
  const next = nextRecord(doc, e)
  return next !== undefined && !next.owner
}

/**
 * Edits that take a record out with its line(s); when the next record that stays has a blank
 * owner (it was this record's owner: blank-owner records `removing` also takes out are passed
 * over), that owner is written on it so that it keeps its name.
 */
function removeEntry(
  doc: ZoneDocument,
  e: ZoneEntry,
  summary: string,
  removing: ReadonlyMap<ZoneEntry, string>,
): Edit[] {
  const out: Edit[] = [{ start: e.start, end: e.next, text: '', rule: 'zone.reverse', summary }]
  let next = nextRecord(doc, e)
  while (next && !next.owner && removing.has(next)) next = nextRecord(doc, next)
  if (e.owner && next && !next.owner)
    out.push({
      start: next.start,
      end: next.start,
      text: spanText(doc, e.owner),
      rule: 'zone.reverse',
      summary: `owner ${spanText(doc, e.owner)} kept`,
    })
  return out
}

/**
 * Edits that set every `$TTL` directive to `seconds` (or add `$TTL seconds` as the first line
 * when there is none); the SOA's timers are never touched. Throws `BAD_TTL`.
 */
export function setDefaultTtl(doc: ZoneDocument, seconds: number): Edit[] {
  checkTtl(seconds)
  const dollars = doc.entries.filter(
    (e) => e.kind === 'directive' && spanText(doc, e.type!).toUpperCase() === '$TTL' && e.rdata[0],
  )
  const summary = `$TTL ${seconds}`
  if (dollars.length === 0) {
    const eol = /\r\n/.test(doc.text) ? '\r\n' : '\n'
    return [{ start: 0, end: 0, text: `$TTL ${seconds}${eol}`, rule: 'zone.default-ttl', summary }]
  }
  return dollars.flatMap((e) =>
    ttlSeconds(spanText(doc, e.rdata[0]!)) === seconds
      ? []
      : [{ ...e.rdata[0]!, text: String(seconds), rule: 'zone.default-ttl', summary }],
  )
}
