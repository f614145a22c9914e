// Stopping the bench's sshd: the daemon and its per-connection processes (killing the daemon
// alone leaves every open connection served, and an ssh ControlMaster connected to it alive).
import { readdirSync, readFileSync } from 'node:fs'

const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim()
  } catch {
    return undefined
  }
}

/** The children of `pid` (from /proc: the field of stat after the state, behind the command). */
function childrenOf(pid) {
  const out = []
  for (const d of readdirSync('/proc'))
    if (/^\d+$/.test(d))
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'latin1')
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d))
      } catch {
        // ended meanwhile
      }
  return out
}

const term = (pid) => {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    // ended meanwhile
  }
}

/** SIGTERM to the sshd `pid` (if it still is one) and to its sshd children. */
export function stopSshd(pid) {
  if (comm(pid) !== 'sshd') return
  for (const c of childrenOf(pid)) if (comm(c) === 'sshd') term(c)
  term(pid)
}
