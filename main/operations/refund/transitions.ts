/**
 * The refund's own arrow: its request (the local checks against the order as
 * stored, then the intent written ahead with its `refund_request_no`, in one
 * transaction). Every other arrow is the skeleton's (../transitions.ts).
 */
import type { Accountable } from '../../common/accountable';
import { formatCst } from '../../common/time';
import type { Order } from '../../domain';
import { PosError } from '../../errors';
import { audit } from '../../store/audit';
import { tx } from '../../store/db';
import type { RefundRow, RefundsRepo } from '../../store/refunds';
import type { LeaseStamp } from '../transitions';
import { refundRefusal } from './interpret';
import { refundError, type RefundMessageCode } from './messages';

export function refundRefused(code: RefundMessageCode, details: Record<string, unknown> = {}): PosError {
  const e = refundError(code);
  return new PosError(`REFUND_${code}`, e.messageZh, e.messageEn, details);
}

/** `refund_request_no`: String(20), unique per refund; the time of asking (UTC+8) and 8 random digits. */
export function newRequestNo(now: number, random: () => number): string {
  const stamp = formatCst(now).replace(/\D/g, '').slice(2, 14);
  return stamp + String(Math.floor(random() * 1e8)).padStart(8, '0');
}

/**
 * request --> sending (the intent, under our lease). A second request for the
 * same amount while one is open returns the open one; any other is refused.
 * `current` reads the order as stored inside the transaction.
 */
export function recordRequest(
  repo: RefundsRepo,
  order: Order,
  current: () => Order | undefined,
  amount: number | 'full',
  who: Accountable,
  actor: string,
  random: () => number,
  stamp: LeaseStamp,
): { row: RefundRow; fresh: boolean } {
  const { now } = stamp;
  return tx(repo.db, () => {
    const open = repo.openFor(order.sn);
    if (open) {
      if (amount === 'full' || open.amount_cents === amount) return { row: open, fresh: false };
      throw refundRefused('REFUND_OPEN', { orderSn: order.sn, refundId: open.id });
    }
    const stored = current() ?? order;
    const cents = amount === 'full' ? stored.netCents : amount;
    const refusal = refundRefusal(stored, cents, 0);
    if (refusal) throw refundRefused(refusal, { orderSn: order.sn, refundableCents: stored.netCents });
    const row = repo.insert({
      order_sn: order.sn,
      client_sn: order.clientSn,
      request_no: newRequestNo(now, random),
      amount_cents: cents,
      net_before_cents: stored.netCents,
      state: 'sending',
      operator_id: who.operatorId,
      operator: who.operatorName,
      approver_id: who.approverId,
      approver_name: who.approverName,
      requested_at: now,
      updated_at: now,
      attempts: 1,
      queries: 0,
      next_attempt_at: null,
      pending_since: null,
      refunded_at: null,
      refunded_day: null,
      error_code: null,
      error_zh: null,
      error_en: null,
      gateway_code: null,
      gateway_message: null,
      last_result_code: null,
      lease_owner: stamp.owner,
      lease_until: now + stamp.leaseMs,
    });
    audit(repo.db, now, actor, 'refund.requested', order.sn, {
      refundId: row.id,
      requestNo: row.request_no,
      amountCents: cents,
      operator: who.operatorName,
      operatorId: who.operatorId,
      approverId: who.approverId,
      approverName: who.approverName,
    });
    return { row, fresh: true };
  });
}
