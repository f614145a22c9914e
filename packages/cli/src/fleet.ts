import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, resolve } from 'node:path'
import { parse } from 'yaml'
import * as fleet from '@cutover/fleet'
import type { FleetRecoverReport, FleetResult, Machine, MachineSpec } from '@cutover/fleet'
import { faultsFromEnv, type Engine, type FleetPlanDocument } from '@cutover/rewrite'
import type { Opts } from './command.js'
import { CliError } from './errors.js'
import { EXIT } from './exit.js'
import { engine } from './make-plan.js'
import type { Io } from './io.js'
import { controllerStateDir, machineNames, sshConfig, str } from './options.js'
import { specInventory } from './inventory.js'
import { cleanupOnSignal } from './on-signal.js'
import { visible } from './output/errors.js'

/*
 * The commands' side of a fleet (a spec with `machines:`): the controller state directory, how
 * machines are opened, and what apply, recover, rollback and state print.
 */

/** The spec path of `opts` (default `./cutover.yaml`), absolute. */
function specPath(opts: Opts, io: Io): string {
  return resolve(io.cwd, str(opts.spec) ?? 'cutover.yaml')
}

/**
 * The controller state directory: `--state-dir`, or `.cutover/` beside the spec (its fleet
 * journals and its lock).
 */
export function controlDir(opts: Opts, io: Io): string {
  return controllerStateDir(opts, io, specPath(opts, io))
}

/**
 * Whether a command without a plan works on a fleet: its spec (`--spec`, or `./cutover.yaml`
 * when there is one) declares `machines:`. `--root` says the command is for one root: with a
 * fleet spec given explicitly that is refused, saying why.
 */
