import { dirname, resolve } from 'node:path'
import { specInventoryFile, type SpecDocument, type SpecInventory } from '@cutover/rewrite'
import type { Opts } from './command.js'
import { CliError } from './errors.js'
import type { Io } from './io.js'
import { str } from './options.js'

/**
 * The Ansible inventory whose hosts are the machines of the spec `source` (at `specPath`):
 * `--inventory FILE` (relative to the working directory), else the spec's
 * `machines: { ansible: FILE }` (relative to the spec's directory), read with the real
 * `ansible-inventory`; undefined when the spec lists its machines itself or has none. Given with
 * a spec that lists its machines, `--inventory` is refused. `doc`: `source` already parsed by
 * `parseSpecDocument`.
 */
export async function specInventory(
  opts: Opts,
  io: Io,
  specPath: string,
  source: string,
  doc?: SpecDocument,
): Promise<SpecInventory | undefined> {
  const given = str(opts.inventory)
  const declared = specInventoryFile(source, doc)
  if (given !== undefined && declared === 'listed')
    throw new CliError(
      'USAGE',
      `--inventory ${given}: ${specPath} lists its own machines: (--inventory gives the machines of a spec without them, or replaces the file of machines: { ansible: FILE })`,
    )
  const file =
    given !== undefined
      ? { path: resolve(io.cwd, given), shown: given }
      : typeof declared === 'object'
        ? { path: resolve(dirname(specPath), declared.ansible), shown: declared.ansible }
        : undefined
  if (!file) return undefined
  // the fleet (and its ssh code) loads only when a spec needs it
  const { readInventory } = await import('@cutover/fleet')
  const inventory = await readInventory(file.path, { shown: file.shown, env: io.env })
  return { file: inventory.file, machines: inventory.machines, groups: inventory.groups }
}
