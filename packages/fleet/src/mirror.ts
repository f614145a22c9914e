import { spawn } from 'node:child_process'
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  ftruncateSync,
  lchownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { chmod, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, posix } from 'node:path'
import { FleetError } from './errors.js'
import type { Machine } from './machine.js'

/** What a plan of one machine reads (an engine's `needs`): the globs of its steps, and its needles. */
export interface MirrorNeeds {
  /** Each step's globs (relative to the root); `always`: its files are planned without a needle. */
  files: ReadonlyArray<{ files: readonly string[]; exclude: readonly string[]; always: boolean }>
  /** Every needle of the plan's prefilter: a file holding none of them is never read by the plan. */
  needles: readonly string[]
}

/** Options of {@link mirrorMachine}. */
export interface MirrorOptions {
  /** Where the mirror is made: an empty private directory of this process ({@link mirrorDir}). */
  dir: string
  /** Files larger than this are not fetched: they stand in the mirror as sparse files of their size. */
  maxFileSize: number
  /** Other files to fetch whole (root-relative paths): the state directory's journals. */
  fetch?: (path: string) => boolean
  /** Other root-relative directories to list (where the files of `fetch` are). */
  also?: readonly string[]
}

/** A local copy of the part of a machine's tree that a plan reads. */
export interface Mirror {
  dir: string
  /** Root-relative paths of the files whose bytes were fetched, sorted. */
  fetched: string[]
  /** Root-relative paths of the files that stand in the mirror without their bytes, sorted. */
  placeholders: string[]
}

/** One entry of the listing: `find -printf` of type, mode, owner, size, link count, path and link target. */
export interface Entry {
  type: string
  mode: number
  uid: number
  gid: number
  size: number
  path: string
  link: string
  /** How many names the file has on the machine (hard links). */
  nlink: number
  /** Listed because a link leads to it (or to a directory above it). */
  viaLink?: boolean
}

/** statfs(2)'s type of a tmpfs. */
const TMPFS_MAGIC = 0x01021994

/**
 * Where mirrors are made: the temp directory the user named (`TMPDIR`), else `/dev/shm` when it
 * is a tmpfs, else the system's temp directory. A mirror is thousands of small files made and
 * removed within one command: in memory, that costs no journal commits of a disk (which other
 * writers of the disk can make last seconds), and the files fetched never reach a disk.
 */
export function mirrorBase(): string {
  if (process.env.TMPDIR) return tmpdir()
  try {
    if (statfsSync(SHM).type === TMPFS_MAGIC) return SHM
  } catch {
    // no /dev/shm here
  }
  return tmpdir()
}

const SHM = '/dev/shm'

/**
 * A fresh private directory for a machine's mirror (removed with {@link removeMirror}): `root`
 * in a new directory of mode 0700, beside the directory of the other names of its files (see
 * {@link linksDir}). Both are in the private directory: a name beside it in the shared temp
 * directory could be taken first by another user, who would then see the links made there.
 * Made by synchronous calls: the directory exists when this returns, so that a caller that
 * records it as the promise resolves (for a signal's handler to remove it) misses none, where a
 * signal handled between the thread pool's mkdtemp and its answer left it behind.
 */
export async function mirrorDir(name: string): Promise<string> {
  const base = mirrorBase()
  let parent: string
  try {
    parent = mkdtempSync(join(base, `cutover-mirror-${name}-`))
  } catch (e) {
    // a /dev/shm this user cannot write to (or full): the system's temp directory
    if (base !== SHM) throw e
    parent = mkdtempSync(join(tmpdir(), `cutover-mirror-${name}-`))
  }
  const dir = join(parent, MIRROR_ROOT)
  mkdirSync(dir, { mode: 0o700 })
  return dir
}

/** The name of a mirror's directory in the private directory {@link mirrorDir} makes. */
const MIRROR_ROOT = 'root'

/** The private directory a mirror of {@link mirrorDir} is in; undefined for another directory. */
function privateParent(dir: string): string | undefined {
  const parent = dirname(dir)
  return basename(dir) === MIRROR_ROOT && basename(parent).startsWith('cutover-mirror-')
    ? parent
    : undefined
}

/** Removes a mirror (and the other names of its files beside it, see {@link mirrorMachine}). */
export async function removeMirror(dir: string): Promise<void> {
  const whole = privateParent(dir) ?? dir
  if (whole === dir) await rm(linksDir(dir), { recursive: true, force: true })
  try {
    await rm(whole, { recursive: true, force: true })
  } catch {
    // not root, a directory copied read-only (0555) keeps its entries: made writable first
    await writableDirs(whole)
    await rm(whole, { recursive: true, force: true })
  }
}

