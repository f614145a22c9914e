import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import picomatch from 'picomatch'
import type { RootResolver } from '../fs/confine.js'
import { discoverCache, discoverFiles, resolverOf } from '../plan/discover.js'
import { LineIndex } from '../text/line-index.js'
import { isIPv4 } from '../match/match.js'
import { decodeText, isBinary } from '../text/source.js'
import type { InitSuggestion, StepKind } from '../step/step.js'
import { textStep } from '../step/text.js'

/** Where `cutover init` looks by default: the usual places of configuration. */
export const INIT_FILES: readonly string[] = ['etc/**', 'var/www/**', 'home/*/**']

/** Never scanned by `cutover init`: dependencies, VCS data, cutover's own state. */
export const INIT_EXCLUDE: readonly string[] = [
  '**/.git/**',
  '**/node_modules/**',
  '**/vendor/**',
  'var/lib/cutover/**',
]

/**
 * The group a file falls in, decided by its path among the {@link InitSuggestion}s of the step
 * kinds given (`php`, `hosts`, `pg_hba`: text with client addresses, …); empty when none claims it.
 */
export type InitFileKind = string

/** An init suggestion with the name of the step kind that registers it. */
export interface KindSuggestion extends InitSuggestion {
  kind: string
}

const compiled = new WeakMap<
  readonly StepKind<any>[],
  Array<[KindSuggestion, (p: string) => boolean]>
>()

/** The init suggestions of `kinds`, each with its step kind's name, by rank. */
export function initSuggestions(kinds: readonly StepKind<any>[]): KindSuggestion[] {
  return claimers(kinds).map(([s]) => s)
}

function claimers(
  kinds: readonly StepKind<any>[],
): Array<[KindSuggestion, (p: string) => boolean]> {
  let out = compiled.get(kinds)
  if (!out) {
    out = kinds
      .flatMap((k) => (k.init ?? []).map((s) => ({ ...s, kind: k.name })))
      .sort((a, b) => a.rank - b.rank)
      .map((s) => [s, picomatch([...s.files], { dot: true })])
    compiled.set(kinds, out)
  }
  return out
}

/** One place a literal was found: a root-relative path and a 1-based line and column. */
export interface InitPlace {
  target: string
  line: number
  col: number
}

/** An IPv4 address found by {@link scanForInit}, with every place it occurs. */
export interface InitAddress {
  address: string
  places: InitPlace[]
  /** A name a hosts file gives this address (`10.0.10.48 finance.example.net`), if any. */
  hostsName?: string
}

/** A host name found by {@link scanForInit}: a dotted DNS name ending in a known TLD. */
export interface InitName {
  name: string
  places: InitPlace[]
}

/**
 * A network written in a file: a CIDR with its host bits zero (`172.20.0.0/24`), or an address
 * followed by blanks and a dotted netmask (`172.20.0.0 255.255.255.0`), as `base/prefix`.
 */
export interface InitNetwork {
  network: string
  places: InitPlace[]
}

/** A scanned file that holds at least one address. */
export interface InitFile {
  target: string
  kind: InitFileKind
  addresses: string[]
}

/** What {@link scanForInit} found below a root. */
export interface InitScan {
  root: string
  files: readonly string[]
  exclude: readonly string[]
  /** Every config-like file considered, root-relative, sorted. */
  scanned: string[]
  /** Symbolic links left out because their file is scanned under another path, sorted: no glob may take them. */
  links?: string[]
  /** Files holding addresses, sorted by path. */
  matched: InitFile[]
  /** Addresses, sorted numerically. */
  addresses: InitAddress[]
  /** Host names, sorted. */
  names: InitName[]
  /** Networks written in the files (base address migratable, prefix 8 to 30), sorted by base address. */
  networks?: InitNetwork[]
}

/** Options of {@link scanForInit}. */
export interface InitScanOptions {
  /** Globs relative to the root; default {@link INIT_FILES}. */
  files?: readonly string[]
  /** Globs left out, besides {@link INIT_EXCLUDE}. */
  exclude?: readonly string[]
  /** Files larger than this (bytes) are not config; default 2 MiB. */
  maxBytes?: number
  concurrency?: number
  onProgress?: (p: { considered: number; total: number; matched: number }) => void
  /** Called for every file considered, with what became of it (`2 addresses`, `skipped: binary`). */
  onFile?: (target: string, what: string) => void
  /** The step kinds whose init suggestions group the files; default the `text` step alone. */
  kinds?: readonly StepKind<any>[]
}

const NOT_CONFIG =
  /\.(?:png|jpe?g|gif|ico|svg|webp|bmp|tiff?|pdf|gz|tgz|bz2|xz|zst|zip|tar|jar|war|so|a|o|dll|exe|bin|pyc|mo|woff2?|ttf|eot|otf|mp3|mp4|ogg|wav|avi|mov|pem|crt|der|p12|pfx|key|gpg|kdbx|sqlite3?|db|dat|lock|log|min\.js|map)$/i
