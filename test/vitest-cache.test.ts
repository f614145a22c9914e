import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import config, { manifestsKey } from '../vitest.config.js'
import { tempDir } from '@cutover/test-kit/temp'

const repo = resolve(import.meta.dirname, '..')
const tmp = tempDir('cutover-cache-key-')
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("the key of vitest's module cache (fsModuleCache)", () => {
  it('changes when a package.json of the workspace changes (the transforms hold resolved imports)', () => {
    for (const file of [
      'package.json',
      'packages/rewrite/package.json',
      'packages/cli/package.json',
    ])
      cpSync(join(repo, file), join(tmp, file))
    const before = manifestsKey(tmp)
    expect(manifestsKey(tmp)).toBe(before)
    const pkg = join(tmp, 'packages/rewrite/package.json')
    const manifest = JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, unknown> }
    manifest.exports['.'] = './dist/other.js'
    writeFileSync(pkg, JSON.stringify(manifest))
    expect(manifestsKey(tmp)).not.toBe(before)
  })

  it("is part of every fast project's key: the config registers it once a run", () => {
    const generators: (() => unknown)[] = []
    const plugin = (config.plugins ?? []).find(
      (p) =>
        p && typeof p === 'object' && 'name' in p && p.name === 'cutover:manifests-in-cache-key',
    ) as { configureVitest: (context: object) => void }
    const run = {
      vitest: {},
      experimental_defineCacheKeyGenerator: (g: () => unknown) => generators.push(g),
    }
    plugin.configureVitest(run)
    plugin.configureVitest(run)
    expect(generators).toHaveLength(1)
    expect(generators[0]!()).toBe(manifestsKey(repo))
  })
})