/**
 * Removes mirrors ({@link removeMirror}) by one `rm -rf` for them all, so that the system's `rm`
 * unlinks their thousands of entries on a core of its own: node's recursive `rm` takes a
 * promise, an `lstat` and an `unlink` through the thread pool for each entry, on this thread (4
 * mirrors of section (e)'s plan, ≈ 10,000 entries: ≈ 1.0 s at load 15, against ≈ 0.1–0.2 s for
 * `rm -rf` of one tree of 3,000). What `rm` does not remove (not there, or a directory copied
 * read-only that a user other than root cannot empty) is removed as {@link removeMirror} does.
 * Never rejects.
 */
export async function removeMirrors(dirs: readonly string[]): Promise<void> {
  if (!dirs.length) return
  const wholes = dirs.flatMap((d) => {
    const whole = privateParent(d)
    return whole ? [whole] : [linksDir(d), d]
  })
  const removed = await new Promise<boolean>((resolve) => {
    const child = spawn('rm', ['-rf', '--', ...wholes], { stdio: 'ignore' })
    child.on('error', () => resolve(false))
    child.on('close', (code) => resolve(code === 0))
  })
  if (!removed) await Promise.allSettled(dirs.map((d) => removeMirror(d)))
}

/**
 * {@link removeMirror} by synchronous calls: for a process that a signal ends, whose handler
 * cannot wait for the thread pool.
 */
export function removeMirrorSync(dir: string): void {
  const whole = privateParent(dir) ?? dir
  if (whole === dir) rmSync(linksDir(dir), { recursive: true, force: true })
  try {
    rmSync(whole, { recursive: true, force: true })
  } catch {
    writableDirsSync(whole)
    rmSync(whole, { recursive: true, force: true })
  }
}

function writableDirsSync(dir: string): void {
  try {
    chmodSync(dir, 0o700)
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) writableDirsSync(join(dir, e.name))
  } catch {
    // what cannot be made writable stays, as with removeMirror
  }
}

/** Gives this user every permission on the directories of a mirror (never following a link). */
async function writableDirs(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => {})
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const e of entries) if (e.isDirectory()) await writableDirs(join(dir, e.name))
}

/**
 * Where a mirror's files get the other names they have on the machine: beside the mirror (the
 * same file system), never in it, where a glob could find them; in the private directory of a
 * mirror made by {@link mirrorDir}.
 */
function linksDir(dir: string): string {
  const parent = privateParent(dir)
  return parent !== undefined ? join(parent, 'links') : `${dir}.links`
}

/**
 * Copies into `o.dir` what the plan of a machine reads, so that the engine plans the mirror as
 * it would plan the machine's root:
 *
 * - the listing runs on the machine: `find` under the static prefixes of the globs (type, mode,
 *   owner, size, link target; NUL-separated names), and the directories above them; a symbolic
 *   link is made a link with the same target, and what it leads to (in the root) is listed too;
 * - the prefilter runs on the machine: `grep -rlFi` of every needle of the plan (given on stdin,
 *   never in an argument) over the same prefixes;
 * - only the files that hold a needle, the files under the static prefixes of a step that plans
 *   without one (`always`: a `set`, an `ensure`) or that a link there leads to, and `o.fetch`
 *   are fetched (`Machine.readFile`), with their mode and owner;
 * - every other file in the listing is an empty placeholder with its mode and owner. That is
 *   harmless: the engine reads a file whose bytes hold no needle of its prefilter and that no
 *   `always` step takes only to find that it holds none; an empty file holds none either, so the
 *   plan is the same (and the file exists, so `create:` and `NO_FILES` see it as on the machine).
 *   The grep is a superset of the engine's own prefilter (case folded, both the UTF-8 and the
 *   latin1 bytes of each needle, a needle with a newline matched by its lines);
 * - a file larger than `o.maxFileSize` is a sparse file of its size, never fetched: the plan
 *   refuses it (`FILE_TOO_LARGE`) with its path in the root, as on the machine;
 * - a file with hard links on the machine gets as many names, the others in a directory beside
 *   the mirror, so that the plan warns of them (`HARD_LINK`) as on the machine.
 *
 * Nothing is written through a link: a path under a listed link is never created (what the
 * link leads to is listed under its own path), and files are created `O_EXCL` (a link in their place is never followed).
 */
