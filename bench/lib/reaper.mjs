#!/usr/bin/env node
// node reaper.mjs PARENT PID…: waits for the process PARENT to end, then stops the sshd PIDs and
// their per-connection processes. The bench starts it in a session of its own, so that its
// daemons do not outlive a bench ended by a signal (Ctrl-C, SIGTERM, SIGKILL): a signal handler
// in the bench cannot do it, as the bench waits for its tools synchronously (spawnSync) and a
// handler would run only once the whole run is over.
import { stopSshd } from './procs.mjs'

const [parent, ...pids] = process.argv.slice(2).map(Number)

const timer = setInterval(() => {
  try {
    process.kill(parent, 0)
    return
  } catch {
    clearInterval(timer)
  }
  for (const pid of pids) stopSshd(pid)
}, 300)
