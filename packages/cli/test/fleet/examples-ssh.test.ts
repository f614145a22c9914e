import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutover, SSH_TEST_MS, strays, useFleet, type SharedFleet } from './fleet-kit.js'
import { controller, holds, offline, secrets } from './examples-kit.js'

/**
 * Every profile of the example over real sshd: plan, apply, a second plan empty, verify; each
 * machine then holds what the same apply gives offline; rollback, newest first, restores each
 * earlier state, the first one byte for byte.
 */
async function everyProfile(kit: SharedFleet, example: string, profiles: readonly string[]) {
  const ctl = controller(kit, example)
  const env = { ...kit.env(), ...secrets }
  const before = holds(example, kit.fleet)
  const expected = await offline(example, profiles, kit.dir)
  const applied: boolean[] = []
  for (const [p, profile] of profiles.entries()) {
    const plan = await cutover(
      ['plan', '--profile', profile, '--detailed-exitcode', '--out', `${profile}.json`],
      ctl,
      env,
    )
    expect(plan.err, `plan --profile ${profile}`).toBe('')
    expect([0, 2], `plan --profile ${profile}`).toContain(plan.code)
    applied.push(plan.code === 2)
    const apply = await cutover(['apply', `${profile}.json`, '--quiet'], ctl, env)
    expect(apply.err, `apply --profile ${profile}`).toBe('')
    expect(apply.code, `apply --profile ${profile}`).toBe(0)
    // every machine, over ssh, holds what the offline fleet holds (state directories aside)
    expect(holds(example, kit.fleet), `after ${profile}`).toEqual(expected[p])
    const again = await cutover(['plan', '--profile', profile, '--detailed-exitcode'], ctl, env)
    expect(again.err).toBe('')
    expect(again.out, `plan --profile ${profile} after apply`).toMatch(
      /^No (file )?changes for profile /,
    )
    expect(again.code).toBe(0)
    const verify = await cutover(['verify', '--profile', profile], ctl, env)
    expect(verify.err).toBe('')
    expect(verify.out).toBe(`Verified: no changes for profile ${profile}.\n`)
    expect(verify.code).toBe(0)
  }
  expect(holds(example, kit.fleet)).not.toEqual(before)
  for (let p = profiles.length - 1; p >= 0; p--) {
    if (!applied[p]) continue
    const rolled = await cutover(['rollback', '--yes'], ctl, env)
    expect(rolled.err, `rollback of ${profiles[p]}`).toBe('')
    expect(rolled.code).toBe(0)
    const earlier = profiles.slice(0, p).findLastIndex((_, q) => applied[q])
    expect(holds(example, kit.fleet)).toEqual(earlier >= 0 ? expected[earlier] : before)
  }
  expect(holds(example, kit.fleet)).toEqual(before)
  for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
  return applied
}

describe('examples/finance over real sshd: five machines', () => {
  const kit = useFleet(5, 'cutover-example-finance-')

  it(
    'plans, applies, verifies and rolls back every profile on every VM',
    async () => {
      expect(await everyProfile(kit, 'finance', ['pre', 'test', 'live'])).toEqual([
        true,
        true,
        true,
      ])
      // the VMs' own files: each one's config.php by name, finance's dump with the new dblink password
      const read = (i: number, p: string) =>
        readFileSync(join(kit.fleet.machines[i]!.root, p), 'utf8')
      expect(read(0, 'backup/finance-schema.sql')).toContain('password=Tr1al-2019')
      expect(read(3, 'var/www/tenders/config.php')).toContain("define('DB_HOST', '10.0.10.63');")
    },
    // five machines, three profiles, each planned, applied, planned again and verified, then rolled back
    3 * SSH_TEST_MS,
  )
})

describe('examples/mentat over real sshd: two machines', () => {
  const kit = useFleet(2, 'cutover-example-mentat-')

  it(
    'plans, applies, verifies and rolls back every profile on both servers',
    async () => {
      expect(await everyProfile(kit, 'mentat', ['test', 'live'])).toEqual([true, true])
    },
    2 * SSH_TEST_MS,
  )
})
