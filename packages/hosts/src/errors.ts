import { CutoverError } from '@cutover/rewrite'

/** The codes of the errors the hosts package throws. */
export type HostsErrorCode = 'BAD_ADDRESS' | 'BAD_NAME' | 'RULE_CONFLICT'

/** A hosts edit that cannot be made as asked: a malformed address or name, or conflicting rules. */
export class HostsError extends CutoverError<HostsErrorCode> {
  constructor(code: HostsErrorCode, message: string) {
    super(code, message)
    this.name = 'HostsError'
  }
}
