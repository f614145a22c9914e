import { readdirSync } from 'node:fs'
import fg from 'fast-glob'

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

/** fast-glob's `readdirSync`, answered from the cache after the first listing of each directory. */
function cachedReaddirSync(cache: DiscoverCache) {
  return (path: string, options?: { withFileTypes?: boolean }): unknown => {
    const key = `${options?.withFileTypes ? 't' : 'n'}:${path}`
    let known = cache.listings.get(key)
    if (!known) cache.listings.set(key, (known = options ? readdirSync(path, options as never) : readdirSync(path)))
    return known
  }
}

/**
 * Lists the regular files (and links to them) below `root` that match `files` and none of
 * `exclude`, as sorted paths relative to the root with `/` separators. Dotfiles match; `**`
 * crosses directories; a literal path (no glob characters) matches itself.
 */
export async function discoverFiles(root: string, options: DiscoverOptions): Promise<string[]> {
  if (options.files.length === 0) return []
  const settings = {
    cwd: root,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    unique: true,
    ignore: (options.exclude ?? []).map(stripLeadingSlash),
    suppressErrors: true,
  }
  const patterns = options.files.map(stripLeadingSlash)
  // with a cache the walk is synchronous: listing thousands of directories through the thread
  // pool costs more than the listings themselves
  const found = options.cache ? fg.sync(patterns, { ...settings, fs: { readdirSync: cachedReaddirSync(options.cache) as never } }) : await fg(patterns, settings)
  return found.sort()
}

function stripLeadingSlash(glob: string): string {
  return glob.replace(/^\/+/, '')
}
