import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { cutover } from './fleet-kit.js'
import { mentatFleet } from './whole-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

describe('cutover recover of a fleet whose copy made directories', () => {
  it('aborted after prepare: a directory the copy made that is not empty now stays, and recover warns naming the machine and the directory', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-recover-')
    const { ctl, alt } = mentatFleet(dir)
    const plan = await cutover(['plan', '--out', 'plan.json', '--quiet'], ctl)
    expect(plan.err).toBe('')
    const killed = await cutover(['apply', 'plan.json'], ctl, {
      ...process.env,
      CUTOVER_FAULT_INJECT: 'fleet:prepared',
    })
    expect(killed.signal).toBe('SIGKILL')
    // the copy made etc/mentat/sub on mentat-alt at prepare; someone puts a file in it
    writeFileSync(join(alt, 'etc/mentat/sub/mine.txt'), 'not the copy\n')

    const recovered = await cutover(['recover'], ctl)
    expect(recovered.code).toBe(0)
    expect(recovered.out).toMatch(/preparing -> aborted/)
    expect(recovered.err).toMatch(/^warning: mentat-alt: .*etc\/mentat\/sub/m)
    expect(readFileSync(join(alt, 'etc/mentat/sub/mine.txt'), 'utf8')).toBe('not the copy\n')
    expect(existsSync(join(alt, 'etc/mentat/sub/extra.json'))).toBe(false)
    expect(readFileSync(join(alt, 'etc/hostname'), 'utf8')).toBe('mentat-alt\n')
  })
})
