/** The approvals record (migrations 010 and 013): one row per approval granted for one money operation. Append-only. */
import { prepared, type Db } from './db';

export interface ApprovalRecord {
  at: number;
  operation: 'revoke' | 'refund' | 'pay';
  /** The order; for a payment, the attempt's client_sn (migration 013). */
  orderSn: string;
  amountCents: number;
  /** The amount the threshold was judged on: for a refund, the order's refunds so far plus this one. */
  cumulativeCents: number;
  approverId: number;
  approverName: string;
  operatorId: number | null;
  operatorName: string;
  windowId: number | null;
}

export function recordApproval(db: Db, a: ApprovalRecord): number {
  return Number(
    prepared(
      db,
      `INSERT INTO approvals (at, operation, order_sn, amount_cents, cumulative_cents, approver_id, approver_name, operator_id, operator_name, window_id)
       VALUES (@at, @operation, @orderSn, @amountCents, @cumulativeCents, @approverId, @approverName, @operatorId, @operatorName, @windowId)`,
    ).run(a).lastInsertRowid,
  );
}

/** The approvals of an order, oldest first. */
export function approvalsFor(db: Db, orderSn: string): ApprovalRecord[] {
  return prepared(
    db,
    `SELECT at, operation, order_sn AS orderSn, amount_cents AS amountCents, cumulative_cents AS cumulativeCents, approver_id AS approverId,
            approver_name AS approverName, operator_id AS operatorId, operator_name AS operatorName, window_id AS windowId
       FROM approvals WHERE order_sn = ? ORDER BY id`,
  ).all(orderSn) as ApprovalRecord[];
}
