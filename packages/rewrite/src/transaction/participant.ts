import type { ToolRun } from '../fs/tool.js'

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
  /**
   * The check runs in this process and reads only the staged file (no command): many may run at
   * once. Without it, one per core at once.
   */
  inProcess?: boolean
  /** Checks many staged files at once, with the verdicts of `run`: one result per item, in order. */
  runBatch?(items: readonly StagedItem[]): Promise<(string | undefined)[]>
  /** The same check as a command, for a file staged on another machine (see {@link StagedTool}). */
  tool?: StagedTool
}

/**
 * A check that is a command run on the staged file (`visudo -cf PATH`, `php -l PATH`), so that it
 * can run on the machine the file is staged on, with that machine's version of the tool.
 */
export interface StagedTool {
  /**
   * The command and its arguments checking the file staged at `stagedPath`; `argv[0]` is looked
   * up on the PATH. `scratch`: the scratch root, for a tool that asks for one.
   */
  argv(stagedPath: string, scratch?: string): string[]
  /**
   * The check's verdict on what the command gave: the problem (naming `target`, not the staged
   * path), or undefined when the file is fine. The same text as the check's `run` gives.
   */
  verdict(run: ToolRun, target: string, stagedPath: string, scratch?: string): string | undefined
  /**
   * The command also reads a scratch root: a private directory, made on the machine the file is
   * staged on just before the command and removed after it, holding a copy of the staged file at
   * its target's path (a step's `validate:` with `%d`).
   */
  scratch?: boolean
  /**
   * A machine that lacks the command fails the check rather than skipping it with a warning (a
   * command the spec asks for by name).
   */
  required?: boolean
  /** Optional: one command checking many staged files at once (see {@link StagedToolBatch}). */
  batch?: StagedToolBatch
}

/**
 * One command that checks many staged files in one process on the machine they are staged on
 * (`php-lint`'s OPcache driver), instead of {@link StagedTool.argv} once a file. A file it does
 * not answer (the tool cannot tell, or it stopped before that file) is checked with `argv`.
 */
export interface StagedToolBatch {
  /** The command; `argv[0]` is looked up on the PATH. */
  argv: string[]
  /** Its standard input, naming the staged paths. */
  input(stagedPaths: readonly string[]): Buffer
  /**
   * The verdict of each item from what the command printed: the problem (naming its target), or
   * undefined when it is fine (the verdicts `argv` would give), or null when not answered.
   */
  verdicts(run: ToolRun, items: readonly StagedItem[]): Array<string | undefined | null>
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
