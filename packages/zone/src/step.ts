import { readFileSync } from 'node:fs'
import { isIPv4 } from 'node:net'
import { posix } from 'node:path'
import {
  commonKeys,
  decodeText,
  s,
  scanLeftovers,
  type Context,
  type Diagnostic,
  type Edit,
  type Infer,
  type Leftover,
  type Schema,
  type StepKind,
} from '@cutover/rewrite'
import { inZone, reverseName, type PtrMove } from './edit.js'
import { entryAt, parseZone, recordType, spanText, type ZoneDocument } from './parse.js'
import { planZone } from './plan.js'
import { namedCheckzoneValidator, zoneOrigin } from './validate.js'

const profileName = s.refine(s.string({ describe: 'a profile name' }), (v, _n, ctx) =>
  ctx.refs.profiles.includes(v)
    ? undefined
    : `unknown profile "${v}"; the spec declares: ${ctx.refs.profiles.join(', ') || 'none'}`,
)
const ttlValue = s.refine(s.integer('a TTL in seconds'), (v) =>
  v >= 0 && v <= 2147483647 ? undefined : `${v} is not a TTL (0 to 2147483647 seconds)`,
)
const perProfile = <T>(value: Schema<T>, what: string) =>
  s.union(
    s.record(value, { key: profileName, describe: `a mapping of profile names to ${what}` }),
    value,
    `${what}, or a mapping of profile names to ${what}`,
  )
const which = s.oneOf(['new', 'old'] as const)
const zonePath = s.string({ describe: 'a reverse zone file, relative to the root' })

