/** A non-file participant (a database): prepared before the renames, committed after them. */
export interface TxParticipant {
  name: string
  prepare(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
}
