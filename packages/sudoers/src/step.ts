import { statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  applyEdits,
  commonKeys,
  LineIndex,
  s,
  scanLeftovers,
  sortEdits,
  type Context,
  type Diagnostic,
  type Edit,
  type Schema,
  type StepKind,
  type Validator,
} from '@cutover/rewrite'
import { checkSudoers } from './check.js'
import {
  ensureAlias,
  ensureRule,
  parseMember,
  parseRule,
  removeAlias,
  removeRule,
  SudoersSyntaxError,
} from './edit.js'
import { lintSudoers } from './lint.js'
import { parseSudoers } from './parse.js'
import type { AliasType } from './types.js'
import { sudoersChecksValidator, visudoValidator } from './validate.js'

/** An alias of the step: Cmnd members, or `{ type, members }` for User/Runas/Host/Cmnd. */
export type AliasSpec = string[] | { type: AliasType; members: string[] }

/** Options of the `sudoers` step. */
export interface SudoersOptions {
  files: string[]
  exclude?: string[]
  profiles?: string[]
  /** Create the literal paths of `files` that do not exist, with this mode (at most `0440`). */
  create?: { mode: string }
  /** Aliases to define or redefine in place, by name. */
  aliases?: Record<string, AliasSpec>
  /** User specifications to have, each recognised in any formatting. */
  rules?: string[]
  /** Aliases (by name, any type) and rules to take out. */
  remove?: { aliases?: string[]; rules?: string[] }
}

type YamlNode = { range?: [number, number, number]; type?: string; source?: string }

/**
 * A string of sudoers syntax, checked with the package's parser when the spec is read: an
 * error points at the column inside the YAML string when the string is written plainly.
 */
