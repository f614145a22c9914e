import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { visudoValidator } from '../src/index.js'
import { need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

describe('visudo validator', () => {
  it('rejects what sudo rejects and names the target, not the staged file', async () => {
    if (!need('visudo')) return
    expect(await visudoValidator.available!()).toBe(true)
    const dir = tempDir('sudoers-visudo-')
    const staged = join(dir, '.finance.tmp')
    writeFileSync(staged, 'Cmnd_Alias X = sha224:abc /bin/ls\n')
    const msg = await visudoValidator.run(staged, 'etc/sudoers.d/finance')
    expect(msg).toMatch(/^sudoers: visudo -cf rejects etc\/sudoers\.d\/finance/)
    expect(msg).toMatch(/etc\/sudoers\.d\/finance:1:/)
    expect(msg).not.toContain(staged)
    writeFileSync(staged, 'Cmnd_Alias X = /bin/ls\nroot ALL = X\n')
    expect(await visudoValidator.run(staged, 'etc/sudoers.d/finance')).toBeUndefined()
  })
})
