/**
 * The day report's truth about money returned: which of the day's orders were
 * taken here (this counter's own: an order of another till, imported to void
 * or refund it here, is only the base of those), what this counter itself
 * gave back on them (its revokes and refunds, any day), what the gateway shows
 * returned beyond that and beyond what its revokes and refunds still open on
 * the order may have returned ("returned elsewhere", on the order's day), and
 * the figures the report's net must equal (the orders' own net amounts). Pure,
 * integer cents.
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
  /**
   * This counter's revokes and refunds of those orders recorded on another day (they count in that day's report),
   * and what the gateway shows returned on them that may be a revoke or refund still open here (it counts on the
   * day that operation settles; never as returned elsewhere).
   */
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

/**
 * What this counter's revokes and refunds still open would return, per order (a revoke: the order's total; a
 * refund: its amount), each row once (by kind and id), from every row given.
 */
export function openReturns(
  revokeRows: readonly RevokeRow[],
  refundRows: readonly RefundRow[],
  bySn: ReadonlyMap<string, Order>,
  isOpen: (kind: 'revoke' | 'refund', state: string) => boolean,
): Map<string, number> {
  const out = new Map<string, number>();
  const add = (sn: string, cents: number) => out.set(sn, (out.get(sn) ?? 0) + cents);
  for (const r of new Map(revokeRows.map((x) => [x.id, x])).values()) if (isOpen('revoke', r.state)) add(r.order_sn, bySn.get(r.order_sn)?.totalCents ?? 0);
  for (const r of new Map(refundRows.map((x) => [x.id, x])).values()) if (isOpen('refund', r.state)) add(r.order_sn, r.amount_cents);
  return out;
}

/**
 * An order of this counter: its `terminal_sn` is one of `own` (this counter's terminals), or unknown (null: every
 * order stored before schema version 18). Without `own`, every order is.
 */
export function ofThisCounter(o: Order, own: ReadonlySet<string> | undefined): boolean {
  return !own || !o.terminalSn || own.has(o.terminalSn);
}

/** The orders of `day` whose money was taken (see the header). */
export function takenOrders(day: string, orders: readonly Order[], returnedHere: ReadonlySet<string>): Order[] {
  return orders.filter((o) => o.businessDay === day && PAID_ONCE.has(o.status) && (!VOIDED.has(o.status) || o.tradeNo !== null || returnedHere.has(o.sn)));
}

/**
 * Per taken order, what the gateway shows returned (total - net) beyond this counter's returns of it (any day),
 * split in two: what a revoke or refund still open here may have returned (up to what they would return: counted
 * when they settle, never as returned elsewhere) and the rest, returned elsewhere. Negative: a mismatch.
 */
function beyondHere(o: Order, here: ReadonlyMap<string, number>, open: ReadonlyMap<string, number>): { open: number; elsewhere: number } {
  const beyond = o.totalCents - o.netCents - (here.get(o.sn) ?? 0);
  const pending = Math.min(Math.max(beyond, 0), open.get(o.sn) ?? 0);
  return { open: pending, elsewhere: beyond - pending };
}

const returnedPerOrder = (returns: readonly LocalReturn[]): Map<string, number> => {
  const here = new Map<string, number>();
  for (const r of returns) here.set(r.orderSn, (here.get(r.orderSn) ?? 0) + r.cents);
  return here;
};

/**
 * Per taken order: total - net - this counter's returns of it (any day) - what its revokes and refunds still open
 * may have returned, when positive; on its payway and its operator. `open`: see `openReturns`.
 */
export function bookElsewhere(e: ReturnedElsewhere, paid: readonly Order[], returns: readonly LocalReturn[], open: ReadonlyMap<string, number> = new Map()): void {
  const here = returnedPerOrder(returns);
  const byPayway = new Map<string, ReturnedElsewhere['byPayway'][number]>();
  const byOperator = new Map<string, ReturnedElsewhere['byOperator'][number]>();
  for (const o of paid) {
    const cents = beyondHere(o, here, open).elsewhere;
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
export function netCheck(day: string, paid: readonly Order[], returns: readonly LocalReturn[], open: ReadonlyMap<string, number> = new Map()): NetCheck {
  const check: NetCheck = { ordersNetCents: 0, returnedOnOtherDaysCents: 0, returnedForOtherOrdersCents: 0, mismatches: [] };
  const taken = new Map(paid.map((o) => [o.sn, o]));
  const returnedHere = new Map<string, number>();
  const settled = returnedPerOrder(returns);
  for (const o of paid) {
    check.ordersNetCents += o.netCents;
    // What an operation still open here may have returned counts on the day it settles, as its revokes and refunds do.
    check.returnedOnOtherDaysCents += beyondHere(o, settled, open).open;
  }
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
