// The commands a `command` check must tell apart, and what it gives for each (on this machine and
// over ssh: check-machine.test.ts, ssh-checks.test.ts).
import { readdirSync, readFileSync } from 'node:fs'
import type { CommandCheck } from '@cutover/rewrite'
import { checkMachine } from '../src/check-machine.js'
import type { Machine } from '../src/machine.js'

/** The `command` rows of `commands` checked on `machine`: what each got, and whether it passed. */
export async function commandRows(
  machine: Machine,
  commands: ReadonlyArray<Omit<CommandCheck, 'kind'>>,
): Promise<Array<[string, string, boolean]>> {
  const rows = await checkMachine(machine, {
    names: [],
    tcp: [],
    commands: commands.map((c) => ({ kind: 'command', ...c })),
    resolveIn: () => [],
  })
  return rows.map((r) => [r.check, r.got, r.ok])
}

/**
 * The commands whose ends a `command` check must tell apart: one that outlives its limit obeying
 * TERM, one that ignores TERM (killed a second later), one that dies of SIGKILL by itself before
 * its limit, one that dies of TERM by itself, one that sends TERM to its process group, one that
 * exits 124 (`timeout`'s code for its limit) and one that exits. The one that ignores TERM is
 * `sleep 5.01`, which {@link left} looks for.
 */
export const ENDS = [
  { command: 'sleep 5', exitStatus: 0, timeout: 300 },
  { command: "trap '' TERM; sleep 5.01", exitStatus: 0, timeout: 300 },
  { command: 'kill -KILL $$', exitStatus: 0, timeout: 5000 },
  { command: 'kill -TERM $$', exitStatus: 0, timeout: 5000 },
  { command: 'kill 0', exitStatus: 0, timeout: 5000 },
  { command: 'exit 124', exitStatus: 124, timeout: 5000 },
  { command: 'exit 3', exitStatus: 3, timeout: 5000 },
] as const

/** What {@link ENDS} give. */
export const ENDS_GOT: Array<[string, string, boolean]> = [
  ['command sleep 5', 'did not finish within 0.3 s: stopped', false],
  ["command trap '' TERM; sleep 5.01", 'did not finish within 0.3 s: stopped', false],
  ['command kill -KILL $$', 'exit 137', false],
  ['command kill -TERM $$', 'exit 143', false],
  ['command kill 0', 'exit 143', false],
  // timeout's own code for the limit, but the command's exit here
  ['command exit 124', 'exit 124', true],
  ['command exit 3', 'exit 3', true],
]

/**
 * The processes on this machine whose command line is `sleep 5.01` once those being killed have
 * gone (at most 5 s).
 */
export async function left(): Promise<string[]> {
  const find = () =>
    readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'latin1') === 'sleep\x005.01\x00'
        } catch {
          return false
        }
      })
  for (let i = 0; i < 50 && find().length; i++) await new Promise((r) => setTimeout(r, 100))
  return find()
}
