import { resolve } from 'node:path'
import { toPlanDocument } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command, Opts } from '../command.js'
import { EXIT } from '../exit.js'
import type { Io } from '../io.js'
import { makePlan } from '../make-plan.js'
import { str } from '../options.js'
import { colors, formatPlan, paint } from '../output/format.js'
import { planHash, planJson } from '../output/plan-json.js'
import { writePrivate } from '../plan-file.js'

/** What `cutover plan` prints: the terminal review, or the plan document. */
type Format = 'text' | 'json'

/**
 * `cutover plan`: plans the spec and shows the review, or the plan document with `--format json`
 * (`--json`); `--out` (or `--save`) saves the plan document for `cutover apply`, and says its hash.
 */
export const plan: Command = async (opts, _args, io) => {
  const { format, files } = planOutputs(opts, io)
  const { plan: p, fleet } = await makePlan(opts, io)
  // a spec with machines gives the fleet's document: every change names its machine
  const doc = fleet ? fleet.doc : toPlanDocument(p)
  // written piece by piece: the plan of a large file is longer than one string can be
  for (const file of files) await writePrivate(resolve(io.cwd, file), planJson(doc))
  if (format === 'json') for (const piece of planJson(doc)) io.stdout.write(piece)
  else if (!opts.quiet) io.stdout.write(formatPlan(p, paint(colors(io)), fleet?.labelOf))
  if (files.length && format === 'text' && !opts.quiet) {
    const hash = planHash(doc)
    for (const file of files)
      io.stdout.write(
        `Plan saved to ${file}, ${hash} (apply exactly it with: cutover apply ${file} --expect ${hash})\n`,
      )
  }
  return opts.detailedExitcode && p.changes.length + p.database.length > 0 ? EXIT.changes : EXIT.ok
}

/**
 * The format of `--format` and `--json`, and where the plan document is saved (`--out`,
 * `--save`); a usage error for flags that contradict each other, before anything is planned.
 */
function planOutputs(opts: Opts, io: Io): { format: Format; files: string[] } {
  const given = str(opts.format) as Format | undefined
  if (opts.json && given !== undefined && given !== 'json')
    throw new CliError(
      'USAGE',
      `--json is --format json: it cannot be combined with --format ${given}`,
    )
  const format: Format = opts.json ? 'json' : (given ?? 'text')
  const out = str(opts.out)
  const save = str(opts.save)
  // a plan document is saved and passed around: it never holds what --show-sensitive reveals
  if (opts.showSensitive && (out !== undefined || save !== undefined || format === 'json'))
    throw new CliError(
      'USAGE',
      '--show-sensitive shows the review only on this terminal: a saved plan, --json and a shared review never hold what it reveals (not with --out, --save, --json)',
    )
  if (out !== undefined && save !== undefined && resolve(io.cwd, out) === resolve(io.cwd, save))
    throw new CliError('USAGE', `--out and --save both name ${out}: give --save alone`)
  return { format, files: [out, save].filter((f) => f !== undefined) }
}