const base = s.object(
  {
    ...commonKeys,
    origin: s.string({ describe: 'the zone name (example.net.)', pattern: /^[^\s;()"]+$/ }),
    ttl: perProfile(ttlValue, 'a TTL in seconds'),
    records: perProfile(which, '"new" or "old"'),
    reverse: s.array(zonePath, { minItems: 1, describe: 'a list of reverse zone files' }),
    serial: s.oneOf(['date', 'increment', 'keep'] as const),
    'default-ttl': perProfile(ttlValue, 'a TTL in seconds'),
  },
  { required: ['files'] },
)

/**
 * Options of the `zone` step: the `ttl` of the inventory's records, where their A `records`
 * point (`new` or `old`), each either one value or a value per profile; `reverse` zone files
 * whose PTRs follow the addresses; how the `serial` moves; the `default-ttl` (`$TTL`).
 */
export type ZoneOptions = Infer<typeof base>

/** The step's scope is its `files` and its `reverse` files: both are planned. */
const options: Schema<ZoneOptions> = {
  ...base,
  parse(node, ctx, at) {
    const v = base.parse(node, ctx, at)
    if (v === undefined || !v.reverse) return v
    return { ...v, files: [...v.files, ...v.reverse.filter((r) => !v.files.includes(r))] }
  },
}

/** The value of a per-profile option for the profile planned, or undefined. */
function forProfile<T extends string | number>(
  v: T | Readonly<Record<string, T>> | undefined,
  ctx: Context,
): T | undefined {
  if (v === undefined || typeof v !== 'object') return v
  return ctx.profile === undefined ? undefined : v[ctx.profile]
}

/** The moves of the profile planned: every inventory host from its other address to `records`'s. */
function movesOf(o: ZoneOptions, ctx: Context): PtrMove[] {
  const to = forProfile<'new' | 'old'>(o.records, ctx)
  if (!to) return []
  return ctx.inventory.map((h) => ({
    name: h.name,
    from: to === 'new' ? h.old : h.new,
    to: h[to],
  }))
}

const clean = (p: string) => posix.normalize(p.replace(/^\/+/, ''))

/** The origins of the reverse zone files, read through the root (undefined for a file not there). */
function reverseOrigins(o: ZoneOptions, ctx: Context): Array<{ path: string; origin?: string }> {
  return (o.reverse ?? []).map((path) => {
    const real = ctx.inRoot ? ctx.inRoot(path) : posix.join(ctx.root, path)
    try {
      const origin = real && zoneOrigin(path, decodeText(readFileSync(real)).text)
      return origin ? { path, origin } : { path }
    } catch {
      return { path }
    }
  })
}

/** Why an old address the step leaves is still in the file. */
function leftoverReason(doc: ZoneDocument, names: ReadonlySet<string>, keptOld: boolean) {
  return (start: number): string | undefined => {
    const e = entryAt(doc, start)
    if (!e) return undefined
    if (e.comments.some((c) => c.start <= start && start < c.end)) return 'inside a comment'
    if (e.kind === 'directive') return `in a ${spanText(doc, e.type!)} directive`
    if (e.kind !== 'record') return undefined
    const type = recordType(doc, e)
    const owner = e.name ?? 'a record'
    if (type === 'A' && e.name !== undefined && names.has(e.name))
      return keptOld
        ? `the A record of ${owner}, which this profile keeps at the old address`
        : `the A record of ${owner}, at an address that is neither its old nor its new one`
    if (type === 'A') return `the A record of ${owner}, which is not an inventory name`
    return `in the ${type} record of ${owner}, which the zone step does not rewrite`
  }
}

/**
 * The `zone` step: lossless edits of DNS zone files. The records of the inventory's names (any
 * spelling of their owner) get the profile's `ttl`; their A records point at the profile's
 * `records` address; PTRs in the `reverse` zones follow; the SOA serial moves once when
 * anything changes. Every changed zone is checked by `named-checkzone` at plan and before install.
 */
export const zoneStep: StepKind<ZoneOptions> = {
  name: 'zone',
  options,
  validators: [namedCheckzoneValidator],
  needles: () => [],
  // owners are relative or absolute, in any case: no byte prefilter can tell which files hold them
  alwaysPlan: (o) =>
    o.ttl !== undefined || o.records !== undefined || o['default-ttl'] !== undefined,
  plan(file, o, ctx) {
    const path = clean(file.path)
    const reverse = (o.reverse ?? []).some((r) => clean(r) === path)
    const fromFile = zoneOrigin(path, file.text)
    const origin = reverse ? fromFile : (o.origin ?? fromFile)
    const doc = parseZone(file.text, origin === undefined ? {} : { origin })
    const names = ctx.inventory.map((h) => h.name)
    const moves = movesOf(o, ctx)
    const ttl = forProfile<number>(o.ttl, ctx)
    const defaultTtl = forProfile<number>(o['default-ttl'], ctx)
    const diagnostics: Diagnostic[] = doc.errors.map((d) => ({ ...d, severity: 'warning' }))
    if (
      !reverse &&
      o.origin &&
      fromFile?.toLowerCase() !== o.origin.toLowerCase().replace(/\.?$/, '.')
    )
      diagnostics.push({
        code: 'ZONE_ORIGIN',
        severity: 'warning',
        message: fromFile
          ? `named-checkzone checks ${path} as zone ${fromFile} (what the file tells), not ${o.origin}: write $ORIGIN ${o.origin} at its top`
          : `named-checkzone cannot tell the zone of ${path} from the file: write $ORIGIN ${o.origin} at its top`,
        range: { start: 0, end: 0 },
      })
    if (reverse && origin === undefined)
      diagnostics.push({
        code: 'ZONE_ORIGIN',
        severity: 'warning',
        message: `the reverse zone ${path} does not tell its origin ($ORIGIN, an absolute SOA owner, or a name like db.10.0.10): its PTRs are left alone`,
        range: { start: 0, end: 0 },
      })
    const plan = planZone(doc, {
      ...(reverse ? {} : { names }),
      ...(ttl !== undefined && !reverse ? { ttl } : {}),
      moves,
      ...(defaultTtl !== undefined ? { defaultTtl } : {}),
      ...(reverse && origin !== undefined ? { reverse: origin } : {}),
      serial: o.serial ?? 'date',
    })
    diagnostics.push(...plan.diagnostics)
    if (!reverse && o.reverse) diagnostics.push(...uncovered(plan.edits, moves, o, ctx))
    const inventory = new Set(names.map((n) => n.toLowerCase().replace(/\.?$/, '.')))
    const keptOld = forProfile<'new' | 'old'>(o.records, ctx) !== 'new'
    const leftovers = scanLeftovers(file.text, ctx, plan.edits, {
      reason: leftoverReason(doc, inventory, keptOld),
      fallback: 'the zone step rewrites only the A records of inventory names',
    })
    if (!reverse)
      for (const l of hostsDisagree(doc, plan.edits, inventory, ctx))
        if (!leftovers.some((x) => x.start === l.start)) leftovers.push(l)
    return {
      edits: plan.edits,
      diagnostics,
      leftovers: leftovers.sort((a, b) => a.start - b.start),
    }
  },
}

/**
 * The first IPv4 address `etc/hosts` of the root gives each name (lower case, with a final dot),
 * as glibc reads it: first matching line, comments cut. Empty when the root has no such file.
 */
function hostsAddresses(ctx: Context): Map<string, string> {
  const out = new Map<string, string>()
  const real = ctx.inRoot ? ctx.inRoot('etc/hosts') : posix.join(ctx.root, 'etc/hosts')
  let text: string
  try {
    text = real ? decodeText(readFileSync(real)).text : ''
  } catch {
    return out
  }
  for (const line of text.split(/\r?\n/)) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/)
    if (!address || !isIPv4(address)) continue
    for (const n of names) {
      const key = n.toLowerCase().replace(/\.?$/, '.')
      if (!out.has(key)) out.set(key, address)
    }
  }
  return out
}

/**
 * Leftovers for A records of inventory names that the root's `etc/hosts` (as the `hosts` step
 * writes it from the same inventory) maps to another address: `verify --strict` fails on them.
 * Records this plan changes are left to the plan (the hosts file may be planned too).
 */
function hostsDisagree(
  doc: ZoneDocument,
  edits: readonly Edit[],
  inventory: ReadonlySet<string>,
  ctx: Context,
): Leftover[] {
  const a = doc.entries.filter(
    (e) =>
      recordType(doc, e) === 'A' && e.name !== undefined && inventory.has(e.name) && e.rdata[0],
  )
  if (a.length === 0) return []
  const hosts = hostsAddresses(ctx)
  const out: Leftover[] = []
  for (const e of a) {
    const field = e.rdata[0]!
    if (edits.some((x) => x.start < field.end && field.start < x.end)) continue
    const address = spanText(doc, field)
    const there = hosts.get(e.name!)
    if (there === undefined || there === address) continue
    out.push({
      start: field.start,
      end: field.end,
      text: address,
      reason: `the A record of ${e.name} disagrees with etc/hosts, which gives it ${there}`,
    })
  }
  return out
}

/** `ZONE_NO_REVERSE`: an A record the plan moves to an address that no `reverse` file covers. */
function uncovered(
  edits: readonly Edit[],
  moves: readonly PtrMove[],
  o: ZoneOptions,
  ctx: Context,
): Diagnostic[] {
  const moved = edits.filter((e) => e.rule === 'zone.records')
  if (moved.length === 0) return []
  const zones = reverseOrigins(o, ctx)
  const out: Diagnostic[] = []
  for (const e of moved) {
    const m = moves.find((x) => x.to === e.text)
    if (!m || zones.some((z) => z.origin && inZone(reverseName(m.to), z.origin))) continue
    out.push({
      code: 'ZONE_NO_REVERSE',
      severity: 'warning',
      message: `no reverse zone of this step covers ${m.to} (${m.name}): its PTR is not added; reverse: ${zones.map((z) => `${z.path} (${z.origin ?? 'origin unknown'})`).join(', ')}`,
      range: { start: e.start, end: e.end },
    })
  }
  return out
}
