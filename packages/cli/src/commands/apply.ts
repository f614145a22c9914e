import { resolve } from 'node:path'
import {
  applyPlanDocument,
  checkAnyPlanDocument,
  isFleetPlan,
  toPlanDocument,
  type Engine,
  type PlanDocument,
} from '@cutover/rewrite'
import { CliError } from '../errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { engine, makePlan } from '../make-plan.js'
import { paths, str } from '../options.js'
import { visible } from '../output/errors.js'
import { colors, formatPlan, paint } from '../output/format.js'
import { applyProgress, progressLine } from '../output/progress.js'
import { expectedHash, fileHash, readTrustedPlan } from '../plan-file.js'

/**
 * `cutover apply [PLAN]`: applies a saved plan, or plans the spec and applies it after
 * confirmation; all files change or none. `--expect sha256:HEX` applies the saved plan only when
 * its file hashes to HEX (the hash its review showed). With `--check`, once it succeeded, `cutover check`
 * runs with the same spec (a failed check exits 1; what was applied stays).
 */
export const apply: Command = async (opts, args, io) => {
  const code = await applyOnly(opts, args, io)
  return opts.check && code === EXIT.ok ? (await import('../check.js')).runChecks(opts, io) : code
}

const applyOnly: Command = async (opts, args, io) => {
  // checked before anything is read, locked or connected
  const expected =
    opts.expect === undefined ? undefined : expectedHash(str(opts.expect) ?? '', args[0])
  let { root, stateDir } = paths(opts, io)
  let e: Engine
  let doc: PlanDocument
  if (args[0]) {
    const raw = await readTrustedPlan(resolve(io.cwd, args[0]), args[0])
    // the bytes hashed are the bytes parsed: a plan approved by its hash is the plan applied
    if (expected !== undefined && fileHash(raw) !== expected)
      throw new CliError(
        'PLAN_HASH',
        `${args[0]} is ${fileHash(raw)}, not ${expected} that --expect names: nothing was applied`,
      )
    let parsed: unknown
    try {
      parsed = JSON.parse(raw.toString('utf8'))
    } catch (err) {
      throw new CliError(
        'PLAN_INVALID',
        `${args[0]}: not a cutover plan: ${(err as Error).message}`,
      )
    }
    // every kind: a saved plan's secret encodings are known by the kinds that register them
    e = await engine()
    const any = checkAnyPlanDocument(parsed, args[0], (n) => e.encoder(n))
    if (isFleetPlan(any)) {
      if (str(opts.root) !== undefined)
        throw new CliError(
          'USAGE',
          `--root is for a plan of one root; ${args[0]} is the plan of a fleet (machines ${any.machines.map((m) => m.name).join(', ')}), each with its own root`,
        )
      if (any.changes.length === 0 && any.database.length === 0) {
        if (!opts.quiet) io.stdout.write('Nothing to apply: the plan is empty.\n')
        return EXIT.ok
      }
      return (await import('../fleet.js')).applyFleetPlan(any, e, opts, io)
    }
    doc = any
    if (str(opts.root) !== undefined && resolve(doc.root) !== root) {
      throw new CliError('PLAN_ROOT', `the plan was made for root ${doc.root}, not ${root}`)
    }
    ;({ root, stateDir } = paths(opts, io, doc.root))
  } else {
    const made = await makePlan(opts, io)
    const p = made.plan
    e = made.engine
    doc = toPlanDocument(p)
    const review = () => formatPlan(p, paint(colors(io)), made.fleet?.labelOf)
    if (p.changes.length + p.database.length === 0) {
      if (!opts.quiet) io.stdout.write(review())
      return EXIT.ok
    }
    // a confirmation is always of a plan shown: --quiet drops the review only when nothing is asked
    const asks = !opts.yes && io.stdinIsTTY && io.confirm !== undefined
    if (!opts.quiet || asks) io.stdout.write(review())
    if (!opts.yes) {
      if (!io.stdinIsTTY || !io.confirm) {
        io.stderr.write('cutover: not applied: without a terminal, pass --yes to apply this plan\n')
        return EXIT.error
      }
      if (
        !(await io.confirm(`Apply these ${p.changes.length + p.database.length} change(s)? [y/N] `))
      ) {
        io.stderr.write('cutover: not applied\n')
        return EXIT.error
      }
    }
    // a spec with machines: the plan of every machine, applied in two phases across them
    if (made.fleet) return (await import('../fleet.js')).applyFleetPlan(made.fleet.doc, e, opts, io)
  }
  if (doc.changes.length === 0 && (doc.database ?? []).length === 0) {
    if (!opts.quiet) io.stdout.write('Nothing to apply: the plan is empty.\n')
    return EXIT.ok
  }
  const progress = progressLine(io, opts)
  let result: Awaited<ReturnType<typeof applyPlanDocument>>
  try {
    result = await applyPlanDocument(doc, {
      stateDir,
      env: io.env,
      validator: (n) => e.validator(n),
      encoder: (n) => e.encoder(n),
      database: (k) => e.database(k),
      observer: applyProgress(progress, Boolean(opts.verbose)),
    })
  } finally {
    progress.done()
  }
  if (result.staleLock) io.stderr.write(`cutover: ${result.staleLock}\n`)
  for (const t of result.recovered.transactions)
    io.stderr.write(`cutover: recovered interrupted transaction ${t.txid}: ${t.was} -> ${t.now}\n`)
  for (const w of result.warnings) io.stderr.write(`warning: ${visible(w)}\n`)
  if (!opts.quiet)
    io.stdout.write(
      `Applied ${result.written.length} file(s) in transaction ${result.txid} (backups in ${stateDir}).\n`,
    )
  return EXIT.ok
}
