import {
  Matcher,
  perContext,
  commonKeys,
  ruleKeys,
  rulePatterns,
  s,
  scanLeftovers,
  type Context,
  type Diagnostic,
  type Edit,
  type Infer,
  type Leftover,
  type StepKind,
} from '@cutover/rewrite'
import { isIPv4 } from 'node:net'
import { addressInPlaceOf, mappedIPv4 } from './address.js'
import { hostsInit } from './init.js'
import type { Rewrite } from './model.js'
import { lineFrom, lineStartAt } from './locate.js'
import { parseHosts, spanText, type HostsDocument, type Span } from './parse.js'
import { planHosts, type EnsureRequest } from './plan.js'

const which = s.oneOf(['new', 'old'] as const)
const inventoryName = s.refine(
  s.string({ describe: 'a host name of the inventory' }),
  (v, _n, ctx) =>
    ctx.refs.hosts.includes(v)
      ? undefined
      : `"${v}" is not a host of the inventory; the spec's hosts: ${ctx.refs.hosts.join(', ') || 'none'}`,
)
const hostName = s.string({ describe: 'a host name', pattern: /^[^\s#]+$/ })

const schema = s.object(
  {
    ...commonKeys,
    ensure: s.union(
      s.object(
        {
          address: which,
          hosts: s.array(inventoryName, {
            minItems: 1,
            describe: 'a list of inventory host names',
          }),
        },
        { required: ['address'] },
      ),
      which,
      '"new", "old" or { address: new | old, hosts: [names] }',
    ),
    remove: s.array(hostName, { describe: 'a list of host names' }),
    replace: ruleKeys.replace,
    swap: ruleKeys.swap,
  },
  { required: ['files'] },
)

/**
 * Options of the `hosts` step: `ensure` every inventory name (or `hosts`, a subset) at its `new`
 * or `old` address; `remove` names; `replace`/`swap` rename names (or, for an IPv4 key, rewrite
 * whole address fields).
 */
export type HostsOptions = Infer<typeof schema>

interface Rules {
  names?: Matcher
  addresses?: Matcher
}
/** Matchers of `replace`/`swap`: IPv4 keys match whole address fields, other keys labels inside names. */
const rules = perContext((o: HostsOptions, ctx): Rules => {
  const patterns = rulePatterns(
    { ...(o.replace ? { replace: o.replace } : {}), ...(o.swap ? { swap: o.swap } : {}) },
    ctx,
  )
  const names = patterns.filter((p) => p.boundary !== 'ipv4')
  const addresses = patterns.filter((p) => p.boundary === 'ipv4')
  return {
    ...(names.length ? { names: new Matcher(names) } : {}),
    ...(addresses.length ? { addresses: new Matcher(addresses) } : {}),
  }
})

function rename(m: Matcher, name: string): Rewrite | undefined {
  const { matches } = m.scan(name)
  let out = ''
  let at = 0
  let rule: string | undefined
  let once: string | undefined
  for (const x of matches) {
    if (x.pattern.find === x.pattern.replace) continue
    out += name.slice(at, x.start) + x.pattern.replace
    at = x.end
    rule ??= x.pattern.rule
    once ??= x.pattern.once
  }
  return rule ? { text: out + name.slice(at), rule, ...(once ? { once } : {}) } : undefined
}

function readdress(m: Matcher, address: string): Rewrite | undefined {
  // an IPv4-mapped address is the IPv4 address it maps: its dotted quad is rewritten in place
  const mapped = address.includes(':') ? mappedIPv4(address) : undefined
  const p = m.whole(mapped ?? address)
  if (!p || p.find === p.replace) return undefined
  const text =
    mapped !== undefined && isIPv4(p.replace) ? addressInPlaceOf(address, p.replace) : p.replace
  return { text, rule: p.rule, ...(p.once ? { once: p.once } : {}) }
}

function ensureList(o: HostsOptions, ctx: Context): EnsureRequest[] {
  if (!o.ensure) return []
  const spec = typeof o.ensure === 'string' ? { address: o.ensure } : o.ensure
  const only = spec.hosts && new Set(spec.hosts)
  return ctx.inventory
    .filter((h) => !only || only.has(h.name))
    .map((h) => ({ name: h.name, address: h[spec.address] }))
}

function leftoverReason(doc: HostsDocument, edits: readonly Edit[]) {
  const kept = (n: Span) => !edits.some((e) => e.start < n.end && n.start < e.end)
  return (start: number): string | undefined => {
    if (doc.text.length === 0) return undefined
    const line = lineFrom(doc.text, lineStartAt(doc.text, start))
    if (line.comment && start >= line.comment.start) return 'inside a comment'
    if (line.kind === 'invalid') return 'on a malformed line, which resolvers ignore'
    if (line.kind === 'entry' && start >= line.address!.start && start < line.address!.end) {
      const names = line.names.filter(kept).map((n) => spanText(doc, n))
      return `still the address of ${names.join(' ')}, which no rule of this step moves`
    }
    return undefined
  }
}

/**
 * The `hosts` step: lossless edits of hosts(5) files. Every name it ensures resolves, first
 * match, to its address afterwards (checked on the planned result); names sharing a line with
 * names that stay are split off to a `# cutover` block at the end. Malformed lines are kept and
 * reported as warnings.
 */
export const hostsStep: StepKind<HostsOptions> = {
  name: 'hosts',
  init: [hostsInit],
  options: schema,
  needles(o, ctx) {
    const r = rules(o, ctx)
    return [...(r.names?.needles() ?? []), ...(r.addresses?.needles() ?? [])]
  },
  // names match case-insensitively, and a file lacking a name still needs it: no byte prefilter
  alwaysPlan: (o) => o.ensure !== undefined || (o.remove?.length ?? 0) > 0,
  plan(file, o, ctx) {
    const doc = parseHosts(file.text)
    const r = rules(o, ctx)
    const { edits, diagnostics } = planHosts(doc, {
      ensure: ensureList(o, ctx),
      remove: o.remove ?? [],
      ...(r.names ? { rename: (n: string) => rename(r.names!, n) } : {}),
      ...(r.addresses ? { readdress: (a: string) => readdress(r.addresses!, a) } : {}),
    })
    const warnings: Diagnostic[] = doc.errors.map((d) => ({ ...d, severity: 'warning' }))
    const leftovers = scanLeftovers(file.text, ctx, edits, {
      reason: leftoverReason(doc, edits),
      fallback: 'no rule of this step rewrites it',
    })
    const mapped = mappedLeftovers(doc, ctx, edits)
    return {
      edits,
      diagnostics: [...warnings, ...diagnostics],
      leftovers: mapped.length
        ? [...leftovers, ...mapped].sort((a, b) => a.start - b.start)
        : leftovers,
    }
  },
}

/**
 * Old addresses that entries spell as a v4-mapped IPv6 address without the dotted quad
 * (`::ffff:a00:a30` is 10.0.10.48), which the text scan cannot see: glibc answers the line's
 * names with the old address all the same. Lines an edit touches are left to the plan.
 */
function mappedLeftovers(doc: HostsDocument, ctx: Context, edits: readonly Edit[]): Leftover[] {
  const old = new Set(ctx.inventory.filter((h) => h.old !== h.new).map((h) => h.old))
  if (old.size === 0 || !/ffff/i.test(doc.text)) return []
  const out: Leftover[] = []
  const reason = leftoverReason(doc, edits)
  for (const line of doc.lines) {
    const a = line.address
    if (line.kind !== 'entry' || !a || line.family !== 'ipv4') continue
    const text = spanText(doc, a)
    if (/\d+\.\d+\.\d+\.\d+$/.test(text)) continue
    const v4 = mappedIPv4(text)
    if (v4 === undefined || !old.has(v4) || edits.some((e) => e.start < a.end && a.start < e.end))
      continue
    if (line.names.every((n) => edits.some((e) => e.start < n.end && n.start < e.end))) continue
    out.push({
      start: a.start,
      end: a.end,
      text,
      reason: `old address ${v4} (mapped): ${reason(a.start) ?? 'no rule of this step rewrites it'}`,
    })
  }
  return out
}
