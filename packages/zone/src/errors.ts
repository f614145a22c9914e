import { CutoverError } from '@cutover/rewrite'

/** The codes of the errors the zone package throws. */
export type ZoneErrorCode = 'BAD_ADDRESS' | 'BAD_TTL'

/** A zone edit that cannot be made as asked: a malformed address or TTL. */
export class ZoneError extends CutoverError<ZoneErrorCode> {
  constructor(code: ZoneErrorCode, message: string) {
    super(code, message)
    this.name = 'ZoneError'
  }
}
