/** Exit codes of the contract: 0 success or no changes, 1 error or failed verify, 2 changes present. */
export const EXIT = { ok: 0, error: 1, changes: 2 } as const
