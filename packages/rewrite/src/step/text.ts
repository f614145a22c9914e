import type { Edit } from '../edit/edit.js'
import { ruleFallback, scanLeftovers } from './leftovers.js'
import { Matcher } from '../match/match.js'
import { object } from '../spec/schema.js'
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

/**
 * The `text` step: `addresses`, `replace`, `swap` and `variants` over plain text, matched in one
 * pass, leftmost-longest, with the boundary rules of each kind of literal.
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
    const edits: Edit[] = []
    for (const m of matches) {
      if (m.pattern.find === m.pattern.replace) continue
      edits.push({
        start: m.start,
        end: m.end,
        text: m.pattern.replace,
        rule: m.pattern.rule,
        summary: `${m.pattern.find} -> ${m.pattern.replace}`,
        ...(m.pattern.once ? { once: m.pattern.once } : {}),
      })
    }
    const leftovers = scanLeftovers(file.text, ctx, edits, {
      fallback: ruleFallback(o),
    })
    return { edits, diagnostics: [], leftovers }
  },
}
