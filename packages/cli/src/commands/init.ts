import { open } from 'node:fs/promises'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { scanForInit, starterSpec } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command } from '../command.js'
import { allStepKinds } from '../kinds.js'
import { counted, progressLine } from '../output/progress.js'
import { EXIT } from '../exit.js'

const list = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.length ? v.map(String) : undefined

/**
 * `cutover init`: scans the root for addresses and host names and writes a starter spec. It
 * never overwrites: an existing spec file is an error and nothing is written.
 */
export const init: Command = async (opts, _args, io) => {
  const root = resolve(io.cwd, typeof opts.root === 'string' ? opts.root : '/')
  const specArg = typeof opts.spec === 'string' ? opts.spec : 'cutover.yaml'
  const specPath = resolve(io.cwd, specArg)
  const progress = progressLine(io, opts)
  const files = list(opts.files)
  const exclude = list(opts.exclude)
  // every kind: each claims its files and suggests their step
  const kinds = await allStepKinds()
  let scan
  try {
    scan = await scanForInit(root, {
      kinds,
      ...(files ? { files } : {}),
      ...(exclude ? { exclude } : {}),
      onProgress: (p) =>
        progress.update(
          counted('scanning', p, `${p.matched} with addresses`),
          p.considered === p.total,
        ),
      ...(opts.verbose
        ? { onFile: (t: string, what: string) => progress.note(`${t}: ${what}`) }
        : {}),
    })
  } finally {
    progress.done()
  }
  const rootHint = typeof opts.root === 'string' ? opts.root : '/'
  // the schema this package ships, relative to the spec so that editors find it
  const schemaPath = fileURLToPath(new URL('../../schema/cutover.schema.json', import.meta.url))
  const text = starterSpec(scan, {
    rootHint,
    specHint: specArg,
    schemaRef: relative(dirname(specPath), schemaPath),
    kinds,
  })
  if (opts.print) {
    io.stdout.write(text)
    return EXIT.ok
  }
  let fh
  try {
    fh = await open(specPath, 'wx', 0o644)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(
        'SPEC_EXISTS',
        `${relative(io.cwd, specPath) || specPath} exists; init never overwrites a spec (remove it, or pass --spec NEW.yaml or --print)`,
      )
    }
    throw e
  }
  try {
    await fh.writeFile(text)
  } finally {
    await fh.close()
  }
  if (!opts.quiet) {
    const unnamed = scan.addresses.filter((a) => a.hostsName === undefined).length
    io.stdout.write(
      `Wrote ${relative(io.cwd, specPath) || specPath}: ${scan.addresses.length} address(es) in ${scan.matched.length} of ${scan.scanned.length} file(s) scanned` +
        `${unnamed ? `, ${unnamed} name(s) to fill in` : ''}.\nNext: fill in the names, review the steps, then run: cutover plan --spec ${specArg} --root ${rootHint}\n`,
    )
  }
  return EXIT.ok
}
