import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { need } from '@cutover/test-kit'
import { SftpClient } from '../src/index.js'

/** Where distributions install OpenSSH's sftp-server (it is not on PATH). */
const CANDIDATES = [
  '/usr/lib/openssh/sftp-server',
  '/usr/libexec/openssh/sftp-server',
  '/usr/libexec/sftp-server',
  '/usr/lib/ssh/sftp-server',
]

const found = CANDIDATES.find((p) => {
  try {
    accessSync(p, constants.X_OK)
    return true
  } catch {
    return false
  }
})

/** The sftp-server to run. */
export const sftpServer = found ?? 'sftp-server'

/** True when OpenSSH's sftp-server is installed (under CI=true its absence is an error). */
export const haveSftpServer = found !== undefined || need('sftp-server')

export interface ServerSession {
  client: SftpClient
  server: ChildProcessWithoutNullStreams
  /** Resolves with the server's exit code (or signal) once it has exited. */
  exited: Promise<number | NodeJS.Signals | null>
}

/**
 * Spawns the real sftp-server over pipes (as `ssh -s DEST sftp` would give its stdin and stdout)
 * and starts an SFTP session on it. `uid`/`gid`: run the server as that user (tests run as root).
 */
export async function startSftp(
  options: { uid?: number; gid?: number; args?: string[] } = {},
): Promise<ServerSession> {
  const server = spawn(sftpServer, options.args ?? [], {
    stdio: ['pipe', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    cwd: '/',
  })
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    server.on('exit', (code, signal) => resolve(code ?? signal)),
  )
  const client = await SftpClient.over(server.stdin, server.stdout)
  return { client, server, exited }
}
