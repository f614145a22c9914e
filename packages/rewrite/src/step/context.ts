/**
 * One machine of the inventory: its DNS name, the address it had, the address it gets, and
 * optionally its IPv6 addresses (`old6`, `new6`), matched whatever their spelling.
 */
export interface InventoryHost {
  name: string
  old: string
  new: string
  old6?: string
  new6?: string
}

/**
 * A network that moves (`networks:` of the spec): CIDRs with their host bits zero, such as
 * `{ old: '172.20.0.0/24', new: '10.20.0.0/24' }`. An address of `old` that is no inventory host's
 * old address keeps its host part in `new`.
 */
export interface NetworkMap {
  old: string
  new: string
}

/** An old host name a `replace:` of step `step` (1-based) renames to `to`: a leftover where it stays. */
export interface Rename {
  from: string
  to: string
  step: number
}

/** One value that differs by profile: profile name → value. */
export type VariantEntry = Readonly<Record<string, string>>

/** What every step sees besides its own options. */
export interface Context {
  /** Absolute root directory that spec paths are relative to. */
  root: string
  /** The active profile, or undefined when the spec declares none. */
  profile: string | undefined
  profiles: readonly string[]
  inventory: readonly InventoryHost[]
  /** The networks that move, in the spec's order (none when absent). */
  networks?: readonly NetworkMap[]
  /** The old host names the active steps rename, reported as leftovers where they stay. */
  renames?: readonly Rename[]
  variants: Readonly<Record<string, readonly VariantEntry[]>>
  /** The value of a secret named in the spec; throws a SecretError when it cannot be read. */
  secret(name: string): string
  /**
   * Where `path` (relative to the root; a leading `/` is the root's) is on this machine, links
   * followed as a chroot to the root would follow them: undefined when it does not exist or
   * leads out of the root. A step that reads other files of the root than its target (sudoers:
   * `etc/passwd`, the commands of its rules) reads them only through this (the engine gives it).
   */
  inRoot?(path: string): string | undefined
  /** The environment the plan was asked in (the CLI's, which a test may set): `database: { url: { env } }` is read from it. */
  env?: Readonly<Record<string, string | undefined>>
}
