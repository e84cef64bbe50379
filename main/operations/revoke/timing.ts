/** When a revoke is queried, retried and leased: the state machine's clocks (tests shorten them). */

export interface RevokeTiming {
  /** First query after an uncertain answer (~2 s). */
  firstQueryMs: number;
  /** Later queries (≥ 5 s). */
  queryEveryMs: number;
  /** How long a pending revoke is polled before a person is asked (~1 min). */
  pendingWindowMs: number;
  /** Outbox backoff for "not sent" failures. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Lease on a row while this process works it; longer than any gateway call. */
  leaseMs: number;
  /** Re-sends allowed after a query showed the order still PAID; then a person decides. */
  maxResends: number;
}

export const DEFAULT_TIMING: RevokeTiming = {
  firstQueryMs: 2_000,
  queryEveryMs: 5_000,
  pendingWindowMs: 60_000,
  backoffBaseMs: 1_000,
  backoffCapMs: 60_000,
  leaseMs: 120_000,
  maxResends: 2,
};
