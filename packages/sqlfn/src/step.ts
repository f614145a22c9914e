import { readFile } from 'node:fs/promises'
import {
  LineIndex,
  commonKeys,
  decodeText,
  leftoverMatcher,
  perContext,
  ruleKeys,
  s,
  scanLeftovers,
  valueSpec,
  type CommonOptions,
  type Context,
  type Diagnostic,
  type Edit,
  type Leftover,
  type Schema,
  type StepKind,
  type StepResult,
  type Validator,
} from '@cutover/rewrite'
import { nameAfter, nameGlobs, readFunction, routineName, type QualifiedName } from './functions.js'
import { loadLexer } from './lexer.js'
import { readLiteral, SQL_ENCODINGS } from './literal.js'
import { sqlLeftovers } from './leftovers.js'
import {
  copyIsCsv,
  functionValues,
  rewriteCopyData,
  rewriteFunction,
  rewriteInsert,
  type LocatedValue,
  type Rewrite,
} from './rewrite.js'
import { sqlDatabase } from './live.js'
import { databaseOptions } from './pg-connect.js'
import { compileRules, ruleNeedles, type SqlRules } from './rules.js'
import { LexerNeeded, isScanAbort, sqlTokens } from './scan.js'
import { eachPiece, pieceHead, splitSql, type SqlPiece } from './split.js'
import { continuedAt, escapedAt } from './hiding.js'
import type { SqlOptions } from './options.js'

export type { SqlOptions } from './options.js'

// the rule keys without `keys:`: a dump's values have no key path to limit them by
const { keys: _keys, ...sqlRuleKeys } = ruleKeys

const nameGlob = s.string({ describe: 'a glob on schema.name, e.g. public.amqp_*' })

/**
 * A step compiled for a context: `re` finds the needles and leftover literals (a statement holding
 * one is read), `spots` also the literals of the active variants, i.e. every place a leftover scan
 * may ask a reason for.
 */
interface Compiled {
  rules: SqlRules
  needles: string[]
  all: string[]
  spots: RegExp | undefined
  fn: (q: QualifiedName) => boolean
  table: (q: QualifiedName) => boolean
}
/** The rules, needles and name filters of a step's options, built once per plan. */
const compile = perContext((o: SqlOptions, ctx): Compiled => {
  const rules = compileRules(o, ctx)
  const needles = ruleNeedles(rules)
  const patterns = leftoverMatcher(ctx, 'token').patterns
  const all = [
    ...new Set([...needles, ...patterns.filter((p) => p.rule === 'leftover').map((p) => p.find)]),
  ]
  const spots = [...new Set([...all, ...patterns.map((p) => p.find)])]
  return {
    rules,
    needles,
    all,
    spots: anyOf(spots),
    fn: nameGlobs(o.functions ?? ['*.*']),
    table: nameGlobs(o.tables ?? []),
  }
})

/**
 * Byte needles of what may hide a needle from the raw bytes, so that such a file is planned: a
 * quote (a string continued over lines, after any blanks or comment) and a backslash (an escape).
 */
const HIDING_NEEDLES = ["'", '\\']

function anyOf(literals: readonly string[]): RegExp | undefined {
  return literals.length
    ? new RegExp(literals.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
    : undefined
}

/** Offsets of every needle occurrence, ascending. */
function hits(text: string, re: RegExp | undefined): number[] {
  const out: number[] = []
  if (!re) return out
  re.lastIndex = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(m.index)
    re.lastIndex = m.index + 1
  }
  return out
}

/** What one piece is, for leftover reasons. */
interface PieceInfo {
  piece: SqlPiece
  what: string
  rewrite?: Rewrite
  selected: boolean
}