export function isFleetCommand(opts: Opts, io: Io): boolean {
  const path = specPath(opts, io)
  let source: string
  try {
    source = readFileSync(path, 'utf8')
  } catch (e) {
    if (str(opts.spec) === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new CliError('SPEC_MISSING', `cannot read the spec ${path}: ${(e as Error).message}`)
  }
  let machines: unknown
  try {
    machines = (parse(source) as { machines?: unknown } | null)?.machines
  } catch {
    // an unreadable spec is for the commands that plan to report, at its line:col
    return false
  }
  // --inventory gives the machines of a spec without them
  if ((machines === undefined || machines === null) && str(opts.inventory) === undefined)
    return false
  if (str(opts.root) !== undefined) {
    // a machine by itself (`cutover recover --root /` run there) ignores a spec it was not given
    if (str(opts.spec) === undefined) return false
    throw new CliError(
      'USAGE',
      `--root is for a spec without machines; ${path} declares machines, each with its own root (use --machine NAME to limit the command to some)`,
    )
  }
  return true
}

/**
 * Runs `fn` with the way this command opens a machine (the fleet's `openMachine`): a
 * local-directory machine as it is, one over ssh with the user's ssh config (`--ssh-config`,
 * `CUTOVER_SSH_CONFIG`) and its control socket in a private directory that goes with the command:
 * one directory for all its machines (made once, though they open at once), removed when `fn`
 * ends, or, ended by a signal, before the process (its masters told to exit).
 */
export async function withOpener<T>(
  opts: Opts,
  io: Io,
  fn: (open: (spec: MachineSpec) => Promise<Machine>) => Promise<T>,
): Promise<T> {
  const config = sshConfig(opts, io)
  let sockets: Promise<string> | undefined
  let made: string | undefined
  const off = cleanupOnSignal(() => {
    if (made) fleet.removeSocketDirSync(made)
  })
  try {
    return await fn(async (spec) => {
      if (spec.ssh !== undefined)
        sockets ??= fleet.socketDir(controlDir(opts, io)).then((d) => (made = d))
      return fleet.openMachine(spec, {
        ...(config !== undefined ? { sshConfig: config } : {}),
        // a local-directory machine has no control socket
        controlDir: sockets ? await sockets : tmpdir(),
        env: io.env as NodeJS.ProcessEnv,
      })
    })
  } finally {
    off()
    await sockets?.catch(() => undefined)
    if (made) await rm(made, { recursive: true, force: true })
  }
}

/** Applies a fleet plan document: two phases across its machines. */
export async function applyFleetPlan(
  doc: FleetPlanDocument,
  e: Engine,
  opts: Opts,
  io: Io,
): Promise<number> {
  const ctl = controlDir(opts, io)
  const only = machineNames(opts)
  const result = await withOpener(opts, io, (open) =>
    fleet.applyFleet(doc, {
      controlDir: ctl,
      open,
      env: io.env,
      fault: faultsFromEnv(io.env),
      validator: (n) => e.validator(n),
      encoder: (n) => e.encoder(n),
      database: (k) => e.database(k),
      ...(only ? { only } : {}),
    }),
  )
  printRecovered(result.recovered, io)
  return printResult(result, 'Applied', ctl, opts, io)
}

/** What a fleet apply or rollback did; exit 1 when a machine is in doubt. */
function printResult(result: FleetResult, verb: string, ctl: string, opts: Opts, io: Io): number {
  for (const m of result.machines)
    for (const w of m.warnings) io.stderr.write(`warning: ${m.name}: ${visible(w)}\n`)
  const files = result.machines.reduce((n, m) => n + m.written.length, 0)
  if (!result.txid) {
    if (!opts.quiet) io.stdout.write('Nothing to apply: the plan is empty.\n')
    return EXIT.ok
  }
  if (!opts.quiet) {
    io.stdout.write(
      `${verb} ${files} file(s) on ${result.machines.length} machine(s) in fleet transaction ${result.txid} (journal in ${ctl}).\n`,
    )
    for (const m of result.machines)
      io.stdout.write(`  ${m.name}: ${m.written.length} file(s), transaction ${m.txid}\n`)
  }
  if (!result.inDoubt.length) return EXIT.ok
  io.stderr.write(
    `cutover: fleet transaction ${result.txid} is committed, but ${result.inDoubt.length} machine(s) did not confirm it and are IN DOUBT:\n${result.inDoubt.map((d) => `  ${d.name}: ${visible(d.reason)}`).join('\n')}\ncutover: run \`cutover recover\` with this spec once they can be reached: it finishes them\n`,
  )
  return EXIT.error
}

function printRecovered(report: FleetRecoverReport, io: Io): void {
  for (const t of report.transactions)
    io.stderr.write(
      `cutover: recovered interrupted fleet transaction ${t.txid}: ${t.was} -> ${t.now}\n`,
    )
}

/** `cutover recover` of a fleet: finishes or aborts every unfinished fleet transaction on every machine. */
export async function recoverFleetCmd(opts: Opts, io: Io): Promise<number> {
  const ctl = controlDir(opts, io)
  const e = await engine()
  const report = await withOpener(opts, io, (open) =>
    fleet.recoverFleet({
      database: (k) => e.database(k),
      controlDir: ctl,
      open,
      env: io.env,
      fault: faultsFromEnv(io.env),
    }),
  )
  if (report.transactions.length === 0) io.stdout.write('Nothing to recover.\n')
  let failed = false
  for (const t of report.transactions) {
    io.stdout.write(`Fleet transaction ${t.txid}: ${t.was} -> ${t.now}\n`)
    for (const m of t.machines) {
      if (m.error) {
        failed = true
        io.stdout.write(`  ${m.name}: not reached: ${visible(m.error)}\n`)
      } else {
        const txs = m.recovered ?? []
        io.stdout.write(
          `  ${m.name}: ${txs.length ? txs.map((x) => `${x.txid} ${x.was} -> ${x.now} (${x.targets.length} file(s))`).join(', ') : 'nothing left to do'}\n`,
        )
        for (const w of m.warnings ?? []) io.stderr.write(`warning: ${m.name}: ${visible(w)}\n`)
      }
    }
  }
  if (failed) {
    io.stderr.write(
      'cutover: some machines could not be reached: run cutover recover again once they can\n',
    )
    return EXIT.error
  }
  return EXIT.ok
}

/** `cutover rollback` of a fleet: the last committed fleet apply restored on every machine, as a new fleet transaction. */
export async function rollbackFleetCmd(opts: Opts, io: Io): Promise<number> {
  const ctl = controlDir(opts, io)
  const e = await engine()
  const result = await withOpener(opts, io, (open) =>
    fleet.rollbackFleet({
      database: (k) => e.database(k),
      controlDir: ctl,
      open,
      env: io.env,
      fault: faultsFromEnv(io.env),
      ...(opts.force ? { force: true } : {}),
      confirm: async (txid, files) => {
        if (opts.yes) return true
        if (!io.stdinIsTTY || !io.confirm)
          throw new CliError('CONFIRM', 'not rolled back: without a terminal, pass --yes')
        io.stdout.write(
          `Fleet transaction ${txid} changed:\n${files.map((f) => `  ${f.machine}:${f.target}`).join('\n')}\n`,
        )
        return io.confirm(`Restore these ${files.length} file(s)? [y/N] `)
      },
    }),
  )
  printRecovered(result.recovered, io)
  if (result.cancelled) {
    io.stderr.write('cutover: not rolled back\n')
    return EXIT.error
  }
  return printResult(result, `Rolled back ${result.restored}:`, ctl, opts, io)
}

/** `cutover state` of a fleet: its fleet transactions, or (`--machine NAME`) that machine's own. */
export async function stateFleetCmd(opts: Opts, io: Io): Promise<number> {
  const ctl = controlDir(opts, io)
  const names = machineNames(opts)
  if (!names?.length) {
    const list = await fleet.listFleet(ctl)
    if (list.length === 0) io.stdout.write(`No fleet transactions in ${ctl}.\n`)
    for (const j of list) {
      const pending = j.pending?.length ? ` (pending: ${j.pending.join(', ')})` : ''
      const extra = j.restores ? ` (restores ${j.restores})` : ''
      io.stdout.write(
        `${j.txid}  ${j.kind.padEnd(8)} ${j.state.padEnd(11)} ${j.created}  ${j.machines.map((m) => m.name).join(', ')}${pending}${extra}\n`,
      )
    }
    return EXIT.ok
  }
  const path = specPath(opts, io)
  const text = readFileSync(path, 'utf8')
  const inventory = await specInventory(opts, io, path, text)
  const source = parse(text) as {
    machines: Record<string, { ssh?: string; port?: number; root?: string }>
  }
  for (const name of names) {
    const m = inventory
      ? inventory.machines.find((x) => x.name === name)
      : Object.hasOwn(source.machines ?? {}, name)
        ? source.machines[name]
        : undefined
    if (!m)
      throw new CliError(
        'USAGE',
        `--machine ${name}: ${inventory ? `the Ansible inventory ${inventory.file} has no such host` : 'the spec declares no such machine'}`,
      )
    const spec = {
      name,
      // a local directory's relative root is relative to the spec's directory, as when planning
      root: m.ssh === undefined ? resolve(dirname(path), m.root ?? '/') : (m.root ?? '/'),
      ...(m.ssh !== undefined ? { ssh: m.ssh } : {}),
      ...(m.port !== undefined ? { port: m.port } : {}),
    }
    await withOpener(opts, io, async (open) => {
      const machine = await open(spec)
      try {
        const txs = await fleet.listMachine(machine)
        if (txs.length === 0) io.stdout.write(`${name}: no transactions.\n`)
        for (const t of txs)
          io.stdout.write(
            `${name}: ${t.txid}  ${t.kind.padEnd(8)} ${t.state.padEnd(11)} ${t.created}  ${t.targets.length} file(s), backups ${t.backupBytes} bytes\n`,
          )
      } finally {
        await machine.close()
      }
    })
  }
  return EXIT.ok
}
