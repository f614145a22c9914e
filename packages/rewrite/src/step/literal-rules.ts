import type { Edit, EncodingName } from '../edit/edit.js'
import { encodeValue, type Encoders } from '../edit/encode.js'
import { Matcher } from '../match/match.js'
import { record, refine, string, type Schema } from '../spec/schema.js'
import { perContext } from './per-context.js'
import {
  rulePatterns,
  valueSpec,
  variantPatterns,
  type Context,
  type RuleOptions,
  type ValueSpec,
} from './step.js'

/**
 * The content of one string literal (or one literal part of an interpolated string) in a
 * structured file: offsets into the text, how its characters are escaped, and whether it is the
 * literal's whole value (variants match whole literals only).
 */
export interface LiteralRegion {
  start: number
  end: number
  whole: boolean
  encoding: EncodingName[]
}

/**
 * The matchers of a structured step: substring rules (addresses, replace, swap) and whole-literal
 * variants; and the step kind's encoders, which quote a replacement for its literal.
 */
export interface LiteralRules {
  matcher: Matcher
  variants: Matcher
  encoders: Encoders
}

const matchers = perContext((o: RuleOptions, ctx) => {
  const { variants, ...rest } = o
  const whole = (variants ?? []).flatMap((g) => variantPatterns(g, ctx, 'none'))
  return { matcher: new Matcher(rulePatterns(rest, ctx)), variants: new Matcher(whole) }
})

/**
 * The rules of a structured step's options, built once per (options, context), with the step
 * kind's `encoders` (none are needed for the needles).
 */
export function literalRules(o: RuleOptions, ctx: Context, encoders: Encoders = {}): LiteralRules {
  return { ...matchers(o, ctx), encoders }
}

/** What the raw-byte prefilter of a structured step looks for: rule literals and `set` keys. */
export function literalNeedles(
  o: RuleOptions & { set?: Record<string, unknown> },
  ctx: Context,
): string[] {
  const r = literalRules(o, ctx)
  return [
    ...r.matcher.needles(),
    ...r.variants.needles(),
    ...Object.keys(o.set ?? {}).map(lastSegment),
  ]
}

/**
 * Byte needles of the escapes that may spell a needle's characters in a literal (`\x31`, `\061`,
 * `\u0031`, `\/`): a file whose only match is written so is read too. Only escapes that can
 * spell a character of some needle (any character, for the numeric ones), never a bare backslash
 * (PHP namespaces would make nearly every file read).
 */
export function escapeNeedles(
  needles: readonly string[],
  numeric: readonly string[],
  named: Readonly<Record<string, string>>,
): string[] {
  const out = new Set(numeric)
  for (const n of needles) for (const ch of n) if (named[ch] !== undefined) out.add(named[ch])
  return [...out]
}

function lastSegment(key: string): string {
  const parts = key.split(/\.|->/)
  return parts[parts.length - 1] || key
}

/**
 * Edits for the rule keys inside literal regions: a region whose whole content is a variant
 * value becomes the active profile's value; otherwise addresses, `replace` and `swap` match
 * inside it (one pass, leftmost-longest, region ends count as boundaries). Replacements are
 * encoded for the region's quoting.
 */
export function rewriteLiterals(
  text: string,
  regions: readonly LiteralRegion[],
  rules: LiteralRules,
): Edit[] {
  const edits: Edit[] = []
  for (const r of regions) {
    if (r.whole && rules.variants.patterns.length) {
      const p = rules.variants.whole(text, r.start, r.end)
      if (p) {
        if (p.find !== p.replace)
          edits.push({
            start: r.start,
            end: r.end,
            text: encodeValue(p.replace, r.encoding, rules.encoders),
            rule: p.rule,
            summary: `${p.find} -> ${p.replace}`,
            ...(p.once ? { once: p.once } : {}),
          })
        continue
      }
    }
    if (rules.matcher.patterns.length === 0) continue
    for (const m of rules.matcher.scan(text, r.start, r.end).matches) {
      if (m.pattern.find === m.pattern.replace) continue
      edits.push({
        start: m.start,
        end: m.end,
        text: encodeValue(m.pattern.replace, r.encoding, rules.encoders),
        rule: m.pattern.rule,
        summary: `${m.pattern.find} -> ${m.pattern.replace}`,
        ...(m.pattern.once ? { once: m.pattern.once } : {}),
      })
    }
  }
  return edits
}

/** Schema of a `set` mapping: key (a name or dotted path) to a value or `{ secret: NAME }`. */
export function setSchema(describeKey: string): Schema<Record<string, ValueSpec>> {
  return record(valueSpec, {
    key: refine(string({ describe: describeKey }), (v) =>
      v.trim() === '' ? 'a key must not be empty' : undefined,
    ),
    describe: `a mapping of ${describeKey} to a value or { secret: NAME }`,
  })
}

/**
 * The edits that write `value` into the content span `[start, end)` (whose current raw text is
 * `current`), encoded with `encoding` by `encoders`: none when it already holds that value (a secret: one that
 * writes it again, which changes nothing but marks where it is). A secret yields
 * one edit carrying the secret's name and encoding, marked sensitive, so plans store no value.
 * `around` adds quotes around a value that had none (e.g. a number replaced by a string).
 */
export function setEdits(
  span: { start: number; end: number },
  current: string,
  value: ValueSpec,
  encoding: EncodingName[],
  encoders: Encoders,
  ctx: Context,
  rule: string,
  around?: { open: string; close: string },
): Edit[] {
  const secret = typeof value === 'object' ? value.secret : undefined
  const raw = secret !== undefined ? ctx.secret(secret) : (value as string)
  const encoded = encodeValue(raw, encoding, encoders)
  // a secret already there is still where it is: the edit writes it again (no change), so that its
  // place is known (masked in a diff's context, never rewritten by a later step)
  if (!around && encoded === current)
    return secret !== undefined && current !== ''
      ? [
          {
            start: span.start,
            end: span.end,
            text: encoded,
            rule,
            summary: `${rule} (sensitive)`,
            secret: { name: secret, encoding },
          },
        ]
      : []
  const edit: Edit =
    secret !== undefined
      ? {
          start: span.start,
          end: span.end,
          text: encoded,
          rule,
          summary: `${rule} (sensitive)`,
          secret: { name: secret, encoding },
          sensitive: true,
        }
      : { start: span.start, end: span.end, text: encoded, rule, summary: `${rule} = ${raw}` }
  if (!around) return [edit]
  const out: Edit[] = []
  if (around.open) out.push({ start: span.start, end: span.start, text: around.open, rule })
  out.push(edit)
  if (around.close) out.push({ start: span.end, end: span.end, text: around.close, rule })
  return out
}
