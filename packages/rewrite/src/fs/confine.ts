import { lstatSync, readlinkSync, realpathSync } from 'node:fs'
import { posix } from 'node:path'
import { CutoverError } from '../errors.js'

// `..` as a whole part of a path or glob, also inside braces and extglobs (`{..,etc}/x`)
const CLIMB = /(?:^|[/{,(|@!+*?])\.\.(?=$|[/},)|])/

/**
 * Why a path or glob of the spec or a plan cannot name a file inside the root: it is absolute,
 * or a part of it is `..`. Undefined when it is a path relative to the root. A leading `!`
 * (an excluding glob of `files`) is not part of the path.
 */
export function rootPathProblem(path: string): string | undefined {
  const p = path.startsWith('!') ? path.slice(1) : path
  if (p.startsWith('/'))
    return `"${path}" is an absolute path: paths are relative to the root (--root); write "${p.replace(/^\/+/, '')}"`
  if (CLIMB.test(p))
    return `"${path}" has a ".." part: paths are relative to the root (--root) and never leave it`
  if (p.includes('\0')) return `"${path.replace(/\0/g, '\\0')}" holds a NUL byte`
  return undefined
}

/** A path resolved within a root, as a chroot to that root would resolve it. */
export interface Resolved {
  /** Where it is on this machine: the root's real path joined with `rel`; no symlink in it. */
  real: string
  /** Where it is in the root, `/`-separated, without links (`''` is the root itself). */
  rel: string
  /** Whether it exists (false: a dangling link, or a path to create). */
  exists: boolean
}

const MAX_LINKS = 40

/** A path that leads out of the root: `detail` says how, without the path. */
export class OutsideRootError extends CutoverError {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super('OUTSIDE_ROOT', `${path}: ${detail}`)
    this.name = 'OutsideRootError'
  }
}

/** Whether a path or glob has a `..` part. */
export function climbs(path: string): boolean {
  return CLIMB.test(path)
}

class Escape extends Error {
  constructor(public readonly detail?: string) {
    super('leaves the root')
  }
}

/**
 * Resolves paths relative to a root the way a chroot to it would: part by part, with `lstat`
 * and `readlink`, never letting the kernel follow a link on its own. An absolute link means the
 * root joined with the link (`etc/hosts -> /etc/hosts` is `<root>/etc/hosts`); a relative one is
 * resolved from its directory. A `..` that would climb above the root is refused with a
 * {@link CutoverError} `OUTSIDE_ROOT` that names the path and where it leads on this machine
 * (with the root `/`, as in any process, `/..` is `/`). Directories are resolved once each.
 */
export class RootResolver {
  /** The root's real path (the root itself may be reached through a link). */
  readonly real: string
  private readonly dirs = new Map<string, string>()
  private readonly top: boolean

  constructor(readonly root: string) {
    this.real = realpathSync(root)
    this.top = this.real === '/'
  }

  /** `rel` (a resolved, link-free path in the root) on this machine. */
  abs(rel: string): string {
    return rel === '' ? this.real : this.top ? `/${rel}` : `${this.real}/${rel}`
  }

  /** Where a link-free path on this machine below the root is in the root. */
  relOf(abs: string): string {
    return abs === this.real ? '' : abs.slice(this.top ? 1 : this.real.length + 1)
  }

  /**
   * A file a walk listed as a plain file (not a link) in a directory resolved before: where it
   * is, without a system call; undefined when its directory was not resolved.
   */
  listed(path: string): Resolved | undefined {
    const cut = path.lastIndexOf('/')
    const dir = cut < 0 ? '' : this.dirs.get(path.slice(0, cut))
    if (dir === undefined) return undefined
    const rel = dir === '' ? path.slice(cut + 1) : `${dir}/${path.slice(cut + 1)}`
    return { real: this.abs(rel), rel, exists: true }
  }

  /** Remembers that the directory named `named` is `rel` in the root (a walk that listed it). */
  noteDir(named: string, rel: string): void {
    this.dirs.set(named, rel)
  }

