import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  type BigIntStats,
} from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import { CutoverError } from '../errors.js'

/*
 * Node has no openat/renameat. Instead each target's directory is pinned: the identity (device
 * and inode) of every component from `/` down to it, walked with lstat (never following a link),
 * is journaled when the transaction starts, and walked again immediately before anything is
 * created, renamed or removed there. The operation itself then goes through the directory held
 * open (`/proc/self/fd/N/name`, which the kernel resolves in that very directory, as openat
 * would), so a swap after the check cannot redirect it.
 */

/** The components of an absolute directory path from `/` down: `/a/b` → `/`, `/a`, `/a/b`. */
export function chainOf(dir: string): string[] {
  const out: string[] = []
  for (let d = dir; ; d = dirname(d)) {
    out.unshift(d)
    if (dirname(d) === d) return out
  }
}

/**
 * The walks of one batch (the directories of one phase, checked at its start): a component that
 * many of them share (`/`, the root, a machine's directory) is read once for the batch rather
 * than once for each directory under it, and the walk down to it is kept whole, so that the walk
 * of a directory below reads only its own last component.
 */
export type WalkBatch = Map<string, Walked>

/** A directory on the path of a walk: its lstat and its identity as pins record it (`dev:ino`). */
interface Step {
  path: string
  st: BigIntStats
  id: string
}

/** What a walk found: every component from `/` down, or those before the first one missing or not a directory. */
interface Walked {
  stats: Step[]
  broken?: string
}

/** Why a component found by lstat (`st`; undefined: nothing there) breaks a walk, or undefined. */
function brokenAt(path: string, st: BigIntStats | undefined): string | undefined {
  if (!st) return `${path} no longer exists`
  if (st.isSymbolicLink()) return `${path} is now a symlink`
  if (!st.isDirectory()) return `${path} is no longer a directory`
  return undefined
}

/** One component, read now (never following a link). */
const lstatOf = (path: string) => lstatSync(path, { bigint: true, throwIfNoEntry: false })

/**
 * Every component of `dir` with its lstat, or the first one that is missing or not a directory.
 * `batch`: the walks read so far in the same batch (without it, every component is read now).
 */
function walk(dir: string, batch?: WalkBatch): Walked {
  if (batch) return walkIn(dir, batch)
  const stats: Step[] = []
  for (const path of chainOf(dir)) {
    const st = lstatOf(path)
    const broken = brokenAt(path, st)
    if (broken) return { stats, broken }
    stats.push({ path, st: st!, id: `${st!.dev}:${st!.ino}` })
  }
  return { stats }
}

/** {@link walk} in a batch: the walk of `dir`'s parent (kept), then its own last component. */
function walkIn(dir: string, batch: WalkBatch): Walked {
  const known = batch.get(dir)
  if (known) return known
  const parent = dirname(dir)
  const above: Walked = parent === dir ? { stats: [] } : walkIn(parent, batch)
  let walked = above
  if (!above.broken) {
    const st = lstatOf(dir)
    const broken = brokenAt(dir, st)
    walked = broken
      ? { stats: above.stats, broken }
      : { stats: [...above.stats, { path: dir, st: st!, id: `${st!.dev}:${st!.ino}` }] }
  }
  batch.set(dir, walked)
  return walked
}

/**
 * The pin of a directory as the journal records it: `dev:ino` of each component from `/` down.
 * `batch`: as {@link walk}'s.
 */
export function pinDir(dir: string, batch?: WalkBatch): string[] {
  const { stats, broken } = walk(dir, batch)
  if (broken)
    throw new CutoverError(
      'TARGET_MOVED',
      `directory ${dir} cannot be pinned: ${broken}; nothing was written`,
    )
  return stats.map(({ id }) => id)
}

/**
 * Why `dir` is not the directory that was pinned (a component replaced, moved, or a symlink now),
 * or undefined when it still is. Without a recorded pin (a journal of an older cutover), only
 * checks that no component is a symlink: journaled paths are real paths. `batch`: as
 * {@link walk}'s.
 */
export function pinChanged(
  dir: string,
  pin: readonly string[] | undefined,
  batch?: WalkBatch,
): string | undefined {
  const { stats, broken } = walk(dir, batch)
  return broken ?? pinMismatch(dir, stats, pin)
}

