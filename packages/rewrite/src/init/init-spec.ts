import type { StepKind } from '../step/step.js'
import { textStep } from '../step/text.js'
import {
  byAddress,
  initSuggestions,
  ipv4Number,
  type InitFile,
  type InitPlace,
  type InitScan,
} from './init.js'

/** Options of {@link starterSpec}. */
export interface StarterSpecOptions {
  /** How many places to list under each address; default 5. */
  placesShown?: number
  /** The root as the user gave it, for the `cutover plan` hint; default the scan's root. */
  rootHint?: string
  /** The spec's path as the user gave it, for the hint; default `cutover.yaml`. */
  specHint?: string
  /** Where the JSON Schema of the spec is, for a `# yaml-language-server: $schema=` first line. */
  schemaRef?: string
  /** The step kinds whose init suggestions make the steps (those given to the scan); default the `text` step alone. */
  kinds?: readonly StepKind<any>[]
}

const q = (s: string) => JSON.stringify(s)
const escapeGlob = (p: string) => p.replace(/[*?[\]{}()!\\]/g, '\\$&')

/** Whether a glob made of literal segments and `*` (one segment) or `*.ext` matches a path. */
function globMatches(glob: string, path: string): boolean {
  const g = glob.split('/')
  const p = path.split('/')
  if (g.length !== p.length) return false
  return g.every(
    (seg, i) =>
      seg === p[i] || seg === '*' || (seg.startsWith('*.') && p[i]!.endsWith(seg.slice(1))),
  )
}

/**
 * Shortens a group's paths to globs where that is exact: files of the same name in sibling
 * directories become `dir/*\/name`, files of one extension in one directory `dir/*.ext`; a glob
 * is used only when it matches no file of `others`.
 */
export function collapsePaths(paths: readonly string[], others: readonly string[]): string[] {
  let rest = [...paths]
  const out: string[] = []
  const tryGroups = (key: (p: string) => string | undefined) => {
    const groups = new Map<string, string[]>()
    for (const p of rest) {
      const k = key(p)
      if (k !== undefined && !/[*?[\]{}()!\\]/.test(p)) groups.set(k, [...(groups.get(k) ?? []), p])
    }
    for (const [glob, members] of groups) {
      if (members.length < 2 || others.some((o) => globMatches(glob, o))) continue
      out.push(glob)
      rest = rest.filter((p) => !members.includes(p))
    }
  }
  tryGroups((p) => {
    const s = p.split('/')
    return s.length >= 3 ? [...s.slice(0, -2), '*', s[s.length - 1]].join('/') : undefined
  })
  tryGroups((p) => {
    const m = /^(.*\/)?[^/]*(\.[A-Za-z0-9]+)$/.exec(p)
    return m ? `${m[1] ?? ''}*${m[2]}` : undefined
  })
  return [...out, ...rest.map(escapeGlob)].sort()
}

/** A network the starter spec proposes: `base/len`, the addresses found in it, where it is written. */
export interface ProposedNetwork {
  network: string
  addresses: string[]
  written: InitPlace[]
}

/** The first and last address of `base/len` as numbers (its network and broadcast addresses). */
function bounds(network: string): [number, number] {
  const [base, len] = network.split('/')
  const first = ipv4Number(base!)
  return [first, first + 2 ** (32 - Number(len)) - 1]
}

/**
 * The whole private and shared ranges (RFC 1918, RFC 6598): written, they say "any private
 * address" (postfix `mynetworks`, a pg_hba.conf rule), never the network of the machines that move.
 */