const IPV4 = /(?<![0-9.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9]|\.[0-9])/g
const CIDR = /(?<![0-9.])(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})(?![0-9]|\.[0-9])/g
const NETMASK =
  /(?<![0-9.])(\d{1,3}(?:\.\d{1,3}){3})[ \t]+(255\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![0-9]|\.[0-9])/g
const FILE_EXT =
  /^(?:sh|py|pl|rb|js|ts|md|php|conf|cfg|ini|cnf|json|yml|yaml|xml|html?|txt|sql|log|pid|sock|service|timer|socket|so|gz|bak|old|orig|local|lock|list|d)$/i
const GENERIC_TLD =
  /^(?:com|net|org|edu|gov|mil|int|info|biz|io|dev|app|cloud|local|lan|internal|intranet|corp|home|arpa|test|example|invalid|localhost|eu|asia|name|pro|tech|online|site|xyz)$/i
const HOST_NAME =
  /(?<![A-Za-z0-9_.@-])(?<!(?:^|[^/])\/)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9_-]|\.[A-Za-z0-9]|\()/g

/** Whether an address is worth an inventory line: not loopback, unspecified, a netmask or multicast. */
export function isMigratable(address: string): boolean {
  if (!isIPv4(address)) return false
  const first = Number(address.split('.')[0])
  return first !== 0 && first !== 127 && first < 224
}

/**
 * The group `cutover init` puts a root-relative path in: that of the lowest-ranked suggestion of
 * `kinds` that claims it (default the `text` step alone), or `''` when none does.
 */
export function initFileKind(
  target: string,
  kinds: readonly StepKind<any>[] = DEFAULT_KINDS,
): InitFileKind {
  return claimOf(target, kinds)?.group ?? ''
}

const DEFAULT_KINDS: readonly StepKind<any>[] = [textStep]

function claimOf(target: string, kinds: readonly StepKind<any>[]): KindSuggestion | undefined {
  return claimers(kinds).find(([, claims]) => claims(target))?.[0]
}

function isHostName(name: string): boolean {
  const labels = name.split('.')
  const tld = labels[labels.length - 1]!
  if (FILE_EXT.test(tld)) return false
  return GENERIC_TLD.test(tld) || (tld.length === 2 && /^[a-z]{2}$/.test(tld))
}

/** An IPv4 address as a 32-bit unsigned number. */
export function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

/** A 32-bit unsigned number as a dotted quad. */
export function ipv4String(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.')
}

/** The prefix length of a contiguous dotted netmask (`255.255.255.0` is 24), undefined otherwise. */
function maskLength(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined
  const n = ipv4Number(mask)
  for (let len = 0; len <= 32; len++) if (n === 2 ** 32 - 2 ** (32 - len)) return len
  return undefined
}

/** `base/len` when `base` is a migratable address with its host bits zero and len is 8 to 30. */
function networkOf(base: string, len: number): string | undefined {
  if (!isMigratable(base) || len < 8 || len > 30) return undefined
  return ipv4Number(base) % 2 ** (32 - len) === 0 ? `${base}/${len}` : undefined
}

interface FileFinding {
  networks: Map<string, InitPlace[]>
  addresses: Map<string, InitPlace[]>
  names: Map<string, InitPlace[]>
  hostsNames: Map<string, string>
}

/** Finds IPv4 literals and host names in one file's text, and the names its group's suggestion reads there. */
function findLiterals(
  target: string,
  text: string,
  suggestion: KindSuggestion | undefined,
): FileFinding {
  const out: FileFinding = {
    networks: new Map(),
    addresses: new Map(),
    names: new Map(),
    hostsNames: new Map(),
  }
  let index: LineIndex | undefined
  const place = (offset: number): InitPlace => {
    index ??= new LineIndex(text)
    return { target, ...index.position(offset) }
  }
  const add = (map: Map<string, InitPlace[]>, key: string, at: number) => {
    const list = map.get(key) ?? []
    list.push(place(at))
    map.set(key, list)
  }
  for (const m of text.matchAll(IPV4)) if (isMigratable(m[0])) add(out.addresses, m[0], m.index)
  for (const m of text.matchAll(HOST_NAME)) if (isHostName(m[0])) add(out.names, m[0], m.index)
  for (const m of text.matchAll(CIDR)) {
    const network = isIPv4(m[1]!) ? networkOf(m[1]!, Number(m[2])) : undefined
    if (network) add(out.networks, network, m.index)
  }
  for (const m of text.matchAll(NETMASK)) {
    const len = maskLength(m[2]!)
    const network = isIPv4(m[1]!) && len !== undefined ? networkOf(m[1]!, len) : undefined
    if (network) add(out.networks, network, m.index)
  }
  for (const [address, name] of suggestion?.names?.(text) ?? [])
    if (isMigratable(address) && !out.hostsNames.has(address)) out.hostsNames.set(address, name)
  return out
}

/**
 * Scans the config-like files below `root` (text, not too large, not images, archives or keys)
 * for IPv4 literals and host names, for `cutover init`. Loopback, unspecified and multicast
 * addresses are left out. Reads files in bounded parallel batches; never writes anything.
 */
