import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { checkAnyPlanDocument } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { str } from '../options.js'
import { renderReview, reviewFlags, type ReviewFormat } from '../output/review.js'
import { fileHash, writeReview } from '../plan-file.js'

/**
 * `cutover show PLAN.json`: renders a saved plan as a review to share (Markdown by default, or
 * HTML), with the hash of the file's bytes, to stdout or `--out FILE`. It applies nothing, so a
 * plan anyone saved may be shown.
 */
export const show: Command = async (opts, args, io) => {
  const file = args[0]!
  const format = (str(opts.format) ?? 'markdown') as ReviewFormat
  const out = str(opts.out)
  // the review would replace the plan it shows, the file a review's hash binds
  if (out !== undefined && resolve(io.cwd, out) === resolve(io.cwd, file))
    throw new CliError(
      'USAGE',
      `--out names the plan shown, ${file}: the review would replace it; give another file`,
    )
  const { maxBytes } = reviewFlags(
    format,
    {
      ...(str(opts.maxBytes) !== undefined ? { maxBytes: str(opts.maxBytes)! } : {}),
      ...(out !== undefined ? { out } : {}),
    },
    io,
  )
  let bytes: Buffer
  try {
    bytes = await readFile(resolve(io.cwd, file))
  } catch (e) {
    throw new CliError('PLAN_MISSING', `cannot read the plan ${file}: ${(e as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw new CliError('PLAN_INVALID', `${file}: not a cutover plan: ${(e as Error).message}`)
  }
  const doc = checkAnyPlanDocument(parsed, file)
  const review = await renderReview(doc, {
    format,
    hash: fileHash(bytes),
    saved: file,
    ...(maxBytes !== undefined ? { maxBytes } : {}),
  })
  if (out === undefined) io.stdout.write(review)
  else {
    await writeReview(resolve(io.cwd, out), review)
    if (!opts.quiet) io.stdout.write(`Review written to ${out}\n`)
  }
  return EXIT.ok
}
