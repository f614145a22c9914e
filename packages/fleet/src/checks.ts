import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type {
  StagedCheck,
  StagedItem,
  StagedTool,
  StagedToolBatch,
  ToolRun,
  TxTarget,
} from '@cutover/rewrite'
import type { Machine } from './machine.js'
import { shellQuote } from './remote-shell.js'

/** The sbin folders, after the machine's own PATH, where a login of a non-root user may not look (visudo). */
const SBIN = 'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH; '

/** The checks of a tool, one per machine and validator (so the transaction checks availability once). */
const onMachine = new WeakMap<Machine, Map<StagedCheck, StagedCheck>>()

/**
 * `target` with its validators made to check the file where it is staged, on `machine`: a
 * validator with a `tool` runs that command on the machine (through its `exec`, with the
 * machine's version of the tool; skipped with the transaction's warning when the machine lacks
 * it); one without reads only the staged bytes, so it runs here on a private local copy of
 * `target.content`, the bytes the machine stages.
 */
export function remoteChecks(machine: Machine, target: TxTarget): TxTarget {
  if (!target.validators?.length) return target
  return {
    ...target,
    validators: target.validators.map((v) =>
      v.tool ? toolCheck(machine, v, v.tool) : localCopyCheck(v, target.content),
    ),
  }
}

function toolCheck(machine: Machine, v: StagedCheck, tool: StagedTool): StagedCheck {
  let checks = onMachine.get(machine)
  if (!checks) onMachine.set(machine, (checks = new Map()))
  let check = checks.get(v)
  if (check) return check
  const command = tool.argv('/dev/null', '/dev/null')[0]!
  let available: Promise<boolean> | undefined
  check = {
    name: v.name,
    // a command the spec asks for by name is run even when missing: its verdict fails the file
    ...(tool.required
      ? {}
      : {
          available: () =>
            (available ??= machine
              .exec(`${SBIN}command -v -- ${shellQuote(command)} >/dev/null`)
              .then((r) => r.code === 0)),
        }),
    async run(stagedPath, target) {
      const dir = tool.scratch ? await scratchOn(machine, stagedPath, target) : undefined
      try {
        const argv = tool.argv(stagedPath, dir)
        return tool.verdict(await runOn(machine, argv), target, stagedPath, dir)
      } finally {
        if (dir !== undefined) await machine.exec(`rm -rf -- ${shellQuote(dir)}`).catch(() => {})
      }
    },
  }
  // a tool without a scratch root checks many files in one command on the machine
  if (!tool.scratch) check.runBatch = (items) => runBatchOn(machine, tool, check!, items)
  checks.set(v, check)
  return check
}

/** Files per command of a batch (its command line stays far below the machine's limit). */
const BATCH_FILES = 200

/**
 * Runs `tool` on each staged file, one after the other, in one command on the machine per
 * {@link BATCH_FILES} files: each run's exit code, stdout and stderr come back on a line of
 * their own (base64), and each file gets the verdict its single run would give. A batch that
 * fails as a whole (timed out: one hanging file; or an answer that does not parse) checks its
 * files one by one instead, each under its own timeout.
 */
async function runBatchOn(
  machine: Machine,
  tool: StagedTool,
  check: StagedCheck,
  items: readonly StagedItem[],
): Promise<(string | undefined)[]> {
  if (!tool.batch) return runEachOn(machine, tool, check, items)
  // the tool's own batch first (one process for them all); what it leaves goes file by file
  const first = await toolBatchOn(machine, tool.batch, items)
  const rest = items.flatMap((it, i) => (first[i] === null ? [it] : []))
  const more = rest.length ? await runEachOn(machine, tool, check, rest) : []
  let k = 0
  return first.map((v) => (v === null ? more[k++] : v))
}

/** The verdicts of a tool's batch command over `items` on the machine (null: not answered). */
async function toolBatchOn(
  machine: Machine,
  batch: StagedToolBatch,
  items: readonly StagedItem[],
): Promise<Array<string | undefined | null>> {
  let r
  try {
    r = await machine.exec(SBIN + batch.argv.map(shellQuote).join(' '), {
      stdin: batch.input(items.map((it) => it.stagedPath)),
    })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw e
    return items.map(() => null)
  }
  const run: ToolRun = {
    code: r.code,
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr,
    timedOut: false,
    missing: r.code === 127,
  }
  const out = batch.verdicts(run, items)
  // fails closed: an answer that is not one per item answers none
  return out.length === items.length ? out : items.map(() => null)
}

/** Each item checked by the tool's own command, {@link BATCH_FILES} runs to a command on the machine. */
async function runEachOn(
  machine: Machine,
  tool: StagedTool,
  check: StagedCheck,
  items: readonly StagedItem[],
): Promise<(string | undefined)[]> {
  const parts: StagedItem[][] = []
  for (let i = 0; i < items.length; i += BATCH_FILES) parts.push(items.slice(i, i + BATCH_FILES))
  const out = await Promise.all(
    parts.map(async (part) => {
      const runs = await batchRuns(
        machine,
        part.map((it) => tool.argv(it.stagedPath)),
      )
      if (!runs) return Promise.all(part.map((it) => check.run(it.stagedPath, it.target)))
      return part.map((it, k) => tool.verdict(runs[k]!, it.target, it.stagedPath))
    }),
  )
  return out.flat()
}

