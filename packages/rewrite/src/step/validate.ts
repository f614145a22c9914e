import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { describeTimeout, runTool, toolEnv, toolTimeoutMs, type ToolRun } from '../fs/tool.js'
import type { StagedTool } from '../transaction/participant.js'
import { commandProblem, commandUses, fillCommand, splitCommand } from './command.js'
import type { Validator } from './step.js'

/**
 * How a plan names the validator of a step's `validate:` command among a file's validators:
 * `validate: nginx -t -c %s` (so the review and the saved plan show the command that will run).
 */
export const VALIDATE_PREFIX = 'validate: '

/** How much of a failed command's output a message quotes. */
const OUTPUT_LIMIT = 4096

/** The sbin folders, after the PATH, where a system's checking tools live (nginx, named-checkconf). */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']

/** One validator per command, so the transaction groups the files it checks. */
const made = new Map<string, Validator | null>()

/**
 * The validator a plan names `validate: COMMAND` (a step's `validate:`), or undefined for any
 * other name or a command that is not one ({@link commandProblem}). It runs the command's words
 * (no shell) with `%s` the staged file and `%d` a private scratch root holding a copy of it at
 * its target's path, in the clean environment and within the timeout of every tool; a command
 * that exits non-zero, cannot be found or outlives the timeout fails the file with its output
 * (its whole lines within 4 KB, the staged path shown as the target's). It carries the same
 * command as a `tool`, so that a file staged on another machine is checked there.
 */
export function commandValidator(name: string): Validator | undefined {
  if (!name.startsWith(VALIDATE_PREFIX)) return undefined
  let v = made.get(name)
  if (v === undefined) {
    v = build(name, name.slice(VALIDATE_PREFIX.length)) ?? null
    made.set(name, v)
  }
  return v ?? undefined
}

function build(name: string, command: string): Validator | undefined {
  const split = splitCommand(command)
  if ('problem' in split || commandProblem(command) !== undefined) return undefined
  const words = split.argv
  const uses = commandUses(words)
  const tool: StagedTool = {
    argv: (file, dir) => fillCommand(words, { file, ...(dir !== undefined ? { dir } : {}) }),
    verdict: (run, target, staged, dir) => verdict(run, words[0]!, target, staged, dir),
    required: true,
    ...(uses.dir ? { scratch: true } : {}),
  }
  return {
    name,
    tool,
    async run(stagedPath, target) {
      const dir = uses.dir ? await scratchRoot(stagedPath, target) : undefined
      try {
        const argv = tool.argv(stagedPath, dir)
        const env = toolEnv()
        env.PATH = [env.PATH, ...SBIN].join(':')
        const r = await runTool(argv[0]!, argv.slice(1), { maxBuffer: 4 << 20, env })
        return tool.verdict(r, target, stagedPath, dir)
      } finally {
        if (dir) await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

/** A private directory (0700) holding a copy of the staged file at its target's path. */
async function scratchRoot(stagedPath: string, target: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cutover-validate-'))
  try {
    const copy = resolve(dir, target)
    // a plan's targets are relative and have no `..` part; a copy still never leaves the root
    if (!copy.startsWith(dir + sep))
      throw new Error(`${target}: not a path inside the scratch root`)
    await mkdir(dirname(copy), { recursive: true, mode: 0o700 })
    await copyFile(stagedPath, copy)
    return dir
  } catch (e) {
    await rm(dir, { recursive: true, force: true })
    throw e
  }
}

/** What a command's run says of the file: undefined when it exited 0, else why not, with its output. */
function verdict(
  run: ToolRun,
  command: string,
  target: string,
  staged: string,
  dir: string | undefined,
): string | undefined {
  if (run.code === 0 && !run.timedOut) return undefined
  if (run.timedOut)
    return `did not finish within ${describeTimeout(toolTimeoutMs())} (CUTOVER_TOOL_TIMEOUT_MS)`
  if (run.missing) return `${command}: command not found`
  const output = shown(`${run.stdout}${run.stderr}`, target, staged, dir)
  const status = run.code >= 0 ? `exited with status ${run.code}` : 'was killed'
  return output ? `${status}:\n${output}` : `${status} and printed nothing`
}

/** A command's output for a message: the staged path shown as its target, cut, indented. */
function shown(output: string, target: string, staged: string, dir: string | undefined): string {
  let text = output.split(staged).join(target)
  if (dir !== undefined) text = text.split(`${dir}/`).join('').split(dir).join('%d')
  text = text.replace(/\s+$/, '')
  if (text === '') return ''
  let lines = text.split('\n')
  if (text.length > OUTPUT_LIMIT) {
    // cut between lines: a value cut in two would escape the masking of the message's secrets
    let kept = 0
    let size = 0
    while (kept < lines.length && size + lines[kept]!.length + 1 <= OUTPUT_LIMIT)
      size += lines[kept++]!.length + 1
    lines = [
      ...lines.slice(0, kept),
      `… (${text.length - size} more characters${kept === 0 ? ', on a line too long to show' : ''})`,
    ]
  }
  return lines.map((l) => `    ${l}`).join('\n')
}
