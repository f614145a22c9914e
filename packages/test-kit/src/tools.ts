import { accessSync, constants } from 'node:fs'
import { join } from 'node:path'

const found = new Map<string, boolean>()

/** Whether an executable named `tool` is on PATH (the test setup adds the sbin folders to it). */
export function hasTool(tool: string): boolean {
  let ok = found.get(tool)
  if (ok === undefined) {
    ok = (process.env.PATH ?? '')
      .split(':')
      .filter(Boolean)
      .some((dir) => {
        try {
          accessSync(join(dir, tool), constants.X_OK)
          return true
        } catch {
          return false
        }
      })
    found.set(tool, ok)
  }
  return ok
}

/**
 * True when `tool` is here, so that a test needing it runs; false when it is not, so that the
 * test skips. Under CI=true a missing tool is an error, never a skip: CI must install it.
 */
export function need(tool: string): boolean {
  if (hasTool(tool)) return true
  if (process.env.CI === 'true') throw new Error(`${tool} is missing: CI must install it`)
  return false
}
