import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { phpLint } from '../src/index.js'
import { fakeTools, need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// Every tool cutover spawns (here: php and the batch linter) gets a timeout and an
// environment holding only PATH and the C locale: the spec's secrets come from the caller's
// environment and must not reach a child process.

const SECRET = 'S3cret-moodle-pw'
const { fakeTool, realTool: real } = fakeTools()

function stage(text: string): { stagedPath: string; target: string } {
  const dir = tempDir('cutover-toolenv-')
  const stagedPath = join(dir, '.config.php.cutover-tmp')
  writeFileSync(stagedPath, text)
  return { stagedPath, target: 'var/www/config.php' }
}

describe('spawned tools', () => {
  it('a php that never answers fails the lint with a timeout, batch and single, instead of hanging', async () => {
    fakeTool('php', 'exec sleep 1000')
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '300'
    expect(await phpLint.available!()).toBe(true)
    const items = [stage("<?php $a = 'x';\n"), stage("<?php $b = 'y';\n")]
    const batch = await phpLint.runBatch!(items)
    expect(batch).toEqual([
      expect.stringMatching(/^php -l: php did not answer within 0\.3 s/),
      expect.stringMatching(/did not answer/),
    ])
    expect(await phpLint.run(items[0]!.stagedPath, items[0]!.target)).toMatch(
      /^php -l: php did not answer within 0\.3 s and was stopped/,
    )
  })

  it("php (batch and single) gets PATH and the C locale, none of the caller's variables", async () => {
    if (!need('php')) return
    const php = real('php')
    const bin = fakeTool('php', `env >> "$(dirname "$0")/env"\nexec '${php}' "$@"`)
    process.env.MOODLE_DB_PASSWORD = SECRET
    process.env.PHPRC = '/nonexistent'
    const items = [stage("<?php $a = 'x';\n"), stage('<?php $a = ;\n')]
    const batch = await phpLint.runBatch!(items)
    expect(batch[0]).toBeUndefined()
    expect(batch[1]).toMatch(/^php -l: .*Parse error/)
    expect(await phpLint.run(items[1]!.stagedPath, items[1]!.target)).toMatch(/Parse error/)
    const env = readFileSync(join(bin, 'env'), 'utf8')
    expect(env).toContain('LC_ALL=C\n')
    expect(env).not.toContain(SECRET)
    expect(env).not.toContain('PHPRC')
    const names = new Set(
      env
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=')[0]),
    )
    // sh adds PWD (and maybe SHLVL, _); nothing else of ours
    expect(
      [...names].filter((n) => !['PATH', 'LANG', 'LC_ALL', 'PWD', 'SHLVL', '_'].includes(n!)),
    ).toEqual([])
  })
})
