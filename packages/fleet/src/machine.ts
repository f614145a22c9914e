import type { StateFileSystem, TxFileSystem } from '@cutover/rewrite'

/**
 * One machine of a fleet as the spec declares it (`machines.NAME`): reached over `ssh` (a
 * destination as `ssh` takes it: `[user@]host` or a Host alias of the ssh config), or a local
 * directory when `ssh` is absent. `root` is the path on that machine that spec paths are relative
 * to (default `/`).
 */
export interface MachineSpec {
  name: string
  ssh?: string
  port?: number
  root: string
}

/** What a command run on a machine gave. */
export interface ExecResult {
  code: number
  stdout: Buffer
  stderr: string
}

/**
 * Runs a POSIX `sh` script on a machine (over the machine's one multiplexed connection, or
 * locally for a local machine), with `stdin` fed to it. A secret travels in `stdin`, never in the
 * script. Never rejects for a non-zero exit; rejects when the machine cannot be reached.
 */
export type Exec = (script: string, options?: { stdin?: Buffer }) => Promise<ExecResult>

/** A machine opened for a command: its files, its state directory, and how to run commands there. */
export interface Machine {
  spec: MachineSpec
  /** `finance:` for messages (the name and a colon), `` for the single-root mode. */
  label: string
  /** SHA256 fingerprint of the host key the connection verified (`SHA256:…`); undefined for a local machine. */
  hostKey?: string
  /** The file system of its targets (the transaction's). */
  fileSystem: TxFileSystem
  /** The file system of its state directory (journals, backups, the lock), on the machine. */
  stateFileSystem: StateFileSystem
  /**
   * Its state file system with the originals of its targets known (real path → the bytes the
   * controller read there): the backup's copy on the machine is checked against them in a fixed
   * number of processes (see remote-state.ts). Absent on a local machine.
   */
  stateExpecting?(originals: ReadonlyMap<string, Buffer>): StateFileSystem
  exec: Exec
  /** The bytes of a file (a link followed); rejects with an errno `code` (`ENOENT`, …). Over SFTP on a remote machine. */
  readFile(path: string): Promise<Buffer>
  /** Marks a point of the machine's work in the timing trace (CUTOVER_TRACE_PHASES), when it is on. */
  trace?(what: string): void
  /** Closes the connection (the control master and the SFTP channel); a local machine does nothing. */
  close(): Promise<void>
}
