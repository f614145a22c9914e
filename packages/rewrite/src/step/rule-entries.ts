import type { RuleOptions } from './step.js'

/**
 * One entry of a step's keyed rules, as data: a `replace` key or a `swap` pair. Planning warns
 * (`NEVER_MATCHED`) of an entry found in no file of its step, without naming any rule itself.
 */
export interface RuleEntry {
  /** The rule its edits name (`Edit.rule`, whose `summary` is `find -> replace`). */
  rule: string
  /** How a warning names it: `replace key "a"`, `swap [a, b]`. */
  label: string
  /** Where it is in the step's options, e.g. `['replace', 'a']` or `['swap', 0]`. */
  at: [string, string | number]
  /** Texts that show it matched where a file holds one: its old and its new value. */
  finds: string[]
  /** The value it writes, when a file holding only that is to be read too (it was applied). */
  writes?: string
}

/** The entries of the keyed rules of a step's options, `replace` keys first, in order. */
export function ruleEntries(o: RuleOptions): RuleEntry[] {
  const out: RuleEntry[] = []
  for (const [from, to] of Object.entries(o.replace ?? {}))
    out.push({
      rule: 'replace',
      label: `replace key "${from}"`,
      at: ['replace', from],
      finds: [from, to],
      writes: to,
    })
  ;(o.swap ?? []).forEach(([a, b], i) =>
    out.push({ rule: 'swap', label: `swap [${a}, ${b}]`, at: ['swap', i], finds: [a, b] }),
  )
  return out
}
