import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { visudoValidator } from '../src/index.js'
import { fakeTools, need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

const { fakeTool } = fakeTools()
/** A directory put first on PATH with a `visudo` shell script. */
const fakeVisudo = (body: string): string => fakeTool('visudo', body)

function staged(): string {
  const p = join(tempDir('sudoers-env-'), '.finance.tmp')
  writeFileSync(p, 'Cmnd_Alias X = /bin/ls\nroot ALL = X\n')
  return p
}

describe('visudo: timeout and environment', () => {
  it('a visudo that never answers fails validation with a timeout naming the target', async () => {
    fakeVisudo('exec sleep 1000')
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '300'
    expect(await visudoValidator.run(staged(), 'etc/sudoers.d/finance')).toMatch(
      /^sudoers: visudo -cf did not answer within 0\.3 s for etc\/sudoers\.d\/finance/,
    )
  })

  it('visudo gets PATH and the C locale, not the secrets of the environment', async () => {
    if (!need('visudo')) return
    const real = execFileSync('sh', ['-c', 'command -v visudo || echo /usr/sbin/visudo'], {
      encoding: 'utf8',
    }).trim()
    const bin = fakeVisudo(`env > "$(dirname "$0")/env"\nexec '${real}' "$@"`)
    process.env.MOODLE_DB_PASSWORD = 'S3cret-moodle-pw'
    expect(await visudoValidator.run(staged(), 'etc/sudoers.d/finance')).toBeUndefined()
    const env = readFileSync(join(bin, 'env'), 'utf8')
    expect(env).toContain('LC_ALL=C\n')
    expect(env).not.toContain('S3cret-moodle-pw')
    expect(env).not.toContain('MOODLE_DB_PASSWORD')
  })
})
