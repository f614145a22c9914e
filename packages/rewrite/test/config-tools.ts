import { execFileSync } from 'node:child_process'

const cache = new Map<string, boolean>()

/** Whether an external tool runs here; under CI=true a missing tool fails the test instead of skipping it. */
export function need(tool: string): boolean {
  let ok = cache.get(tool)
  if (ok === undefined) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' })
      ok = true
    } catch {
      ok = false
    }
    cache.set(tool, ok)
  }
  if (!ok && process.env.CI === 'true') throw new Error(`${tool} is missing: CI must install it`)
  return ok
}