  /**
   * Resolves `path` (relative to the root). A missing last part (or missing parts at the end,
   * with `missingTail`) gives `exists: false`; a missing directory before the last part without
   * it gives undefined. Throws `OUTSIDE_ROOT` when the path leads out of the root.
   */
  resolve(path: string, options: { missingTail?: boolean } = {}): Resolved | undefined {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.')
    let out: string[] = []
    let start = 0
    for (let i = parts.length - 1; i > 0; i--) {
      const known = this.dirs.get(parts.slice(0, i).join('/'))
      if (known !== undefined) {
        out = known === '' ? [] : known.split('/')
        start = i
        break
      }
    }
    const budget = { links: 0 }
    try {
      for (let i = start; i < parts.length; i++) {
        const next = this.step(out, parts[i]!, budget)
        if (!next.exists) {
          if (i < parts.length - 1 && !options.missingTail) return undefined
          const rest = this.lexical(next.parts, parts.slice(i + 1))
          return { real: this.abs(rest.join('/')), rel: rest.join('/'), exists: false }
        }
        out = next.parts
        if (i < parts.length - 1) this.dirs.set(parts.slice(0, i + 1).join('/'), out.join('/'))
      }
    } catch (e) {
      if (e instanceof Escape) {
        const where = e.detail ?? `leads to ${posix.resolve(this.real, path)}`
        throw new OutsideRootError(
          path,
          `${where}, outside the root ${this.real}; refused (nothing outside the root is read or written)`,
        )
      }
      throw e
    }
    return { real: this.abs(out.join('/')), rel: out.join('/'), exists: true }
  }

  /**
   * Where the file `path` (relative to the root) is when its last part is a plain file: its
   * directory resolved as {@link resolve} does (links followed, directories resolved once each),
   * its last part not read. The caller opens it without following a link and, when that fails
   * (a link, nothing there, no directory), resolves it with {@link resolve}, which then says what
   * it is; undefined when its directory does not exist or the last part is `..`. Throws
   * `OUTSIDE_ROOT` as {@link resolve} does.
   */
  fileIn(path: string): Omit<Resolved, 'exists'> | undefined {
    const cut = path.lastIndexOf('/')
    const name = path.slice(cut + 1)
    if (name === '' || name === '.' || name === '..') return undefined
    const named = cut < 0 ? '' : path.slice(0, cut)
    let dir = named === '' ? '' : this.dirs.get(named)
    if (dir === undefined) {
      const at = this.resolve(named)
      if (!at?.exists) return undefined
      this.dirs.set(named, (dir = at.rel))
    }
    const rel = dir === '' ? name : `${dir}/${name}`
    return { real: this.abs(rel), rel }
  }

  /** Missing parts appended as written (`..` taken lexically, still never above the root). */
  private lexical(out: string[], rest: string[]): string[] {
    const got = [...out]
    for (const p of rest) {
      if (p === '..') {
        if (got.length === 0 && !this.top) throw new Escape()
        got.pop()
      } else got.push(p)
    }
    return got
  }

  /**
   * One part after the resolved, link-free `out`. When it (or, for a link, a part of where the
   * link points) does not exist, `exists` is false and `parts` is where it would be, the rest of
   * the link taken lexically: a dangling link still points inside the root.
   */
  private step(
    out: string[],
    part: string,
    budget: { links: number },
  ): { parts: string[]; exists: boolean } {
    if (part === '..') {
      if (out.length === 0) {
        if (this.top) return { parts: out, exists: true }
        throw new Escape()
      }
      return { parts: out.slice(0, -1), exists: true }
    }
    const here = [...out, part]
    const abs = this.abs(here.join('/'))
    let st
    try {
      st = lstatSync(abs, { throwIfNoEntry: false })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e
    }
    if (!st) return { parts: here, exists: false }
    if (!st.isSymbolicLink()) return { parts: here, exists: true }
    if (++budget.links > MAX_LINKS)
      throw new CutoverError('LINK_LOOP', `${here.join('/')}: too many levels of symbolic links`)
    const link = readlinkSync(abs)
    const linkParts = link.split('/').filter((p) => p !== '' && p !== '.')
    let at = link.startsWith('/') ? [] : out
    try {
      for (const [i, p] of linkParts.entries()) {
        const next = this.step(at, p, budget)
        if (!next.exists)
          return { parts: this.lexical(next.parts, linkParts.slice(i + 1)), exists: false }
        at = next.parts
      }
    } catch (e) {
      if (e instanceof Escape && e.detail === undefined) {
        throw new Escape(
          `${here.join('/')} -> ${link} leads to ${posix.resolve(posix.dirname(abs), link)}`,
        )
      }
      throw e
    }
    return { parts: at, exists: true }
  }
}

/**
 * The default state directory of a root: `<root>/var/lib/cutover` resolved within the root as a
 * chroot would (a linked `var/lib` leads to its place in the root, never out of it: that throws a
 * `OUTSIDE_ROOT` {@link CutoverError}). As written when the root does not exist.
 */
export function defaultStateDir(root: string): string {
  let resolver: RootResolver
  try {
    resolver = new RootResolver(root)
  } catch {
    return posix.resolve(root, 'var/lib/cutover')
  }
  return resolver.resolve('var/lib/cutover', { missingTail: true })!.real
}
