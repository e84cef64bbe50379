/**
 * One status per order, everywhere it is shown (list row, detail header,
 * filters, actions): main/common/order-status.ts over the order's operations
 * of every kind, with the newest revoke or refund this window has heard of
 * (an event or a call's answer may be ahead of the order's row).
 */
import { orderStatus as statusOf, type OperationSummary, type OrderStatusView, type StatusGroup } from '../../main/common/order-status';
import type { RefundView } from '../../main/ipc/contract';
import type { OrderView, RevokeView } from './bridge';

export type { OrderStatusView } from '../../main/common/order-status';

/** The order's operations, with a newer view of its revoke or one of its refunds put in. */
export function liveOperations(order: OrderView, revoke: RevokeView | null | undefined, refund?: RefundView | null): OperationSummary[] {
  let ops = order.operations;
  const put = (next: OperationSummary) => {
    const same = ops.find((o) => o.kind === next.kind && o.id === next.id);
    if (same && same.updatedAt > next.updatedAt) return;
    ops = [...ops.filter((o) => o !== same), next];
  };
  if (revoke) put({ kind: 'revoke', id: revoke.id, state: revoke.state, amountCents: order.totalCents, updatedAt: revoke.updatedAt });
  if (refund && refund.orderSn === order.sn) put({ kind: 'refund', id: refund.id, state: refund.state, amountCents: refund.amountCents, updatedAt: refund.updatedAt });
  return ops;
}

export function orderStatus(order: OrderView, revoke: RevokeView | null | undefined, today: string, refund?: RefundView | null): OrderStatusView {
  return statusOf(order, liveOperations(order, revoke, refund), today);
}

export type StatusFilter = 'all' | Exclude<StatusGroup, 'other'>;
export const STATUS_FILTERS: readonly StatusFilter[] = ['all', 'paid', 'open', 'revoked', 'refunded', 'failed'];
