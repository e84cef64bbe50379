/** The payments table, and every statement on it: the durable payment rows (transitions live in main/operations/pay/). */
import { allIn, prepared, type Db } from './db';
import { LEASE_TAKEABLE } from './rows';

export const PAYMENT_STATES = ['sending', 'pending', 'canceling', 'paid', 'failed', 'canceled', 'needs_attention'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];
/** States a payment never leaves. `needs_attention` is open: the reversal goes on. */
export const FINAL_PAYMENT_STATES: readonly PaymentState[] = ['paid', 'failed', 'canceled'];
export const OPEN_PAYMENT_STATES: readonly PaymentState[] = ['sending', 'pending', 'canceling', 'needs_attention'];
const OPEN = "('sending', 'pending', 'canceling', 'needs_attention')";

export type PaymentMethod = 'barcode' | 'qr';

export interface PaymentRow {
  id: number;
  client_sn: string;
  method: PaymentMethod;
  amount_cents: number;
  payway: string | null;
  payway_name: string | null;
  subject: string;
  state: PaymentState;
  order_sn: string | null;
  order_status: string | null;
  trade_no: string | null;
  qr_code: string | null;
  window_until: number;
  operator_id: number | null;
  operator: string;
  approver_id: number | null;
  approver_name: string | null;
  requested_at: number;
  requested_day: string;
  updated_at: number;
  attempts: number;
  queries: number;
  cancels: number;
  next_attempt_at: number | null;
  pending_since: number | null;
  cancel_since: number | null;
  paid_at: number | null;
  final_at: number | null;
  money_returned: number;
  error_code: string | null;
  error_zh: string | null;
  error_en: string | null;
  gateway_code: string | null;
  gateway_message: string | null;
  last_result_code: string | null;
  lease_owner: string | null;
  lease_until: number | null;
}

export interface PaymentError {
  code: string;
  messageZh: string;
  messageEn: string;
  gatewayCode: string | null;
  gatewayMessage: string | null;
}

/** A payment as callers see it (CLI JSON, IPC, receipts). */
export interface Payment {
  id: number;
  clientSn: string;
  method: PaymentMethod;
  amountCents: number;
  state: PaymentState;
  payway: string | null;
  paywayName: string | null;
  subject: string;
  orderSn: string | null;
  orderStatus: string | null;
  tradeNo: string | null;
  qrCode: string | null;
  /** When the polling window (barcode) or the QR's lifetime ends: then the reversal starts. */
  windowUntil: number;
  operatorId: number | null;
  operatorName: string;
  approverId: number | null;
  approverName: string | null;
  requestedAt: number;
  businessDay: string;
  updatedAt: number;
  attempts: number;
  queries: number;
  cancels: number;
  nextAttemptAt: number | null;
  paidAt: number | null;
  finalAt: number | null;
  /** Money had been taken and the reversal gave it back. */
  moneyReturned: boolean;
  error: PaymentError | null;
  lastResultCode: string | null;
}

export function toPayment(r: PaymentRow): Payment {
  return {
    id: r.id,
    clientSn: r.client_sn,
    method: r.method,
    amountCents: r.amount_cents,
    state: r.state,
    payway: r.payway,
    paywayName: r.payway_name,
    subject: r.subject,
    orderSn: r.order_sn,
    orderStatus: r.order_status,
    tradeNo: r.trade_no,
    qrCode: r.qr_code,
    windowUntil: r.window_until,
    operatorId: r.operator_id,
    operatorName: r.operator,
    approverId: r.approver_id,
    approverName: r.approver_name,
    requestedAt: r.requested_at,
    businessDay: r.requested_day,
    updatedAt: r.updated_at,
    attempts: r.attempts,
    queries: r.queries,
    cancels: r.cancels,
    nextAttemptAt: r.next_attempt_at,
    paidAt: r.paid_at,
    finalAt: r.final_at,
    moneyReturned: r.money_returned === 1,
    error:
      r.error_code === null
        ? null
        : { code: r.error_code, messageZh: r.error_zh ?? '', messageEn: r.error_en ?? '', gatewayCode: r.gateway_code, gatewayMessage: r.gateway_message },
    lastResultCode: r.last_result_code,
  };
}

export type NewPayment = Pick<
  PaymentRow,
  'client_sn' | 'method' | 'amount_cents' | 'payway' | 'subject' | 'window_until' | 'operator_id' | 'operator' | 'approver_id' | 'approver_name' | 'requested_at' | 'requested_day'
>;
export type PaymentPatch = Partial<Omit<PaymentRow, 'id' | 'client_sn' | 'method' | 'amount_cents' | 'requested_at' | 'requested_day'>>;

export class PaymentsRepo {
  constructor(readonly db: Db) {}

  get(id: number): PaymentRow | undefined {
    return prepared(this.db, 'SELECT * FROM payments WHERE id = ?').get(id) as PaymentRow | undefined;
  }

  byClientSn(clientSn: string): PaymentRow | undefined {
    return prepared(this.db, 'SELECT * FROM payments WHERE client_sn = ?').get(clientSn) as PaymentRow | undefined;
  }

  /** The write-ahead row: `sending` under `owner`'s lease until `leaseUntil`. */
  insertSending(p: NewPayment, owner: string, leaseUntil: number): PaymentRow {
    return prepared(
      this.db,
      `INSERT INTO payments (client_sn, method, amount_cents, payway, subject, state, window_until, operator_id, operator, approver_id, approver_name,
         requested_at, requested_day, updated_at, attempts, next_attempt_at, lease_owner, lease_until)
       VALUES (@client_sn, @method, @amount_cents, @payway, @subject, 'sending', @window_until, @operator_id, @operator, @approver_id, @approver_name,
         @requested_at, @requested_day, @requested_at, 1, @lease_until, @lease_owner, @lease_until)
       RETURNING *`,
    ).get({ ...p, lease_owner: owner, lease_until: leaseUntil }) as PaymentRow;
  }

