import type { Edit } from '../edit/edit.js'
import type { SecretRecord } from '../spec/secrets.js'
import type { DatabaseChange } from '../step/database.js'
import type { TextEncoding } from '../text/source.js'

/** One file the plan changes. */
export interface FileChange {
  /** Path relative to the root, `/`-separated. */
  target: string
  /** The step kinds that edit it, in order. */
  kinds: string[]
  encoding: TextEncoding
  /**
   * Where the target is in the root when a link leads elsewhere (the link, or a linked
   * directory above it, followed as a chroot would): the path written, relative to the root.
   */
  link?: string
  /**
   * `sha256:` of the file's bytes when planned; for a file holding a sensitive value,
   * `masked-sha256:` of `salt` and the text with every sensitive value masked (see `maskedHash`).
   */
  before: string
  /** `sha256:` of the new bytes, or `masked-sha256:` like `before`. */
  after: string
  /** Random salt (hex) of the `masked-sha256:` hashes, when the file holds a sensitive value. */
  salt?: string
  /** Permission bits of the file, e.g. `0o640`. */
  mode: number
  /** The edits of each step in order; each pass's offsets index the previous pass's output. */
  passes: Edit[][]
  beforeText: string
  /** The new text (made again from `beforeText` and `passes` on each read). */
  afterText: string
  /** The unified diff shown to people (sensitive values shown as `(sensitive)`, by position). */
  diff: string
  added: number
  removed: number
  /** Names of the validators to run on the staged file. */
  validators: string[]
  /** Every step that edits it says `allow-user-writable: true`. */
  allowUserWritable?: boolean
}

/**
 * Something left in a file in scope, located in the file's planned (final) text; `onDisk` is
 * where the same text is in the file as it is now, when that differs (edits before it).
 */
export interface PlannedLeftover {
  target: string
  line: number
  col: number
  text: string
  reason: string
  onDisk?: { line: number; col: number }
  /** The reason of the spec's `accept:` entry that allows it: it does not fail `verify --strict`. */
  accepted?: string
}

/** A warning or note of planning, located where possible. */
export interface PlanNote {
  target: string
  line?: number
  col?: number
  code: string
  message: string
  severity: 'warning' | 'note'
}

/** The result of planning a spec for one profile against one root. */
export interface Plan {
  version: 1
  profile: string | undefined
  root: string
  spec: string
  specPath: string
  changes: FileChange[]
  leftovers: PlannedLeftover[]
  notes: PlanNote[]
  /** Changes to live databases, in step order. */
  database: DatabaseChange[]
  secrets: SecretRecord[]
  /**
   * Values never to show: the secrets, what secret edits write, and the old values sensitive edits
   * replace. Diffs hide them by position; free text (notes) as whole words. Never serialized.
   */
  sensitive: string[]
  /**
   * The old values that this plan's sensitive edits replace: a fleet hides each machine's in the
   * plans of the others (`PlanOptions.hidden`). Never serialized.
   */
  oldValues?: string[]
  /** Counts for progress and summaries. */
  stats: { considered: number; read: number; skipped: number }
}

/**
 * What the planner tells of its progress: `file`, a file is done (`what` says how: `changed`,
 * `no change`, `skipped: binary`…; a changed file's `validators`, those of its change); `read`,
 * how many of the `total` existing targets are done and how many of them change.
 */
export type PlanEvent =
  | { type: 'file'; target: string; what: string; validators?: readonly string[] }
  | { type: 'read'; considered: number; total: number; changed: number }
