import {
  asWritten,
  commonKeys,
  type CommonOptions,
  type Context,
  type Diagnostic,
  type Edit,
  encodeValue,
  type EncodingName,
  escapeNeedles,
  literalNeedles,
  literalRules,
  mergeLeftovers,
  rewriteValues,
  outsideKeysReason,
  ruleKeys,
  type RuleOptions,
  s,
  ruleFallback,
  scanLeftovers,
  setEdits,
  setSchema,
  type StepKind,
  valueLeftovers,
  type ValueSpec,
} from '@cutover/rewrite'
import { parsePhp, PHP_ENCODINGS, phpEncoding, spanAt, type PhpDocument } from './lex.js'
import { phpLint } from './lint.js'
import { findAssignments } from './set.js'
import { insideSpans, keyScopeAnywhere } from '../keys.js'
import { phpLiteralPaths } from './keys.js'
import { checkInterpolation, closesHeredoc, decodePhpPart, fixInterpolation } from './value.js'

/** Options of the `php` step. */
export type PhpOptions = CommonOptions &
  RuleOptions & {
    /** `KEY: value` assigns `define('KEY', …)`, `'KEY' => …` and `$KEY = …` (`CFG->dbhost` for `$CFG->dbhost = …`). */
    set?: Record<string, ValueSpec>
  }

/** PHP escapes that spell any character (`\x41`, `\u{41}`, `\101`), and those of one character. */
const PHP_NUMERIC_ESCAPES = ['\\x', '\\u{', ...'01234567'.split('').map((d) => `\\${d}`)]
const PHP_NAMED_ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\t': '\\t',
  '\r': '\\r',
  '\v': '\\v',
  '\x1b': '\\e',
  '\f': '\\f',
  $: '\\$',
  '"': '\\"',
  "'": "\\'",
  '\\': '\\\\',
}

/**
 * The `php` step: rule keys apply only inside string literals (single, double with the literal
 * parts around interpolation, heredoc, nowdoc), never in comments or code; variants match whole
 * literals; `set` assigns values (or secrets) encoded for each literal's quoting. Staged files
 * are checked with `php -l`. php-parser is loaded on the first file planned.
 */
export const phpStep: StepKind<PhpOptions> = {
  name: 'php',
  init: [
    {
      group: 'php',
      files: ['**/*.[pP][hH][pP]', '**/*.[iI][nN][cC]', '**/*.[pP][hH][tT][mM][lL]'],
      rank: 30,
      order: 0,
      step: {
        why: 'PHP files: addresses inside string literals become names',
        keys: 'addresses: names',
      },
    },
  ],
  encodings: PHP_ENCODINGS,
  options: s.object(
    { ...commonKeys, ...ruleKeys, set: setSchema('a constant, array key or variable name') },
    { required: ['files'] },
  ),
  // a match spelled with escapes holds no byte of its needle: a file with such an escape is read
  needles: (o, ctx) => {
    const n = literalNeedles(o, ctx)
    return [...n, ...escapeNeedles(n, PHP_NUMERIC_ESCAPES, PHP_NAMED_ESCAPES)]
  },
  async plan(file, o, ctx) {
    const text = file.text
    const doc = await parsePhp(text)
    const { edits: assigned, targets, diagnostics } = planSet(doc, text, o, ctx)
    const inTarget = (e: { start: number; end: number }) =>
      targets.some((t) => t.start < e.end && e.start < t.end)
    // rules match the value PHP reads (escapes decoded, heredoc indentation removed), not the source text
    const literals = doc.parts.map((p) => decodePhpPart(text, p))
    // with keys:, only the literals of those keys are ruled; every other one (another key's, or
    // one with no key path, such as the index of an assignment's target) is left, and said to be
    const inScope = keyScopeAnywhere(o.keys)
    const inside = o.keys ? phpLiteralPaths(doc.units, text).filter((l) => inScope(l.path)) : []
    const ruled = o.keys ? literals.filter((d) => insideSpans(inside, d.region.start)) : literals
    const fix = (
      d: Parameters<typeof fixInterpolation>[2],
      a: number,
      b: number,
      span: { start: number; end: number },
      encoded: string,
    ) => fixInterpolation(doc, text, d, a, b, span, encoded)
    const found = rewriteValues(ruled, literalRules(o, ctx, PHP_ENCODINGS), fix)
    const checked = await checkInterpolation(
      doc,
      text,
      found.edits.filter((e) => !inTarget(e)),
    )
    const edits = [...assigned, ...checked.edits]
    diagnostics.push(...checked.diagnostics)
    for (const l of found.refused) {
      if (!inTarget(l))
        diagnostics.push({
          code: 'PHP_INTERPOLATION',
          severity: 'warning',
          message: `${l.text}: ${l.reason}; edit it by hand`,
          range: { start: l.start, end: l.end },
        })
    }
    const why = phpReason(doc, text, ctx)
    const keysReason = o.keys ? outsideKeysReason(o.keys) : ''
    const reason = (start: number, end: number) =>
      why(start, end) ?? (o.keys && !insideSpans(inside, start) ? keysReason : undefined)
    const fallback = ruleFallback(o)
    const leftovers = mergeLeftovers(
      scanLeftovers(text, ctx, edits, { reason, fallback }),
      literals,
      [
        ...valueLeftovers(literals, ctx, edits, reason, fallback),
        ...[...found.unmapped, ...found.refused, ...checked.refused].filter((l) => !inTarget(l)),
      ],
    )
    return { edits, diagnostics, leftovers: asWritten(text, leftovers) }
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
      diagnostics.push({
        code: 'SET_NOT_FOUND',
        severity: 'warning',
        message: `set ${key}: no define('${key}', …), '${key}' => … or $${key} = … with a value in this file`,
        range: { start: Math.max(0, at), end: Math.max(0, at) + (at >= 0 ? key.length : 0) },
      })
      continue
    }
    for (const a of found) {
      const v = a.value
      if (v.kind === 'expression') {
        diagnostics.push({
          code: 'SET_NOT_LITERAL',
          severity: 'warning',
          message: `set ${key}: the ${a.form} is assigned an expression, not a string literal; left unchanged`,
          range: { start: v.start, end: v.end },
        })
        continue
      }
      targets.push({ start: v.start, end: v.end })
      if (v.kind === 'literal' && v.label) {
        const raw = typeof value === 'object' ? ctx.secret(value.secret) : value
        const encoded = encodeValue(raw, phpEncoding(v.quote), PHP_ENCODINGS).replace(
          /\n/g,
          `\n${v.indent ?? ''}`,
        )
        if (
          closesHeredoc(text, v.content.start, v.content.start, (v.indent ?? '') + encoded, v.label)
        ) {
          diagnostics.push({
            code: 'SET_UNSAFE',
            severity: 'warning',
            message: `set ${key}: a line of the value would close the heredoc (${v.label}) and make the rest code; left unchanged`,
            range: { start: v.start, end: v.end },
          })
          continue
        }
      }
      if (v.kind === 'literal' && v.indent) {
        const r = setIndented(text, v.content, v.indent, value, phpEncoding(v.quote), ctx, rule)
        if (typeof r === 'string')
          diagnostics.push({
            code: 'SET_UNSAFE',
            severity: 'warning',
            message: `set ${key}: ${r}; left unchanged`,
            range: { start: v.start, end: v.end },
          })
        else edits.push(...r)
      } else if (v.kind === 'literal') {
        edits.push(
          ...setEdits(
            v.content,
            text.slice(v.content.start, v.content.end),
            value,
            phpEncoding(v.quote),
            PHP_ENCODINGS,
            ctx,
            rule,
          ),
        )
      } else {
        edits.push(
          ...setEdits(
            v,
            text.slice(v.start, v.end),
            value,
            ['php-single'],
            PHP_ENCODINGS,
            ctx,
            rule,
            {
              open: "'",
              close: "'",
            },
          ),
        )
      }
    }
  }
  return { edits, targets, diagnostics }
}

