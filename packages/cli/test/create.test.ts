import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree } from './tree.js'

const SPEC = `version: 1
steps:
  - sudoers:
      files: [etc/sudoers.d/finance]
      create: { mode: "0440" }
      aliases: { FINANCESCRIPT: ["/home/finance/synchCommand.sh"] }
      rules: ["www-data ALL=(finance) NOPASSWD: FINANCESCRIPT"]
`

describe('create: { mode } makes a file that does not exist yet', () => {
  it('plans it from empty, installs it with the mode of the spec, and then plans nothing', async () => {
    const dir = makeTree({
      'cutover.yaml': SPEC,
      'etc/sudoers.d/README': '# sudo reads this directory\n',
    })
    const plan = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.', '--json'], plan)).toBe(0)
    expect(JSON.parse(plan.out()).changes).toMatchObject([
      {
        target: 'etc/sudoers.d/finance',
        before: 'absent',
        mode: '0440',
        diff: expect.stringContaining('@@ -0,0 +1,2 @@'),
      },
    ])
    expect(plan.err()).toBe('')
    expect(existsSync(join(dir, 'etc/sudoers.d/finance'))).toBe(false)
    expect(await run(['apply', '--root', '.', '--yes', '--quiet'], memoryIo({ cwd: dir }))).toBe(0)
    const path = join(dir, 'etc/sudoers.d/finance')
    expect(statSync(path).mode & 0o777).toBe(0o440)
    expect(readFileSync(path, 'utf8')).toBe(
      'Cmnd_Alias FINANCESCRIPT = /home/finance/synchCommand.sh\nwww-data ALL=(finance) NOPASSWD: FINANCESCRIPT\n',
    )
    expect(execFileSync('visudo', ['-cf', path], { encoding: 'utf8' })).toContain('parsed OK')
    expect(await run(['plan', '--root', '.', '--detailed-exitcode'], memoryIo({ cwd: dir }))).toBe(
      0,
    )
  })

  it('refuses a saved plan when the file appeared since, and writes nothing', async () => {
    const dir = makeTree({ 'cutover.yaml': SPEC, 'etc/sudoers.d/README': '' })
    expect(
      await run(['plan', '--root', '.', '--out', 'plan.json', '--quiet'], memoryIo({ cwd: dir })),
    ).toBe(0)
    writeFileSync(join(dir, 'etc/sudoers.d/finance'), '# made by hand\n')
    const io = memoryIo({ cwd: dir })
    expect(await run(['apply', 'plan.json'], io)).toBe(1)
    expect(io.err()).toMatch(
      /etc\/sudoers.d\/finance: changed since the plan \(planned absent, now sha256:/,
    )
    expect(readFileSync(join(dir, 'etc/sudoers.d/finance'), 'utf8')).toBe('# made by hand\n')
  })
})
