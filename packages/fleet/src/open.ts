import { FleetError } from './errors.js'
import { localMachine } from './local-machine.js'
import type { Machine, MachineSpec } from './machine.js'
import { machineFacts } from './machine-facts.js'
import { remoteFileSystem } from './remote-fs.js'
import { remoteStateFileSystem } from './remote-state.js'
import { SftpClient } from './sftp/index.js'
import { SshConnection } from './ssh/connection.js'
import { MachineTrace, traceOn } from './trace.js'

/** How to open the machines of a command. */
export interface OpenOptions {
  /** An ssh_config file for `ssh -F` (`--ssh-config`, `CUTOVER_SSH_CONFIG`); the user's own by default. */
  sshConfig?: string
  /**
   * The directory of the control sockets (made 0700; a unix socket path is short, so keep it
   * short: at most ~70 bytes).
   */
  controlDir: string
  /** The controller's environment: ssh gets only what it needs of it (see `sshEnv`). */
  env: NodeJS.ProcessEnv
}

/**
 * Opens a machine of the spec. A local machine (no `ssh`) is this machine's directory `root`.
 * A machine with `ssh` is reached over one multiplexed OpenSSH connection: its host key is
 * verified as the user's ssh config says (`hostKey` is the key's fingerprint), its files and its
 * state directory go over the SFTP subsystem of that connection, its commands through it too.
 * Rejects with a {@link FleetError} naming the machine when it cannot be reached or trusted:
 * HOST_KEY_UNKNOWN, HOST_KEY_CHANGED, UNREACHABLE, SSH_AUTH, SSH.
 */
export async function openMachine(spec: MachineSpec, o: OpenOptions): Promise<Machine> {
  if (spec.ssh === undefined) return localMachine(spec)
  const label = `${spec.name}:`
  const conn = await SshConnection.open(
    {
      name: spec.name,
      dest: spec.ssh,
      ...(spec.port !== undefined ? { port: spec.port } : {}),
      ...(o.sshConfig !== undefined ? { sshConfig: o.sshConfig } : {}),
    },
    { controlDir: o.controlDir, env: o.env },
  )
  // the first command's shell starts beside the SFTP channel
  conn.warm()
  const child = conn.sftp()
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  let sftp: SftpClient
  try {
    sftp = await SftpClient.over(child.stdin, child.stdout)
  } catch (e) {
    child.kill('SIGKILL')
    await exited
    await conn.close()
    throw new FleetError(
      'SSH',
      `machine ${spec.name} (${spec.ssh}): its SFTP subsystem did not start: ${stderr.trim() || (e as Error).message}`,
      { cause: e },
    )
  }
  const trace = traceOn() ? new MachineTrace(spec.name, () => sftp.counts) : undefined
  const plain: Machine['exec'] = (script, options) => conn.exec(script, options)
  const exec = trace ? trace.wrap(plain) : plain
  // one probe of the machine's facts and one set of its answers for both file systems
  const facts = machineFacts(exec, label)
  const fileSystem = remoteFileSystem({ sftp, exec, label, facts })
  const state = remoteStateFileSystem({ sftp, exec, label, facts, targets: fileSystem })
  return {
    spec,
    label,
    ...(conn.hostKey !== undefined ? { hostKey: conn.hostKey } : {}),
    fileSystem,
    stateFileSystem: state,
    stateExpecting: (originals) => state.expecting(originals),
    exec,
    readFile: (path) => sftp.readFile(path),
    ...(trace ? { trace: (what: string) => trace.mark(what) } : {}),
    close: async () => {
      trace?.mark('close')
      await sftp.end().catch(() => undefined)
      child.kill('SIGTERM')
      await exited
      await conn.close()
    },
  }
}