export async function scanForInit(root: string, options: InitScanOptions = {}): Promise<InitScan> {
  const abs = resolve(root)
  const files = options.files ?? INIT_FILES
  const exclude = [...INIT_EXCLUDE, ...(options.exclude ?? [])]
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024
  const kinds = options.kinds ?? DEFAULT_KINDS
  // a starter scan: a directory it cannot read or a link out of the root is reported and passed over
  const cache = discoverCache()
  const listed = await discoverFiles(abs, {
    files,
    exclude,
    cache,
    onProblem: (p) => options.onFile?.(p.path, `skipped: ${p.message}`),
  })
  const resolver = resolverOf(cache, abs)
  const { found, links } = withoutLinks(resolver, listed)
  const addresses = new Map<string, InitAddress>()
  const names = new Map<string, InitPlace[]>()
  const networks = new Map<string, InitPlace[]>()
  const matched: InitFile[] = []
  const scanned: string[] = []
  let considered = 0
  const one = async (target: string): Promise<string> => {
    if (NOT_CONFIG.test(target)) return 'skipped: not a config file (by its extension)'
    // read where the target is in the root (links followed as a chroot would), never outside it
    const where = resolver.resolve(target)
    if (!where?.exists) return 'skipped: not there any more'
    const real = where.real
    const info = await stat(real)
    if (!info.isFile()) return 'skipped: not a regular file'
    if (info.size > maxBytes) return `skipped: larger than ${maxBytes} bytes`
    const bytes = await readFile(real)
    if (isBinary(bytes)) return 'skipped: binary'
    scanned.push(target)
    const suggestion = claimOf(target, kinds)
    const kind = suggestion?.group ?? ''
    const f = findLiterals(target, decodeText(bytes).text, suggestion)
    for (const [a, places] of f.addresses) {
      const entry = addresses.get(a) ?? { address: a, places: [] }
      entry.places.push(...places)
      const hostsName = f.hostsNames.get(a)
      if (hostsName && entry.hostsName === undefined) entry.hostsName = hostsName
      addresses.set(a, entry)
    }
    for (const [n, places] of f.names) names.set(n, [...(names.get(n) ?? []), ...places])
    for (const [n, places] of f.networks) networks.set(n, [...(networks.get(n) ?? []), ...places])
    if (f.addresses.size)
      matched.push({ target, kind, addresses: [...f.addresses.keys()].sort(byAddress) })
    const count = [...f.addresses.values()].reduce((n, p) => n + p.length, 0)
    return count ? `${count} address${count > 1 ? 'es' : ''}` : 'no address'
  }
  for (const [link, to] of links)
    options.onFile?.(link, `skipped: a symbolic link to ${to}, scanned there`)
  let next = 0
  const worker = async () => {
    while (next < found.length) {
      const target = found[next++]!
      const what = await one(target).catch(
        (e: NodeJS.ErrnoException) => `skipped: ${e.code ?? e.message}`,
      )
      considered++
      options.onFile?.(target, what)
      options.onProgress?.({ considered, total: found.length, matched: matched.length })
    }
  }
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 16, found.length) }, worker),
  )
  const sortPlaces = (p: InitPlace[]) =>
    p.sort((a, b) => a.target.localeCompare(b.target) || a.line - b.line || a.col - b.col)
  return {
    root: abs,
    files: [...files],
    exclude,
    scanned: scanned.sort(),
    links: [...links.keys()].sort(),
    matched: matched.sort((a, b) => a.target.localeCompare(b.target)),
    addresses: [...addresses.values()]
      .sort((a, b) => byAddress(a.address, b.address))
      .map((a) => ({ ...a, places: sortPlaces(a.places) })),
    names: [...names.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, places]) => ({ name, places: sortPlaces(places) })),
    networks: [...networks.entries()]
      .sort(([a], [b]) => byNetwork(a, b))
      .map(([network, places]) => ({ network, places: sortPlaces(places) })),
  }
}

/** Orders `base/len` networks by base address, then the wider first. */
function byNetwork(a: string, b: string): number {
  const [x, xl] = a.split('/')
  const [y, yl] = b.split('/')
  return byAddress(x!, y!) || Number(xl) - Number(yl)
}

/**
 * The paths without the symbolic links whose file is also listed (by its own path, or by the
 * first link to it): the spec then names each file once, and its places are counted once.
 */
function withoutLinks(
  resolver: RootResolver,
  paths: readonly string[],
): { found: string[]; links: Map<string, string> } {
  const byReal = new Map<string, string[]>()
  for (const p of paths) {
    // where it is in the root, links followed as a chroot would
    let real: string
    try {
      real = resolver.resolve(p)?.rel ?? p
    } catch {
      real = p
    }
    byReal.set(real, [...(byReal.get(real) ?? []), p])
  }
  const links = new Map<string, string>()
  for (const [real, group] of byReal) {
    if (group.length < 2) continue
    const own = real
    const kept = group.includes(own) ? own : group[0]!
    for (const p of group) if (p !== kept) links.set(p, kept)
  }
  return { found: paths.filter((p) => !links.has(p)), links }
}

/** Orders dotted quads numerically. */
export function byAddress(a: string, b: string): number {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return 0
}