function sudoersText(what: string, check: (v: string) => void): Schema<string> {
  const base = s.string({ describe: what })
  return {
    expected: base.expected,
    json: base.json,
    parse(node, ctx, at) {
      const v = base.parse(node, ctx, at)
      if (v === undefined) return undefined
      try {
        check(v)
        return v
      } catch (e) {
        if (!(e instanceof SudoersSyntaxError)) throw e
        const n = node as YamlNode
        const r = n.range ?? [at.start, at.end]
        const plain =
          n.type === 'PLAIN' ||
          ((n.type === 'QUOTE_SINGLE' || n.type === 'QUOTE_DOUBLE') && !/[\\'"\n]/.test(v))
        const lead = v.length - v.trimStart().length
        const start = plain ? r[0] + (n.type === 'PLAIN' ? 0 : 1) + lead + e.offset : r[0]
        ctx.errors.push({
          code: 'SUDOERS_SYNTAX',
          message: e.message,
          range: { start, end: plain ? start + 1 : r[1] },
        })
        return undefined
      }
    },
  }
}

const ruleText = sudoersText(
  'a sudoers rule such as "www-data ALL=(finance) NOPASSWD: FINANCESCRIPT"',
  (v) => void parseRule(v),
)
const memberText = (type: AliasType) =>
  sudoersText(`a ${type}_Alias member in sudoers syntax`, (v) => void parseMember(type, v))
const aliasName = s.string({
  describe: 'an alias name in upper case (A-Z, 0-9, _)',
  pattern: /^[A-Z][A-Z0-9_]*$/,
})

const typedAlias: Schema<{ type: AliasType; members: string[] }> = {
  expected: 'a mapping with type (User, Runas, Host, Cmnd) and members',
  json: () =>
    s
      .object({
        type: s.oneOf(['User', 'Runas', 'Host', 'Cmnd'] as const),
        members: s.array(s.string()),
      })
      .json(),
  parse(node, ctx, at) {
    const head = s.object(
      {
        type: s.oneOf(['User', 'Runas', 'Host', 'Cmnd'] as const),
        members: s.array(s.string(), { minItems: 1 }),
      },
      { required: ['type', 'members'] },
    )
    const scratch = { ...ctx, errors: [] as Diagnostic[] }
    const v = head.parse(node, scratch, at)
    if (v === undefined) {
      ctx.errors.push(...scratch.errors)
      return undefined
    }
    const typed = s.object(
      { type: s.string(), members: s.array(memberText(v.type), { minItems: 1 }) },
      { required: ['type', 'members'] },
    )
    return typed.parse(node, ctx, at) === undefined ? undefined : v
  },
}

const options = s.object(
  {
    ...commonKeys,
    aliases: s.record(
      s.union(
        s.array(memberText('Cmnd'), { minItems: 1, describe: 'a list of Cmnd_Alias members' }),
        typedAlias,
      ),
      {
        key: aliasName,
        describe: 'a mapping of alias names to Cmnd members or { type, members }',
      },
    ),
    rules: s.array(ruleText, { describe: 'a list of sudoers rules' }),
    remove: s.object({
      aliases: s.array(aliasName, { describe: 'a list of alias names' }),
      rules: s.array(ruleText, { describe: 'a list of sudoers rules' }),
    }),
  },
  { required: ['files'] },
) as unknown as Schema<SudoersOptions>

/** Several insertions at one offset become one edit, in the order given (aliases before rules). */
function mergeInsertions(edits: Edit[]): Edit[] {
  const out: Edit[] = []
  for (const e of edits) {
    const same =
      e.start === e.end ? out.find((x) => x.start === e.start && x.end === e.start) : undefined
    if (!same) {
      out.push({ ...e })
      continue
    }
    same.text += e.text
    if (same.rule !== e.rule) same.rule = 'sudoers'
    same.summary = `${same.summary}; ${e.summary}`
  }
  return out
}

/** Maps an offset of the edited text back to the step's input (an inserted span maps to its insertion point). */
function unmap(offset: number, sorted: readonly Edit[]): number {
  let delta = 0
  for (const e of sorted) {
    const outStart = e.start + delta
    if (offset < outStart) break
    if (offset < outStart + e.text.length) return e.start
    delta += e.text.length - (e.end - e.start)
  }
  return offset - delta
}

/** True when `offset` of the edited text lies in what one of `sorted` edits wrote. */
function inAdded(offset: number, sorted: readonly Edit[]): boolean {
  let delta = 0
  for (const e of sorted) {
    const outStart = e.start + delta
    if (offset < outStart) return false
    if (offset < outStart + e.text.length) return true
    delta += e.text.length - (e.end - e.start)
  }
  return false
}

/** The edits of one step on one parsed file, in the order aliases, removals, rules. */
export function sudoersEdits(doc: ReturnType<typeof parseSudoers>, o: SudoersOptions): Edit[] {
  const edits: Edit[] = []
  for (const [name, spec] of Object.entries(o.aliases ?? {})) {
    const { type, members } = Array.isArray(spec) ? { type: 'Cmnd' as const, members: spec } : spec
    edits.push(...ensureAlias(doc, type, name, members))
  }
  for (const name of o.remove?.aliases ?? []) edits.push(...removeAlias(doc, undefined, name))
  for (const rule of o.remove?.rules ?? []) edits.push(...removeRule(doc, rule))
  for (const rule of o.rules ?? []) edits.push(...ensureRule(doc, rule))
  return mergeInsertions(edits)
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`

/**
 * The mode and owner a sudoers target has (or, for a file `create` makes, will have), checked as
 * sudo checks them: sudo silently ignores a sudoers file that root does not own or that group or
 * others can write (and anyone who can write it can grant themselves root). Such a target is an
 * error; an existing file with other bits outside `0440` (`0644`, `0600`) gets a warning, since
 * sudo reads it but `visudo -c` wants `0440`. A file `create` makes must have a mode within `0440`.
 * Not running as root, a file owned by the running user (a copy of a machine) is only a warning.
 */
function sudoersTargetChecks(path: string, ctx: Context, o: SudoersOptions): Diagnostic[] {
  const at = { start: 0, end: 0 }
  const euid = process.geteuid?.() ?? 0
  let mode: number
  let uid: number
  let created = false
  // the target where the engine reads it: in the root, links followed as a chroot would
  const real = ctx.inRoot ? ctx.inRoot(path) : resolve(ctx.root, path)
  const st = real === undefined ? undefined : statSync(real, { throwIfNoEntry: false })
  if (st) {
    mode = st.mode & 0o7777
    uid = st.uid
  } else {
    if (!o.create) return []
    mode = Number.parseInt(o.create.mode, 8)
    uid = euid
    created = true
  }
  const out: Diagnostic[] = []
  const what = created
    ? `would be created with mode ${octal(mode)} (create: { mode: "${o.create!.mode}" })`
    : `has mode ${octal(mode)}`
  const owner = `owned by uid ${uid}${uid === 0 ? ' (root)' : ''}`
  const fix = 'sudoers files must be owned by root with mode 0440 (chown root:root, chmod 0440)'
  if (mode & 0o022) {
    out.push({
      code: 'SUDOERS_MODE',
      message: `${path} ${what}, ${owner}: sudo ignores a sudoers file that group or others can write, and anyone who can write it can become root; ${fix}`,
      range: at,
    })
  } else if (created && mode & ~0o440) {
    out.push({
      code: 'SUDOERS_MODE',
      message: `${path} ${what}, ${owner}: sudo reads a new sudoers file only when root owns it, and cutover creates it within mode 0440 (write "0440")`,
      range: at,
    })
  } else if (mode & ~0o440) {
    out.push({
      code: 'SUDOERS_MODE',
      severity: 'warning',
      message: `${path} ${what}, ${owner}: sudo reads it, but visudo -c expects mode 0440 (chmod 0440)`,
      range: at,
    })
  }
  if (uid !== 0) {
    const own = euid !== 0 && uid === euid
    out.push({
      code: 'SUDOERS_OWNER',
      ...(own ? { severity: 'warning' as const } : {}),
      message: `${path} ${what}, ${owner}${own ? ' (you, not root)' : ''}: sudo ignores a sudoers file that root does not own; ${fix}`,
      range: at,
    })
  }
  return out
}

/**
 * The `sudoers-access` validator: the staged file, which has the mode and owner the target will
 * have, must be one sudo reads (owned by root, or by the running user when not root; no write bit
 * for group or others). Catches a target made group- or world-writable after `plan --out`.
 */
const sudoersAccessValidator: Validator = {
  name: 'sudoers-access',
  async run(stagedPath, target) {
    const st = await stat(stagedPath)
    return accessProblem(st.mode & 0o7777, st.uid, process.geteuid?.() ?? 0, target)
  },
  // on the machine the file is staged on: its mode and owner there, and the user applying there
  tool: {
    argv: (stagedPath) => ['sh', '-c', 'stat -L -c "%a %u" -- "$1" && id -u', 'sh', stagedPath],
    verdict(run, target) {
      const m = /^([0-7]+) (\d+)\n(\d+)\n$/.exec(run.stdout)
      if (run.code !== 0 || !m)
        return `${target}: the staged file's mode and owner cannot be read: ${run.stderr.trim() || `exit code ${run.code}`}`
      return accessProblem(parseInt(m[1]!, 8), Number(m[2]), Number(m[3]), target)
    },
  },
}

