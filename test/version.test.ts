import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const repo = resolve(import.meta.dirname, '..')
const bin = join(repo, 'packages/cli/dist/bin.js')

describe('cutover --version', () => {
  it('prints the version of @cutover/cli, and nothing else', () => {
    const { version } = JSON.parse(
      readFileSync(join(repo, 'packages/cli/package.json'), 'utf8'),
    ) as { version: string }
    expect(version).toMatch(/^\d+\.\d+\.\d+/)
    for (const flag of ['--version', '-V']) {
      const r = spawnSync(process.execPath, [bin, flag], { encoding: 'utf8' })
      expect([r.status, r.stdout, r.stderr]).toEqual([0, `${version}\n`, ''])
    }
  })
})
