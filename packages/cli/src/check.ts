import type * as Fleet from '@cutover/fleet'
import { lookupHost, parseHosts } from '@cutover/hosts'
import type { Spec, SpecCheck } from '@cutover/rewrite'
import type { Opts } from './command.js'
import { EXIT } from './exit.js'
import { withOpener } from './fleet.js'
import type { Io } from './io.js'
import { loadSpec } from './make-plan.js'
import { fleetMachines, noMachines, paths, str } from './options.js'
import { visible } from './output/errors.js'

/**
 * Runs `cutover check` for the spec of `opts` (also after `apply --check`): on every machine (of
 * `--machine`), over its connection, each `hosts:` name resolved there must give its new
 * address, and each `checks:` entry `on` it (of the profile) must pass. Prints a table, or the
 * rows as JSON with `--json`; resolves to exit 1 when any check failed or a machine could not be
 * reached, else 0. A spec without machines is checked on this machine, with `--root`.
 */
export async function runChecks(opts: Opts, io: Io): Promise<number> {
  // a check reads no secret: a spec whose secrets are not set can still be checked
  const { spec } = await loadSpec(opts, io, { secrets: false })
  const fleet = await import('@cutover/fleet')
  const profile = str(opts.profile)
  const inProfile = (c: SpecCheck) =>
    !c.profiles || (profile !== undefined && c.profiles.includes(profile))
  const skipped = (spec.checks ?? []).filter((c) => !inProfile(c)).length
  const machines: Fleet.MachineSpec[] = spec.machines
    ? fleetMachines(spec.machines, opts, spec.path)
    : (noMachines(opts, spec.path), [{ name: 'local', root: paths(opts, io).root }])
  const rows = await withOpener(opts, io, (open) =>
    Promise.all(machines.map((m) => checkOne(fleet, spec, m, open, inProfile))),
  )
  const all = rows.flat()
  const failed = all.filter((r) => !r.ok)
  if (opts.json)
    io.stdout.write(JSON.stringify({ ok: failed.length === 0, checks: all }, null, 2) + '\n')
  else if (!opts.quiet || failed.length) io.stdout.write(table(opts.quiet ? failed : all))
  if (!opts.quiet && !opts.json) {
    if (!failed.length)
      io.stdout.write(`All ${all.length} check(s) passed on ${machines.length} machine(s).\n`)
    if (skipped)
      io.stdout.write(
        `${skipped} check(s) of other profiles not run${profile === undefined ? ' (no --profile)' : ''}.\n`,
      )
  }
  if (failed.length) {
    io.stderr.write(
      `cutover: check failed: ${failed.length} of ${all.length} check(s) on ${new Set(failed.map((r) => r.machine)).size} machine(s): ${failed.map((r) => `${r.machine}: ${r.check}`).join('; ')}\n`,
    )
    return EXIT.error
  }
  return EXIT.ok
}

async function checkOne(
  fleet: typeof Fleet,
  spec: Spec,
  m: Fleet.MachineSpec,
  open: (spec: Fleet.MachineSpec) => Promise<Fleet.Machine>,
  inProfile: (c: SpecCheck) => boolean,
): Promise<Fleet.CheckRow[]> {
  const mine = (spec.checks ?? []).filter((c) => inProfile(c) && (!c.on || c.on.includes(m.name)))
  let machine: Fleet.Machine
  try {
    machine = await open(m)
  } catch (e) {
    // an unreachable machine is a failed row, and the others are still checked
    return [
      {
        machine: m.name,
        check: 'connect',
        expected: m.ssh !== undefined ? `reachable over ssh (${m.ssh})` : `a directory (${m.root})`,
        got: visible((e as Error).message),
        ok: false,
      },
    ]
  }
  try {
    return await fleet.checkMachine(machine, {
      names: spec.hosts.map((h) => ({ name: h.name, address: h.new })),
      tcp: mine.filter((c) => c.kind === 'addr'),
      commands: mine.filter((c) => c.kind === 'command'),
      resolveIn: (text, name) => lookupHost(parseHosts(text), name, 'ipv4').map((h) => h.address),
    })
  } catch (e) {
    // the connection lost, or a check that outran the tool timeout: this machine failed
    return [
      {
        machine: m.name,
        check: 'checks',
        expected: 'every check run',
        got: visible((e as Error).message),
        ok: false,
      },
    ]
  } finally {
    await machine.close()
  }
}

/** The rows as a table: machine, check, expected, got, ok. */
function table(rows: readonly Fleet.CheckRow[]): string {
  const head = ['MACHINE', 'CHECK', 'EXPECTED', 'GOT', 'OK']
  const cells = rows.map((r) => [r.machine, r.check, r.expected, r.got, r.ok ? 'ok' : 'FAIL'])
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd() + '\n'
  return [head, ...cells].map((c) => visible(line(c).slice(0, -1)) + '\n').join('')
}