/** Why sudo would ignore a file of `mode` owned by `uid` when installed by `euid`; undefined when it reads it. */
function accessProblem(
  mode: number,
  uid: number,
  euid: number,
  target: string,
): string | undefined {
  if (!(mode & 0o022) && (uid === 0 || (euid !== 0 && uid === euid))) return undefined
  return `${target} would be installed with mode ${octal(mode)}, owned by uid ${uid}: sudo ignores a sudoers file that root does not own or that group or others can write; sudoers files must be owned by root with mode 0440 (chown root:root, chmod 0440)`
}

/**
 * The `sudoers` step: `aliases:` (Cmnd by default, `{ type, members }` for the others),
 * `rules:` and `remove:` on sudoers files (refused when sudo would ignore them: see the mode and owner checks), validated by `visudo -cf`, the package's checks and `sudoers-access`
 * before install; lint findings and check problems come back as warnings.
 */
export const sudoersStep: StepKind<SudoersOptions> = {
  name: 'sudoers',
  init: [
    {
      group: 'sudoers',
      files: ['etc/sudoers', 'etc/sudoers.d/**'],
      rank: 10,
      order: 80,
      note: 'sudoers files hold addresses too; the sudoers step manages aliases and rules (see @cutover/sudoers):',
    },
  ],
  options,
  validators: [visudoValidator, sudoersChecksValidator, sudoersAccessValidator],
  alwaysPlan: (o) => Boolean(o.aliases || o.rules),
  needles: (o) => [
    ...(o.remove?.aliases ?? []),
    ...(o.remove?.rules ?? []).map((r) => r.trim().split(/\s/)[0]!),
  ],
  async plan(file, o, ctx) {
    const access = sudoersTargetChecks(file.path, ctx, o)
    if (access.some((d) => d.severity !== 'warning'))
      return { edits: [], diagnostics: access, leftovers: [] }
    const doc = parseSudoers(file.text)
    if (doc.errors.length) return { edits: [], diagnostics: doc.errors, leftovers: [] }
    const edits = sudoersEdits(doc, o)
    const sorted = sortEdits(edits)
    // with no edit the file is the one just parsed
    const after = sorted.length ? parseSudoers(applyEdits(file.text, sorted)) : doc
    const found = [
      ...after.errors,
      ...checkSudoers(after),
      ...(await lintSudoers(after, {
        root: ctx.root,
        ...(ctx.inRoot ? { inRoot: ctx.inRoot } : {}),
      })),
    ]
    let index: LineIndex | undefined
    const diagnostics: Diagnostic[] = found.map((d) => {
      const start = unmap(d.range.start, sorted)
      // a finding in text the step adds is shown at the edit; its own place in the planned file is named
      const added = inAdded(d.range.start, sorted)
      let message = d.message
      if (added) {
        const p = (index ??= new LineIndex(after.source)).position(d.range.start)
        message += ` (in the added text, at ${p.line}:${p.col} of the planned file)`
      }
      return {
        ...d,
        message,
        severity: 'warning',
        range: { start, end: Math.max(start, unmap(d.range.end, sorted)) },
      }
    })
    const comments = doc.entries.filter((e) => e.type === 'comment')
    const leftovers = scanLeftovers(file.text, ctx, edits, {
      reason: (start) =>
        comments.some((c) => c.start <= start && start < c.end) ? 'inside a comment' : undefined,
      fallback: 'the sudoers step does not rewrite addresses',
    })
    return { edits, diagnostics: [...access, ...diagnostics], leftovers }
  },
}
