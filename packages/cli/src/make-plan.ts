import { readFile } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import {
  appliedOnce,
  createEngine,
  listTransactions,
  type Engine,
  type Plan,
  type StepKind,
} from '@cutover/rewrite'
import { CliError } from './errors.js'
import type { Opts } from './command.js'
import type { Io } from './io.js'
import { allStepKinds, namedKinds, stepKindsFor } from './kinds.js'
import { paths, parseSize, str } from './options.js'
import { counted, progressLine } from './output/progress.js'

/** An engine for `kinds`, by default every step kind (a saved plan, recovery). */
export async function engine(kinds?: readonly StepKind<any>[]): Promise<Engine> {
  return createEngine({ steps: kinds ?? (await allStepKinds()) })
}

/** Plans the spec of `opts`, with an engine for the step kinds it names. */
export async function makePlan(opts: Opts, io: Io): Promise<{ plan: Plan; engine: Engine }> {
  const specPath = resolve(io.cwd, str(opts.spec) ?? 'cutover.yaml')
  let source: string
  try {
    source = await readFile(specPath, 'utf8')
  } catch (err) {
    throw new CliError(
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
