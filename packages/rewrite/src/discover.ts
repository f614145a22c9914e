import fg from 'fast-glob'

/** What to look for below a root: globs relative to it, and globs to leave out. */
export interface DiscoverOptions {
  files: readonly string[]
  exclude?: readonly string[]
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
  })
  return found.sort()
}

function stripLeadingSlash(glob: string): string {
  return glob.replace(/^\/+/, '')
}