/**
 * One directory on the way to a target as a file system reports it (lstat): `id` is its
 * `dev:ino` as pins record it (decimal device and inode numbers).
 */
export interface DirOnPath {
  path: string
  id: string
  mode: number
  uid: number
  gid: number
}

const dirOnPath = ({ path, st, id }: Step): DirOnPath => ({
  path,
  id,
  mode: Number(st.mode),
  uid: Number(st.uid),
  gid: Number(st.gid),
})

/**
 * Why the directories from `/` down to `dir` (each of them there, a directory) are not the ones
 * `pin` recorded, or undefined: the comparison of {@link pinChanged}, for a file system that
 * walks the path its own way.
 */
export function pinMismatch(
  dir: string,
  chain: ReadonlyArray<Pick<DirOnPath, 'path' | 'id'>>,
  pin: readonly string[] | undefined,
): string | undefined {
  if (!pin) return undefined
  if (pin.length !== chain.length) return `${dir} is not the directory that was checked`
  const i = chain.findIndex(({ id }, k) => id !== pin[k])
  return i === -1 ? undefined : `${chain[i]!.path} was replaced since it was checked`
}

/** Throws when `dir` is not the pinned directory any more: nothing is written through a replaced path. */
export function assertPinned(
  dir: string,
  pin: readonly string[] | undefined,
  target: string,
): void {
  // read now (no batch), whatever walks were read together before: the check just before acting
  const why = pinChanged(dir, pin)
  if (why) throw moved(target, why)
}

/** The error of an operation refused because the target's directory is not the pinned one. */
export const moved = (target: string, why: string) =>
  new CutoverError(
    'TARGET_MOVED',
    `${target}: its directory changed while applying (${why}); nothing is written there`,
  )

let procFd: boolean | undefined

/** Where the directory held open as `/proc/self/fd/N` is now, as the kernel names it; undefined when it cannot say. */
function pathOf(proc: string): string | undefined {
  try {
    return readlinkSync(proc)
  } catch {
    return undefined
  }
}

/**
 * Runs `fn` on the pinned directory `dir` of `target`, held open: `at(name)` names the entry
 * `name` of that very directory, whatever its path leads to meanwhile. Throws, calling nothing,
 * when the directory is not the pinned one. `fn` must be synchronous (the directory is closed
 * when it returns). Without /proc, `at` joins paths (the check just before is all there is).
 *
 * The check before acting is on the directory itself: opened by its path (its last part never
 * followed), it must be the pinned inode, and still at `dir` (the kernel's path of the
 * descriptor): reached through a link put on its path since, or moved, it is refused, as a walk
 * of every part would refuse it. What `fn` does goes through that descriptor, so it lands in the
 * pinned directory; the phase's batch check ({@link pinChanged} of every directory at its start)
 * walks every part. When the directory is not the pinned one, the walk says why.
 * `walk`: walk every part first anyway (an operation outside those phases: making or removing
 * the directories of new targets).
 */
