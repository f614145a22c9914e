export { SftpClient, type SftpEntry } from './client.js'
export { SftpError, type SftpErrorCode } from './errors.js'
export { OPEN_FLAGS as SFTP_OPEN, type SftpAttrs, type SftpHandle } from './packet.js'
