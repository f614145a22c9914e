import type { AnyPlanDocument } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Io } from '../io.js'

/** The formats of a review to share: a ticket comment, or one self-contained page. */
export type ReviewFormat = 'markdown' | 'html'

/** What a review is made of beside the document. */
export interface ReviewRequest {
  format: ReviewFormat
  /** `sha256:HEX` of the saved plan's bytes. */
  hash: string
  /** The plan file the hash binds, as the user named it; absent when the plan was not saved. */
  saved?: string
  /** For Markdown: the most bytes it may have (`--max-bytes`). */
  maxBytes?: number
}

/**
 * Renders a plan document as a review (`@cutover/review`, loaded only here: the terminal review
 * and `--help` never load it). A `--max-bytes` too small for the parts every review has is a
 * usage error.
 */
export async function renderReview(doc: AnyPlanDocument, r: ReviewRequest): Promise<string> {
  const { reviewOf, toHtml, toMarkdown, ReviewError } = await import('@cutover/review')
  const review = reviewOf(doc, {
    hash: r.hash,
    ...(r.saved !== undefined ? { saved: r.saved } : {}),
  })
  if (r.format === 'html') return toHtml(review)
  try {
    return toMarkdown(review, r.maxBytes !== undefined ? { maxBytes: r.maxBytes } : {})
  } catch (e) {
    if (e instanceof ReviewError && e.code === 'MAX_BYTES')
      throw new CliError('USAGE', e.message, { cause: e })
    throw e
  }
}

/**
 * The review flags every command that renders one shares: `--max-bytes` (a positive number of
 * bytes, with Markdown only), and `--format html` without `--out` refused on a terminal (a page
 * is a file to open, not text to read there).
 */
export function reviewFlags(
  format: string,
  opts: { maxBytes?: string; out?: string },
  io: Io,
): { maxBytes?: number } {
  if (format === 'html' && opts.out === undefined && io.isTTY)
    throw new CliError('USAGE', '--format html writes a page: give --out FILE')
  if (opts.maxBytes === undefined) return {}
  if (format !== 'markdown')
    throw new CliError(
      'USAGE',
      `--max-bytes is for --format markdown (a comment's limit), not --format ${format}`,
    )
  if (!/^\d+$/.test(opts.maxBytes) || Number(opts.maxBytes) === 0)
    throw new CliError(
      'USAGE',
      `--max-bytes takes a number of bytes such as 60000, got "${opts.maxBytes}"`,
    )
  return { maxBytes: Number(opts.maxBytes) }
}
