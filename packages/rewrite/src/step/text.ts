import type { Edit } from '../edit/edit.js'
import { ruleFallback, scanLeftovers } from './leftovers.js'
import { Matcher } from '../match/match.js'
import { object } from '../spec/schema.js'
import { outsideKeysReason } from './keys.js'
import { perContext } from './per-context.js'
import {
  commonKeys,
  rulePatterns,
  ruleKeys,
  type CommonOptions,
  type RuleOptions,
  type StepKind,
} from './step.js'

/** Options of the `text` step. */
export type TextOptions = CommonOptions & RuleOptions

/** The step's matcher, built once per plan. */
const matcherOf = perContext((o: TextOptions, ctx) => new Matcher(rulePatterns(o, ctx)))

/** A span of the text, half-open. */
interface Span {
  start: number
  end: number
}

/**
 * The values of the lines a `keys:` list names: for each line whose first word (after blanks;
 * a word ends at a blank, `=` or `:`) is one of `keys`, exactly, the rest of the line after
 * that word. In order of the text.
 */
export function keyedLineValues(text: string, keys: readonly string[]): Span[] {
  const wanted = new Set(keys)
  const out: Span[] = []
  const line = /^[ \t]*([^ \t\r\n=:]+)([^\n]*)$/gm
  for (const m of text.matchAll(line)) {
    if (!wanted.has(m[1]!)) continue
    const start = m.index + m[0].length - m[2]!.length
    out.push({ start, end: m.index + m[0].length })
  }
  return out
}

/** Whether `[start, end)` lies inside one of `spans` (sorted, disjoint). */
function within(spans: readonly Span[], start: number, end: number): boolean {
  let lo = 0
  let hi = spans.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (spans[mid]!.end < end) lo = mid + 1
    else hi = mid
  }
  const s = spans[lo]
  return s !== undefined && s.start <= start && end <= s.end
}

/**
 * The `text` step: `addresses`, `replace`, `swap` and `variants` over plain text, matched in one
 * pass, leftmost-longest, with the boundary rules of each kind of literal. With `keys:`, only
 * on the lines that begin with one of those words, after the word.
 */
export const textStep: StepKind<TextOptions> = {
  name: 'text',
  init: [
    {
      group: 'pg_hba',
      files: ['**/pg_hba.conf'],
      rank: 20,
      order: 50,
      step: {
        why: 'pg_hba.conf matches client addresses: they become the new addresses, not names',
        keys: 'addresses: new',
      },
    },
    {
      group: 'text',
      files: ['**'],
      rank: 1000,
      order: 40,
      step: {
        why: 'other text files (scripts, cron jobs, configs): addresses become names',
        keys: 'addresses: names',
      },
    },
  ],
  options: object({ ...commonKeys, ...ruleKeys }, { required: ['files'] }),
  needles(o, ctx) {
    return matcherOf(o, ctx).needles()
  },
  plan(file, o, ctx) {
    const matcher = matcherOf(o, ctx)
    const { matches } = matcher.scan(file.text)
    const keyed = o.keys ? keyedLineValues(file.text, o.keys) : undefined
    const edits: Edit[] = []
    // what a rule of the step would have rewritten but for its keys: only that is "outside the keys"
    const skipped: Span[] = []
    for (const m of matches) {
      if (m.pattern.find === m.pattern.replace) continue
      if (keyed && !within(keyed, m.start, m.end)) {
        skipped.push({ start: m.start, end: m.end })
        continue
      }
      edits.push({
        start: m.start,
        end: m.end,
        text: m.pattern.replace,
        rule: m.pattern.rule,
        summary: `${m.pattern.find} -> ${m.pattern.replace}`,
        ...(m.pattern.once ? { once: m.pattern.once } : {}),
      })
    }
    const outside = o.keys ? outsideKeysReason(o.keys) : undefined
    const leftovers = scanLeftovers(file.text, ctx, edits, {
      fallback: ruleFallback(o),
      ...(keyed && outside
        ? {
            reason: (start: number, end: number) =>
              within(skipped, start, end) ? outside : undefined,
          }
        : {}),
    })
    return { edits, diagnostics: [], leftovers }
  },
}
