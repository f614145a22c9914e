import { readdirSync, statSync, type Dirent } from 'node:fs'
import picomatch from 'picomatch'
import { climbs, OutsideRootError, RootResolver } from '../fs/confine.js'
import { CutoverError } from '../errors.js'

/** What to look for below a root: globs relative to it, and globs to leave out. */
export interface DiscoverOptions {
  files: readonly string[]
  exclude?: readonly string[]
  /**
   * Directory listings shared by several calls (from {@link discoverCache}): the steps of one
   * plan walk the tree once instead of once each. Use a fresh cache for each plan.
   */
  cache?: DiscoverCache
  /**
   * Called for each directory in scope that cannot be listed (`DIR_UNREADABLE`) and each link
   * that leads out of the root (`OUTSIDE_ROOT`). Without it, {@link discoverFiles} throws one
   * {@link CutoverError} naming all of them after the walk.
   */
  onProblem?: (problem: DiscoverProblem) => void
}

/** A directory that was not read, or a link that was not followed, with why. */
export interface DiscoverProblem {
  code: 'DIR_UNREADABLE' | 'OUTSIDE_ROOT'
  path: string
  message: string
}

/** Directory listings remembered across {@link discoverFiles} calls; opaque. */
export interface DiscoverCache {
  readonly listings: Map<string, unknown>
  resolver?: RootResolver
  /** Found paths whose last part is a link, or that were looked up as literal paths: resolve them again. */
  linked?: Set<string>
}

/** A cache of directory listings for the {@link discoverFiles} calls of one plan. */
export function discoverCache(): DiscoverCache {
  return { listings: new Map() }
}

/** The resolver of a cache for `root` (one per root), made on first use. */
export function resolverOf(cache: DiscoverCache, root: string): RootResolver {
  if (!cache.resolver || cache.resolver.root !== root) cache.resolver = new RootResolver(root)
  return cache.resolver
}

/**
 * A directory's entries that are files or directories, links followed within the root (`real`
 * is where a link to a directory leads); an Error when it cannot be listed.
 */
interface Listing {
  files: string[]
  links: Set<string>
  dirs: Array<{ name: string; real?: string }>
  refused: Array<{ name: string; code: DiscoverProblem['code']; detail: string }>
}

