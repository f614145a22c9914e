import { randomBytes } from 'node:crypto'
import { constants, realpathSync } from 'node:fs'
import { open, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import {
  CutoverError,
  InputError,
  SpecError,
  applyPlanDocument,
  checkPlanDocument,
  appliedOnce,
  createEngine,
  formatDiagnostic,
  LineIndex,
  listTransactions,
  pruneTransactions,
  recoverState,
  defaultStateDir,
  rollbackLast,
  quotePath,
  showControls,
  toPlanDocument,
  withLock,
  type Engine,
  type Plan,
  type PlanDocument,
  type StepKind,
} from '@cutover/rewrite'
import { EXIT } from './exit.js'
import type { Command, Opts } from './command.js'
import type { Io } from './io.js'
import { planJson } from './plan-json.js'
import { formatPlan, paint } from './format.js'
import { allStepKinds, namedKinds, stepKindsFor } from './kinds.js'
import { applyProgress, counted, progressLine } from './output/progress.js'
import { init } from './init.js'

const str = (v: string | boolean | undefined): string | undefined =>
  typeof v === 'string' ? v : undefined

/** An engine for `kinds`, by default every step kind (a saved plan, recovery). */
async function engine(kinds?: readonly StepKind<any>[]): Promise<Engine> {
  return createEngine({ steps: kinds ?? (await allStepKinds()) })
}

const STATE_DIR = 'var/lib/cutover'

function paths(opts: Opts, io: Io, planRoot?: string) {
  const root = resolve(io.cwd, str(opts.root) ?? planRoot ?? '/')
  const given = str(opts.stateDir)
  // the default state directory is in the root as a chroot sees it (a linked var/lib stays inside)
  const stateDir = given !== undefined ? resolve(io.cwd, given) : defaultStateDir(root)
  const ignore = new Set<string>(given === undefined ? [`${STATE_DIR}/**`] : [])
  for (const base of [root, realOr(root)]) {
    const rel = relative(base, stateDir)
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) ignore.add(`${rel}/**`)
  }
  return { root, stateDir, ignore: [...ignore] }
}

