/** Whether an order can be revoked at all, decided before any gateway call. */
import { businessDay } from '../../common/time';
import type { Order } from '../../domain';
import type { RevokeMessageCode } from './messages';

/** Why an order cannot be revoked (other day, refunded, not PAID, zero); undefined when it can. */
export function ineligibility(order: Order, now: number): RevokeMessageCode | undefined {
  if (order.status === 'CANCELED' || order.status === 'PAY_CANCELED') return 'ALREADY_VOIDED';
  if (order.status === 'REFUNDED' || order.status === 'PARTIAL_REFUNDED' || order.status === 'REFUND_INPROGRESS') return 'REFUNDED';
  if (order.status !== 'PAID') return 'NOT_PAID';
  if (order.netCents < order.totalCents) return 'REFUNDED';
  if (order.totalCents <= 0) return 'ZERO_AMOUNT';
  if (order.businessDay !== businessDay(now)) return 'NOT_TODAY';
  return undefined;
}
