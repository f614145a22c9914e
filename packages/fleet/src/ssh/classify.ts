import { FleetError } from '../errors.js'

/** What the ssh client's log says about the host key it verified: `SHA256:…` of the last `Server host key:` line. */
export function serverHostKey(log: string): string | undefined {
  const keys = [...log.matchAll(/^debug1: Server host key: \S+ (SHA256:[A-Za-z0-9+/=]+)\s*$/gm)]
  return keys.at(-1)?.[1]
}

/** The lines of the client's log that are for people (its `debug` lines left out). */
function messages(log: string): string[] {
  return log
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !/^debug\d: /.test(l))
}

/**
 * The error of a connection that the ssh client could not make, from its log: the host key
 * unknown (StrictHostKeyChecking refused it) or changed, the machine unreachable, the credentials
 * refused, or else the client's own words. Every message names the machine `name` and `dest`.
 */
export function connectError(name: string, dest: string, log: string): FleetError {
  const lines = messages(log)
  const text = lines.join('\n')
  const last = lines.filter((l) => !/^@+$/.test(l)).at(-1) ?? 'ssh exited without a message'
  const at = `machine ${name} (${dest})`
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(text)) {
    const sent =
      /The fingerprint for the \S+ key sent by the remote host is\n(SHA256:[^\s.]+)/.exec(text)?.[1]
    const offending = /^Offending \S+ key in (.*)$/m.exec(text)?.[1]
    return new FleetError(
      'HOST_KEY_CHANGED',
      `${at}: its host key changed${sent ? ` (it now presents ${sent})` : ''}: ssh refuses it` +
        `${offending ? ` (the known key is at ${offending})` : ''}. If the change is expected ` +
        `(the machine was reinstalled), check the new key out of band and replace the known one; ` +
        `otherwise someone may be in the middle`,
    )
  }
  if (/host key is known for|Host key verification failed/.test(text)) {
    return new FleetError(
      'HOST_KEY_UNKNOWN',
      `${at}: its host key is not known and ssh refuses to trust it unasked ` +
        `(StrictHostKeyChecking): connect once by hand (ssh ${dest}) and check the fingerprint, ` +
        `or add the key to known_hosts (ssh-keyscan, checked out of band)`,
    )
  }
  if (/Permission denied \(/.test(text)) {
    return new FleetError(
      'SSH_AUTH',
      `${at}: ssh could not log in: ${last} (no password or passphrase is asked: use a key ` +
        `the machine accepts, from an agent or without a passphrase)`,
    )
  }
  if (
    /Connection refused|timed out|No route to host|Network is unreachable|Could not resolve hostname|Name or service not known|Temporary failure in name resolution|Connection reset|Connection closed by|kex_exchange_identification/.test(
      text,
    )
  ) {
    return new FleetError('UNREACHABLE', `${at}: cannot connect: ${last}`)
  }
  return new FleetError('SSH', `${at}: ssh failed: ${last}`)
}
