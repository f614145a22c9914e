// Correctness of a saved cutover plan: the output of every file is rebuilt from the plan's
// edits (pass by pass) and checked like any tool's output.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkText, tally } from './check.mjs'

/** The text a plan change produces from the original text. */
export function applyChange(orig, change) {
  let text = orig
  const passes = new Map()
  for (const e of change.edits) {
    if (!passes.has(e.pass)) passes.set(e.pass, [])
    passes.get(e.pass).push(e)
  }
  for (const pass of [...passes.keys()].sort((a, b) => a - b)) {
    const pieces = []
    let at = 0
    for (const e of passes.get(pass).sort((a, b) => a.start - b.start)) {
      pieces.push(text.slice(at, e.start), e.text)
      at = e.end
    }
    pieces.push(text.slice(at))
    text = pieces.join('')
  }
  return text
}

/** Checks a plan document against the expected sites of the files below `root`. */
export function checkPlan(planPath, root, expected) {
  const plan = JSON.parse(readFileSync(planPath, 'utf8'))
  const byTarget = new Map(plan.changes.map((c) => [c.target, c]))
  const t = tally()
  for (const entry of expected.listed) {
    const orig = readFileSync(join(root, entry.path), 'latin1')
    const change = byTarget.get(entry.path)
    byTarget.delete(entry.path)
    checkText(t, orig, change ? applyChange(orig, change) : orig, entry)
  }
  // a change to a file the generator put nothing in is wrong, edit by edit
  for (const c of byTarget.values()) t.wrong += c.edits.length
  t.leftovers = plan.leftovers.length
  return t
}

/**
 * Checks the review of a plan across machines, edit by edit: each machine's changes against the
 * originals in `pristine[name]` and that machine's expected sites. Summed over the machines.
 */
export function checkMachinesPlan(planPath, pristine, expectedByName) {
  const plan = JSON.parse(readFileSync(planPath, 'utf8'))
  const t = tally()
  for (const [name, expected] of Object.entries(expectedByName)) {
    const byTarget = new Map(
      plan.changes.filter((c) => c.machine === name).map((c) => [c.target, c]),
    )
    for (const entry of expected.listed) {
      const orig = readFileSync(join(pristine[name], entry.path), 'latin1')
      const change = byTarget.get(entry.path)
      byTarget.delete(entry.path)
      checkText(t, orig, change ? applyChange(orig, change) : orig, entry)
    }
    for (const c of byTarget.values()) t.wrong += c.edits.length
  }
  // a change on a machine the bench did not make
  for (const c of plan.changes) if (!(c.machine in expectedByName)) t.wrong += c.edits.length
  return { ...t, note: `${t.done}/${t.expected} edits, ${t.missed} missed, ${t.wrong} wrong` }
}

/** Checks the files of `rewritten` (a copy of `pristine` that a tool rewrote) against the expected sites. */
export function checkTree(pristine, rewritten, expected) {
  const t = tally()
  for (const entry of expected.listed)
    checkText(
      t,
      readFileSync(join(pristine, entry.path), 'latin1'),
      readFileSync(join(rewritten, entry.path), 'latin1'),
      entry,
    )
  return t
}
