import {
  spawn,
  spawnSync,
  type ChildProcessWithoutNullStreams,
  type SpawnSyncReturns,
} from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { join } from 'node:path'
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

/** A commit in a child process over its own sftp-server, its input on stdin. */
const CHILD_COMMIT = `
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { commitFiles } from '@cutover/rewrite'
import { SftpClient, localExec, remoteFileSystem, remoteStateFileSystem } from '${join(import.meta.dirname, '..', 'dist', 'index.js')}'
const { targets, stateDir, remoteState } = JSON.parse(readFileSync(0, 'utf8'))
const server = spawn(${JSON.stringify(sftpServer)}, [], { stdio: ['pipe', 'pipe', 'inherit'] })
const sftp = await SftpClient.over(server.stdin, server.stdout)
await commitFiles(targets.map((t) => ({ ...t, content: Buffer.from(t.content) })), {
  stateDir,
  fileSystem: remoteFileSystem({ sftp, exec: localExec, label: 'here:' }),
  ...(remoteState ? { stateFileSystem: remoteStateFileSystem({ sftp, exec: localExec }) } : {}),
})
`

/**
 * Runs `commitFiles` of the built package in a child process, its targets over a new sftp-server
 * (the state directory too when `remoteState`), with the fault `CUTOVER_FAULT_INJECT` names: a
 * crash mid-transaction that the test then recovers from. `content` of a target is its text.
 */
export function commitInChild(input: {
  targets: Array<{ content: string }>
  stateDir: string
  remoteState?: boolean
  fault: string
}): SpawnSyncReturns<string> {
  const { fault, ...rest } = input
  return spawnSync(process.execPath, ['--input-type=module', '-e', CHILD_COMMIT], {
    cwd: join(import.meta.dirname, '..'),
    input: JSON.stringify(rest),
    env: { ...process.env, CUTOVER_FAULT_INJECT: fault },
    encoding: 'utf8',
  })
}
