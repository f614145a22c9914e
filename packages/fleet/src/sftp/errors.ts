import { FX } from './packet.js'

/** The errno-like codes an SFTP failure is given, as node's file system errors carry them. */
export type SftpErrorCode =
  | 'ENOENT'
  | 'EACCES'
  | 'EEXIST'
  | 'ENOTEMPTY'
  | 'EIO'
  | 'EINVAL'
  | 'ENOTSUP'
  | 'ECONNRESET'
  | 'EPROTO'

/**
 * A failed SFTP request, shaped as node's system errors are (`code`, `syscall`, `path`), so that
 * code written for the local file system reads it the same: `ENOENT: no such file, open '/x'`.
 * `status` is the SFTP status code (undefined when the channel failed rather than the request).
 */
export class SftpError extends Error {
  constructor(
    readonly code: SftpErrorCode,
    readonly syscall: string,
    readonly path: string | undefined,
    readonly status: number | undefined,
    detail: string,
  ) {
    super(`${code}: ${detail}, ${syscall}${path === undefined ? '' : ` '${path}'`}`)
    this.name = 'SftpError'
  }
}

/**
 * The errno-like code of an SFTP status. OpenSSH's sftp-server folds every errno it has no status
 * for (EEXIST, ENOTEMPTY, ENOSPC, EROFS…) into FAILURE, which says only that the call failed:
 * EIO, unless the request can tell better (see the client's `open` and `mkdir`).
 */
export function codeOfStatus(status: number): SftpErrorCode {
  switch (status) {
    case FX.NO_SUCH_FILE:
      return 'ENOENT'
    case FX.PERMISSION_DENIED:
      return 'EACCES'
    case FX.BAD_MESSAGE:
      return 'EINVAL'
    case FX.OP_UNSUPPORTED:
      return 'ENOTSUP'
    case FX.NO_CONNECTION:
    case FX.CONNECTION_LOST:
      return 'ECONNRESET'
    default:
      return 'EIO'
  }
}
