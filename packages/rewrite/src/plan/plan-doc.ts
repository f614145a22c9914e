import type { DatabaseChange } from '../step/database.js'
import type { EncodingName } from '../edit/edit.js'
import type { Plan } from './plan.js'
import { rootPathProblem } from '../fs/confine.js'
import { CutoverError } from '../errors.js'
import { positionsOf } from '../text/big-text.js'
import { applyEdits } from '../edit/edit.js'
import type { Encoder } from '../edit/encode.js'
import type { SecretRecord } from '../spec/secrets.js'
import type { TextEncoding } from '../text/source.js'

/** One edit as a plan document records it: enough to replay it, never a secret value. */
export interface PlanDocEdit {
  line: number
  col: number
  rule: string
  summary: string
  /** Which step pass of the file it belongs to (edits of a pass index that pass's input). */
  pass: number
  start: number
  end: number
  /** The new text; absent when `secret` is set. */
  text?: string
  secret?: { name: string; encoding: EncodingName[] }
  /** Set when the replaced text is sensitive (an old password): apply masks it when hashing. */
  sensitive?: true
  /** The one-time move (a swap) the edit belongs to, e.g. `text: swap [db-a, db-b]`: apply journals it. */
  once?: string
}

/** One changed file in a plan document (docs/design.md §7). */
export interface PlanDocChange {
  target: string
  /**
   * Where the target is in the root when a link leads elsewhere (root-relative): apply refuses
   * the plan when the target no longer resolves there.
   */
  link?: string
  kind: string
  /** `sha256:` of the file, `absent`, or `masked-sha256:` (salted, sensitive values masked) when `salt` is set. */
  before: string
  after: string
  /** The salt of `masked-sha256:` hashes (hex), for a file holding a sensitive value. */
  salt?: string
  mode: string
  encoding: TextEncoding
  validators: string[]
  /** The steps editing it allow a directory other users can write (`allow-user-writable: true`). */
  allowUserWritable?: true
  edits: PlanDocEdit[]
  diff: string
}

/** The plan document (`--json`, `--out`): the contract of docs/design.md §7. */
export interface PlanDocument {
  version: 1
  profile: string | null
  root: string
  spec: string
  changes: PlanDocChange[]
  database: DatabaseChange[]
  leftovers: Array<{
    target: string
    line: number
    col: number
    text: string
    reason: string
    onDisk?: { line: number; col: number }
    accepted?: string
  }>
  notes: Array<{
    target: string
    line?: number
    col?: number
    code: string
    message: string
    severity: string
  }>
  secrets: SecretRecord[]
}

/** Builds the plan document of a plan. Secret values are never part of it. */
export function toPlanDocument(plan: Plan): PlanDocument {
  return {
    version: 1,
    profile: plan.profile ?? null,
    root: plan.root,
    spec: plan.spec,
    changes: plan.changes.map((c) => {
      let input = c.beforeText
      const edits: PlanDocEdit[] = []
      c.passes.forEach((pass, i) => {
        // one sweep to the edits' lines (no index of every line of a large file)
        const at = positionsOf(
          input,
          pass.map((e) => e.start),
        )
        for (const e of pass) {
          const p = at.get(e.start)!
          edits.push({
            line: p.line,
            col: p.col,
            rule: e.rule,
            summary: e.secret || e.sensitive ? '(sensitive)' : (e.summary ?? ''),
            pass: i,
            start: e.start,
            end: e.end,
            ...(e.secret ? { secret: e.secret } : { text: e.text }),
            ...(e.sensitive ? { sensitive: true as const } : {}),
            ...(e.once ? { once: e.once } : {}),
          })
        }
        // the next pass's offsets index this pass's output; after the last pass nothing does
        if (i + 1 < c.passes.length) input = applyEdits(input, pass)
      })
      return {
        target: c.target,
        ...(c.link !== undefined ? { link: c.link } : {}),
        kind: c.kinds.join('+'),
        before: c.before,
        after: c.after,
        ...(c.salt ? { salt: c.salt } : {}),
        mode: '0' + c.mode.toString(8).padStart(3, '0'),
        encoding: c.encoding,
        validators: c.validators,
        ...(c.allowUserWritable ? { allowUserWritable: true as const } : {}),
        edits,
        diff: c.diff,
      }
    }),
    database: plan.database,
    leftovers: plan.leftovers,
    notes: plan.notes,
    secrets: plan.secrets,
  }
}

const HASH = /^(?:sha256|masked-sha256):[0-9a-f]{64}$|^absent$/
const ENCODINGS: readonly unknown[] = ['utf8', 'utf8-bom', 'latin1'] satisfies TextEncoding[]
const isIndex = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

/**
 * Checks the shape of a parsed plan document; throws a `PLAN_INVALID` CutoverError saying what is
 * wrong. With `encoder` (an engine's), a secret's encoding that no step kind registers is wrong
 * too; without it, apply refuses such a plan before writing anything.
 */
