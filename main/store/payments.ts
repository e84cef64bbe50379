/** The payments table, and every statement on it: the durable payment rows (transitions live in main/operations/pay/). */
import { prepared, type Db } from './db';
import { OperationRepo } from './operation-repo';
import type { OperationRow } from './rows';

export const PAYMENT_STATES = ['sending', 'pending', 'canceling', 'paid', 'failed', 'canceled', 'needs_attention'] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];
/** States a payment never leaves. `needs_attention` is open: the reversal goes on. */
export const FINAL_PAYMENT_STATES: readonly PaymentState[] = ['paid', 'failed', 'canceled'];
export const OPEN_PAYMENT_STATES: readonly PaymentState[] = ['sending', 'pending', 'canceling', 'needs_attention'];

export type PaymentMethod = 'barcode' | 'qr';

export interface PaymentRow extends OperationRow {
  method: PaymentMethod;
  amount_cents: number;
  payway: string | null;
  payway_name: string | null;
  subject: string;
  state: PaymentState;
  order_status: string | null;
  seen_paid: number;
  trade_no: string | null;
  qr_code: string | null;
  window_until: number;
  operator: string;
  requested_day: string;
  paid_at: number | null;
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
  /**
   * Money had been taken and the reversal gave it back (REVERSED), or the gateway shows the order voided
   * (CANCELED, with a channel transaction) while every answer to our cancel was lost (REVERSED_UNCONFIRMED):
   * counted as returned, worded "if any was taken" (operations/pay/interpret.ts, moneyReturned).
   */
  moneyReturned: boolean;
  error: PaymentError | null;
  lastResultCode: string | null;
}

/** Codes of a `canceled` payment whose reversal gave money back. */
export const REVERSED = 'REVERSED';
/** A `canceled` payment the gateway shows voided, our cancel's answer never heard: any money taken went back. */
export const REVERSED_UNCONFIRMED = 'REVERSED_UNCONFIRMED';

export function toPayment(r: PaymentRow): Payment {
  const final = FINAL_PAYMENT_STATES.includes(r.state);
  return {
    id: r.id,
    clientSn: r.client_sn,
    method: r.method,
    amountCents: r.amount_cents,
    state: r.state,
    payway: r.payway,
    paywayName: r.payway_name,
    subject: r.subject,
    orderSn: r.order_sn || null,
    orderStatus: r.state === 'paid' ? 'PAID' : r.state === 'canceled' ? 'CANCELED' : r.order_status,
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
    cancels: Math.max(0, r.attempts - 1),
    nextAttemptAt: r.next_attempt_at,
    paidAt: r.paid_at,
    finalAt: final ? r.updated_at : null,
    moneyReturned: r.state === 'canceled' && (r.error_code === REVERSED || r.error_code === REVERSED_UNCONFIRMED),
    error:
      r.error_code === null || r.state === 'paid'
        ? null
        : { code: r.error_code, messageZh: r.error_zh ?? '', messageEn: r.error_en ?? '', gatewayCode: r.gateway_code, gatewayMessage: r.gateway_message },
    lastResultCode: r.last_result_code,
  };
}

/** What an answer says about the order (a gateway snapshot has these fields). */
export interface OrderFacts {
  sn: string | null;
  orderStatus: string | null;
  tradeNo: string | null;
  payway: string | null;
  paywayName: string | null;
  qrCode?: string | undefined;
}

export type NewPayment = Pick<
  PaymentRow,
  'client_sn' | 'method' | 'amount_cents' | 'payway' | 'subject' | 'window_until' | 'operator_id' | 'operator' | 'approver_id' | 'approver_name' | 'requested_at' | 'requested_day'
>;

export class PaymentsRepo extends OperationRepo<PaymentRow> {
  constructor(db: Db) {
    // needs_attention is worked too: its reversal goes on every attentionEveryMs (the kind sets when), not only at the re-check.
    super(db, { table: 'payments', open: OPEN_PAYMENT_STATES, worked: ['pending', 'sending', 'canceling', 'needs_attention'] });
  }

  byClientSn(clientSn: string): PaymentRow | undefined {
    return prepared(this.db, 'SELECT * FROM payments WHERE client_sn = ?').get(clientSn) as PaymentRow | undefined;
  }

