import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dist = join(import.meta.dirname, '../dist/index.js')

/**
 * Runs `code` in a node process, written as `run.mjs` in `dir`, with `tx` the built package and
 * `env` added to the environment: `exited`, the signal that ended it, or `failed`.
 */
export function runBuilt(dir: string, code: string, env: Record<string, string>): string {
  const script = join(dir, 'run.mjs')
  writeFileSync(script, `import * as tx from ${JSON.stringify(dist)}\n${code}\n`)
  try {
    execFileSync(process.execPath, [script], { env: { ...process.env, ...env }, stdio: 'pipe' })
    return 'exited'
  } catch (e) {
    return (e as { signal?: string }).signal ?? 'failed'
  }
}