export async function mirrorMachine(
  machine: Machine,
  needs: MirrorNeeds,
  o: MirrorOptions,
): Promise<Mirror> {
  const root = machine.spec.root
  const prefixes = outermost(needs.files.flatMap((f) => f.files.map(staticPrefix)))
  const entries = await listTree(machine, [...prefixes, ...(o.also ?? [])])
  // every file under the static prefix of a step that plans files without a needle: a superset
  // of its scope (its globs are the engine's to match)
  const always = outermost(
    needs.files.filter((f) => f.always).flatMap((f) => f.files.map(staticPrefix)),
  )
  const extra = o.fetch ?? (() => false)
  const under = (p: string, q: string) => q === '.' || p === q || p.startsWith(`${q}/`)
  // what a link at or above such a prefix, or below it, leads to is in that step's scope too
  // (by the link's path): fetched, and so on along links from there
  const alwaysRoots = [...always]
  const linkEntries = entries.filter((e) => e.type === 'l')
  for (let grew = true; grew;) {
    grew = false
    for (const l of linkEntries) {
      if (!alwaysRoots.some((q) => under(l.path, q) || under(q, l.path))) continue
      const target = inRoot(l.path, l.link)
      if (target !== undefined && !alwaysRoots.some((q) => under(target, q))) {
        alwaysRoots.push(target)
        grew = true
      }
    }
  }
  const needed = (e: Entry) => alwaysRoots.some((q) => under(e.path, q)) || extra(e.path)
  // the other files the plan can read (under the globs' prefixes, or where a link leads; `o.also`
  // only lists): those holding a needle are fetched, whatever path leads to them
  const readable = (e: Entry) => e.viaLink === true || prefixes.some((q) => under(e.path, q))
  const candidates = await grepCandidates(
    machine,
    needs.needles,
    entries
      .filter((e) => e.type === 'f' && e.size <= o.maxFileSize && !needed(e) && readable(e))
      .map((e) => e.path),
  )
  const fetched: string[] = []
  const placeholders: string[] = []
  const links = new Set(entries.filter((e) => e.type === 'l').map((e) => e.path))
  const underLink = (path: string) => {
    for (let p = posix.dirname(path); p !== '.'; p = posix.dirname(p)) if (links.has(p)) return true
    return false
  }
  // the owners are copied as root; a controller that is not root keeps the copies its own (it
  // cannot give them away), as any copy of a machine a user makes
  const asRoot = process.geteuid?.() === 0
  const made = new Set<string>()
  const parentOf = (local: string) => {
    const d = dirname(local)
    if (!made.has(d)) {
      mkdirSync(d, { recursive: true })
      made.add(d)
    }
  }
  const files: Entry[] = []
  const directories: Entry[] = []
  // parents before what they hold (each entry's depth counted once, not at every comparison)
  const depths = new Map(entries.map((e) => [e, depth(e.path)]))
  entries.sort((a, b) => depths.get(a)! - depths.get(b)!)
  for (const e of entries) {
    if (links.size !== 0 && underLink(e.path)) continue
    const local = join(o.dir, e.path)
    if (e.type === 'd') {
      mkdirSync(local, { recursive: true })
      made.add(local)
      directories.push(e)
    } else if (e.type === 'l') {
      parentOf(local)
      symlinkSync(e.link, local)
      if (asRoot) lchownSync(local, e.uid, e.gid)
    } else if (e.type === 'f') files.push(e)
  }
  // The local copies are made with synchronous calls (each returns at once: a thread pool's
  // round trip per call was most of a mirror's time), the reads from the machine a few at
  // once over its one connection, each file written as its bytes arrive.
  let otherNames = 0
  const place = (e: Entry, bytes: Buffer | undefined) => {
    const local = join(o.dir, e.path)
    parentOf(local)
    const fd = openSync(local, 'wx', 0o600)
    try {
      if (bytes) writeFileSync(fd, bytes)
      else if (e.size > o.maxFileSize) ftruncateSync(fd, e.size)
      fchmodSync(fd, e.mode)
      if (asRoot) fchownSync(fd, e.uid, e.gid)
    } finally {
      closeSync(fd)
    }
    for (let n = 1; n < e.nlink; n++) {
      mkdirSync(linksDir(o.dir), { recursive: true, mode: 0o700 })
      linkSync(local, join(linksDir(o.dir), String(otherNames++)))
    }
    ;(bytes ? fetched : placeholders).push(e.path)
  }
  const wanted = files.filter(
    (e) => e.size <= o.maxFileSize && (candidates.has(e.path) || needed(e)),
  )
  let next = 0
  const worker = async () => {
    while (next < wanted.length) {
      const e = wanted[next++]!
      place(e, await readOn(machine, root, e.path))
    }
  }
  const reads = Promise.all(Array.from({ length: FETCH_CONCURRENCY }, worker))
  // the placeholders while the first reads are on their way; a failed read waits for them
  const fetching = new Set(wanted)
  try {
    for (const e of files) if (!fetching.has(e)) place(e, undefined)
  } catch (e) {
    await reads.catch(() => undefined)
    throw e
  }
  await reads
  // the directories' modes last, deepest first: one without write access (0555) is filled first
  for (const e of directories.reverse()) {
    const local = join(o.dir, e.path)
    chmodSync(local, e.mode)
    if (asRoot) lchownSync(local, e.uid, e.gid)
  }
  return { dir: o.dir, fetched: fetched.sort(), placeholders: placeholders.sort() }
}