  /** The write-ahead row: `sending` (attempt 1) under `owner`'s lease until `leaseUntil`. */
  insertSending(p: NewPayment, owner: string, leaseUntil: number): PaymentRow {
    return this.insert({
      ...p,
      order_sn: '',
      payway_name: null,
      state: 'sending',
      order_status: null,
      seen_paid: 0,
      trade_no: null,
      qr_code: null,
      updated_at: p.requested_at,
      attempts: 1,
      queries: 0,
      next_attempt_at: null,
      pending_since: null,
      paid_at: null,
      error_code: null,
      error_zh: null,
      error_en: null,
      gateway_code: null,
      gateway_message: null,
      last_result_code: null,
      lease_owner: owner,
      lease_until: leaseUntil,
    });
  }

  /**
   * What an answer says about the order (its sn, status, trade no, payway, QR), kept as soon as it arrives,
   * whatever the row's state: facts for the receipt and the cashier, never a transition.
   */
  noteSnapshot(id: number, o: OrderFacts): void {
    prepared(
      this.db,
      `UPDATE payments SET order_sn = CASE WHEN @sn IS NOT NULL THEN @sn ELSE order_sn END, order_status = coalesce(@status, order_status),
         seen_paid = max(seen_paid, @paid), trade_no = coalesce(@tradeNo, trade_no), payway = coalesce(@payway, payway),
         payway_name = coalesce(@paywayName, payway_name), qr_code = coalesce(@qr, qr_code) WHERE id = @id`,
    ).run({
      id,
      sn: o.sn,
      status: o.orderStatus,
      paid: o.orderStatus === 'PAID' ? 1 : 0,
      tradeNo: o.tradeNo,
      payway: o.payway,
      paywayName: o.paywayName,
      qr: o.qrCode ?? null,
    });
  }

  /**
   * The result code of a cancel's answer (CANCEL_SUCCESS, CANCEL_ABORT_ERROR, ...), kept as it arrives: never a
   * transition. `paid`: the answer voided a completed payment, so the order had been PAID (seen_paid, as a PAID).
   */
  noteResultCode(id: number, resultCode: string, paid: boolean): void {
    prepared(this.db, 'UPDATE payments SET last_result_code = ?, seen_paid = max(seen_paid, ?) WHERE id = ?').run(resultCode, paid ? 1 : 0, id);
  }

  /** How many payments are open on this counter (the cap on open payments), read by the state index. */
  openCount(): number {
    return prepared(this.db, `SELECT count(*) FROM payments WHERE state IN ${this.openSql}`).pluck().get() as number;
  }

  /** Open rows with this amount (the counter's "same amount again?" check). */
  openWithAmount(amountCents: number): PaymentRow[] {
    return prepared(this.db, `SELECT * FROM payments WHERE state IN ${this.openSql} AND amount_cents = ? ORDER BY id`).all(amountCents) as PaymentRow[];
  }

  /**
   * The day report's payments (read-only), each with its stored order's business day (`order_day`, by client_sn,
   * null when no order is stored): those whose order is of the day, those recorded paid during it (`start` to
   * `end`, for a paid payment without an order row), those requested on it, and every one still open.
   */
  forReport(day: string, start: number, end: number): Array<PaymentRow & { order_day: string | null }> {
    return prepared(
      this.db,
      `SELECT p.*, o.business_day AS order_day FROM payments p LEFT JOIN orders o ON o.client_sn = p.client_sn
        WHERE p.id IN (
          SELECT id FROM payments WHERE requested_day = @day
          UNION SELECT id FROM payments WHERE state IN ${this.openSql}
          UNION SELECT p2.id FROM orders o2 JOIN payments p2 ON p2.client_sn = o2.client_sn WHERE o2.business_day = @day
          UNION SELECT id FROM payments WHERE state = 'paid' AND paid_at >= @start AND paid_at < @end)
        ORDER BY p.id`,
    ).all({ day, start, end }) as Array<PaymentRow & { order_day: string | null }>;
  }

  /** The payments requested on a business day, and those still open from earlier days. */
  forDay(day: string): PaymentRow[] {
    return prepared(this.db, `SELECT * FROM payments WHERE requested_day = ? OR state IN ${this.openSql} ORDER BY id`).all(day) as PaymentRow[];
  }
}
