/**
 * What a transaction tells an observer as it goes (terraform's Hook is the model): each event
 * names the target it is about, so a display never has to infer it from a count. Events are
 * sent after the step they report is durable; an observer cannot change or stop the transaction
 * (fault injection, which can, is the separate hook of fault.ts).
 */
export type TxEvent =
  /** A target's new content is staged beside it and fsynced (`done` of `total`, in completion order). */
  | { type: 'staged'; target: string; done: number; total: number }
  /** Every staged file passed its checks. */
  | { type: 'validated'; files: number }
  /** A target was re-checked against its planned hash and copied to the backups. */
  | { type: 'backed-up'; target: string; done: number; total: number }
  /** The journal says prepared: from here on, recovery restores the backups. */
  | { type: 'prepared' }
  /** A staged target was renamed over its file (or the file removed). */
  | { type: 'renamed'; target: string; done: number; total: number }
  /** The journal says committed. */
  | { type: 'committed'; txid: string }

/** Receives the events of a transaction. */
export type TxObserver = (event: TxEvent) => void
