import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Diagnostic } from '../diff/diagnostic.js'
import { applyEdits, type Edit } from '../edit/edit.js'
import { InputError } from '../errors.js'
import { sensitiveSpans } from '../diff/sensitive.js'
import type { Validator } from '../step/step.js'

/** What `plan` needs of a planned change to check it. */
interface Planned {
  target: string
  beforeText: string
  passes: readonly (readonly Edit[])[]
  validators: readonly string[]
}

/**
 * The planned text as a validator may see it: a secret's text is replaced by `*` (same length,
 * newlines kept), so no secret is written to a temporary file or shown in a message. Inside a
 * string literal that keeps the file's syntax.
 */
function lintText(c: Planned): string {
  return c.passes.reduce(
    (t, pass) =>
      pass.length
        ? applyEdits(
            t,
            pass.map((e) => (e.secret ? { ...e, text: e.text.replace(/[^\r\n]/g, '*') } : e)),
          )
        : t,
    c.beforeText,
  )
}

/**
 * Runs the validators marked `plan` (the PHP linter) on the planned texts during `plan`, so
 * that a rewrite that breaks a file is reported before `apply`. One error per failing file,
 * located in the planned text: the line the tool names, the column where a parse error is
 * found on that line when the tool gives none (best effort: the first non-blank column).
 * Validators whose tool is missing are skipped; `apply` warns about them.
 */
export async function checkPlanned(
  changes: readonly Planned[],
  validator: (name: string) => Validator | undefined,
): Promise<InputError[]> {
  const names = [...new Set(changes.flatMap((c) => c.validators))]
  const errors: InputError[] = []
  const oldValues = [
    ...new Set(changes.flatMap((c) => sensitiveSpans(c.beforeText, c.passes).old)),
  ].filter((v) => v.length > 0)
  for (const name of names) {
    const v = validator(name)
    if (!v?.plan || (v.available && !(await v.available()))) continue
    const list = changes.filter((c) => c.validators.includes(name))
    const dir = await mkdtemp(join(tmpdir(), 'cutover-plan-check-'))
    try {
      const texts = list.map(lintText)
      const items = await Promise.all(
        list.map(async (c, i) => {
          const stagedPath = join(
            dir,
            `${i}-${c.target.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80)}`,
          )
          await writeFile(stagedPath, texts[i]!, { mode: 0o600 })
          return { stagedPath, target: c.target }
        }),
      )
      const got = v.runBatch
        ? await v.runBatch(items)
        : await Promise.all(items.map((it) => v.run(it.stagedPath, it.target)))
      const failed = got.flatMap((m, i) => (m ? [i] : []))
      if (failed.length === 0) continue
      // the file as it is on disk: does it fail already?
      const before = await Promise.all(
        failed.map(async (i) => {
          const p = join(dir, `before-${i}`)
          await writeFile(p, list[i]!.beforeText, { mode: 0o600 })
          return { stagedPath: p, target: list[i]!.target }
        }),
      )
      const old = v.runBatch
        ? await v.runBatch(before)
        : await Promise.all(before.map((it) => v.run(it.stagedPath, it.target)))
      for (const [k, i] of failed.entries()) {
        const c = list[i]!
        const text = texts[i]!
        const message = `${got[i]!}${old[k] ? ' (the file on disk fails this check too)' : ''} [in the planned text]`
        // the old values secrets replace (in any file) may be elsewhere in this one, and in the tool's message
        // and the stars standing for a secret would tell its length: its place is hidden too
        const spans = sensitiveSpans(c.beforeText, c.passes).after
        errors.push(
          new InputError(
            c.target,
            text,
            [{ code: 'PLANNED_INVALID', message, range: await locate(text, got[i]!, v) }],
            { values: oldValues, spans },
          ),
        )
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  return errors
}

/**
 * The place a tool's message names (`on line N`, `:N:`). When the tool gives no column, the
 * validator's own `column` (a parser's) is used if it finds the error on that line, else the
 * line's first non-blank column (best effort).
 */
async function locate(text: string, message: string, v: Validator): Promise<Diagnostic['range']> {
  const m = / on line (\d+)/.exec(message) ?? /:(\d+):/.exec(message)
  if (!m) return { start: 0, end: 0 }
  const line = Number(m[1])
  const start = offsetOfLine(text, line)
  const col = await v.column?.(text, line)
  const at = Math.min(text.length, start + (col ?? /^[ \t]*/.exec(text.slice(start))![0].length))
  return { start: at, end: at }
}

function offsetOfLine(text: string, line: number): number {
  let at = 0
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', at)
    if (nl < 0) return text.length
    at = nl + 1
  }
  return at
}
