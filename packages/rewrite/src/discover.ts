import { readdir } from 'node:fs'
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

type Callback = (error: NodeJS.ErrnoException | null, entries?: unknown) => void

/** fast-glob's `readdir`, answered from the cache after the first listing of each directory. */
function cachedReaddir(cache: DiscoverCache) {
  return (path: string, ...rest: unknown[]): void => {
    const callback = rest.pop() as Callback
    const options = rest[0]
    const key = `${typeof options === 'object' && options && (options as { withFileTypes?: boolean }).withFileTypes ? 't' : 'n'}:${path}`
    const known = cache.listings.get(key)
    if (known) {
      process.nextTick(callback, null, known)
      return
    }
    const done: Callback = (error, entries) => {
      if (!error) cache.listings.set(key, entries)
      callback(error, entries)
    }
    if (options === undefined) readdir(path, done as never)
    else readdir(path, options as never, done as never)
  }
}

/**
 * Lists the regular files (and links to them) below `root` that match `files` and none of
 * `exclude`, as sorted paths relative to the root with `/` separators. Dotfiles match; `**`
 * crosses directories; a literal path (no glob characters) matches itself.
 */
export async function discoverFiles(root: string, options: DiscoverOptions): Promise<string[]> {
  if (options.files.length === 0) return []
  const found = await fg(options.files.map(stripLeadingSlash), {
    cwd: root,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    unique: true,
    ignore: (options.exclude ?? []).map(stripLeadingSlash),
    suppressErrors: true,
    ...(options.cache ? { fs: { readdir: cachedReaddir(options.cache) as never } } : {}),
  })
  return found.sort()
}

function stripLeadingSlash(glob: string): string {
  return glob.replace(/^\/+/, '')
}
