/** The signals that end a command from outside: Ctrl-C, `kill`, a closed terminal. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Runs `cleanup` (synchronous: nothing asynchronous runs once the handler returns) when one of
 * {@link SIGNALS} would end the process before the returned function is called, then lets that
 * signal end the process as it would have (its exit status says the signal).
 */
export function cleanupOnSignal(cleanup: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    off()
    try {
      cleanup()
    } finally {
      process.kill(process.pid, signal)
    }
  }
  const off = () => {
    for (const s of SIGNALS) process.off(s, onSignal)
  }
  for (const s of SIGNALS) process.on(s, onSignal)
  return off
}