/** Describes `piece`; `prev` is the piece before it (the COPY statement of a `copy-data` piece). */
function describe(
  text: string,
  piece: SqlPiece,
  prev: SqlPiece | undefined,
  c: Compiled,
): PieceInfo {
  if (piece.kind === 'meta') return { piece, what: 'a psql meta-command', selected: false }
  if (piece.kind === 'trivia') return { piece, what: 'a comment', selected: false }
  if (piece.kind === 'copy-data') {
    const copy = prev!
    const t = nameAfter(text, copy.codeStart, copy.end, 1)
    const name = t ? `${t.schema}.${t.name}` : 'a table'
    return t && c.table(t)
      ? {
          piece,
          what: `COPY data of ${name}`,
          selected: !copyIsCsv(text.slice(copy.codeStart, copy.end)),
        }
      : { piece, what: `COPY data of ${name}, which tables: does not select`, selected: false }
  }
  const head = pieceHead(text, piece)
  const fn = routineName(text, piece.codeStart, piece.end, head)
  if (fn)
    return c.fn(fn)
      ? { piece, what: `function ${fn.schema}.${fn.name}`, selected: true }
      : {
          piece,
          what: `function ${fn.schema}.${fn.name}, which functions: does not select`,
          selected: false,
        }
  if (head[0] === 'insert' && head[1] === 'into') {
    const t = nameAfter(text, piece.codeStart, piece.end, 2)
    const name = t ? `${t.schema}.${t.name}` : 'a table'
    return t && c.table(t)
      ? { piece, what: `INSERT into ${name}`, selected: true }
      : { piece, what: `INSERT into ${name}, which tables: does not select`, selected: false }
  }
  return {
    piece,
    what: `a ${head.slice(0, 2).join(' ').toUpperCase()} statement, which this step does not rewrite`,
    selected: false,
  }
}

function rewritePiece(text: string, info: PieceInfo, rules: SqlRules): Rewrite {
  const p = info.piece
  if (p.kind === 'copy-data') return rewriteCopyData(text, p.dataStart!, p.end, rules)
  const head = pieceHead(text, p)
  if (head[0] === 'insert') return rewriteInsert(text, p.codeStart, p.end, rules)
  const name = routineName(text, p.codeStart, p.end, head)!
  return rewriteFunction(readFunction(text, p.codeStart, p.end, name), rules)
}

function within(
  spans: ReadonlyArray<{ start: number; end: number }> | undefined,
  at: number,
): boolean {
  return spans?.some((x) => x.start <= at && at < x.end) ?? false
}

function reasonOf(info: PieceInfo, at: number): string {
  if (at < info.piece.codeStart) return 'inside a comment'
  if (!info.selected) return `in ${info.what}`
  const r = info.rewrite
  if (r?.skipped) return `${r.skipped} (${info.what})`
  if (within(r?.comments, at)) return `inside a comment in ${info.what}`
  if (within(r?.values, at)) return `inside a value of ${info.what} that no rule rewrites whole`
  return `outside the string values of ${info.what}`
}

/**
 * Plans one SQL text: see {@link sqlStep}. PostgreSQL's lexer is loaded only when a statement
 * needs it (the scanner of scan.ts reads the plain ones); the text is then planned again.
 */
export async function planSql(text: string, o: SqlOptions, ctx: Context): Promise<StepResult> {
  try {
    return planText(text, o, ctx)
  } catch (e) {
    if (!(e instanceof LexerNeeded)) throw e
  }
  await loadLexer()
  return planText(text, o, ctx)
}

