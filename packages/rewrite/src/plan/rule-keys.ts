import { isMap, isScalar, isSeq, parseDocument } from 'yaml'
import type { Edit } from '../edit/edit.js'
import { boundaryFor, Matcher } from '../match/match.js'
import type { Spec, SpecStep } from '../spec/spec.js'
import { ruleEntries } from '../step/rule-entries.js'
import type { RuleOptions } from '../step/step.js'
import { LineIndex } from '../text/line-index.js'
import type { PlanNote } from './plan.js'

/**
 * The keyed rules of a step (its `replace` keys and `swap` pairs, {@link ruleEntries}): a key has
 * matched when its old or its new value (either side of a pair) is found in a file of the step,
 * so a key the plan already applied still counts, and only one that matches nowhere (a typo) is
 * reported.
 */
export interface RuleKeys {
  labels: string[]
  at: Array<Array<string | number>>
  /** The rules whose edits may spell a key in their summary. */
  rules: Set<string>
  matcher: Matcher
  keysOf: Map<string, number[]>
  seen: Set<number>
  /** The values the keys write: a file holding only one is read too. */
  targets: string[]
}

/** A step of the plan, as far as its keys go. */
export interface KeyedStep {
  step: SpecStep
  kind: { name: string }
  keys?: RuleKeys
}

/** The keyed rules of a step's options, or undefined when it has none. */
export function ruleKeys(options: RuleOptions): RuleKeys | undefined {
  const entries = ruleEntries(options)
  if (entries.length === 0) return undefined
  const keysOf = new Map<string, number[]>()
  entries.forEach((e, k) => {
    for (const f of new Set(e.finds)) keysOf.set(f, [...(keysOf.get(f) ?? []), k])
  })
  const finds = [...keysOf.keys()].filter((f) => f !== '')
  const matcher = new Matcher(
    finds.map((f) => ({
      find: f,
      replace: f,
      rule: 'key',
      boundary: boundaryFor(f),
      kind: 'name' as const,
    })),
  )
  return {
    labels: entries.map((e) => e.label),
    at: entries.map((e) => e.at),
    rules: new Set(entries.map((e) => e.rule)),
    matcher,
    keysOf,
    seen: new Set(),
    targets: entries.flatMap((e) => (e.writes === undefined || e.writes === '' ? [] : [e.writes])),
  }
}

/** Marks the keys that `text` holds. */
export function markKeys(keys: RuleKeys, text: string): void {
  if (keys.seen.size === keys.labels.length) return
  for (const m of keys.matcher.scan(text).matches)
    for (const k of keys.keysOf.get(m.pattern.find) ?? []) keys.seen.add(k)
}

/**
 * Marks the keys that edits of a step replaced (summary `find -> replace`): a literal's value
 * may hold a key that no byte of the text spells (`"a\/b"` in JSON is `a/b`).
 */
export function markEditedKeys(keys: RuleKeys, edits: readonly Edit[]): void {
  for (const e of edits) {
    if (keys.seen.size === keys.labels.length) return
    if (!keys.rules.has(e.rule) || !e.summary) continue
    // the key may itself hold ' -> ': try every split
    for (let at = e.summary.indexOf(' -> '); at !== -1; at = e.summary.indexOf(' -> ', at + 1)) {
      for (const k of keys.keysOf.get(e.summary.slice(0, at)) ?? []) keys.seen.add(k)
    }
  }
}

/** `NEVER_MATCHED` warnings for the keys of the steps that matched nothing in any of their files, at the key in the spec. */
export function neverMatched(spec: Spec, steps: readonly KeyedStep[]): PlanNote[] {
  const out: PlanNote[] = []
  let doc: ReturnType<typeof parseDocument> | undefined
  let index: LineIndex | undefined
  for (const a of steps) {
    const keys = a.keys
    if (!keys) continue
    // the key nodes of each rule mapping, looked up by key (a spec may have tens of thousands)
    const keyNodes = new Map<unknown, Map<string, unknown>>()
    keys.labels.forEach((label, k) => {
      if (keys.seen.has(k)) return
      // the spec was checked when parsed: no second check of unique keys (quadratic in yaml)
      doc ??= parseDocument(spec.source, { uniqueKeys: false })
      index ??= new LineIndex(spec.source)
      const [rule, key] = keys.at[k]!
      const node = doc.getIn(['steps', a.step.index, a.step.kind, rule!], true)
      let byKey = keyNodes.get(node)
      if (!byKey && isMap(node)) {
        keyNodes.set(node, (byKey = new Map()))
        for (const p of node.items)
          if (isScalar(p.key) && !byKey.has(String(p.key.value)))
            byKey.set(String(p.key.value), p.key)
      }
      // a replace key is shown at the key, a swap pair at the pair
      const at = isMap(node)
        ? byKey!.get(String(key))
        : isSeq(node)
          ? node.items[key as number]
          : undefined
      const range = (at as { range?: [number, number, number] } | undefined)?.range
      const pos = index.position(range ? range[0] : a.step.range.start)
      out.push({
        target: spec.path,
        line: pos.line,
        col: pos.col,
        code: 'NEVER_MATCHED',
        message: `step ${a.step.index + 1} (${a.kind.name}): ${label} matches nothing in any file of the step`,
        severity: 'warning',
      })
    })
  }
  return out
}