/** How many files are read from a machine at once. */
const FETCH_CONCURRENCY = 8

function depth(path: string): number {
  return path.split('/').length
}

/** The literal directories (or file) a glob starts with: `var/www/*\/config.php` → `var/www`. */
export function staticPrefix(glob: string): string {
  const parts = glob.replace(/^(?:\.?\/+)+/, '').split('/')
  const out: string[] = []
  for (const p of parts) {
    if (/[*?[\]{}()!+@\\]/.test(p)) break
    out.push(p)
  }
  return out.join('/') || '.'
}

/** `'…'` for sh: the text as one word, whatever it holds. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

/** The prefixes without those inside another (`etc` covers `etc/hosts`). */
function outermost(prefixes: Iterable<string>): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))
  const out: string[] = []
  for (const p of sorted)
    if (!out.some((q) => q === '.' || p === q || p.startsWith(`${q}/`))) out.push(p)
  return out
}

/**
 * Lists the tree under `prefixes` on the machine, and the directories above them, following
 * the links it finds (to what they lead to in the root) for a few rounds.
 */
async function listTree(machine: Machine, prefixes: readonly string[]): Promise<Entry[]> {
  const byPath = new Map<string, Entry>()
  let frontier = outermost(prefixes)
  const listed: string[] = []
  for (let round = 0; frontier.length && round < 8; round++) {
    listed.push(...frontier)
    for (const e of await findOn(machine, frontier))
      if (!byPath.has(e.path)) byPath.set(e.path, round ? { ...e, viaLink: true } : e)
    // what a link leads to, and the rest of a prefix below a linked directory, in the root
    const next: string[] = []
    for (const e of byPath.values()) {
      if (e.type !== 'l') continue
      const target = inRoot(e.path, e.link)
      if (target === undefined) continue
      next.push(target)
      for (const p of prefixes)
        if (p.startsWith(`${e.path}/`)) next.push(posix.join(target, p.slice(e.path.length + 1)))
    }
    frontier = outermost(next).filter(
      (p) => !listed.some((q) => q === '.' || p === q || p.startsWith(`${q}/`)),
    )
  }
  return [...byPath.values()]
}

/** Where a link at `path` to `link` leads, as a chroot at the root sees it; undefined when out of it. */
export function inRoot(path: string, link: string): string | undefined {
  const joined = link.startsWith('/') ? link : posix.join('/', posix.dirname(path), link)
  const normal = posix.normalize(joined).replace(/^\/+/, '')
  return normal === '' ? '.' : normal.startsWith('..') ? undefined : normal
}

/**
 * `find` on the machine: each prefix whole (files, links, directories; `type` is `f`, `l` or
 * `d`), and each directory above it alone. A prefix that does not exist lists nothing.
 */