const WHOLE_RANGES = new Set(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'])

/**
 * The networks a starter spec proposes under `networks:`: each network written in the files (a
 * CIDR or an address and netmask) that holds an address found, and each /24 that holds three or
 * more addresses found; a network holding another proposed one is left out (the narrower is the
 * one that moves), and so is a whole private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
 * 100.64.0.0/10). Its own network and broadcast addresses are not counted as addresses.
 */
export function proposeNetworks(scan: InitScan): ProposedNetwork[] {
  const found = scan.addresses.map((a) => a.address)
  const inside = (network: string): string[] => {
    const [first, last] = bounds(network)
    return found.filter((a) => {
      const n = ipv4Number(a)
      return n > first && n < last
    })
  }
  const candidates = new Map<string, InitPlace[]>()
  for (const w of scan.networks ?? [])
    if (!WHOLE_RANGES.has(w.network) && inside(w.network).length > 0)
      candidates.set(w.network, w.places)
  const perSlash24 = new Map<string, number>()
  for (const a of found) {
    const base = `${a.split('.').slice(0, 3).join('.')}.0/24`
    if (inside(base).includes(a)) perSlash24.set(base, (perSlash24.get(base) ?? 0) + 1)
  }
  for (const [base, count] of perSlash24)
    if (count >= 3 && !candidates.has(base)) candidates.set(base, [])
  const holdsAnother = (network: string): boolean => {
    const [first, last] = bounds(network)
    return [...candidates.keys()].some((other) => {
      if (other === network) return false
      const [f, l] = bounds(other)
      return f >= first && l <= last
    })
  }
  return [...candidates.entries()]
    .filter(([network]) => !holdsAnother(network))
    .map(([network, written]) => ({ network, addresses: inside(network), written }))
    .sort((a, b) => byAddress(a.network.split('/')[0]!, b.network.split('/')[0]!))
}

function networksBlock(proposed: readonly ProposedNetwork[], shown: number): string[] {
  if (proposed.length === 0) return []
  const out = [
    '',
    'networks:',
    '  # Whole networks that move: an address inside one that is not a host above keeps its host part',
    '  # in the new network, and a CIDR or netmask of the old network becomes the new one. Proposed',
    '  # for a network written in the files that holds an address found, and for each /24 holding',
    '  # three or more of them. Give each its new network (the same while it does not move), or',
    '  # delete it.',
  ]
  for (const p of proposed) {
    const count = p.addresses.length
    const listed = p.addresses.slice(0, shown).join(', ')
    out.push(
      `  # ${p.network}: ${count} address${count > 1 ? 'es' : ''} found in it (${listed}${count > shown ? `, … and ${count - shown} more` : ''})`,
    )
    for (const w of p.written.slice(0, shown))
      out.push(`  #   written at ${w.target}:${w.line}:${w.col}`)
    if (p.written.length > shown) out.push(`  #   … and ${p.written.length - shown} more`)
    out.push(`  - { old: ${p.network}, new: ${p.network} }   # fill in the new network`)
  }
  return out
}

function inventory(scan: InitScan, shown: number, proposed: readonly ProposedNetwork[]): string[] {
  const out = [
    'hosts:',
    '  # One line per machine: its DNS name, the address it has now (old) and the one it will have',
    '  # (new; the same when it does not move). Delete the machines that are not part of the migration.',
  ]
  if (scan.addresses.length === 0) out.push('  # (no IPv4 address was found)', '  {}')
  const used = new Set<string>()
  // a proposed network's own network and broadcast addresses are no machine
  const ends = new Set(proposed.flatMap((p) => bounds(p.network)))
  // nor is an address written only as the base of a network (`172.16.0.0/12`)
  const at = (p: InitPlace) => `${p.target}:${p.line}:${p.col}`
  const bases = new Set((scan.networks ?? []).flatMap((n) => n.places.map(at)))
  for (const a of scan.addresses) {
    if (ends.has(ipv4Number(a.address))) continue
    if (a.places.every((p) => bases.has(at(p)))) continue
    const files = new Set(a.places.map((p) => p.target)).size
    out.push(
      `  # ${a.address}: ${a.places.length} place${a.places.length > 1 ? 's' : ''} in ${files} file${files > 1 ? 's' : ''}`,
    )
    for (const p of a.places.slice(0, shown)) out.push(`  #   ${p.target}:${p.line}:${p.col}`)
    if (a.places.length > shown) out.push(`  #   … and ${a.places.length - shown} more`)
    const named = a.hostsName !== undefined && !used.has(a.hostsName)
    if (named) used.add(a.hostsName!)
    const key = named ? q(a.hostsName!) : q(`<name of ${a.address}>`)
    out.push(
      `  ${key}: { old: ${a.address}, new: ${a.address} }${named ? '   # name from a hosts file: check it' : '   # fill in the name'}`,
    )
  }
  return out
}

function namesSeen(scan: InitScan): string[] {
  if (scan.names.length === 0) return []
  const out = ['', '# Host names seen in these files (to help fill in the names above):']
  for (const n of scan.names.slice(0, 50))
    out.push(
      `#   ${n.name}  ${n.places[0]!.target}:${n.places[0]!.line}${n.places.length > 1 ? ` (+${n.places.length - 1} more)` : ''}`,
    )
  if (scan.names.length > 50) out.push(`#   … and ${scan.names.length - 50} more`)
  return out
}

function steps(scan: InitScan, kinds: readonly StepKind<any>[]): string[] {
  const out = ['steps:']
  const byKind = new Map<string, InitFile[]>()
  for (const f of scan.matched) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f])
  const suggestions = initSuggestions(kinds).sort((a, b) => a.order - b.order)
  for (const s of suggestions) {
    const group = byKind.get(s.group)
    if (!group || !s.step) continue
    const mine = new Set(group.map((f) => f.target))
    // a glob never takes a link to a file already named (the plan would hold the file twice)
    const globs = collapsePaths(
      [...mine],
      [...scan.scanned.filter((t) => !mine.has(t)), ...(scan.links ?? [])],
    )
    out.push(
      `  # ${s.step.why}`,
      `  - ${s.kind}:`,
      `      files: [${globs.map(q).join(', ')}]`,
      `      ${s.step.keys}`,
    )
  }
  for (const s of suggestions) {
    const group = byKind.get(s.group)
    if (!group || s.step || !s.note) continue
    out.push(`  # ${s.note}`)
    for (const f of group) out.push(`  #   ${f.target}: ${f.addresses.join(', ')}`)
  }
  if (out.length === 1) out[0] = 'steps: []   # no file holds an address'
  return out
}

