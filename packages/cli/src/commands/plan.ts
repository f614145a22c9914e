import { resolve } from 'node:path'
import { shellWord, toPlanDocument } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command, Opts } from '../command.js'
import { EXIT } from '../exit.js'
import type { Io } from '../io.js'
import { makePlan } from '../make-plan.js'
import { str } from '../options.js'
import { colors, formatPlanPieces, paint } from '../output/format.js'
import { hashedPlanJson, planHash, planJson } from '../output/plan-json.js'
import { renderReview, reviewFlags } from '../output/review.js'
import { checkWritable, writePrivate, writeReview } from '../plan-file.js'

/** What `cutover plan` prints: the terminal review, the plan document, or a review to share. */
type Format = 'text' | 'json' | 'markdown' | 'html'

/** Where `cutover plan` puts what it makes, from its flags. */
interface Outputs {
  format: Format
  /** The files the plan document is saved to (`--out` with text or json, `--save`). */
  plans: string[]
  /** The file a Markdown or HTML review is written to (`--out`); else it goes to stdout. */
  review?: string
  maxBytes?: number
}

/**
 * `cutover plan`: plans the spec and shows the review, the plan document with `--format json`
 * (`--json`), or a review to share with `--format markdown|html`; `--out` (with text or json) or
 * `--save` saves the plan document for `cutover apply`, and says its hash.
 */
export const plan: Command = async (opts, _args, io) => {
  const o = planOutputs(opts, io)
  const { plan: p, fleet } = await makePlan(opts, io)
  // a spec with machines gives the fleet's document: every change names its machine
  const doc = fleet ? fleet.doc : toPlanDocument(p)
  const shared = o.format === 'markdown' || o.format === 'html'
  // a review shows the hash before anything is written: the document is serialized once more
  // for it; a plan only saved is hashed as it is written
  let hash = shared ? planHash(doc) : undefined
  // rendered before anything is written: a review that cannot be made leaves no plan behind
  const review =
    o.format === 'markdown' || o.format === 'html'
      ? await renderReview(doc, {
          format: o.format,
          hash: hash!,
          ...(str(opts.save) !== undefined ? { saved: str(opts.save)! } : {}),
          ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
        })
      : undefined
  // every file where it can be written before any is: a mistake in one leaves none behind
  await checkWritable(
    [...o.plans, ...(o.review !== undefined ? [o.review] : [])].map((f) => resolve(io.cwd, f)),
  )
  // written piece by piece: the plan of a large file is longer than one string can be
  for (const file of o.plans) {
    if (hash !== undefined) await writePrivate(resolve(io.cwd, file), planJson(doc))
    else {
      const hashed = hashedPlanJson(doc)
      await writePrivate(resolve(io.cwd, file), hashed.pieces)
      hash = hashed.hash()
    }
  }
  if (review !== undefined && o.review !== undefined)
    await writeReview(resolve(io.cwd, o.review), review)
  if (o.format === 'json') for (const piece of planJson(doc)) io.stdout.write(piece)
  else if (review !== undefined) {
    if (o.review === undefined) io.stdout.write(review)
  } else if (!opts.quiet)
    for (const piece of formatPlanPieces(p, paint(colors(io)), fleet?.labelOf))
      io.stdout.write(piece)
  if (!opts.quiet && o.format !== 'json') {
    // what stdout carries is the review alone; a review written to stdout keeps it so
    const tell = review !== undefined && o.review === undefined ? io.stderr : io.stdout
    if (o.review !== undefined) tell.write(`Review written to ${o.review}\n`)
    for (const file of o.plans)
      tell.write(
        `Plan saved to ${file}, ${hash} (apply exactly it with: cutover apply ${shellWord(file)} --expect ${hash})\n`,
      )
  }
  return opts.detailedExitcode && p.changes.length + p.database.length > 0 ? EXIT.changes : EXIT.ok
}

/**
 * The format of `--format` and `--json`, where the plan document is saved (`--out` with text or
 * json, `--save` with any) and where a review is written (`--out` with markdown or html); a usage
 * error for flags that contradict each other, before anything is planned.
 */
function planOutputs(opts: Opts, io: Io): Outputs {
  const given = str(opts.format) as Format | undefined
  if (opts.json && given !== undefined && given !== 'json')
    throw new CliError(
      'USAGE',
      `--json is --format json: it cannot be combined with --format ${given}`,
    )
  const format: Format = opts.json ? 'json' : (given ?? 'text')
  const out = str(opts.out)
  const save = str(opts.save)
  const shared = format === 'markdown' || format === 'html'
  // a plan document is saved and passed around, and a review is shared: neither ever holds what
  // --show-sensitive reveals
  if (opts.showSensitive && (out !== undefined || save !== undefined || format !== 'text'))
    throw new CliError(
      'USAGE',
      '--show-sensitive shows the review only on this terminal: a saved plan, --json and a shared review never hold what it reveals (not with --out, --save, --json or --format markdown|html)',
    )
  if (out !== undefined && save !== undefined && resolve(io.cwd, out) === resolve(io.cwd, save))
    throw new CliError(
      'USAGE',
      shared
        ? `--out and --save both name ${out}: --out is the ${format} review, --save the plan`
        : `--out and --save both name ${out}: give --save alone`,
    )
  const flags = reviewFlags(
    format,
    {
      ...(str(opts.maxBytes) !== undefined ? { maxBytes: str(opts.maxBytes)! } : {}),
      ...(out !== undefined ? { out } : {}),
    },
    io,
  )
  return {
    format,
    plans: [shared ? undefined : out, save].filter((f) => f !== undefined),
    ...(shared && out !== undefined ? { review: out } : {}),
    ...flags,
  }
}