function planText(text: string, o: SqlOptions, ctx: Context): StepResult {
  const c = compile(o, ctx)
  // one scan of the text: every place a leftover may be reported at, and among them the places
  // a needle or an old literal starts (the literals of `all` are among the spots')
  const spots = hits(text, c.spots)
  const found = spots.filter((at) => c.all.some((l) => text.startsWith(l, at)))
  // a string continued over lines ('host=10.0.10.' newline '48') may hold a needle that no byte
  // of the text spells: the statements holding one are read too
  // so may an escape ('host=\x31\x30.0.10.48' in an E string or a COPY field): both kinds of
  // statement are read, and their values' leftovers looked for (the raw scan cannot see them)
  const continued = c.all.length
    ? [...continuedAt(text), ...escapedAt(text)].sort((a, b) => a - b)
    : []
  for (const at of continued) found.push(at)
  found.sort((a, b) => a - b)
  if (found.length === 0) return { edits: [], diagnostics: [], leftovers: [] }
  // one statement at a time: a statement holding a needle is read and rewritten, and the reasons
  // of the places a leftover may be reported at are kept; nothing else of it outlives it
  const edits: Edit[] = []
  const notes: Diagnostic[] = []
  const reasons = new Map<number, string>()
  const split: Leftover[] = []
  let h = 0
  let s = 0
  let k = 0
  let prev: SqlPiece | undefined
  const diagnostics = eachPiece(text, (p) => {
    const before = prev
    prev = p
    const spotHere = s < spots.length && spots[s]! < p.end
    const foundHere = h < found.length && found[h]! < p.end
    if (!spotHere && !foundHere) return
    const info = describe(text, p, before, c)
    if (foundHere) {
      while (h < found.length && found[h]! < p.end) h++
      if (info.selected) rewriteInto(text, info, c.rules, edits, notes)
    }
    for (; s < spots.length && spots[s]! < p.end; s++)
      reasons.set(spots[s]!, reasonOf(info, spots[s]!))
    let continuedHere = false
    for (; k < continued.length && continued[k]! < p.end; k++) continuedHere = true
    if (continuedHere && p.kind === 'sql') split.push(...splitLeftovers(text, info, ctx))
  })
  if (diagnostics.length) return { edits: [], diagnostics, leftovers: [] }
  const leftovers = sqlLeftovers(text, ctx, edits, (at) => reasons.get(at) ?? reasonAt(text, at, c))
  if (split.length)
    leftovers.push(...split.filter((l) => !edits.some((e) => e.start < l.end && l.start < e.end)))
  return { edits, diagnostics: notes, leftovers: leftovers.sort((a, b) => a.start - b.start) }
}

/**
 * Old addresses and other-profile variants in the value of a string continued over lines that
 * no byte of the text spells (`'host=10.0.10.'` newline `'48'`): the raw scan of leftovers cannot
 * see them. Each is reported at its first character with the source it spans, pieces and all.
 * Values the rewrite changed are not looked at.
 */
function splitLeftovers(text: string, info: PieceInfo, ctx: Context): Leftover[] {
  const p = info.piece
  let values: LocatedValue[]
  try {
    const fn = routineName(text, p.codeStart, p.end, pieceHead(text, p))
    values = fn
      ? functionValues(readFunction(text, p.codeStart, p.end, fn), {
          edits: [],
          diagnostics: [],
          values: [],
          comments: [],
        })
      : sqlTokens(text.slice(p.codeStart, p.end), p.codeStart).flatMap((t) => {
          const lit = t.kind === 'string' ? readLiteral(t.text, t.start) : undefined
          return lit ? [{ ...lit, layers: [] }] : []
        })
  } catch (e) {
    if (isScanAbort(e)) throw e
    return []
  }
  const out: Leftover[] = []
  const changed = info.rewrite?.edits ?? []
  for (const v of values) {
    // a value of one piece: only an escaped one may hide a leftover from the raw scan
    const forms = [(v as { form?: string }).form, ...v.layers.map((l) => l.form)]
    const escaped = forms.some((f) => f === 'sql-e' || f === 'unicode')
    const pieces =
      v.pieces ?? (escaped ? [{ from: 0, start: v.at(0), end: v.at(v.value.length) }] : undefined)
    if (!pieces || changed.some((e) => e.start < v.end && v.start < e.end)) continue
    const pieceOf = (i: number) => pieces.findLastIndex((x) => x.from <= i)
    const why = forms.includes('unicode')
      ? `in a U&'…' string of ${info.what}, which this step never rewrites`
      : reasonOf(info, v.start)
    for (const l of scanLeftovers(v.value, ctx, [], {
      variantBoundary: 'token',
      explainNearMisses: true,
      reason: () => why,
    })) {
      const last = pieceOf(l.end - 1)
      const start = v.at(l.start)
      // within one piece, a leftover the source spells as it is was found by the raw scan
      if (pieceOf(l.start) === last && text.slice(start, v.at(l.end)) === l.text) continue
      const next = pieces[last + 1]
      const end = next && l.end >= next.from ? pieces[last]!.end : v.at(l.end)
      const how = v.pieces ? 'split over string pieces' : 'spelled with escapes'
      const reason = l.reason.startsWith('near-miss')
        ? `${l.reason}, ${how}`
        : l.reason.replace(/^(old address|variant[^:]*): /, `$1 ${l.text} ${how}: `)
      out.push({ start, end, text: text.slice(start, end), reason })
    }
  }
  return out
}

