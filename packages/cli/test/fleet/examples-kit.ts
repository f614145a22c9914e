import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { expect } from 'vitest'
import type { TestFleet } from '@cutover/test-kit/sshd'
import { cutover, snapshot, type SharedFleet } from './fleet-kit.js'

/*
 * The two examples as their README shows them for real servers: the same spec, with `machines:`
 * naming ssh destinations (the test fleet's sshd processes on loopback) instead of the local
 * directories, and each machine holding that example machine's files.
 */

export const EXAMPLES = resolve(import.meta.dirname, '../../../../examples')
export const secrets = {
  FINANCE_DB_PASSWORD: 'n3w-Pa55w0rd',
  TIMESHEETS_DB_PASSWORD: 'ts-n3w-Pa55',
}

/** The example's spec with its machines reached over ssh: `NAME: { ssh: mK, root: … }`. */
export function sshSpec(example: string, fleet: TestFleet): string {
  const source = readFileSync(join(EXAMPLES, example, 'cutover.yaml'), 'utf8')
  const block = /^machines:.*\n(?: +.*\n)+/m.exec(source)
  if (!block) throw new Error(`examples/${example}/cutover.yaml has no machines: block`)
  const names = [...block[0].matchAll(/^ {2}([a-z0-9-]+):/gm)].map((m) => m[1]!)
  const machines = names.map(
    (n, i) => `  ${n}: { ssh: ${fleet.machines[i]!.name}, root: ${fleet.machines[i]!.specRoot} }`,
  )
  return source.replace(block[0], ['machines:', ...machines, ''].join('\n'))
}

/** The example's machine names, in its spec's order. */
export function machineNames(example: string): string[] {
  const source = readFileSync(join(EXAMPLES, example, 'cutover.yaml'), 'utf8')
  const block = /^machines:.*\n(?: +.*\n)+/m.exec(source)![0]
  return [...block.matchAll(/^ {2}([a-z0-9-]+):/gm)].map((m) => m[1]!)
}

/** Each test machine's root made afresh: that example machine's files (nothing else). */
export function writeMachines(example: string, fleet: TestFleet): void {
  machineNames(example).forEach((name, i) => {
    const root = fleet.machines[i]!.root
    for (const entry of readdirSync(root))
      rmSync(join(root, entry), { recursive: true, force: true })
    cpSync(join(EXAMPLES, example, 'machines', name), root, { recursive: true })
  })
}

/** A controller directory with the example's spec over ssh, the machines written afresh. */
export function controller(kit: SharedFleet, example: string): string {
  writeMachines(example, kit.fleet)
  const ctl = mkdtempSync(join(kit.dir, `${example}-`))
  // what the spec reads beside it (a copy's local source: mentat's scripts/), not the machines
  for (const entry of readdirSync(join(EXAMPLES, example)))
    if (entry !== 'machines' && entry !== 'cutover.yaml')
      cpSync(join(EXAMPLES, example, entry), join(ctl, entry), { recursive: true })
  writeFileSync(join(ctl, 'cutover.yaml'), sshSpec(example, kit.fleet))
  return ctl
}

/** The same example applied offline, as a fleet of local directories: what each machine should become. */
export async function offline(example: string, profiles: readonly string[], dir: string) {
  const copy = join(dir, `${example}-offline`)
  rmSync(copy, { recursive: true, force: true })
  mkdirSync(copy)
  cpSync(join(EXAMPLES, example), copy, { recursive: true })
  const states: Array<Record<string, Record<string, string>>> = []
  for (const profile of profiles) {
    const r = await cutover(['apply', '--profile', profile, '--yes', '--quiet'], copy, secrets)
    expect(r.err, `offline apply --profile ${profile}`).toBe('')
    states.push(
      Object.fromEntries(
        machineNames(example).map((n) => [
          n,
          withoutStateParent(snapshot(join(copy, 'machines', n))),
        ]),
      ),
    )
  }
  return states
}

/**
 * What every machine of the fleet holds now, by the example's machine names (the state
 * directory left out, and the `var` made for it on a machine whose files have none).
 */
export function holds(example: string, fleet: TestFleet): Record<string, Record<string, string>> {
  return Object.fromEntries(
    machineNames(example).map((n, i) => [n, withoutStateParent(snapshot(fleet.machines[i]!.root))]),
  )
}

function withoutStateParent(files: Record<string, string>): Record<string, string> {
  if (!Object.keys(files).some((p) => p.startsWith('var/'))) delete files['var']
  return files
}

/**
 * What a review could hold of the private keys: the lines of their PEM bodies, and slices of the
 * files' bytes as base64 (at each of the three alignments a slice can start at) and as hex, so
 * that a key stored encoded, not only as its text, is caught too.
 */
export function keyLines(): string[] {
  const files = ['mentat-hub', 'mentat-alt'].flatMap((m) =>
    ['etc/warden_client/key.pem', 'etc/shibboleth/sp-key.pem'].map((p) =>
      readFileSync(join(EXAMPLES, 'mentat/machines', m, p)),
    ),
  )
  const slices = (s: string, n: number) =>
    Array.from({ length: Math.floor((s.length - n) / 8) + 1 }, (_, i) => s.slice(i * 8, i * 8 + n))
  return files.flatMap((bytes) => [
    ...bytes
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----')),
    ...[0, 1, 2].flatMap((shift) => slices(bytes.subarray(shift).toString('base64'), 24)),
    ...slices(bytes.toString('hex'), 32),
  ])
}
