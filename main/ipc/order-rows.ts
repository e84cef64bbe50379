/**
 * The orders as the screen gets them, each with every money operation of
 * every kind (its revoke and its refunds): the day's list (kept by
 * DayOrders, re-read only where something changed), search and import
 * results, and the one changed row an `orders.changed` event carries.
 */
import { isOpenOperation } from '../common/order-status';
import { businessDay } from '../common/time';
import type { Order } from '../domain';
import type { RuntimeEvents } from '../events';
import { DayOrders } from '../orders/day-orders';
import type { Runtime } from '../runtime';
import type { Refund } from '../store/refunds';
import { orderViewSchema, type OpenOperationView, type OrderView } from './contract';
import { toOrderView } from './views';

export class OrderRows {
  readonly day: DayOrders<OrderView>;

  constructor(private readonly runtime: Runtime) {
    const refunds = { forOrder: (sn: string): Refund[] => runtime.refunds.forOrder(sn) };
    this.day = new DayOrders({ orders: runtime.orders, revokes: runtime.revokes, refunds }, (o, r, f) => orderViewSchema.parse(toOrderView(o, r, f)));
    // The change log follows orders and revokes; a refund's own updates reach the list through its event.
    runtime.events.on('refund.updated', (r) => this.day.touch(r.orderSn));
  }

  /** Views of orders from a search or an import (one query for their revokes). */
  views(orders: Order[]): OrderView[] {
    const revokes = this.runtime.revokes.forOrders(orders.map((o) => o.sn));
    return orders.map((o) => toOrderView(o, revokes.get(o.sn), this.runtime.refunds.forOrder(o.sn)));
  }

  /**
   * The changed order's row for an `orders.changed` event: from the day's
   * list when it is today's (the list catches up first), else built alone.
   */
  changed(sn: string): OrderView | null {
    // Whichever listener runs first, the refund's change is seen.
    this.day.touch(sn);
    const today = businessDay(this.runtime.clock.now());
    const row = this.day.row(today, sn);
    if (row) return row;
    const order = this.runtime.orders.get(sn);
    return order ? (this.views([order])[0] ?? null) : null;
  }
}

/**
 * Every open money operation of every kind, newest first (a revoke's amount
 * is its order's; a payment's order is its client_sn until the gateway gave
 * the sn, as for the order lock).
 */
export function openOperations(runtime: Runtime): OpenOperationView[] {
  const payments = runtime.payments.open().map((p) => ({ kind: 'pay' as const, id: p.id, orderSn: p.orderSn || p.clientSn, state: p.state, amountCents: p.amountCents, updatedAt: p.updatedAt }));
  const revokes = runtime.revokes.open().map((r) => ({ kind: 'revoke' as const, id: r.id, orderSn: r.orderSn, state: r.state, amountCents: runtime.orders.get(r.orderSn)?.totalCents ?? 0, updatedAt: r.updatedAt }));
  const refunds = runtime.refunds.open().map((r) => ({ kind: 'refund' as const, id: r.id, orderSn: r.orderSn, state: r.state, amountCents: r.amountCents, updatedAt: r.updatedAt }));
  return [...revokes, ...refunds, ...payments].filter(isOpenOperation).sort((a, b) => b.updatedAt - a.updatedAt);
}

/**
 * The rows of orders another process changed (the runtime's `orders.changed`,
 * operations/watch-others.ts), handed to `send` as one `orders.changed`
 * payload; returns the unsubscribe function.
 */
export function forwardOtherOrders(events: RuntimeEvents, send: (orders: OrderView[]) => void, orderRow: (sn: string) => OrderView | null): () => void {
  const listener = ({ sns }: { sns: string[] }) => {
    try {
      const orders = sns.map((sn) => orderRow(sn)).filter((o): o is OrderView => o !== null);
      if (orders.length > 0) send(orders);
    } catch {
      // A window that went away must not break the runtime's emitter.
    }
  };
  events.on('orders.changed', listener);
  return () => events.off('orders.changed', listener);
}
