import { rollbackLast } from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { isFleetCommand, rollbackFleetCmd } from '../fleet.js'
import { paths } from '../options.js'
import { visible } from '../output/errors.js'

/** `cutover rollback`: restores the last applied transaction from its backups, as a new one. */
export const rollback: Command = async (opts, _args, io) => {
  if (isFleetCommand(opts, io)) return rollbackFleetCmd(opts, io)
  const { stateDir } = paths(opts, io)
  const result = await rollbackLast({
    stateDir,
    ...(opts.force ? { force: true } : {}),
    confirm: async (txid, targets) => {
      if (opts.yes) return true
      if (!io.stdinIsTTY || !io.confirm)
        throw new CliError('CONFIRM', 'not rolled back: without a terminal, pass --yes')
      io.stdout.write(`Transaction ${txid} changed:\n${targets.map((t) => `  ${t}`).join('\n')}\n`)
      return io.confirm(`Restore these ${targets.length} file(s)? [y/N] `)
    },
  })
  for (const t of result.recovered.transactions)
    io.stderr.write(`cutover: recovered interrupted transaction ${t.txid}: ${t.was} -> ${t.now}\n`)
  if (result.cancelled) {
    io.stderr.write('cutover: not rolled back\n')
    return EXIT.error
  }
  for (const w of result.warnings) io.stderr.write(`warning: ${visible(w)}\n`)
  io.stdout.write(
    `Rolled back ${result.written.length} file(s) of ${result.restored} in transaction ${result.txid}.\n`,
  )
  return EXIT.ok
}
