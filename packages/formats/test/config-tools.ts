import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { financeContext } from '../../../test/context.js'
import { corpusPath } from '../../../test/corpus.js'
import {
  applyEdits,
  decodeText,
  type Context,
  type StepKind,
  type StepResult,
} from '@cutover/rewrite'

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

/** Every file of a corpus folder, decoded as the engine decodes it. */
export function corpusFiles(folder: string): Array<{ name: string; text: string; bytes: Buffer }> {
  const dir = corpusPath(folder)
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name))
      return { name, text: decodeText(bytes).text, bytes }
    })
}

/** A planning context like the engine's (the shared one of the step kinds' tests). */
export const context = financeContext

/** Plans one text with a step and applies the edits; checks that a second plan of the result edits nothing. */
export async function planText<O>(
  step: StepKind<O>,
  text: string,
  options: O,
  ctx: Context = context(),
  path = 'x',
): Promise<StepResult & { after: string }> {
  const r = await step.plan({ path, text, encoding: 'utf8' }, options, ctx)
  const after = applyEdits(text, r.edits)
  return { ...r, after }
}

/** The lines that differ between two texts of the same line count, as [line number, before, after]. */
export function changedLines(before: string, after: string): Array<[number, string, string]> {
  const a = before.split('\n')
  const b = after.split('\n')
  if (a.length !== b.length) throw new Error(`line count changed: ${a.length} -> ${b.length}`)
  return a.flatMap((l, i) => (l === b[i] ? [] : [[i + 1, l, b[i]!] as [number, string, string]]))
}
