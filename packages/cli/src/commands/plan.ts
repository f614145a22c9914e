import { resolve } from 'node:path'
import { toPlanDocument } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { makePlan } from '../make-plan.js'
import { str } from '../options.js'
import { colors, formatPlan, paint } from '../output/format.js'
import { planJson } from '../output/plan-json.js'
import { writePrivate } from '../plan-file.js'

/**
 * `cutover plan`: plans the spec and shows the review, or the plan document with `--json`;
 * `--out` saves it for `cutover apply`.
 */
export const plan: Command = async (opts, _args, io) => {
  // a plan document is saved and passed around: it never holds what --show-sensitive reveals
  if (opts.showSensitive && (opts.out || opts.json))
    throw new CliError(
      'USAGE',
      '--show-sensitive shows the review only: it cannot be combined with --out or --json',
    )
  const { plan: p, fleet } = await makePlan(opts, io)
  // a spec with machines gives the fleet's document: every change names its machine
  const doc = fleet ? fleet.doc : toPlanDocument(p)
  // written piece by piece: the plan of a large file is longer than one string can be
  if (str(opts.out)) await writePrivate(resolve(io.cwd, str(opts.out)!), planJson(doc))
  if (opts.json) for (const piece of planJson(doc)) io.stdout.write(piece)
  else if (!opts.quiet) io.stdout.write(formatPlan(p, paint(colors(io)), fleet?.labelOf))
  if (str(opts.out) && !opts.json && !opts.quiet)
    io.stdout.write(
      `Plan saved to ${str(opts.out)} (apply it with: cutover apply ${str(opts.out)})\n`,
    )
  return opts.detailedExitcode && p.changes.length + p.database.length > 0 ? EXIT.changes : EXIT.ok
}
