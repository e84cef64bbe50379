/** The refunds table, and every statement on it: the durable refund state machine's rows (transitions live in main/operations/refund/). */
import type { Accountable } from '../common/accountable';
import { allIn, prepared, type Db } from './db';
import { OperationRepo } from './operation-repo';
import type { OperationRow } from './rows';

export const REFUND_STATES = ['sending', 'queued', 'pending', 'refunded', 'rejected', 'needs_attention'] as const;
export type RefundState = (typeof REFUND_STATES)[number];
/** States a refund never leaves (`needs_attention` is open: a person can query again). */
export const FINAL_REFUND_STATES: readonly RefundState[] = ['refunded', 'rejected'];
const OPEN_STATES = "('sending', 'queued', 'pending', 'needs_attention')";

export interface RefundRow extends OperationRow {
  request_no: string;
  amount_cents: number;
  net_before_cents: number;
  state: RefundState;
  operator: string;
  refunded_at: number | null;
  refunded_day: string | null;
}

export interface RefundError {
  code: string;
  messageZh: string;
  messageEn: string;
  gatewayCode: string | null;
  gatewayMessage: string | null;
}

/** A refund as callers see it (CLI JSON, IPC, receipts). */
export interface Refund extends Accountable {
  id: number;
  orderSn: string;
  clientSn: string;
  requestNo: string;
  amountCents: number;
  state: RefundState;
  requestedAt: number;
  updatedAt: number;
  attempts: number;
  queries: number;
  nextAttemptAt: number | null;
  refundedAt: number | null;
  error: RefundError | null;
  lastResultCode: string | null;
}

export function toRefund(r: RefundRow): Refund {
  return {
    id: r.id,
    orderSn: r.order_sn,
    clientSn: r.client_sn,
    requestNo: r.request_no,
    amountCents: r.amount_cents,
    state: r.state,
    operatorId: r.operator_id,
    operatorName: r.operator,
    approverId: r.approver_id,
    approverName: r.approver_name,
    requestedAt: r.requested_at,
    updatedAt: r.updated_at,
    attempts: r.attempts,
    queries: r.queries,
    nextAttemptAt: r.next_attempt_at,
    refundedAt: r.refunded_at,
    error:
      r.error_code === null
        ? null
        : { code: r.error_code, messageZh: r.error_zh ?? '', messageEn: r.error_en ?? '', gatewayCode: r.gateway_code, gatewayMessage: r.gateway_message },
    lastResultCode: r.last_result_code,
  };
}

export type RefundPatch = Partial<Omit<RefundRow, 'id' | 'order_sn' | 'client_sn' | 'request_no' | 'amount_cents' | 'requested_at'>>;

export class RefundsRepo extends OperationRepo<RefundRow> {
  constructor(db: Db) {
    super(db, { table: 'refunds', open: ['sending', 'queued', 'pending', 'needs_attention'] });
  }

  /** The order's open refund (at most one). */
  openFor(orderSn: string): RefundRow | undefined {
    return this.openForOrder(orderSn);
  }

  /** Every refund of an order, oldest first. */
  forOrder(orderSn: string): RefundRow[] {
    return prepared(this.db, 'SELECT * FROM refunds WHERE order_sn = ? ORDER BY id').all(orderSn) as RefundRow[];
  }

  forOrders(sns: readonly string[]): RefundRow[] {
    return allIn<RefundRow>(this.db, (p) => `SELECT * FROM refunds WHERE order_sn IN (${p})`, sns).sort((a, b) => a.id - b.id);
  }

  /** Refunds recorded on a business day, and those still open (whatever their day), oldest first. */
  forReport(day: string): RefundRow[] {
    return prepared(this.db, `SELECT * FROM refunds WHERE refunded_day = ? OR state IN ${OPEN_STATES} ORDER BY id`).all(day) as RefundRow[];
  }

  /** Sum of the order's refunds that are open or applied (what is no longer refundable locally). */
  committedCents(orderSn: string): { open: number; refunded: number } {
    const r = prepared(
      this.db,
      `SELECT coalesce(sum(CASE WHEN state IN ${OPEN_STATES} THEN amount_cents END), 0) AS open,
              coalesce(sum(CASE WHEN state = 'refunded' THEN amount_cents END), 0) AS refunded
         FROM refunds WHERE order_sn = ?`,
    ).get(orderSn) as { open: number; refunded: number };
    return r;
  }

  /** Queued rows asked for before `before` (older than the maximum age) that `owner` may take. */
  tooOld(before: number, owner: string, now: number): RefundRow[] {
    return prepared(
      this.db,
      "SELECT * FROM refunds WHERE state = 'queued' AND requested_at < ? AND (lease_owner IS NULL OR lease_until < ? OR lease_owner = ?)",
    ).all(before, now, owner) as RefundRow[];
  }

  oldestQueuedAt(): number | null {
    return prepared(this.db, "SELECT min(requested_at) FROM refunds WHERE state = 'queued'").pluck().get() as number | null;
  }

  list(limit = 500): RefundRow[] {
    return prepared(this.db, 'SELECT * FROM refunds ORDER BY id DESC LIMIT ?').all(limit) as RefundRow[];
  }
}
