import type { Diagnostic } from './diagnostic.js'
import type { Edit } from './edit.js'
import { scanLeftovers } from './leftovers.js'
import { literalNeedles, literalRules, rewriteLiterals, setEdits, setSchema } from './literal-rules.js'
import { parsePhp, phpEncoding, spanAt, type PhpDocument } from './php-lex.js'
import { phpLint } from './php-lint.js'
import { findAssignments } from './php-set.js'
import { object } from './schema.js'
import { commonKeys, ruleKeys, type CommonOptions, type Context, type RuleOptions, type StepKind, type ValueSpec } from './step.js'

/** Options of the `php` step. */
export type PhpOptions = CommonOptions & RuleOptions & {
  /** `KEY: value` assigns `define('KEY', …)`, `'KEY' => …` and `$KEY = …` (`CFG->dbhost` for `$CFG->dbhost = …`). */
  set?: Record<string, ValueSpec>
}

/**
 * The `php` step: rule keys apply only inside string literals (single, double with the literal
 * parts around interpolation, heredoc, nowdoc), never in comments or code; variants match whole
 * literals; `set` assigns values (or secrets) encoded for each literal's quoting. Staged files
 * are checked with `php -l`. php-parser is loaded on the first file planned.
 */
export const phpStep: StepKind<PhpOptions> = {
  name: 'php',
  options: object({ ...commonKeys, ...ruleKeys, set: setSchema('a constant, array key or variable name') }, { required: ['files'] }),
  needles: (o, ctx) => literalNeedles(o, ctx),
  async plan(file, o, ctx) {
    const text = file.text
    const doc = await parsePhp(text)
    const { edits: assigned, targets, diagnostics } = planSet(doc, text, o, ctx)
    const inTarget = (e: Edit) => targets.some((t) => t.start < e.end && e.start < t.end)
    const edits = [...assigned, ...rewriteLiterals(text, doc.parts, literalRules(o, ctx)).filter((e) => !inTarget(e))]
    const leftovers = scanLeftovers(text, ctx, edits, {
      reason: phpReason(doc, text, ctx),
      fallback: (o.addresses ?? 'none') === 'none' ? 'this step has addresses: none' : 'no rule of this step rewrites it',
    })
    return { edits, diagnostics, leftovers }
  },
  validators: [phpLint],
}

function planSet(doc: PhpDocument, text: string, o: PhpOptions, ctx: Context) {
  const edits: Edit[] = []
  const targets: Array<{ start: number; end: number }> = []
  const diagnostics: Diagnostic[] = []
  for (const [key, value] of Object.entries(o.set ?? {})) {
    const rule = `set.${key}`
    const found = findAssignments(doc.units, text, key)
    if (found.length === 0) {
      const at = text.indexOf(key.split('->').pop()!)
      diagnostics.push({ code: 'SET_NOT_FOUND', severity: 'warning', message: `set ${key}: no define('${key}', …), '${key}' => … or $${key} = … with a value in this file`, range: { start: Math.max(0, at), end: Math.max(0, at) + (at >= 0 ? key.length : 0) } })
      continue
    }
    for (const a of found) {
      const v = a.value
      if (v.kind === 'expression') {
        diagnostics.push({ code: 'SET_NOT_LITERAL', severity: 'warning', message: `set ${key}: the ${a.form} is assigned an expression, not a string literal; left unchanged`, range: { start: v.start, end: v.end } })
        continue
      }
      targets.push({ start: v.start, end: v.end })
      if (v.kind === 'literal') {
        edits.push(...setEdits(v.content, text.slice(v.content.start, v.content.end), value, phpEncoding(v.quote), ctx, rule))
      } else {
        edits.push(...setEdits(v, text.slice(v.start, v.end), value, ['php-single'], ctx, rule, { open: "'", close: "'" }))
      }
    }
  }
  return { edits, targets, diagnostics }
}

/** Why an occurrence was left: a comment, inline HTML, code, or a variant inside a longer literal. */
function phpReason(doc: PhpDocument, text: string, ctx: Context) {
  const variants = new Set(Object.values(ctx.variants).flatMap((g) => g.flatMap((e) => Object.values(e))))
  return (start: number, end: number): string | undefined => {
    const t = spanAt(doc.tokens, start)
    if (!t) return undefined
    if (t.type === 'T_COMMENT' || t.type === 'T_DOC_COMMENT') return 'inside a comment'
    if (t.type === 'T_INLINE_HTML') return 'outside the <?php ?> tags'
    const part = spanAt(doc.parts, start)
    if (!part) return 'not a string literal'
    if (variants.has(text.slice(start, end)) && !(part.whole && part.start === start && part.end === end)) {
      return 'inside a longer string literal (variants match whole literals)'
    }
    return undefined
  }
}