/**
 * Writes a starter `cutover.yaml` (version 1) from a {@link scanForInit} result: an inventory
 * skeleton with each address, where it was found and a name to fill in (`"<name of 10.0.10.48>"`,
 * which the validator rejects until it is replaced by a DNS name), the host names seen, the
 * networks that look like they move ({@link proposeNetworks}), a `scan:`
 * of the scanned globs for leftovers, and one suggested step per file kind. Pure: returns text.
 */
export function starterSpec(scan: InitScan, options: StarterSpecOptions = {}): string {
  const shown = options.placesShown ?? 5
  const proposed = proposeNetworks(scan)
  const lines = [
    ...(options.schemaRef ? [`# yaml-language-server: $schema=${options.schemaRef}`] : []),
    `# A starter spec written by \`cutover init\` from ${scan.scanned.length} config file(s) below ${options.rootHint ?? scan.root}`,
    `# (${scan.files.join(', ')}): ${scan.addresses.length} address(es) in ${scan.matched.length} file(s).`,
    '# Fill in each name (and the new address of a machine that moves), review the steps, then:',
    `#   cutover plan --spec ${options.specHint ?? 'cutover.yaml'} --root ${options.rootHint ?? scan.root}`,
    'version: 1',
    '',
    ...inventory(scan, shown, proposed),
    ...namesSeen(scan),
    ...networksBlock(proposed, shown),
    '',
    '# Profiles (e.g. [test, live]), variants and secrets: see the README of cutover.',
    '',
    'scan:                                    # also report leftovers in files no step rewrites',
    `  files: [${scan.files.map(q).join(', ')}]`,
    `  exclude: [${scan.exclude.map(q).join(', ')}]`,
    '',
    ...steps(scan, options.kinds ?? [textStep]),
  ]
  return lines.join('\n') + '\n'
}