export async function findOn(machine: Machine, prefixes: readonly string[]): Promise<Entry[]> {
  const above = new Set<string>()
  for (const p of prefixes)
    for (let d = posix.dirname(p); d !== '.' && d !== '/'; d = posix.dirname(d)) above.add(d)
  const fmt = `'%y\\0%m\\0%U\\0%G\\0%s\\0%n\\0%p\\0%l\\0'`
  // a find that fails (a directory the login cannot read) fails the listing: a tree listed in
  // part would be planned without the files it left out
  const script = [
    `cd ${shQuote(machine.spec.root)} || exit 3`,
    'rc=0',
    ...[...above].map(
      (d) =>
        `if [ -e ./${shQuote(d)} ]; then find -P ./${shQuote(d)} -maxdepth 0 -printf ${fmt} || rc=1; fi`,
    ),
    ...prefixes.map(
      (p) =>
        `if [ -e ./${shQuote(p)} ] || [ -L ./${shQuote(p)} ]; then find -P ./${shQuote(p)} \\( -type f -o -type l -o -type d \\) -printf ${fmt} || rc=1; fi`,
    ),
    'exit $rc',
  ].join('\n')
  const r = await machine.exec(script)
  if (r.code !== 0)
    throw new FleetError(
      'MIRROR',
      `${machine.spec.name}: cannot list ${prefixes.join(', ')} under ${machine.spec.root}: ${r.stderr.trim() || `exit ${r.code}`}`,
    )
  const fields = r.stdout.toString('latin1').split('\0')
  const out: Entry[] = []
  for (let i = 0; i + 8 <= fields.length; i += 8) {
    const [type, mode, uid, gid, size, nlink, path, link] = fields.slice(i, i + 8) as string[]
    const rel = Buffer.from(path!, 'latin1')
      .toString('utf8')
      .replace(/^\.\/?/, '')
    if (rel === '') continue
    out.push({
      type: type!,
      mode: Number.parseInt(mode!, 8),
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      nlink: Number(nlink),
      path: rel,
      link: Buffer.from(link!, 'latin1').toString('utf8'),
    })
  }
  return out
}

/**
 * The files among `paths` that hold a needle as bytes (ASCII case folded): `grep -lFi` on the
 * machine with the needles on its stdin (never in an argument: they may be next to secrets) and
 * the paths, which are no secret, as its arguments, in batches that keep a command line short.
 * When grep cannot tell for a batch (an error, exit 2), every path of it is a candidate.
 */
async function grepCandidates(
  machine: Machine,
  needles: readonly string[],
  paths: readonly string[],
): Promise<Set<string>> {
  const lines = new Set<string>()
  for (const n of needles) {
    if (n === '') continue
    // a needle with a newline is matched by its lines: a superset of the files holding it
    for (const form of [Buffer.from(n, 'utf8').toString('latin1'), ...latin1Form(n)])
      for (const line of form.split('\n')) if (line !== '') lines.add(line)
  }
  const out = new Set<string>()
  if (lines.size === 0 || paths.length === 0) return out
  const patterns = Buffer.from([...lines].join('\n') + '\n', 'latin1')
  // the batches at once (the connection runs a few commands at a time)
  const grep = async (batch: string[]) => {
    const script = [
      `cd ${shQuote(machine.spec.root)} || exit 3`,
      `LC_ALL=C exec grep -lFiZ -D skip -f - -- ${batch.map((p) => shQuote(`./${p}`)).join(' ')}`,
    ].join('\n')
    const r = await machine.exec(script, { stdin: patterns })
    if (r.code > 1) for (const p of batch) out.add(p)
    else
      for (const p of r.stdout.toString('utf8').split('\0')) if (p) out.add(p.replace(/^\.\//, ''))
  }
  await Promise.all([...batches(paths, GREP_BATCH)].map(grep))
  return out
}

/** How many bytes of paths one grep takes as arguments. */
const GREP_BATCH = 64 * 1024

function* batches(paths: readonly string[], bytes: number): Generator<string[]> {
  let batch: string[] = []
  let size = 0
  for (const p of paths) {
    if (batch.length && size + p.length > bytes) {
      yield batch
      batch = []
      size = 0
    }
    batch.push(p)
    size += p.length + 4
  }
  if (batch.length) yield batch
}

/** The latin1 bytes of a needle whose characters all fit one byte, when some are beyond ASCII. */
function latin1Form(needle: string): string[] {
  return [...needle].some((c) => c > '\u007f') && ![...needle].some((c) => c > '\u00ff')
    ? [needle]
    : []
}

async function readOn(machine: Machine, root: string, path: string): Promise<Buffer> {
  try {
    return await machine.readFile(posix.join(root, path))
  } catch (e) {
    throw new FleetError(
      'MIRROR',
      `${machine.spec.name}: cannot read ${path} (under ${root}): ${(e as Error).message}`,
      { cause: e },
    )
  }
}
