/**
 * One status per order, everywhere it is shown (list row, detail badge,
 * filters): the order's revoke when it has one, else the order's own status.
 */
import type { OrderView, RevokeView } from './bridge';
import { isMessageKey, type Translate } from './i18n';

export interface OrderStatus {
  /** CSS modifier and filter value: a revoke state or the order status in lower case. */
  key: string;
  label: string;
}

export function orderStatus(order: OrderView, revoke: RevokeView | null, t: Translate): OrderStatus {
  if (revoke) return { key: revoke.state, label: t(`state.${revoke.state}` as const) };
  const key = `status.${order.status}`;
  return { key: order.status.toLowerCase(), label: isMessageKey(key) ? t(key) : order.status };
}

export type StatusFilter = 'all' | 'paid' | 'open' | 'revoked' | 'failed';

/** Which filter an order's status falls under. */
export function statusGroup(key: string): Exclude<StatusFilter, 'all'> | null {
  if (key === 'paid') return 'paid';
  if (key === 'sending' || key === 'queued' || key === 'pending' || key === 'needs_attention') return 'open';
  if (key === 'revoked' || key === 'canceled') return 'revoked';
  if (key === 'rejected' || key === 'expired') return 'failed';
  return null;
}
