import { listTransactions, pruneTransactions, withLock } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { isFleetCommand, stateFleetCmd } from '../fleet.js'
import { paths, str } from '../options.js'

/** `cutover state [list|prune]`: lists the transactions of the state directory, or prunes old ones. */
export const state: Command = async (opts, args, io) => {
  if (isFleetCommand(opts, io)) {
    if (args[0] === 'prune')
      throw new CliError(
        'USAGE',
        'state prune works on one state directory: give --root (and --state-dir) of a machine',
      )
    return stateFleetCmd(opts, io)
  }
  const { stateDir } = paths(opts, io)
  if (args[0] === 'prune') {
    const keep = Number(str(opts.keep) ?? '5')
    if (!Number.isInteger(keep) || keep < 0)
      throw new CliError('USAGE', `--keep takes a whole number, got "${str(opts.keep)}"`)
    const removed = await withLock(stateDir, 'cutover state prune', () =>
      pruneTransactions(stateDir, keep),
    )
    io.stdout.write(
      removed.length
        ? `Removed ${removed.length} finished transaction(s): ${removed.join(', ')}\n`
        : 'Nothing to prune.\n',
    )
    return EXIT.ok
  }
  const txs = await listTransactions(stateDir)
  if (txs.length === 0) io.stdout.write(`No transactions in ${stateDir}.\n`)
  for (const t of txs) {
    const extra = t.restores ? ` (restores ${t.restores})` : ''
    io.stdout.write(
      `${t.txid}  ${t.kind.padEnd(8)} ${t.state.padEnd(11)} ${t.created}  ${t.targets.length} file(s), backups ${t.backupBytes} bytes${extra}\n`,
    )
  }
  return EXIT.ok
}
