import { quotePath, showControls } from '@cutover/rewrite'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { makePlan } from '../make-plan.js'
import { colors, formatPlan, paint } from '../output/format.js'

/** `cutover verify`: succeeds when the plan is empty (and, with `--strict`, has no open leftovers). */
export const verify: Command = async (opts, _args, io) => {
  const { plan: p, fleet } = await makePlan(opts, io)
  const labelOf = fleet?.labelOf ?? (() => '')
  const broken = p.notes.filter((n) => n.code === 'INTERRUPTED')
  // the spec's accepted leftovers do not fail --strict; any other one does
  const open = p.leftovers.filter((l) => l.accepted === undefined).length
  const accepted = p.leftovers.length - open
  const ok =
    broken.length === 0 &&
    p.changes.length + p.database.length === 0 &&
    (!opts.strict || open === 0)
  if (!opts.quiet) {
    if (ok)
      io.stdout.write(
        `Verified: no changes${opts.strict ? ` and no leftovers${accepted ? ` but ${accepted} accepted` : ''}` : ''}${p.profile ? ` for profile ${p.profile}` : ''}.\n`,
      )
    else io.stdout.write(formatPlan(p, paint(colors(io)), labelOf))
  }
  for (const n of broken) io.stderr.write(`cutover: ${labelOf(n)}${n.message}\n`)
  // a swap whose state cannot be told is never passed over in silence (a passing verify prints no plan)
  if (ok)
    for (const n of p.notes)
      if (n.code === 'ONCE_CHANGED' || n.code === 'ONCE_UNRECORDED')
        io.stderr.write(
          `warning: ${quotePath(labelOf(n) + n.target)}:${n.line}:${n.col}: ${n.code} ${showControls(n.message)}\n`,
        )
  if (!ok)
    io.stderr.write(
      `cutover: verify failed: ${broken.length ? `${broken.length} interrupted transaction(s), ` : ''}${p.changes.length} file(s) and ${p.database.length} database object(s) would change${opts.strict ? `, ${open} leftover(s)${accepted ? ` (and ${accepted} accepted)` : ''}` : ''}\n`,
    )
  return ok ? EXIT.ok : EXIT.error
}
