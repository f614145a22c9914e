import { chmodSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool, type Validator } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { sudoersStep, visudoValidator } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

// The `tool` form of a validator is the command a machine runs on a file staged there; its
// verdict on that command's output must be what `run` says here.
function staged(text: string, mode = 0o440): string {
  const p = join(tempDir('sudoers-tool-'), '.finance.tmp')
  writeFileSync(p, text)
  chmodSync(p, mode)
  return p
}

async function viaTool(v: Validator, stagedPath: string, target: string) {
  const [cmd, ...args] = v.tool!.argv(stagedPath)
  return v.tool!.verdict(await runTool(cmd!, args), target, stagedPath)
}

const target = 'etc/sudoers.d/finance'

describe('validators as tools', () => {
  it.runIf(need('visudo'))('visudo -cf: the same verdict as run, naming the target', async () => {
    expect(visudoValidator.tool!.argv('/x/.f.tmp')).toEqual(['visudo', '-cf', '/x/.f.tmp'])
    const bad = staged('Cmnd_Alias X = /bin/ls\nroot ALL = (\n')
    const problem = await visudoValidator.run(bad, target)
    expect(problem).toMatch(/^sudoers: visudo -cf rejects etc\/sudoers\.d\/finance:\n/)
    expect(problem).not.toContain(bad)
    expect(await viaTool(visudoValidator, bad, target)).toBe(problem)
    const good = staged('Cmnd_Alias X = /bin/ls\nroot ALL = X\n')
    expect(await visudoValidator.run(good, target)).toBeUndefined()
    expect(await viaTool(visudoValidator, good, target)).toBeUndefined()
  })

  it("sudoers-access: the staged file's mode and owner, read by stat on the machine", async () => {
    const access = sudoersStep.validators!.find((v) => v.name === 'sudoers-access')!
    const writable = staged('root ALL = ALL\n', 0o664)
    const problem = await access.run(writable, target)
    expect(problem).toMatch(/would be installed with mode 0664/)
    expect(await viaTool(access, writable, target)).toBe(problem)
    const fine = staged('root ALL = ALL\n', 0o440)
    expect(await access.run(fine, target)).toBeUndefined()
    expect(await viaTool(access, fine, target)).toBeUndefined()
    expect(await viaTool(access, join(tmpdir(), 'no-such-staged-file'), target)).toMatch(
      /^etc\/sudoers\.d\/finance: the staged file's mode and owner cannot be read: /,
    )
  })
})
