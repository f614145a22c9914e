import {
  commonKeys,
  type CommonOptions,
  type Diagnostic,
  literalNeedles,
  type LiteralRegion,
  literalRules,
  rewriteLiterals,
  ruleKeys,
  type RuleOptions,
  s,
  ruleFallback,
  scanLeftovers,
  type StepKind,
  type Encoders,
} from '@cutover/rewrite'

type Ts = typeof import('ts-morph').ts
type TsNode = import('ts-morph').ts.Node
let loaded: Promise<Ts> | undefined

/** Loads ts-morph's TypeScript on first use only: `cutover --help` and other steps never load it. */
function typescript(): Promise<Ts> {
  loaded ??= import('ts-morph').then((m) => m.ts)
  return loaded
}

/** Options of the `js` step (JavaScript and TypeScript: config.js, knexfile.ts, …). */
export type JsOptions = CommonOptions & RuleOptions

/** A JS/TS file as located spans: literal parts (string literals, template literal text) and comments. */
export interface JsDocument {
  parts: LiteralRegion[]
  comments: Array<{ start: number; end: number }>
  errors: Diagnostic[]
}

/** Parses JS or TS (by the path's extension) to locate string literal contents and comments; never throws. */
export async function parseJs(text: string, path: string): Promise<JsDocument> {
  const ts = await typescript()
  const kind = /\.tsx$/.test(path)
    ? ts.ScriptKind.TSX
    : /\.[cm]?ts$/.test(path)
      ? ts.ScriptKind.TS
      : /\.jsx$/.test(path)
        ? ts.ScriptKind.JSX
        : ts.ScriptKind.JS
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind)
  const parts: LiteralRegion[] = []
  const comments = new Map<number, { start: number; end: number }>()
  const addComments = (ranges: readonly { pos: number; end: number }[] | undefined) => {
    for (const c of ranges ?? []) comments.set(c.pos, { start: c.pos, end: c.end })
  }
  const visit = (n: TsNode) => {
    addComments(ts.getLeadingCommentRanges(text, n.pos))
    addComments(ts.getTrailingCommentRanges(text, n.end))
    const start = n.getStart(sf)
    if (ts.isStringLiteral(n)) {
      parts.push({
        start: start + 1,
        end: n.end - 1,
        whole: true,
        encoding: [text[start] === "'" ? 'js-single' : 'js-double'],
      })
    } else if (ts.isNoSubstitutionTemplateLiteral(n)) {
      parts.push({ start: start + 1, end: n.end - 1, whole: true, encoding: ['js-template'] })
    } else if (ts.isTemplateHead(n) || ts.isTemplateMiddle(n)) {
      parts.push({ start: start + 1, end: n.end - 2, whole: false, encoding: ['js-template'] })
    } else if (ts.isTemplateTail(n)) {
      parts.push({ start: start + 1, end: n.end - 1, whole: false, encoding: ['js-template'] })
    }
    // getChildren includes punctuation tokens, so comments after `,` or before `}` are found too
    for (const c of n.getChildren(sf)) visit(c)
  }
  visit(sf)
  addComments(ts.getLeadingCommentRanges(text, sf.endOfFileToken.pos))
  const diags =
    (
      sf as unknown as {
        parseDiagnostics?: Array<{ start?: number; length?: number; messageText: unknown }>
      }
    ).parseDiagnostics ?? []
  const errors = diags.map((d) => ({
    code: 'JS_SYNTAX',
    message: `invalid JavaScript/TypeScript: ${typeof d.messageText === 'string' ? d.messageText : 'syntax error'}`,
    range: { start: d.start ?? 0, end: (d.start ?? 0) + (d.length ?? 0) },
  }))
  parts.sort((a, b) => a.start - b.start)
  return { parts, comments: [...comments.values()].sort((a, b) => a.start - b.start), errors }
}

/** The encoders of JS/TS string literals and template text: the `js` step kind registers them. */
// the rule keys without `keys:`: string literals of code have no key path to limit them by
const { keys: _keys, ...jsRuleKeys } = ruleKeys

const JS_ENCODINGS: Encoders = {
  'js-single': (v) => JSON.stringify(v).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'"),
  'js-double': (v) => JSON.stringify(v).slice(1, -1),
  'js-template': (v) => v.replace(/[\\`]/g, '\\$&').replace(/\$\{/g, '\\${'),
}

/**
 * The `js` step: rule keys apply inside string literals and the literal text of template
 * literals only, never in comments or code; variants match whole literals. Uses ts-morph's
 * TypeScript parser, loaded on the first file planned.
 */
export const jsStep: StepKind<JsOptions> = {
  name: 'js',
  init: [
    {
      group: 'js',
      files: ['**/*.[jJ][sS]', '**/*.[cCmM][jJ][sS]', '**/*.[tT][sS]'],
      rank: 60,
      order: 30,
      step: {
        why: 'JavaScript/TypeScript configs: addresses inside string literals become names',
        keys: 'addresses: names',
      },
    },
  ],
  encodings: JS_ENCODINGS,
  options: s.object({ ...commonKeys, ...jsRuleKeys }, { required: ['files'] }),
  needles: (o, ctx) => literalNeedles(o, ctx),
  async plan(file, o, ctx) {
    const doc = await parseJs(file.text, file.path)
    if (doc.errors.length) return { edits: [], diagnostics: doc.errors, leftovers: [] }
    const edits = rewriteLiterals(file.text, doc.parts, literalRules(o, ctx, JS_ENCODINGS))
    const inside = (list: ReadonlyArray<{ start: number; end: number }>, at: number) =>
      list.some((r) => r.start <= at && at < r.end)
    const leftovers = scanLeftovers(file.text, ctx, edits, {
      reason: (start) =>
        inside(doc.comments, start)
          ? 'inside a comment'
          : inside(doc.parts, start)
            ? undefined
            : 'not a string literal',
      fallback: ruleFallback(o),
    })
    return { edits, diagnostics: [], leftovers }
  },
}
