import type { DatabaseTarget } from '@cutover/rewrite'
import { liveParticipants, liveState } from './live-apply.js'
import { planDatabase, type LiveOptions } from './live-plan.js'
import type { SqlOptions } from './options.js'

/**
 * The live-database side of the `sql` step (`StepKind.database`): a step with `database:` is
 * planned against the running server (functions through `pg_get_functiondef`, rows of
 * `tables:`), applied in one database transaction inside the file transaction (checked against
 * the plan first, committed after the files are renamed), and asked by recovery whether an
 * interrupted apply committed.
 */
export const sqlDatabase: DatabaseTarget<SqlOptions> = {
  uses: (o) => o.database !== undefined,
  plan: (o, ctx) => planDatabase(o as LiveOptions, ctx),
  participants: liveParticipants,
  state: liveState,
}
