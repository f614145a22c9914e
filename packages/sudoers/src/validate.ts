import { access, constants, readFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import {
  decodeText,
  LineIndex,
  runTool,
  toolTimeoutMs,
  type Diagnostic,
  type ToolRun,
  type Validator,
} from '@cutover/rewrite'
import { checkSudoers } from './check.js'
import { parseSudoers } from './parse.js'

const found = new Map<string, Promise<string | undefined>>()

/** Where `visudo` is, looked up once per PATH. */
function findVisudo(): Promise<string | undefined> {
  const path = process.env.PATH ?? ''
  let f = found.get(path)
  if (!f) found.set(path, (f = lookVisudo()))
  return f
}

async function lookVisudo(): Promise<string | undefined> {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/sbin',
    '/usr/local/sbin',
  ].filter(Boolean)
  for (const d of dirs) {
    const p = join(d, 'visudo')
    if (
      await access(p, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p
  }
  return undefined
}

/** `visudo -cf STAGED`'s verdict: the message names the target (not the staged file) and the line sudo reports. */
function visudoVerdict(run: ToolRun, target: string, stagedPath: string): string | undefined {
  if (run.timedOut)
    return `sudoers: visudo -cf did not answer within ${toolTimeoutMs() / 1000} s for ${target} and was stopped (CUTOVER_TOOL_TIMEOUT_MS sets the limit)`
  if (run.code === 0) return undefined
  const text = `${run.stdout}${run.stderr}`.split(stagedPath).join(target).trim()
  return `sudoers: visudo -cf rejects ${target}:\n${text}`
}

/**
 * `visudo -cf STAGED`: sudo's own parser on the staged file. Its message names the target
 * (not the temp file) and the line sudo reports. As a `tool`, the same check runs on the machine
 * a file is staged on.
 */
export const visudoValidator: Validator = {
  name: 'visudo',
  available: async () => (await findVisudo()) !== undefined,
  async run(stagedPath, target) {
    const visudo = await findVisudo()
    if (!visudo) return `sudoers: visudo is not installed, ${target} cannot be checked`
    // a hung visudo must not hold the apply (and its lock) for ever; it gets no secret of ours
    const run = await runTool(visudo, ['-cf', stagedPath])
    return visudoVerdict(run, target, stagedPath)
  },
  tool: { argv: (stagedPath) => ['visudo', '-cf', stagedPath], verdict: visudoVerdict },
}

/** Formats diagnostics as `target:line:col: CODE message` lines. */
function describe(target: string, source: string, ds: readonly Diagnostic[]): string {
  const index = new LineIndex(source)
  return ds
    .map((d) => {
      const p = index.position(d.range.start)
      return `${target}:${p.line}:${p.col}: ${d.code} ${d.message}`
    })
    .join('\n')
}

/**
 * The package's own checks on the staged file: it parses, and has no undefined or duplicate
 * alias, no alias name that is not upper case, no alias cycle.
 */
export const sudoersChecksValidator: Validator = {
  name: 'sudoers-checks',
  async run(stagedPath, target) {
    const { text } = decodeText(await readFile(stagedPath))
    const doc = parseSudoers(text)
    const problems = [...doc.errors, ...checkSudoers(doc)]
    if (problems.length === 0) return undefined
    return `sudoers: ${target} fails the sudoers checks:\n${describe(target, text, problems)}`
  },
}
