/**
 * The day report's truth about money returned: which of the day's orders were
 * taken, what this counter itself gave back on them (its revokes and
 * refunds, any day), what the gateway shows returned beyond that ("returned
 * elsewhere", on the order's day), and the figures the report's net must
 * equal (the orders' own net amounts). Pure, integer cents.
 */
import { businessDay } from '../common/time';
import type { Order } from '../domain';
import type { RefundRow } from '../store/refunds';
import type { RevokeRow } from '../store/revokes';
import type { Tally } from './payments';

/** One of the day's orders whose money (part or all) went back without a revoke or refund of this counter. */
export interface ElsewhereOrder {
  orderSn: string;
  status: string;
  payway: string;
  operator: string;
  cents: number;
}

/**
 * Money the gateway shows returned on the day's orders (total - net) beyond this counter's revokes and refunds
 * of them: voided or refunded at another till or in the merchant app, or reversed (冲正). Counted on the order's
 * day, on its payway and on the operator who took it; `count` is the number of orders.
 */
export interface ReturnedElsewhere extends Tally {
  byPayway: Array<Tally & { payway: string; paywayName: string | null }>;
  byOperator: Array<Tally & { operator: string }>;
  orders: ElsewhereOrder[];
}

/** What the net is checked against: the day's orders' own net amounts, as the gateway gave them. */
export interface NetCheck {
  /** Sum of the net amounts of the orders counted as taken. */
  ordersNetCents: number;
  /** This counter's revokes and refunds of those orders recorded on another day (they count in that day's report). */
  returnedOnOtherDaysCents: number;
  /** This counter's revokes and refunds recorded on the day for orders not counted here (another day's orders). */
  returnedForOtherOrdersCents: number;
  /** Orders whose revokes and refunds here add up to more than the gateway shows returned: never reconciled. */
  mismatches: Array<{ orderSn: string; cents: number }>;
}

/** Order statuses that mean the payment happened (whatever came after). */
const PAID_ONCE = new Set(['PAID', 'PARTIAL_REFUNDED', 'REFUNDED', 'REFUND_INPROGRESS', 'REFUND_ERROR', 'CANCELED', 'CANCEL_INPROGRESS', 'CANCEL_ERROR']);
/** Voided (or being voided): taken only if a channel transaction (trade_no) or a revoke or refund here shows it was paid. */
const VOIDED = new Set(['CANCELED', 'CANCEL_INPROGRESS', 'CANCEL_ERROR']);

const zero = (): Tally => ({ count: 0, cents: 0 });
const add = (t: Tally, cents: number): void => {
  t.count += 1;
  t.cents += cents;
};

/** A revoke or refund of this counter that returned money: on which order, how much, on which day it counts. */
export interface LocalReturn {
  orderSn: string;
  cents: number;
  day: string | null;
}

/** This counter's revokes and refunds that returned money, each once (by kind and id), from every row given. */
export function localReturns(revokeRows: readonly RevokeRow[], refundRows: readonly RefundRow[], bySn: ReadonlyMap<string, Order>): LocalReturn[] {
  const revokes = new Map<number, RevokeRow>(revokeRows.map((r) => [r.id, r]));
  const refunds = new Map<number, RefundRow>(refundRows.map((r) => [r.id, r]));
  const out: LocalReturn[] = [];
  for (const r of revokes.values()) {
    if (r.state === 'revoked') out.push({ orderSn: r.order_sn, cents: bySn.get(r.order_sn)?.totalCents ?? 0, day: r.revoked_at === null ? null : businessDay(r.revoked_at) });
  }
  for (const r of refunds.values()) if (r.state === 'refunded') out.push({ orderSn: r.order_sn, cents: r.amount_cents, day: r.refunded_day });
  return out;
}

/** The orders of `day` whose money was taken (see the header). */
export function takenOrders(day: string, orders: readonly Order[], returnedHere: ReadonlySet<string>): Order[] {
  return orders.filter((o) => o.businessDay === day && PAID_ONCE.has(o.status) && (!VOIDED.has(o.status) || o.tradeNo !== null || returnedHere.has(o.sn)));
}

/** Per taken order: total - net - this counter's returns of it (any day), when positive; on its payway and its operator. */
export function bookElsewhere(e: ReturnedElsewhere, paid: readonly Order[], returns: readonly LocalReturn[]): void {
  const here = new Map<string, number>();
  for (const r of returns) here.set(r.orderSn, (here.get(r.orderSn) ?? 0) + r.cents);
  const byPayway = new Map<string, ReturnedElsewhere['byPayway'][number]>();
  const byOperator = new Map<string, ReturnedElsewhere['byOperator'][number]>();
  for (const o of paid) {
    const cents = o.totalCents - o.netCents - (here.get(o.sn) ?? 0);
    if (cents <= 0) continue; // < 0 is a mismatch (NetCheck), never a negative return
    const pw = o.payway ?? '';
    const op = o.operator ?? '-';
    add(e, cents);
    const w = byPayway.get(pw) ?? { payway: pw, paywayName: o.paywayName, ...zero() };
    w.paywayName ??= o.paywayName;
    add(w, cents);
    byPayway.set(pw, w);
    const p = byOperator.get(op) ?? { operator: op, ...zero() };
    add(p, cents);
    byOperator.set(op, p);
    e.orders.push({ orderSn: o.sn, status: o.status, payway: pw, operator: op, cents });
  }
  e.byPayway = [...byPayway.values()].sort((a, b) => a.payway.localeCompare(b.payway, 'en', { numeric: true }));
  e.byOperator = [...byOperator.values()].sort((a, b) => a.operator.localeCompare(b.operator));
}

/** The figures the net must equal, taken from the orders' own net amounts (a separate pass over the same rows). */
export function netCheck(day: string, paid: readonly Order[], returns: readonly LocalReturn[]): NetCheck {
  const check: NetCheck = { ordersNetCents: 0, returnedOnOtherDaysCents: 0, returnedForOtherOrdersCents: 0, mismatches: [] };
  const taken = new Map(paid.map((o) => [o.sn, o]));
  const returnedHere = new Map<string, number>();
  for (const o of paid) check.ordersNetCents += o.netCents;
  for (const r of returns) {
    if (taken.has(r.orderSn)) {
      returnedHere.set(r.orderSn, (returnedHere.get(r.orderSn) ?? 0) + r.cents);
      if (r.day !== day) check.returnedOnOtherDaysCents += r.cents;
    } else if (r.day === day) {
      check.returnedForOtherOrdersCents += r.cents;
    }
  }
  for (const o of paid) {
    // The gateway shows less returned (total - net, never below 0) than this counter recorded: a contradiction.
    const here = returnedHere.get(o.sn) ?? 0;
    if (o.netCents > o.totalCents || here > o.totalCents - o.netCents) check.mismatches.push({ orderSn: o.sn, cents: o.totalCents - o.netCents - here });
  }
  return check;
}