export function checkPlanDocument(
  value: unknown,
  path: string,
  encoder?: (name: string) => Encoder | undefined,
): PlanDocument {
  const bad = (what: string): never => {
    throw new CutoverError('PLAN_INVALID', `${path}: not a cutover plan: ${what}`)
  }
  if (typeof value !== 'object' || value === null) bad('expected a JSON object')
  const doc = value as Partial<PlanDocument>
  if (doc.version !== 1) bad(`expected "version": 1, got ${JSON.stringify(doc.version)}`)
  if (typeof doc.root !== 'string') bad('expected "root" to be a string')
  if (typeof doc.spec !== 'string') bad('expected "spec" to be a string')
  if (!Array.isArray(doc.changes)) bad('expected "changes" to be a list')
  for (const [i, c] of doc.changes!.entries()) {
    if (
      typeof c?.target !== 'string' ||
      typeof c.before !== 'string' ||
      typeof c.after !== 'string' ||
      !Array.isArray(c.edits)
    ) {
      bad(`change ${i + 1} needs target, before, after and edits`)
    }
    // a target is a path in the root, as in a spec: never absolute, never with a `..` part
    const problem =
      rootPathProblem(c.target) ??
      (c.target.replace(/^(?:\.?\/)+/, '') === '' ? `"${c.target}" is not a file path` : undefined)
    if (problem) bad(`change ${i + 1}: target ${problem}`)
    if (c.link !== undefined && (typeof c.link !== 'string' || rootPathProblem(c.link)))
      bad(
        `change ${i + 1}: link ${typeof c.link === 'string' ? rootPathProblem(c.link) : 'must be a string'}`,
      )
    // every field apply uses, as a plan writes it: a file it creates gets at most mode 0777 (never setuid)
    for (const k of ['before', 'after'] as const)
      if (!HASH.test(c[k]))
        bad(`${c.target}: "${k}" must be "absent" or a sha256 hash, got ${JSON.stringify(c[k])}`)
    if (typeof c.mode !== 'string' || !/^0?[0-7]{3,4}$/.test(c.mode))
      bad(`${c.target}: "mode" must be an octal mode such as "0644", got ${JSON.stringify(c.mode)}`)
    if (c.before === 'absent' && Number.parseInt(c.mode, 8) > 0o777)
      bad(
        `${c.target}: a file the plan creates gets a mode of at most 0777 (no setuid, setgid or sticky bit), got "${c.mode}"`,
      )
    if (!ENCODINGS.includes(c.encoding))
      bad(
        `${c.target}: "encoding" must be one of ${ENCODINGS.join(', ')}, got ${JSON.stringify(c.encoding)}`,
      )
    if (!Array.isArray(c.validators) || c.validators.some((v) => typeof v !== 'string'))
      bad(`${c.target}: "validators" must be a list of names`)
    if (c.salt !== undefined && (typeof c.salt !== 'string' || !/^[0-9a-f]+$/.test(c.salt)))
      bad(`${c.target}: "salt" must be hex`)
    if (c.allowUserWritable !== undefined && c.allowUserWritable !== true)
      bad(`${c.target}: "allowUserWritable" can only be true`)
    for (const e of c.edits) {
      if (
        !isIndex(e.start) ||
        !isIndex(e.end) ||
        e.end < e.start ||
        !isIndex(e.pass) ||
        (typeof e.text !== 'string' && !e.secret)
      ) {
        bad(
          `an edit of ${c.target} needs pass, start, end (whole numbers, start ≤ end) and text or secret`,
        )
      }
      if (
        e.secret &&
        (typeof e.secret.name !== 'string' ||
          !Array.isArray(e.secret.encoding) ||
          e.secret.encoding.some((n) => typeof n !== 'string' || (encoder && !encoder(n))))
      )
        bad(`an edit of ${c.target} has a malformed "secret" (unknown encoding?)`)
      if (e.once !== undefined && typeof e.once !== 'string')
        bad(`an edit of ${c.target} has a "once" that is not a string`)
    }
  }
  if (!Array.isArray(doc.secrets)) bad('expected "secrets" to be a list')
  for (const r of doc.secrets!) {
    if (
      typeof r?.name !== 'string' ||
      typeof r.env !== 'string' ||
      typeof r.salt !== 'string' ||
      typeof r.fingerprint !== 'string'
    )
      bad('a secret needs name, env, salt and fingerprint')
  }
  if (doc.database !== undefined && !Array.isArray(doc.database))
    bad('expected "database" to be a list')
  for (const d of doc.database ?? []) {
    if (
      typeof d?.target !== 'string' ||
      typeof d.kind !== 'string' ||
      typeof d.before !== 'string' ||
      typeof d.after !== 'string'
    ) {
      bad('a database change needs target, kind, before and after')
    }
  }
  return doc as PlanDocument
}
