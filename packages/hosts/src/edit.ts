import type { Edit } from '@cutover/rewrite'
import type { HostsDocument } from './parse.js'
import { checkName, planHosts } from './plan.js'
import { foldName } from './table.js'

/** Options of {@link ensureHost}. */
export interface EnsureOptions {
  /** The comment line that opens the block of appended entries (default `# cutover`). */
  marker?: string
}

/**
 * Edits (offsets into `doc.text`) that make `name` resolve, first match, to `address`, and to
 * no other address of that family. `[]` when it already does. See {@link planHosts} for where
 * names go; use `planHosts` directly to ensure several names at once without overlapping edits.
 * Throws a `BAD_ADDRESS` or `BAD_NAME` HostsError for an unusable address or name.
 */
export function ensureHost(
  doc: HostsDocument,
  name: string,
  address: string,
  options: EnsureOptions = {},
): Edit[] {
  return planHosts(doc, { ensure: [{ name, address }], ...options }).edits
}

/**
 * Edits that take `name` (ASCII case-insensitive) out of every entry; an entry left without names is
 * deleted with its line break. `[]` when no entry lists it. Throws `BAD_NAME` for a blank name.
 */
export function removeHost(doc: HostsDocument, name: string): Edit[] {
  return planHosts(doc, { remove: [name] }).edits
}

/**
 * Edits that rename every name token equal to `from` (ASCII case-insensitive, whole token) to `to`,
 * keeping addresses, other names and comments. `[]` when no entry lists `from`.
 * Throws `BAD_NAME` for a name that cannot stand in a hosts file.
 */
export function renameHost(doc: HostsDocument, from: string, to: string): Edit[] {
  checkName(from)
  checkName(to)
  const lower = foldName(from)
  return planHosts(doc, {
    rename: (n) =>
      foldName(n) === lower && n !== to ? { text: to, rule: 'hosts.rename' } : undefined,
  }).edits
}