/**
 * `set` into a flexible heredoc (PHP 7.3+, indented closing marker): the body keeps the
 * marker's indentation on every line, or PHP rejects the file. The first line's indentation
 * stays out of the edit, so a one-line value (a secret included) is written as it is encoded; a
 * value of several lines gets the indentation after each newline (a secret of several lines
 * is refused: the plan stores only its name and encoding).
 */
function setIndented(
  text: string,
  content: { start: number; end: number },
  indent: string,
  value: ValueSpec,
  encoding: EncodingName[],
  ctx: Context,
  rule: string,
): Edit[] | string {
  const first =
    text.startsWith(indent, content.start) && content.start + indent.length <= content.end
      ? content.start + indent.length
      : content.start
  const span = { start: first, end: content.end }
  const raw = typeof value === 'object' ? ctx.secret(value.secret) : value
  if (!raw.includes('\n'))
    return setEdits(
      span,
      text.slice(span.start, span.end),
      value,
      encoding,
      PHP_ENCODINGS,
      ctx,
      rule,
    )
  if (typeof value === 'object') return 'the secret has several lines and the heredoc is indented'
  const encoded = encodeValue(raw, encoding, PHP_ENCODINGS).replace(/\n/g, `\n${indent}`)
  return encoded === text.slice(span.start, span.end)
    ? []
    : [{ ...span, text: encoded, rule, summary: `${rule} = ${raw}` }]
}

/** Why an occurrence was left: a comment, inline HTML, code, or a variant inside a longer literal. */
function phpReason(doc: PhpDocument, text: string, ctx: Context) {
  const variants = new Set(
    Object.values(ctx.variants).flatMap((g) => g.flatMap((e) => Object.values(e))),
  )
  return (start: number, end: number): string | undefined => {
    const t = spanAt(doc.tokens, start)
    if (!t) return undefined
    if (t.type === 'T_COMMENT' || t.type === 'T_DOC_COMMENT') return 'inside a comment'
    if (t.type === 'T_INLINE_HTML') return 'outside the <?php ?> tags'
    if (t.type === 'T_HALT_DATA') return 'data after __halt_compiler(), not code'
    const part = spanAt(doc.parts, start)
    if (!part) return 'not a string literal'
    if (
      variants.has(text.slice(start, end)) &&
      !(part.whole && part.start === start && part.end === end)
    ) {
      return 'inside a longer string literal (variants match whole literals)'
    }
    return undefined
  }
}
