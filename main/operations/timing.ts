/** When a money operation is queried, retried and leased: the skeleton's clocks (tests shorten them); a kind may poll on its own schedule. */

export interface OperationTiming {
  /** First query after an uncertain answer (~2 s). */
  firstQueryMs: number;
  /** Later queries (≥ 5 s). */
  queryEveryMs: number;
  /** How long a pending operation is polled before a person is asked (~1 min). */
  pendingWindowMs: number;
  /** Outbox backoff for "not sent" failures. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Lease on a row while this process works it; longer than any gateway call. */
  leaseMs: number;
  /** Re-sends allowed after a query showed the order still PAID; then a person decides. */
  maxResends: number;
}

/** The name the revoke kind was first written with. */
export type RevokeTiming = OperationTiming;

export const DEFAULT_TIMING: OperationTiming = {
  firstQueryMs: 2_000,
  queryEveryMs: 5_000,
  pendingWindowMs: 60_000,
  backoffBaseMs: 1_000,
  backoffCapMs: 60_000,
  leaseMs: 120_000,
  maxResends: 2,
};

/**
 * The usual polling: the first query `firstQueryMs` after an uncertain
 * answer, then every `queryEveryMs` until `pendingWindowMs` has passed (or a
 * person asked); then a person (the re-check keeps asking).
 */
export function windowPolling(timing: OperationTiming): { first(row: unknown, now: number): number; next(row: unknown, since: number, now: number, byPerson: boolean): number | 'attention' } {
  return {
    first: (_row, now) => now + timing.firstQueryMs,
    next: (_row, since, now, byPerson) => (byPerson || now - since >= timing.pendingWindowMs ? 'attention' : now + timing.queryEveryMs),
  };
}