  /** A payment refused before anything was sent (gateway unreachable, invalid): `failed` from the start, never sent later. */
  insertFailed(p: NewPayment, error: Pick<PaymentRow, 'error_code' | 'error_zh' | 'error_en'>): PaymentRow {
    return prepared(
      this.db,
      `INSERT INTO payments (client_sn, method, amount_cents, payway, subject, state, window_until, operator_id, operator, approver_id, approver_name,
         requested_at, requested_day, updated_at, final_at, error_code, error_zh, error_en)
       VALUES (@client_sn, @method, @amount_cents, @payway, @subject, 'failed', @window_until, @operator_id, @operator, @approver_id, @approver_name,
         @requested_at, @requested_day, @requested_at, @requested_at, @error_code, @error_zh, @error_en)
       RETURNING *`,
    ).get({ ...p, ...error }) as PaymentRow;
  }

  /**
   * Patches row `id` when it is still open and its lease is ours (or free, or lapsed): a final row is never
   * changed again, and two processes never both record an outcome. Returns the row as stored, or undefined.
   */
  update(id: number, patch: PaymentPatch, owner: string, now: number): PaymentRow | undefined {
    const cols = Object.keys(patch);
    if (cols.length === 0) return this.get(id);
    const set = cols.map((c) => `${c} = @${c}`).join(', ');
    return prepared(this.db, `UPDATE payments SET ${set} WHERE id = @id AND state IN ${OPEN} AND ${LEASE_TAKEABLE} RETURNING *`).get({
      ...patch,
      id,
      guard_owner: owner,
      guard_now: now,
    }) as PaymentRow | undefined;
  }

  /** Open rows whose work is due and whose lease is free or lapsed, oldest first. */
  due(now: number, limit: number): PaymentRow[] {
    return prepared(
      this.db,
      `SELECT * FROM payments WHERE state IN ${OPEN} AND next_attempt_at <= @now
         AND (lease_owner IS NULL OR COALESCE(lease_until, 0) <= @now) ORDER BY next_attempt_at, id LIMIT @limit`,
    ).all({ now, limit }) as PaymentRow[];
  }

  /** Takes the lease of an open row (free, ours or lapsed); the row as stored, or undefined. */
  claim(id: number, owner: string, now: number, until: number): PaymentRow | undefined {
    return prepared(
      this.db,
      `UPDATE payments SET lease_owner = @owner, lease_until = @until WHERE id = @id AND state IN ${OPEN}
         AND (lease_owner IS NULL OR lease_owner = @owner OR COALESCE(lease_until, 0) <= @now) RETURNING *`,
    ).get({ id, owner, now, until }) as PaymentRow | undefined;
  }

  release(id: number, owner: string, nextAt: number | null): void {
    prepared(this.db, 'UPDATE payments SET lease_owner = NULL, lease_until = NULL, next_attempt_at = COALESCE(@nextAt, next_attempt_at) WHERE id = @id AND lease_owner = @owner').run({
      id,
      owner,
      nextAt,
    });
  }

  nextDue(): number | null {
    const r = prepared(this.db, `SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) AS t FROM payments WHERE state IN ${OPEN}`).get() as { t: number | null };
    return r.t;
  }

  open(): PaymentRow[] {
    return prepared(this.db, `SELECT * FROM payments WHERE state IN ${OPEN} ORDER BY id`).all() as PaymentRow[];
  }

  /** Open rows with this amount (the counter's "same amount again?" check). */
  openWithAmount(amountCents: number): PaymentRow[] {
    return prepared(this.db, `SELECT * FROM payments WHERE state IN ${OPEN} AND amount_cents = ? ORDER BY id`).all(amountCents) as PaymentRow[];
  }

  counts(): { queued: number; pending: number; sending: number; needsAttention: number; oldestOpenAt: number | null } {
    const r = prepared(
      this.db,
      `SELECT SUM(state IN ('pending', 'canceling')) AS pending, SUM(state = 'sending') AS sending, SUM(state = 'needs_attention') AS attention,
         MIN(requested_at) AS oldest FROM payments WHERE state IN ${OPEN}`,
    ).get() as { pending: number | null; sending: number | null; attention: number | null; oldest: number | null };
    return { queued: 0, pending: r.pending ?? 0, sending: r.sending ?? 0, needsAttention: r.attention ?? 0, oldestOpenAt: r.oldest };
  }

  /** Payments are never queued: the online signal has nothing to make due. */
  dueAllQueued(): void {}

  /** Every open row due now (connectivity back, a drain). */
  dueOpenNow(now: number): void {
    prepared(this.db, `UPDATE payments SET next_attempt_at = @now WHERE state IN ${OPEN} AND next_attempt_at > @now`).run({ now });
  }

  /** The payments requested on a business day, and those still open from earlier days. */
  forDay(day: string): PaymentRow[] {
    return prepared(this.db, `SELECT * FROM payments WHERE requested_day = ? OR state IN ${OPEN} ORDER BY id`).all(day) as PaymentRow[];
  }

  byIds(ids: readonly number[]): PaymentRow[] {
    return allIn<PaymentRow>(this.db, (ph) => `SELECT * FROM payments WHERE id IN (${ph})`, ids);
  }
}
