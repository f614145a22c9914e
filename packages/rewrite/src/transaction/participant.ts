/**
 * What the transaction takes from its callers, in its own terms: it knows no step, spec or
 * secret. The apply side adapts steps (their validators, their database targets) and the
 * plan's secrets to these.
 */

/** A non-file participant (a database): prepared before the renames, committed after them. */
export interface TxParticipant {
  name: string
  prepare(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
}

/** A staged file for {@link StagedCheck.runBatch}: where it is staged, and the target it will become. */
export interface StagedItem {
  stagedPath: string
  target: string
}

/**
 * A check of a staged file before anything is installed (a step kind's validator is one):
 * resolves to a problem, or undefined when the file is fine.
 */
export interface StagedCheck {
  name: string
  /** Whether the tool it needs is here; a missing one is skipped with a warning. */
  available?(): Promise<boolean>
  run(stagedPath: string, target: string): Promise<string | undefined>
  /** Checks many staged files at once, with the verdicts of `run`: one result per item, in order. */
  runBatch?(items: readonly StagedItem[]): Promise<(string | undefined)[]>
}

/**
 * What the participants of a transaction change, journaled with it so that recovery can ask
 * them later whether they committed. JSON, opaque to the transaction: only the callback of
 * {@link ParticipantState} reads it.
 */
export interface ParticipantRecord {
  changes: readonly unknown[]
  secrets: readonly unknown[]
}

/**
 * Asks the participants of an interrupted transaction whether they committed: `before`,
 * `after`, or `{ unknown }` with the reason they cannot tell (recovery then leaves the files).
 */
export type ParticipantState = (
  record: ParticipantRecord,
) => Promise<'before' | 'after' | { unknown: string }>
