import { CutoverError } from '@cutover/rewrite'

/** The codes of the errors the review package throws. */
export type ReviewErrorCode = 'MAX_BYTES'

/**
 * A review that cannot be made as asked: `MAX_BYTES` when the limit is smaller than the parts
 * a review always has (`needed` is the least limit that fits them).
 */
export class ReviewError extends CutoverError<ReviewErrorCode> {
  /** For `MAX_BYTES`: the smallest limit the review fits in. */
  readonly needed?: number
  constructor(code: ReviewErrorCode, message: string, needed?: number) {
    super(code, message)
    this.name = 'ReviewError'
    if (needed !== undefined) this.needed = needed
  }
}