/**
 * The runs of the commands `argvs` in one command on the machine, or undefined when it failed as
 * a whole. Nothing is written on the machine (a temporary file would stay there when the
 * command is killed: its timeout, a dropped connection) and no process runs beside the tool:
 * each run's stdout and stderr go to the command's own, each between two lines that hold a
 * random mark (which no output can know beforehand), the exit code on the closing line of
 * stdout. What the machine's shell writes outside them is ignored.
 */
async function batchRuns(machine: Machine, argvs: string[][]): Promise<ToolRun[] | undefined> {
  const mark = `cutover-${randomBytes(8).toString('hex')}`
  const script = [
    `${SBIN}r() { printf '\\n%s B\\n' ${mark}; printf '\\n%s B\\n' ${mark} >&2; "$@" </dev/null; c=$?; printf '\\n%s E %s\\n' ${mark} "$c"; printf '\\n%s E\\n' ${mark} >&2; }`,
    ...argvs.map((argv) => `r ${argv.map(shellQuote).join(' ')}`),
    '',
  ].join('\n')
  let r
  try {
    r = await machine.exec(script)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw e
    return undefined
  }
  if (r.code !== 0) return undefined
  const runs: ToolRun[] = []
  const open = `\n${mark} B\n`
  const close = `\n${mark} E`
  let out = 0
  let err = 0
  for (let i = 0; i < argvs.length; i++) {
    // stdout: the run's bytes, then its exit code on the closing line
    const o = r.stdout.indexOf(open, out)
    const oEnd = o < 0 ? -1 : r.stdout.indexOf(`${close} `, o + open.length)
    const eol = oEnd < 0 ? -1 : r.stdout.indexOf('\n', oEnd + close.length + 1)
    const code = eol < 0 ? '' : r.stdout.toString('latin1', oEnd + close.length + 1, eol)
    // stderr: the run's text
    const e = r.stderr.indexOf(open, err)
    const eEnd = e < 0 ? -1 : r.stderr.indexOf(`${close}\n`, e + open.length)
    if (eEnd < 0 || !/^\d+$/.test(code)) return undefined
    runs.push({
      code: Number(code),
      stdout: r.stdout.toString('utf8', o + open.length, oEnd),
      stderr: r.stderr.slice(e + open.length, eEnd),
      timedOut: false,
      missing: Number(code) === 127,
    })
    out = eol
    err = eEnd + close.length
  }
  return runs
}

/**
 * A scratch root on the machine (`mktemp -d`, 0700 there): a private directory holding a copy of
 * the file staged at `stagedPath` at its target's path, for a command that checks a tree (`%d`).
 */
async function scratchOn(machine: Machine, stagedPath: string, target: string): Promise<string> {
  const parts = target.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.length === 0 || parts.includes('..'))
    throw new Error(`${target}: not a path inside a scratch root`)
  const dir = parts.slice(0, -1).join('/')
  const r = await machine.exec(
    `umask 077 && d=$(mktemp -d) && { mkdir -p -- "$d"/${shellQuote(dir || '.')} && cp -- ${shellQuote(stagedPath)} "$d"/${shellQuote(parts.join('/'))} && printf '%s' "$d"; } || { s=$?; [ -z "$d" ] || rm -rf -- "$d"; exit "$s"; }`,
  )
  const made = r.stdout.toString('utf8')
  if (r.code !== 0 || !made.startsWith('/'))
    throw new Error(
      `${machine.label}${target}: cannot make a scratch root for the check: ${r.stderr.trim() || `exit ${r.code}`}`,
    )
  return made
}

/** Runs `argv` on the machine as rewrite's `runTool` runs it here: a timeout is a verdict, not an error. */
async function runOn(machine: Machine, argv: string[]): Promise<ToolRun> {
  try {
    const r = await machine.exec(SBIN + argv.map(shellQuote).join(' '))
    return {
      code: r.code,
      stdout: r.stdout.toString('utf8'),
      stderr: r.stderr,
      timedOut: false,
      missing: r.code === 127,
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw e
    return { code: -1, stdout: '', stderr: '', timedOut: true, missing: false }
  }
}

function localCopyCheck(v: StagedCheck, content: Buffer): StagedCheck {
  return {
    name: v.name,
    ...(v.available ? { available: () => v.available!() } : {}),
    async run(stagedPath, target) {
      const dir = await mkdtemp(join(tmpdir(), 'cutover-check-'))
      try {
        const copy = join(dir, basename(stagedPath))
        await writeFile(copy, content, { mode: 0o600, flag: 'wx' })
        return await v.run(copy, target)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}