function realOr(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/** A size given as bytes or with a binary unit: `1048576`, `512K`, `64M`, `1G` (also `64MiB`). */
function parseSize(s: string): number {
  const m = /^(\d+)\s*(?:([KMG])(?:i?B)?|B)?$/i.exec(s.trim())
  if (!m)
    throw new CutoverError(
      'USAGE',
      `--max-file-size takes a size such as 64M, 1G or 1048576 (bytes), got "${s}"`,
    )
  return (
    Number(m[1]) *
    1024 ** { '': 0, K: 1, M: 2, G: 3 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G']
  )
}

/** Plans the spec of `opts`, with an engine for the step kinds it names. */
async function makePlan(opts: Opts, io: Io): Promise<{ plan: Plan; engine: Engine }> {
  const specPath = resolve(io.cwd, str(opts.spec) ?? 'cutover.yaml')
  let source: string
  try {
    source = await readFile(specPath, 'utf8')
  } catch (err) {
    throw new CutoverError(
      'SPEC_MISSING',
      `cannot read the spec ${specPath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (use --spec FILE)' : (err as Error).message}`,
    )
  }
  const e = await engine(await stepKindsFor(namedKinds(source)))
  // missing secrets are spec errors too, reported with the others in one run
  const spec = e.parseSpec(source, relative(io.cwd, specPath) || specPath, {
    env: io.env,
    ...(str(opts.profile) !== undefined ? { profile: str(opts.profile)! } : {}),
  })
  const { root, ignore, stateDir } = paths(opts, io)
  const applied = await appliedOnce(stateDir)
  const broken = await interrupted(stateDir, root, opts, io)
  const progress = progressLine(io, opts)
  try {
    const plan = await e.plan(spec, {
      root,
      ...(str(opts.profile) !== undefined ? { profile: str(opts.profile)! } : {}),
      env: io.env,
      // the files an interrupted apply staged, as its journal records them, are never in scope
      ignore: [...ignore, ...broken.temps],
      applied,
      ...(str(opts.maxFileSize) !== undefined
        ? { maxFileSize: parseSize(str(opts.maxFileSize)!) }
        : {}),
      ...(opts.showSensitive ? { showSensitive: true } : {}),
      onProgress: (p) => {
        if (p.type === 'read')
          progress.update(
            counted('scanning', p, `${p.changed} to change`),
            p.considered === p.total,
          )
        else if (opts.verbose) progress.note(`${p.target}: ${p.what}`)
      },
    })
    plan.notes.unshift(...broken.notes)
    return { plan, engine: e }
  } finally {
    progress.done()
  }
}

/**
 * A warning for each transaction that a crash left unfinished (journal `staging` or `prepared`):
 * its targets may be half written and its staged files lie beside them until `cutover recover`.
 */
async function interrupted(
  stateDir: string,
  root: string,
  opts: Opts,
  io: Io,
): Promise<{ notes: Plan['notes']; temps: string[] }> {
  const temps: string[] = []
  let txs: Awaited<ReturnType<typeof listTransactions>>
  try {
    txs = (await listTransactions(stateDir)).filter(
      (t) => t.state === 'staging' || t.state === 'prepared',
    )
    for (const t of txs) {
      for (const temp of t.temps) {
        const rel = relative(root, temp)
        // a literal path as a glob: every glob character escaped
        if (rel && !rel.startsWith('..') && !isAbsolute(rel))
          temps.push(
            rel
              .split(sep)
              .join('/')
              .replace(/[\\*?[\]{}()!+@]/g, '\\$&'),
          )
      }
    }
  } catch {
    return { notes: [], temps } // an unreadable state directory is apply's to report
  }
  const flags = [
    str(opts.root) !== undefined ? ` --root ${str(opts.root)}` : '',
    str(opts.stateDir) !== undefined ? ` --state-dir ${str(opts.stateDir)}` : '',
  ].join('')
  const notes = txs.map((t) => ({
    target: relative(io.cwd, stateDir) || stateDir,
    code: 'INTERRUPTED',
    message: `transaction ${t.txid} (${t.kind}, ${t.targets.length} file(s)) was interrupted (${t.state}): its files may be half applied; run \`cutover recover${flags}\` before trusting this plan`,
    severity: 'warning' as const,
  }))
  return { notes, temps }
}

function colors(io: Io): boolean {
  return io.isTTY && io.env.NO_COLOR === undefined
}

/**
 * Writes a plan file as only this user can change it: a new file (random name beside `path`,
 * O_EXCL|O_NOFOLLOW, mode 0600, fsynced) renamed over `path`. A link at `path` is replaced, never
 * followed, and a file someone else owns there is replaced by one this user owns.
 */
async function writePrivate(path: string, data: Iterable<string>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`)
  const fh = await open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  )
  let renamed = false
  try {
    try {
      await fh.chmod(0o600)
      for (const piece of data) await fh.write(piece)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(temp, path)
    renamed = true
  } catch (e) {
    throw new CutoverError(
      'PLAN_WRITE',
      `cannot save the plan to ${path}: ${(e as Error).message}`,
      { cause: e },
    )
  } finally {
    if (!renamed) await rm(temp, { force: true })
  }
}

/**
 * Reads a saved plan, refusing one that another user could have written: not owned by the user
 * running cutover, or writable by group or others (whoever can write a plan chooses what apply
 * writes, as root). The checks are made on the file that is read (fstat of the open file).
 */
async function readTrustedPlan(file: string, shown: string): Promise<string> {
  let fh
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw new CutoverError(
      'PLAN_MISSING',
      `cannot read the plan ${file}: ${(err as Error).message}`,
    )
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new CutoverError('PLAN_INVALID', `${shown}: not a regular file`)
    const uid = process.getuid?.()
    if (uid !== undefined && st.uid !== uid) {
      throw new CutoverError(
        'PLAN_UNTRUSTED',
        `${shown}: refused: the plan is owned by uid ${st.uid}, not by you (uid ${uid}); whoever can write a plan chooses what apply writes. Plan again with --out`,
      )
    }
    if (st.mode & 0o022) {
      throw new CutoverError(
        'PLAN_UNTRUSTED',
        `${shown}: refused: the plan is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode 0${(st.mode & 0o777).toString(8)}); whoever can write a plan chooses what apply writes. chmod 600 it after checking it, or plan again with --out`,
      )
    }
    return await fh.readFile('utf8')
  } finally {
    await fh.close()
  }
}

const plan: Command = async (opts, _args, io) => {
  // a plan document is saved and passed around: it never holds what --show-sensitive reveals
  if (opts.showSensitive && (opts.out || opts.json))
    throw new CutoverError(
      'USAGE',
      '--show-sensitive shows the review only: it cannot be combined with --out or --json',
    )
  const { plan: p } = await makePlan(opts, io)
  const doc = toPlanDocument(p)
  // written piece by piece: the plan of a large file is longer than one string can be
  if (str(opts.out)) await writePrivate(resolve(io.cwd, str(opts.out)!), planJson(doc))
  if (opts.json) for (const piece of planJson(doc)) io.stdout.write(piece)
  else if (!opts.quiet) io.stdout.write(formatPlan(p, paint(colors(io))))
  if (str(opts.out) && !opts.json && !opts.quiet)
    io.stdout.write(
      `Plan saved to ${str(opts.out)} (apply it with: cutover apply ${str(opts.out)})\n`,
    )
  return opts.detailedExitcode && p.changes.length + p.database.length > 0 ? EXIT.changes : EXIT.ok
}

const apply: Command = async (opts, args, io) => {
  let { root, stateDir } = paths(opts, io)
  let e: Engine
  let doc: PlanDocument
  if (args[0]) {
    const raw = await readTrustedPlan(resolve(io.cwd, args[0]), args[0])
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch (err) {
      throw new CutoverError(
        'PLAN_INVALID',
        `${args[0]}: not a cutover plan: ${(err as Error).message}`,
      )
    }
    doc = checkPlanDocument(parsed, args[0])
    if (str(opts.root) !== undefined && resolve(doc.root) !== root) {
      throw new CutoverError('PLAN_ROOT', `the plan was made for root ${doc.root}, not ${root}`)
    }
    ;({ root, stateDir } = paths(opts, io, doc.root))
    e = await engine()
  } else {
    const made = await makePlan(opts, io)
    const p = made.plan
    e = made.engine
    doc = toPlanDocument(p)
    if (p.changes.length + p.database.length === 0) {
      if (!opts.quiet) io.stdout.write(formatPlan(p, paint(colors(io))))
      return EXIT.ok
    }
    // a confirmation is always of a plan shown: --quiet drops the review only when nothing is asked
    const asks = !opts.yes && io.stdinIsTTY && io.confirm !== undefined
    if (!opts.quiet || asks) io.stdout.write(formatPlan(p, paint(colors(io))))
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

const verify: Command = async (opts, _args, io) => {
  const { plan: p } = await makePlan(opts, io)
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
    else io.stdout.write(formatPlan(p, paint(colors(io))))
  }
  for (const n of broken) io.stderr.write(`cutover: ${n.message}\n`)
  // a swap whose state cannot be told is never passed over in silence (a passing verify prints no plan)
  if (ok)
    for (const n of p.notes)
      if (n.code === 'ONCE_CHANGED' || n.code === 'ONCE_UNRECORDED')
        io.stderr.write(
          `warning: ${quotePath(n.target)}:${n.line}:${n.col}: ${n.code} ${showControls(n.message)}\n`,
        )
  if (!ok)
    io.stderr.write(
      `cutover: verify failed: ${broken.length ? `${broken.length} interrupted transaction(s), ` : ''}${p.changes.length} file(s) and ${p.database.length} database object(s) would change${opts.strict ? `, ${open} leftover(s)${accepted ? ` (and ${accepted} accepted)` : ''}` : ''}\n`,
    )
  return ok ? EXIT.ok : EXIT.error
}

const recoverCmd: Command = async (opts, _args, io) => {
  const { stateDir } = paths(opts, io)
  const e = await engine()
  const report = await recoverState({ stateDir, env: io.env, database: (k) => e.database(k) })
  if (report.staleLock) io.stderr.write(`cutover: ${report.staleLock}\n`)
  if (report.transactions.length === 0) io.stdout.write('Nothing to recover.\n')
  for (const t of report.transactions)
    io.stdout.write(`Transaction ${t.txid}: ${t.was} -> ${t.now} (${t.targets.length} file(s))\n`)
  return EXIT.ok
}

const rollback: Command = async (opts, _args, io) => {
  const { stateDir } = paths(opts, io)
  const result = await rollbackLast({
    stateDir,
    ...(opts.force ? { force: true } : {}),
    confirm: async (txid, targets) => {
      if (opts.yes) return true
      if (!io.stdinIsTTY || !io.confirm)
        throw new CutoverError('CONFIRM', 'not rolled back: without a terminal, pass --yes')
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

const state: Command = async (opts, args, io) => {
  const { stateDir } = paths(opts, io)
  if (args[0] === 'prune') {
    const keep = Number(str(opts.keep) ?? '5')
    if (!Number.isInteger(keep) || keep < 0)
      throw new CutoverError('USAGE', `--keep takes a whole number, got "${str(opts.keep)}"`)
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

/** A message naming files as a terminal may show it: each line's control characters made visible. */
function visible(message: string): string {
  return message.split('\n').map(showControls).join('\n')
}

const guard =
  (c: Command): Command =>
  async (opts, args, io) => {
    try {
      return await c(opts, args, io)
    } catch (e) {
      io.stderr.write(visible(describeError(e, io)) + '\n')
      return EXIT.error
    }
  }

/** Formats an error for people: diagnostics with path:line:col and a caret; never a stack for a user mistake. */
export function describeError(e: unknown, io: Io): string {
  if (e instanceof SpecError || e instanceof InputError) {
    const kind = e instanceof SpecError ? 'invalid spec' : 'cannot rewrite'
    const index = new LineIndex(e.source) // one index of the file for all its diagnostics
    return [
      `cutover: ${kind}: ${e.diagnostics.length} error(s)`,
      ...e.diagnostics.map((d) =>
        formatDiagnostic(e.path, index, d, e instanceof InputError ? e.hide : undefined),
      ),
    ].join('\n')
  }
  if (e instanceof CutoverError) return `cutover: ${e.message}`
  const err = e as NodeJS.ErrnoException
  if (err && typeof err.code === 'string' && err.syscall) return `cutover: ${err.message}`
  return `cutover: internal error: ${err?.message ?? String(e)}${io.env.CUTOVER_DEBUG ? `\n${err?.stack ?? ''}` : ' (set CUTOVER_DEBUG=1 for details)'}`
}

export const commands: Record<string, Command> = {
  plan: guard(plan),
  apply: guard(apply),
  verify: guard(verify),
  recover: guard(recoverCmd),
  rollback: guard(rollback),
  state: guard(state),
  init: guard(init),
  schema: guard(async (opts, args, io) => (await import('./schema.js')).schema(opts, args, io)),
}
