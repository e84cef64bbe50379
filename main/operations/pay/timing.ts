/** When a payment is queried, canceled and leased: its polling schedule (tests shorten it). */
import { backoff } from '../../common/backoff';
import type { PaymentRow } from '../../store/payments';

export interface PayTiming {
  /** Barcode: how long an uncertain payment is queried before it is canceled (the documents: about 45 s). */
  payWindowMs: number;
  /** Barcode: between two queries (the documents: 3-5 s). */
  payQueryEveryMs: number;
  /** QR: queries every `qrFastMs` for the first `qrFastForMs`, then every `qrSlowMs` (the documents: 2 s for 30 s, then 5 s). */
  qrFastMs: number;
  qrFastForMs: number;
  qrSlowMs: number;
  /** An unresolved cancel is tried again after this, doubling up to `cancelRetryCapMs`. */
  cancelRetryMs: number;
  cancelRetryCapMs: number;
  /** Cancels tried before a person is told (the reversal goes on after that, every `attentionEveryMs`). */
  maxCancels: number;
  attentionEveryMs: number;
  /** Lease on a row while this process works it; longer than a pay call plus a query. */
  leaseMs: number;
  /** QR lifetime override (tests); default the setting qrLifetimeSeconds. */
  qrLifetimeMs?: number;
  /**
   * Not a clock but the bound on what the polling above has to carry: payments open at once on this counter (every
   * process on the data dir). A request beyond it is refused (PAYMENT_TOO_MANY_OPEN) with no row and no gateway call.
   */
  maxOpen: number;
}

export const DEFAULT_PAY_TIMING: PayTiming = {
  payWindowMs: 45_000,
  payQueryEveryMs: 4_000,
  qrFastMs: 2_000,
  qrFastForMs: 30_000,
  qrSlowMs: 5_000,
  cancelRetryMs: 2_000,
  cancelRetryCapMs: 30_000,
  maxCancels: 5,
  attentionEveryMs: 60_000,
  leaseMs: 90_000,
  // A real counter has one or two open (a customer typing a password, a QR shown); 8 is never reached but by a flood.
  maxOpen: 8,
};

/** The next query of a pending payment: on its method's cadence, never after its window ends (then the cancel starts). */
export function nextPoll(row: Pick<PaymentRow, 'method' | 'requested_at' | 'window_until'>, now: number, t: PayTiming): number {
  const every = row.method === 'barcode' ? t.payQueryEveryMs : now - row.requested_at < t.qrFastForMs ? t.qrFastMs : t.qrSlowMs;
  return Math.min(now + every, Math.max(now, row.window_until));
}

/** The wait before the next try of a reversal after `cancels` unresolved ones (the app's one backoff). */
export function nextCancel(cancels: number, t: PayTiming): number {
  return backoff(cancels, t.cancelRetryMs, t.cancelRetryCapMs);
}
