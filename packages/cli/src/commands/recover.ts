import { recoverState } from '@cutover/rewrite'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { isFleetCommand, recoverFleetCmd } from '../fleet.js'
import { engine } from '../make-plan.js'
import { paths } from '../options.js'

/** `cutover recover`: finishes or undoes an interrupted apply. */
export const recover: Command = async (opts, _args, io) => {
  if (isFleetCommand(opts, io)) return recoverFleetCmd(opts, io)
  const { stateDir } = paths(opts, io)
  const e = await engine()
  const report = await recoverState({ stateDir, env: io.env, database: (k) => e.database(k) })
  if (report.staleLock) io.stderr.write(`cutover: ${report.staleLock}\n`)
  if (report.transactions.length === 0) io.stdout.write('Nothing to recover.\n')
  for (const t of report.transactions)
    io.stdout.write(`Transaction ${t.txid}: ${t.was} -> ${t.now} (${t.targets.length} file(s))\n`)
  return EXIT.ok
}
