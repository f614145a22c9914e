import { CutoverError } from '@cutover/rewrite'

/**
 * The codes of the errors the fleet package throws (a machine that cannot be reached or trusted,
 * a fleet transaction that cannot be finished). Add a code here before throwing it.
 */
export type FleetErrorCode =
  /** The machine's host key is not in known_hosts and StrictHostKeyChecking refuses it. */
  | 'HOST_KEY_UNKNOWN'
  /** The machine's host key differs from the one known_hosts (or the plan) holds. */
  | 'HOST_KEY_CHANGED'
  /** The machine did not answer: connection refused, timed out, no route, name unknown. */
  | 'UNREACHABLE'
  /** sshd refused every credential offered (BatchMode: never a prompt). */
  | 'SSH_AUTH'
  /** Any other failure of the ssh client or of the connection. */
  | 'SSH'
  /** A machine spec or a machine's answer that cannot be used. */
  | 'MACHINE'
  /** The controller decided but could not tell a machine: that machine is in doubt until `recover`. */
  | 'IN_DOUBT'
  /** A fleet transaction aborted on every machine because one of them failed before the commit point. */
  | 'FLEET_ABORTED'
  /** A fleet transaction that recover cannot finish as asked. */
  | 'RECOVER_FLEET'
  /** A machine's files could not be listed or read for the mirror a plan runs on. */
  | 'MIRROR'
  /** The source of a whole-file change (`copy`, `exchange`) could not be read at apply. */
  | 'SOURCE'
  /** `ansible-inventory` (Debian: ansible-core) is not installed, and the spec's machines are an Ansible inventory's. */
  | 'INVENTORY_TOOL'
  /** An Ansible inventory that cannot be read, or a host of it that cannot be a machine. */
  | 'INVENTORY'
  /** The source of a `copy` or a side of an `exchange` is missing, not what the step says, or unreadable. */
  | 'WHOLE_SOURCE'
  /** The target of a `copy` cannot take what the step writes (a directory where a file goes, a dangling link). */
  | 'WHOLE_TARGET'
  /** A file both written by a whole-file step and edited by another step (or the source of a copy another step edits). */
  | 'WHOLE_FILE_CONFLICT'

/**
 * An error of the fleet: a {@link CutoverError} with a {@link FleetErrorCode}, so that the CLI
 * prints it as any refusal (`cutover: message`, exit 1, no stack). The message names the machine.
 */
export class FleetError<C extends FleetErrorCode = FleetErrorCode> extends CutoverError<C> {
  constructor(code: NoInfer<C>, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'FleetError'
  }
}
