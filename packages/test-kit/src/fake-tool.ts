import { execFileSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { tempDir } from './temp.js'

/** Stand-ins for the tools cutover spawns, for tests of their timeout and environment. */
export interface FakeTools {
  /** Puts a new directory first on PATH with `name` as the shell script `body`; returns it. */
  fakeTool(name: string, body: string): string
  /** Where the real `tool` is on the PATH the test file started with. */
  realTool(tool: string): string
}

/**
 * Snapshots the environment and restores it after each test (variables a test set go, the ones
 * it changed come back), so that a fake tool or a secret set in one test never reaches the next.
 */
export function fakeTools(): FakeTools {
  const saved = { ...process.env }
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  })
  return {
    fakeTool(name, body) {
      const bin = tempDir(`cutover-fake-${name}-`)
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`)
      chmodSync(join(bin, name), 0o755)
      process.env.PATH = `${bin}:${saved.PATH}`
      return bin
    },
    realTool: (tool) =>
      execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8', env: saved }).trim(),
  }
}