/** Lists `dir` (its real, link-free path `abs` and its resolved path `rel` in the root). */
function listing(
  cache: Map<string, unknown>,
  resolver: RootResolver,
  rel: string,
  abs: string,
): Listing | Error {
  const known = cache.get(abs) as Listing | Error | undefined
  if (known !== undefined) return known
  let entries: Dirent[]
  try {
    entries = readdirSync(abs, { withFileTypes: true })
  } catch (e) {
    cache.set(abs, e as Error)
    return e as Error
  }
  const out: Listing = { files: [], links: new Set(), dirs: [], refused: [] }
  for (const e of entries) {
    if (e.isFile()) out.files.push(e.name)
    else if (e.isDirectory()) out.dirs.push({ name: e.name })
    else if (e.isSymbolicLink()) {
      // a link counts as what it points to, in the root; a dangling or looping link is neither
      let to
      try {
        to = resolver.resolve(rel === '' ? e.name : `${rel}/${e.name}`)
      } catch (err) {
        if (err instanceof OutsideRootError)
          out.refused.push({ name: e.name, code: 'OUTSIDE_ROOT', detail: err.detail })
        else if (err instanceof CutoverError) continue
        else
          out.refused.push({
            name: e.name,
            code: 'DIR_UNREADABLE',
            detail: `link not followed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          })
        continue
      }
      const st = to?.exists ? statOrUndefined(to.real) : undefined
      if (st?.isFile()) {
        out.files.push(e.name)
        out.links.add(e.name)
      } else if (st?.isDirectory()) out.dirs.push({ name: e.name, real: to!.real })
    }
  }
  cache.set(abs, out)
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

const MATCH = { dot: true } as const

/** A glob split into the directory it starts from and how deep below it a match can be. */
interface Start {
  base: string
  depth: number
  literal: boolean
}

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
  const levels = (s: Start) => (s.base === '' ? 0 : s.base.split('/').length)
  const groups = starts.some((s) => s.base === '')
    ? [{ base: '', depth: Math.max(...starts.map((s) => levels(s) + s.depth)), literal: false }]
    : starts
  const byBase = new Map<string, Start>()
  for (const s of groups) {
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
 * crosses directories; a literal path (no glob characters) matches itself. Links are followed
 * within the root as a chroot would (see {@link RootResolver}: an absolute link is the root
 * joined with it), except into a directory the walk is already inside (a loop); a link that
 * leads out of the root is not followed. A directory matching an exclude glob that ends in
 * `/**` or whose last part is literal (`vendor`, `**\/node_modules`) is not entered by the walk
 * (the directory a glob starts from, `conf` of `conf/*.php`, is entered all the same). A
 * directory in scope that cannot be listed, and a link out of the root, are problems (see
 * {@link DiscoverOptions.onProblem}), never passed over silently.
 */
export async function discoverFiles(root: string, options: DiscoverOptions): Promise<string[]> {
  const [one] = discoverEach(root, [options], options.cache)
  if (one!.error !== undefined) throw one!.error
  if (options.onProblem) for (const p of one!.problems) options.onProblem(p)
  else if (one!.problems.length)
    throw new CutoverError(one!.problems[0]!.code, one!.problems.map((p) => p.message).join('\n'))
  return one!.files
}

/** The globs of one {@link discoverEach} entry: what to find, and what to leave out. */
export interface DiscoverEntry {
  files: readonly string[]
  exclude?: readonly string[]
}

/**
 * What {@link discoverEach} found for one entry: its sorted files, and its problems sorted by
 * path; `error`, what its own walk threw (a looping link on its way), which its caller throws in
 * the entry's turn, where {@link discoverFiles} for it alone would have thrown.
 */
export interface Discovered {
  files: string[]
  problems: DiscoverProblem[]
  error?: unknown
}

/** One entry's part of a walk: its matchers, what it found, its problems. */
interface Seeker {
  matches: (path: string) => boolean
  ignored: (path: string) => boolean
  /** The exclude globs that also keep the walk out of a directory (as fast-glob does). */
  pruned: (path: string) => boolean
  found: Set<string>
  problems: Map<string, DiscoverProblem>
  /** The first error of its own walk, and where in it (its literal paths, then its walks). */
  error?: { at: number; e: unknown }
}

/** A seeker in a directory of a walk, and how deep below it its globs can still match. */
interface Active {
  s: Seeker
  depth: number
  /** Where the walk is in the seeker's own order (see {@link Seeker.error}). */
  at: number
}

function seekerOf(entry: DiscoverEntry): { s: Seeker; positive: string[] } {
  const positive = entry.files.filter((f) => !f.startsWith('!')).map(clean)
  const ignore = [
    ...(entry.exclude ?? []),
    ...entry.files.filter((f) => f.startsWith('!')).map((f) => f.slice(1)),
  ].map(clean)
  // picomatch's `dir/**` also matches `dir` itself; as a file that is not below `dir/`
  const matches = positive.length
    ? picomatch(
        positive.map((g) => (g !== '**' && g.endsWith('/**') ? `${g}/*` : g)),
        MATCH,
      )
    : () => false
  const ignored = ignore.length ? picomatch(ignore, MATCH) : () => false
  const pruning = ignore.filter(
    (g) => g.endsWith('/**') || !picomatch.scan(g.split('/').pop() ?? '').isGlob,
  )
  const pruned = pruning.length ? picomatch(pruning, MATCH) : () => false
  return { s: { matches, ignored, pruned, found: new Set(), problems: new Map() }, positive }
}

function problem(s: Seeker, p: DiscoverProblem): void {
  s.problems.set(`${p.code} ${p.path}`, p)
}

/**
 * {@link discoverFiles} for several entries at once (the steps of a plan), with one walk of the
 * tree for the entries whose globs start from the same directory: each directory is visited,
 * and each path in it made, once for all of them, instead of once per entry. Each entry's answer
 * is what {@link discoverFiles} gives for it, with its problems returned instead of thrown.
 */
export function discoverEach(
  root: string,
  entries: readonly DiscoverEntry[],
  shared: DiscoverCache = discoverCache(),
): Discovered[] {
  const cache = shared.listings
  const resolver = resolverOf(shared, root)
  const linked = (shared.linked ??= new Set())

  // `rel` is the directory as the globs name it; `abs` where it is, with no link in it
  const walk = (rel: string, abs: string, active: readonly Active[]): void => {
    const here = resolver.relOf(abs)
    resolver.noteDir(here, here)
    resolver.noteDir(rel, here)
    const list = listing(cache, resolver, here, abs)
    if (list instanceof Error) {
      const code = (list as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        for (const { s } of active)
          problem(s, {
            code: 'DIR_UNREADABLE',
            path: rel,
            message: `${rel || '.'}: directory not read (${code ?? list.message}): the files below it were not checked; exclude it or make it readable`,
          })
      return
    }
    const prefix = rel === '' ? '' : `${rel}/`
    for (const r of list.refused) {
      const path = prefix + r.name
      for (const { s, depth } of active)
        if (!s.ignored(path) && (s.matches(path) || (depth > 1 && !s.pruned(path))))
          problem(s, { code: r.code, path, message: `${path}: ${r.detail}` })
    }
    for (const name of list.files) {
      const path = prefix + name
      for (const { s } of active) {
        if (!s.matches(path) || s.ignored(path)) continue
        s.found.add(path)
        if (list.links.has(name)) linked.add(path)
      }
    }
    const deeper = active.filter((a) => a.depth > 1)
    if (deeper.length === 0) return
    // below here as deep as ever (`**`): the same list of seekers, unless one prunes a directory
    const same = deeper.length === active.length && deeper.every((a) => a.depth === Infinity)
    for (const d of list.dirs) {
      const path = prefix + d.name
      let next = same ? active : undefined
      for (const a of deeper)
        if (a.s.pruned(path)) {
          next = undefined
          break
        }
      next ??= deeper
        .filter((a) => !a.s.pruned(path))
        .map((a) => ({ s: a.s, depth: a.depth - 1, at: a.at }))
      if (next.length === 0) continue
      const child = d.real ?? under(abs, d.name)
      // a link into a directory the walk is inside (or is) would loop
      if (d.real !== undefined && (abs === d.real || abs.startsWith(under(d.real, '')))) continue
      resolver.noteDir(path, resolver.relOf(child))
      walk(path, child, next)
    }
  }

  // another error is the seekers' own, each thrown in its entry's turn (at: where in its order)
  const resolved = (path: string, seekers: readonly { s: Seeker; at: number }[]) => {
    try {
      return resolver.resolve(path)
    } catch (e) {
      if (e instanceof OutsideRootError)
        for (const { s } of seekers) problem(s, { code: 'OUTSIDE_ROOT', path, message: e.message })
      else for (const { s, at } of seekers) if (!s.error || at < s.error.at) s.error = { at, e }
      return undefined
    }
  }
  // the walks of every entry, grouped by the directory they start from
  const walks = new Map<string, Active[]>()
  const seekers = entries.map((entry) => {
    const { s, positive } = seekerOf(entry)
    for (const g of positive)
      if (climbs(g))
        problem(s, {
          code: 'OUTSIDE_ROOT',
          path: g,
          message: `${g}: a glob with a ".." part would leave the root; refused`,
        })
    const starts = positive.filter((g) => !climbs(g)).map(startOf)
    for (const [at, st] of starts.entries()) {
      // a literal path: the file itself, when it is one (through links) and not excluded
      if (!st.literal || s.ignored(st.base)) continue
      const r = resolved(st.base, [{ s, at }])
      if (r?.exists && statOrUndefined(r.real)?.isFile()) {
        s.found.add(st.base)
        linked.add(st.base)
      }
    }
    for (const [k, st] of walksOf(starts.filter((x) => !x.literal)).entries()) {
      const group = walks.get(st.base) ?? []
      group.push({ s, depth: st.depth, at: starts.length + k })
      walks.set(st.base, group)
    }
    return s
  })
  for (const [base, active] of walks) {
    const r = resolved(base, active)
    if (r?.exists) walk(base, r.real, active)
  }
  return seekers.map((s) => ({
    files: [...s.found].sort(),
    problems: [...s.problems.values()].sort((a, b) => a.path.localeCompare(b.path)),
    ...(s.error ? { error: s.error.e } : {}),
  }))
}