/** Rewrites a selected piece: its edits and diagnostics are added, and its rewrite kept in `info`. */
function rewriteInto(
  text: string,
  info: PieceInfo,
  rules: SqlRules,
  edits: Edit[],
  diagnostics: Diagnostic[],
): void {
  try {
    info.rewrite = rewritePiece(text, info, rules)
  } catch (cause) {
    if (isScanAbort(cause)) throw cause
    diagnostics.push({
      code: 'SQL_LEX',
      message: `${info.what}: ${(cause as Error).message}`,
      range: { start: info.piece.codeStart, end: info.piece.codeStart + 1 },
      severity: 'warning',
    })
    return
  }
  for (const e of info.rewrite.edits) edits.push(e)
  for (const d of info.rewrite.diagnostics) diagnostics.push(d)
}

/**
 * The reason of a place no spot covers, from the piece around it (not rewritten). Unreachable
 * while `spots` holds every literal of the leftover scan; kept so a reason is never missing.
 */
function reasonAt(text: string, at: number, c: Compiled): string {
  const { pieces } = splitSql(text)
  const k = pieces.findLastIndex((p) => p.start <= at)
  return reasonOf(describe(text, pieces[k]!, pieces[k - 1], c), at)
}

/** The `sql-split` validator: a staged SQL file must split cleanly (no unterminated quote). */
export const sqlSplitValidator: Validator = {
  name: 'sql-split',
  async run(stagedPath) {
    const { text } = decodeText(await readFile(stagedPath))
    const d = splitSql(text).diagnostics[0]
    if (!d) return undefined
    const p = new LineIndex(text).position(d.range.start)
    return `${p.line}:${p.col}: ${d.code} ${d.message}`
  },
}

/**
 * The `sql` step: PostgreSQL dumps (pg_dump plain output). In the bodies of the functions
 * `functions:` selects, string literals found by PostgreSQL's lexer get `variants` (whole
 * literals), `addresses`/`replace`/`swap` (inside, e.g. conninfo or URIs) and `passwords`
 * (a conninfo's password for a host); data rows of `tables:` (COPY text, INSERT) get the same.
 */
export const sqlStep: StepKind<SqlOptions> = {
  name: 'sql',
  init: [
    {
      group: 'sql',
      files: ['**/*.[sS][qQ][lL]'],
      rank: 70,
      order: 60,
      step: {
        why: 'SQL dumps: addresses in function bodies and data rows become names (add functions:/tables:)',
        keys: 'addresses: names',
      },
    },
  ],
  encodings: SQL_ENCODINGS,
  options: s.refine(
    s.object({
      ...commonKeys,
      ...sqlRuleKeys,
      functions: s.array(nameGlob, { describe: 'a list of globs on schema.name of functions' }),
      tables: s.array(nameGlob, { describe: 'a list of globs on schema.name of tables' }),
      passwords: s.record(valueSpec, {
        describe: 'a mapping of conninfo host to a password, usually { secret: NAME }',
      }),
      database: databaseOptions,
    }),
    (v) =>
      'files' in v === 'database' in v
        ? 'a sql step needs exactly one of files: (dumps) and database: (a live server)'
        : 'database' in v && (v as { swap?: unknown[] }).swap?.length
          ? 'swap cannot be used with database: (a live server keeps no record that the swap was applied, so applying again would undo it); use replace, or swap in a dump'
          : 'database' in v && (v as { validate?: string }).validate !== undefined
            ? 'validate: checks staged files, and a sql step with database: stages none (its changes are checked by the server in its transaction); drop validate:, or give it to a step with files:'
            : undefined,
    (base) => ({
      ...base,
      oneOf: [
        { properties: { files: true }, required: ['files'] },
        { properties: { database: true }, required: ['database'] },
      ],
    }),
  ) as unknown as Schema<SqlOptions & CommonOptions>,
  needles: (o, ctx) => {
    const { needles } = compile(o, ctx)
    return needles.length ? [...needles, ...HIDING_NEEDLES] : needles
  },
  plan: (file, o, ctx) => planSql(file.text, o, ctx),
  validators: [sqlSplitValidator],
  database: sqlDatabase,
}
