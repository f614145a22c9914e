import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs'
import { join } from 'node:path'
import picomatch from 'picomatch'

/** What to look for below a root: globs relative to it, and globs to leave out. */
export interface DiscoverOptions {
  files: readonly string[]
  exclude?: readonly string[]
  /**
   * Directory listings shared by several calls (from {@link discoverCache}): the steps of one
   * plan walk the tree once instead of once each. Use a fresh cache for each plan.
   */
  cache?: DiscoverCache
}

/** Directory listings remembered across {@link discoverFiles} calls; opaque. */
export interface DiscoverCache { readonly listings: Map<string, unknown> }

/** A cache of directory listings for the {@link discoverFiles} calls of one plan. */
export function discoverCache(): DiscoverCache {
  return { listings: new Map() }
}

/** A directory's entries that are files or directories, links followed; null when unreadable. */
interface Listing { files: string[]; dirs: Array<{ name: string; link: boolean }> }

function listing(cache: Map<string, unknown>, dir: string): Listing | null {
  const known = cache.get(dir) as Listing | null | undefined
  if (known !== undefined) return known
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    cache.set(dir, null)
    return null
  }
  const out: Listing = { files: [], dirs: [] }
  for (const e of entries) {
    if (e.isFile()) out.files.push(e.name)
    else if (e.isDirectory()) out.dirs.push({ name: e.name, link: false })
    else if (e.isSymbolicLink()) {
      // a link counts as what it points to; a dangling or looping link is neither
      const st = statOrUndefined(under(dir, e.name))
      if (st?.isFile()) out.files.push(e.name)
      else if (st?.isDirectory()) out.dirs.push({ name: e.name, link: true })
    }
  }
  cache.set(dir, out)
  return out
}

/** `dir/name` for a normalised `dir` (path.join would normalise it again, for every entry). */
function under(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`
}

function statOrUndefined(path: string) {
  try {
    return statSync(path, { throwIfNoEntry: false })
  } catch {
    return undefined
  }
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}

const MATCH = { dot: true } as const

/** A glob split into the directory it starts from and how deep below it a match can be. */
interface Start { base: string; depth: number; literal: boolean }

function startOf(glob: string): Start {
  const s = picomatch.scan(glob, { parts: true })
  if (!s.isGlob) return { base: glob, depth: 0, literal: true }
  // `**`, braces and extglobs can span any number of directories
  const deep = /\*\*|[{(]/.test(s.glob)
  return { base: s.base, depth: deep ? Infinity : s.glob.split('/').length, literal: false }
}

/**
 * The walks that cover the globs, grouped as fast-glob groups them (the exclude globs prune
 * the directories a walk enters, not the one it starts from, so the grouping shows): one walk
 * per directory the globs start from, or a single walk from the root when one of them starts
 * there.
 */
function walksOf(starts: readonly Start[]): Start[] {
  const inside = starts.filter((s) => !s.base.startsWith('..'))
  const outside = starts.filter((s) => s.base.startsWith('..'))
  const levels = (s: Start) => (s.base === '' ? 0 : s.base.split('/').length)
  const groups = inside.some((s) => s.base === '') ? [{ base: '', depth: Math.max(...inside.map((s) => levels(s) + s.depth)), literal: false }] : inside
  const byBase = new Map<string, Start>()
  for (const s of [...groups, ...outside]) {
    const known = byBase.get(s.base)
    if (!known || known.depth < s.depth) byBase.set(s.base, s)
  }
  return [...byBase.values()]
}

function clean(glob: string): string {
  return glob.replace(/^(?:\.?\/+)+/, '')
}

/**
 * Lists the regular files (and links to them) below `root` that match `files` and none of
 * `exclude`, as sorted paths relative to the root with `/` separators. Dotfiles match; `**`
 * crosses directories; a literal path (no glob characters) matches itself. Links to directories
 * are followed, except into a directory the walk is already inside (a loop). A directory
 * matching an exclude glob that ends in `/**` or whose last part is literal (`vendor`,
 * `**\/node_modules`) is not entered by the walk (the directory a glob starts from, `conf` of
 * `conf/*.php`, is entered all the same). Unreadable directories are passed over.
 */
export async function discoverFiles(root: string, options: DiscoverOptions): Promise<string[]> {
  return discoverFilesSync(root, options)
}

function discoverFilesSync(root: string, options: DiscoverOptions): string[] {
  const positive = options.files.filter((f) => !f.startsWith('!')).map(clean)
  if (positive.length === 0) return []
  const ignore = [...(options.exclude ?? []), ...options.files.filter((f) => f.startsWith('!')).map((f) => f.slice(1))].map(clean)
  // picomatch's `dir/**` also matches `dir` itself; as a file that is not below `dir/`
  const matches = picomatch(positive.map((g) => (g !== '**' && g.endsWith('/**') ? `${g}/*` : g)), MATCH)
  const ignored = ignore.length ? picomatch(ignore, MATCH) : () => false
  // the exclude globs that also keep the walk out of a directory (as fast-glob does)
  const pruning = ignore.filter((g) => g.endsWith('/**') || !picomatch.scan(g.split('/').pop() ?? '').isGlob)
  const pruned = pruning.length ? picomatch(pruning, MATCH) : () => false
  const cache = (options.cache ?? discoverCache()).listings
  const found = new Set<string>()

  const walk = (rel: string, abs: string, real: string | undefined, depth: number): void => {
    const list = listing(cache, abs)
    if (!list) return
    const prefix = rel === '' ? '' : `${rel}/`
    for (const name of list.files) {
      const path = prefix + name
      if (matches(path) && !ignored(path)) found.add(path)
    }
    if (depth <= 1) return
    for (const d of list.dirs) {
      const path = prefix + d.name
      if (pruned(path)) continue
      const childAbs = under(abs, d.name)
      let childReal = real === undefined ? undefined : under(real, d.name)
      if (d.link || real === undefined) {
        childReal = realOrUndefined(childAbs)
        if (childReal === undefined) continue
        if (real !== undefined && (real === childReal || real.startsWith(under(childReal, '')))) continue
      }
      walk(path, childAbs, childReal, depth - 1)
    }
  }

  const starts = positive.map(startOf)
  for (const s of starts) {
    // a literal path: the file itself, when it is one (through links) and not excluded
    if (s.literal && statOrUndefined(join(root, s.base))?.isFile() && !ignored(s.base)) found.add(s.base)
  }
  for (const s of walksOf(starts.filter((x) => !x.literal))) {
    const abs = join(root, s.base)
    walk(s.base, abs, realOrUndefined(abs), s.depth)
  }
  return [...found].sort()
}
