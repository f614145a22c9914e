import { positionsOf } from '../text/big-text.js'
import { sortEdits, type Edit } from '../edit/edit.js'
import { readJournals, type OnceRecord } from '../transaction/journal.js'
import type { StateFileSystem } from '../transaction/state-file-system.js'

export type { OnceRecord } from '../transaction/journal.js'

/** A one-time move applied to a file, and the transaction that applied it. */
export interface OnceApplied extends OnceRecord {
  txid: string
}

/**
 * What is known of one target: the one-time moves applied to it, by id; and `unrecorded`, the
 * txid of the latest apply of an older cutover that wrote it without recording its moves.
 */
export interface TargetOnce {
  moves: ReadonlyMap<string, OnceApplied>
  unrecorded?: string
}

/** The one-time moves applied to each target (relative path). */
export type AppliedOnce = ReadonlyMap<string, TargetOnce>

/**
 * The one-time moves (swaps) that committed apply transactions in `stateDir` wrote, per target
 * and id, the latest one of each; transactions that were rolled back do not count. Whatever spec,
 * profile or plan the transactions came from. `fs`: the state directory's file system (local by
 * default).
 */
export async function appliedOnce(stateDir: string, fs?: StateFileSystem): Promise<AppliedOnce> {
  const journals = await readJournals(stateDir, fs)
  const undone = new Set(
    journals.filter((j) => j.kind === 'rollback' && j.state === 'committed').map((j) => j.restores),
  )
  const out = new Map<string, { moves: Map<string, OnceApplied>; unrecorded?: string }>()
  for (const j of journals) {
    if (j.kind !== 'apply' || j.state !== 'committed' || undone.has(j.txid)) continue
    for (const t of j.targets) {
      if (!t.once?.length && j.meta?.once) continue
      let known = out.get(t.target)
      if (!known) out.set(t.target, (known = { moves: new Map() }))
      if (!j.meta?.once) known.unrecorded = j.txid
      for (const r of t.once ?? []) known.moves.set(r.id, { ...r, txid: j.txid })
    }
  }
  return out
}

/**
 * The records of the one-time edits of a pass, `input` being the pass's input text: appended to
 * `into` by id, in file order (the order later passes keep).
 */
export function recordOnce(
  input: string,
  pass: readonly Edit[],
  into: Map<string, OnceRecord>,
): void {
  for (const e of sortEdits(pass)) {
    // a secret is never written to the journal (and no one-time rule writes one)
    if (!e.once || e.secret) continue
    let r = into.get(e.once)
    if (!r) into.set(e.once, (r = { id: e.once, wrote: [], was: [] }))
    r.wrote.push(e.text)
    r.was.push(input.slice(e.start, e.end))
  }
}

/** A warning about a one-time move left alone, located in the text it was planned on. */
export interface OnceNote {
  at: { line: number; col: number }
  code: 'ONCE_CHANGED' | 'ONCE_UNRECORDED'
  message: string
}

/**
 * The edits of a step's result to plan, given the one-time moves applied to the file before:
 * the edits of a move are left out while the places it edits hold, in order, what it wrote
 * (places added since do not matter); they are kept when the places hold again what they held
 * before the move (it was undone outside cutover). Otherwise the file changed where the move
 * edits: its edits are left out with a warning, never planned again blindly (that could undo
 * the move). A move without a record on a file that an older cutover (which kept no records)
 * wrote is planned, with a warning that it may have been applied already.
 */
export function plannedOnce(
  text: string,
  edits: readonly Edit[],
  known: TargetOnce | undefined,
  notes: OnceNote[],
): Edit[] {
  if (!known || !edits.some((e) => e.once)) return edits as Edit[]
  const applied = known.moves
  const byId = new Map<string, Edit[]>()
  for (const e of edits) if (e.once) byId.set(e.once, [...(byId.get(e.once) ?? []), e])
  const drop = new Set<string>()
  for (const [id, list] of byId) {
    const r = applied.get(id)
    const sorted = sortEdits(list)
    if (!r) {
      if (known.unrecorded) {
        notes.push({
          at: positionsOf(text, [sorted[0]!.start]).get(sorted[0]!.start)!,
          code: 'ONCE_UNRECORDED',
          message: `${id}: this file was written by transaction ${known.unrecorded} of an older cutover, which kept no record of swaps: check that it is not applied already before applying it`,
        })
      }
      continue
    }
    const now = sorted.map((e) => text.slice(e.start, e.end))
    if (same(now, r.was) && !same(now, r.wrote)) continue
    drop.add(id)
    // places added since do not matter, unless they hold what the move replaced too, in order:
    // then nothing tells a file restored by hand (plus a line) from an applied one
    const holds = subsequence(r.wrote, now)
    if (!holds || subsequence(r.was, now)) {
      const at = positionsOf(text, [sorted[0]!.start]).get(sorted[0]!.start)!
      notes.push({
        at,
        code: 'ONCE_CHANGED',
        message: holds
          ? `${id} was applied to this file by transaction ${r.txid}, and the places it edits now hold both what it wrote and what it replaced (${now.length} places, it edited ${r.wrote.length}): it may have been undone by hand; not planned again; check them by hand`
          : `${id} was applied to this file by transaction ${r.txid}, and the places it edits changed since (it wrote ${r.wrote.length}, ${now.length} now): not planned again; check them by hand`,
      })
    }
  }
  return drop.size ? edits.filter((e) => !e.once || !drop.has(e.once)) : (edits as Edit[])
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** True when `part` occurs in `whole` in order (not necessarily side by side). */
function subsequence(part: readonly string[], whole: readonly string[]): boolean {
  let i = 0
  for (const w of whole) if (i < part.length && w === part[i]) i++
  return i === part.length
}
