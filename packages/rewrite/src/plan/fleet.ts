import type { Spec } from '../spec/spec.js'
import { LineIndex } from '../text/line-index.js'
import type { Plan, PlanNote } from './plan.js'

/**
 * The notes on the spec itself (`NEVER_MATCHED`, `ACCEPT_UNMATCHED`, … at `cutover.yaml:line:col`)
 * of a fleet's plans, once each: a note is kept when every machine that could give it did. A note
 * within a step could come from the machines the step runs on (its `on`, of those planned); any
 * other note, from every machine planned. A key that matched on one machine matched.
 */
export function fleetSpecNotes(
  spec: Spec,
  plans: ReadonlyArray<{ name: string; plan: Plan }>,
): PlanNote[] {
  const index = new LineIndex(spec.source)
  const seen = new Map<string, { note: PlanNote; machines: Set<string> }>()
  for (const { name, plan } of plans)
    for (const n of plan.notes) {
      if (n.target !== plan.specPath) continue
      const key = `${n.code}\u0000${n.line ?? 0}:${n.col ?? 0}\u0000${n.message}`
      const entry = seen.get(key) ?? { note: n, machines: new Set<string>() }
      entry.machines.add(name)
      seen.set(key, entry)
    }
  const planned = plans.map((p) => p.name)
  const out: PlanNote[] = []
  for (const { note, machines } of seen.values()) {
    const at = note.line === undefined ? -1 : index.offset({ line: note.line, col: note.col ?? 1 })
    const step = spec.steps.find((s) => s.range.start <= at && at < s.range.end)
    const could = step?.options.on ? planned.filter((m) => step.options.on!.includes(m)) : planned
    if (could.every((m) => machines.has(m))) out.push(note)
  }
  return out
}