export function inPinnedDir<T>(
  dir: string,
  pin: readonly string[] | undefined,
  target: string,
  fn: (at: (name: string) => string) => T,
  walk = false,
): T {
  // without /proc nothing is held: the walk just before is all there is; without a pin (a
  // journal of an older cutover) the walk is the check that no part is a link
  if (!(procFd ??= existsSync('/proc/self/fd'))) {
    assertPinned(dir, pin, target)
    return fn((name) => join(dir, name))
  }
  if (walk || !pin) assertPinned(dir, pin, target)
  let fd: number
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
  } catch (e) {
    throw moved(
      target,
      (pin && pinChanged(dir, pin)) ??
        `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    )
  }
  try {
    const at = `/proc/self/fd/${fd}`
    if (pin) {
      const st = fstatSync(fd, { bigint: true })
      if (`${st.dev}:${st.ino}` !== pin[pin.length - 1])
        throw moved(target, pinChanged(dir, pin) ?? `${dir} was replaced since it was checked`)
      // the pinned inode reached through a link on the path (a part above it moved since the
      // phase's walk, perhaps out of the root, a link to where it went in its place) is no longer
      // at `dir`: the kernel's path of the descriptor says where it is (one call, not a walk)
      const now = pathOf(at)
      if (now !== resolve(dir))
        throw moved(target, pinChanged(dir, pin) ?? `${dir} is now at ${now ?? 'an unknown path'}`)
    }
    return fn((name) => `${at}/${name}`)
  } finally {
    closeSync(fd)
  }
}

/**
 * Why a target in `dir` (its file owned by `owner`) is unsafe for root to write, or undefined:
 * its directory is writable by a user other than root and `owner`, or an ancestor is (without the
 * sticky bit, which keeps other users from renaming entries they do not own), so that user can
 * swap the path. Group-writable directories of group 0 count as root's. `batch`: as
 * {@link walk}'s.
 */
export function userWritableDir(
  dir: string,
  owner: number,
  acls?: ReadonlyMap<string, string>,
  batch?: WalkBatch,
): string | undefined {
  const { stats, broken } = walk(dir, batch)
  if (broken) return broken
  return writableByOthers(stats.map(dirOnPath), owner, acls, { userName, groupName })
}

/**
 * The check of {@link userWritableDir} on the directories from `/` down to a target's (as a file
 * system walked them), with that system's user and group names.
 */
export function writableByOthers(
  chain: readonly DirOnPath[],
  owner: number,
  acls: ReadonlyMap<string, string> | undefined,
  names: { userName(uid: number): string; groupName(gid: number): string },
): string | undefined {
  const { userName, groupName } = names
  for (const [k, { path, mode, uid, gid }] of chain.entries()) {
    const last = k === chain.length - 1
    const sticky = !last && (mode & 0o1000) !== 0
    const what = `${last ? 'directory' : 'its parent directory'} ${path}`
    if (uid !== 0 && uid !== owner) return `${what} belongs to ${userName(uid)}`
    const by: string[] = []
    if (mode & 0o020 && gid !== 0 && !sticky) by.push(`group ${groupName(gid)}`)
    if (mode & 0o002 && !sticky) by.push('every user')
    // a POSIX ACL naming other users or groups with write (the mode's group bits are then its mask)
    if (!sticky)
      for (const w of aclWriters(acls?.get(path), mode))
        if (w.user ? w.id !== 0 && w.id !== owner : w.id !== 0)
          by.push(w.user ? `user ${userName(w.id)}` : `group ${groupName(w.id)}`)
    if (by.length) return `${what} (owner ${userName(uid)}) is writable by ${by.join(' and ')}`
  }
  return undefined
}

/**
 * The named users and groups an access ACL (`system.posix_acl_access`, base64 as getfattr prints
 * it: `0s…`) lets write, their permission limited by the ACL's mask (the mode's group bits).
 */
function aclWriters(value: string | undefined, mode: number): Array<{ user: boolean; id: number }> {
  if (!value || !(mode & 0o020)) return []
  const b = Buffer.from(value.replace(/^0s/, ''), 'base64')
  const out: Array<{ user: boolean; id: number }> = []
  // a 4-byte version, then entries of tag (u16), perm (u16), id (u32), little-endian
  for (let at = 4; at + 8 <= b.length; at += 8) {
    const tag = b.readUInt16LE(at)
    if ((tag === 0x02 || tag === 0x08) && b.readUInt16LE(at + 2) & 0o2)
      out.push({ user: tag === 0x02, id: b.readUInt32LE(at + 4) })
  }
  return out
}

/**
 * Every directory from `/` down to each of `dirs` whose group bits allow writing: where an ACL
 * may name other writers. `batch`: that of the walks read together with these (default: one of
 * their own).
 */
export function aclCandidates(dirs: Iterable<string>, batch: WalkBatch = new Map()): string[] {
  const out = new Set<string>()
  for (const dir of dirs)
    for (const { path, st } of walk(dir, batch).stats) if (Number(st.mode) & 0o020) out.add(path)
  return [...out]
}

function nameIn(file: string, id: number): string {
  let text: string | undefined
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    // no local database: the number alone
  }
  return idName(text, file.endsWith('group') ? 'gid' : 'uid', id)
}

/** `name (id)` from the text of a passwd or group file, or `uid 1234` when it has none. */
export function idName(text: string | undefined, kind: 'uid' | 'gid', id: number): string {
  const line = text?.split('\n').find((l) => l.split(':')[2] === String(id))
  return line ? `${line.split(':')[0]} (${id})` : `${kind} ${id}`
}

const userName = (uid: number) => nameIn(`${sep}etc${sep}passwd`, uid)
const groupName = (gid: number) => nameIn(`${sep}etc${sep}group`, gid)
