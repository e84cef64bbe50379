/**
 * The day report (日结) of one business day (UTC+8): payments seen, revokes
 * and refunds counted and summed per payway and per operator, money the
 * gateway shows returned on the day's orders without a revoke or refund of
 * this counter ("returned elsewhere"), and the revokes and refunds still open.
 * A pure computation from the rows, in integer cents, checked before anyone
 * sees it: every breakdown sums to the totals, and the net equals the day's
 * orders' own net amounts (the gateway's, as stored), adjusted only by the
 * revokes and refunds that count on another day than their order's.
 *
 * Which day a money movement belongs to: a payment counts on its order's
 * business day; a revoke and a refund count on the business day they were
 * recorded as done (`revoked_at`'s day, `refunded_day`), whatever day their
 * order was paid. So a revoke sent at 23:59:55 whose answer only came (or
 * was settled by a query) after midnight counts in the next day's report,
 * and in exactly one report. Money returned elsewhere counts on its order's
 * day (when it went back is not known here, only that it did): the day's net
 * is what was taken that day and is still kept, less this counter's own
 * revokes and refunds of that day. Open items are every revoke and refund
 * still open when the report is made, whatever day their order is.
 *
 * What counts as taken: an order of this counter (its `terminal_sn` one of
 * this counter's terminals, or unknown) whose status says the payment happened
 * (PAID and every status after it). A voided order (CANCELED, CANCEL_*) with
 * no channel transaction (no trade_no) and no revoke or refund of this
 * counter was never paid (an unpaid QR code canceled): not taken, not counted.
 * An order of another till, imported to void or refund it here, is never a
 * payment here: it is only the base of this counter's revokes and refunds of
 * it (counted on their day, as those of another day's orders are).
 *
 * Money the gateway shows returned on an order with a revoke or refund of
 * this counter still open is that operation's, up to what it would return:
 * not returned elsewhere (it counts as a revoke or refund when it settles);
 * the order shows under the open items only.
 */
import { businessDay } from '../common/time';
import type { Order } from '../domain';
import type { RefundRow } from '../store/refunds';
import type { RevokeRow } from '../store/revokes';
import type { CounterPayments } from './payments';
import { bookElsewhere, localReturns, netCheck, ofThisCounter, openReturns, takenOrders, type NetCheck, type ReturnedElsewhere } from './truth';

export type { ElsewhereOrder, NetCheck, ReturnedElsewhere } from './truth';

export interface Tally {
  count: number;
  cents: number;
}

export interface PaywayLine {
  payway: string;
  paywayName: string | null;
  payments: Tally;
  revokes: Tally;
  refunds: Tally;
  /** payments - revokes - refunds - returned elsewhere (`returnedElsewhere.byPayway`) */
  netCents: number;
}

export interface OperatorLine {
  operator: string;
  payments: Tally;
  revokes: Tally;
  refunds: Tally;
}

export interface OpenItem {
  kind: 'revoke' | 'refund';
  id: number;
  orderSn: string;
  state: string;
  amountCents: number;
}

export interface DayReport {
  day: string;
  generatedAt: number;
  payments: Tally;
  revokes: Tally;
  refunds: Tally;
  returnedElsewhere: ReturnedElsewhere;
  /** payments - revokes - refunds - returned elsewhere: the money taken on the day's orders and kept. */
  netCents: number;
  byPayway: PaywayLine[];
  byOperator: OperatorLine[];
  open: { items: OpenItem[]; revokes: Tally; refunds: Tally };
  check: NetCheck;
  /**
   * Every breakdown sums to the totals, and the net equals the orders' own net amounts
   * (ordersNetCents + returnedOnOtherDaysCents - returnedForOtherOrdersCents) with no mismatch.
   */
  reconciled: boolean;
  /** Payments taken at this counter (./payments.ts): taken, returned by 冲正, net, and those still open. */
  counterPayments?: CounterPayments;
}

export interface DayReportRows {
  /** Orders paid on the day (another till's too: only this counter's count as payments, see `ownTerminals`). */
  orders: Order[];
  /** Revokes recorded as revoked on the day (by `revoked_at`, any order's day), and every open one. */
  revokes: RevokeRow[];
  /** Refunds recorded on the day, and every open one. */
  refunds: RefundRow[];
  /** Orders the refunds belong to (any day). */
  refundOrders: Order[];
  /** Orders the revokes belong to (any day; those of the day may be in `orders` only). */
  revokeOrders?: Order[];
  /**
   * Every revoke and refund of the day's orders, whatever day they were recorded (those of another day are
   * not money returned elsewhere). Without them, only `revokes` and `refunds` are known.
   */
  orderRevokes?: RevokeRow[];
  orderRefunds?: RefundRow[];
  /** The counter's payments of the day, computed by ./payments.ts (checked with the rest). */
  counterPayments?: CounterPayments;
  /**
   * This counter's terminals (the one it is now and those it was before): an order whose `terminal_sn` is another
   * is another till's, never a payment here. Without it, every order is this counter's.
   */
  ownTerminals?: readonly string[];
}

const OPEN_REVOKE = new Set(['sending', 'queued', 'pending', 'needs_attention']);
const OPEN_REFUND = OPEN_REVOKE;

const zero = (): Tally => ({ count: 0, cents: 0 });
const add = (t: Tally, cents: number): void => {
  t.count += 1;
  t.cents += cents;
};

export function computeDayReport(day: string, rows: DayReportRows, generatedAt: number): DayReport {
  const bySn = new Map<string, Order>([...(rows.revokeOrders ?? []), ...rows.refundOrders, ...rows.orders].map((o) => [o.sn, o]));
  const revokeRows = [...rows.revokes, ...(rows.orderRevokes ?? [])];
  const refundRows = [...rows.refunds, ...(rows.orderRefunds ?? [])];
  const returns = localReturns(revokeRows, refundRows, bySn);
  const open = openReturns(revokeRows, refundRows, bySn, (kind, state) => (kind === 'revoke' ? OPEN_REVOKE : OPEN_REFUND).has(state));
  const own = rows.ownTerminals && new Set(rows.ownTerminals);
  const paid = takenOrders(
    day,
    rows.orders.filter((o) => ofThisCounter(o, own)),
    new Set(returns.map((r) => r.orderSn)),
  );
  const payways = new Map<string, PaywayLine>();
  const operators = new Map<string, OperatorLine>();
  const payway = (o: Order | undefined): PaywayLine => {
    const key = o?.payway ?? '';
    let line = payways.get(key);
    if (!line) payways.set(key, (line = { payway: key, paywayName: o?.paywayName ?? null, payments: zero(), revokes: zero(), refunds: zero(), netCents: 0 }));
    line.paywayName ??= o?.paywayName ?? null;
    return line;
  };
  const operator = (name: string | null): OperatorLine => {
    const key = name ?? '-';
    let line = operators.get(key);
    if (!line) operators.set(key, (line = { operator: key, payments: zero(), revokes: zero(), refunds: zero() }));
    return line;
  };

  const report: DayReport = {
    day,
    generatedAt,
    payments: zero(),
    revokes: zero(),
    refunds: zero(),
    returnedElsewhere: { ...zero(), byPayway: [], byOperator: [], orders: [] },
    netCents: 0,
    byPayway: [],
    byOperator: [],
    open: { items: [], revokes: zero(), refunds: zero() },
    check: netCheck(day, paid, returns, open),
    reconciled: false,
  };
  for (const o of paid) {
    add(report.payments, o.totalCents);
    add(payway(o).payments, o.totalCents);
    add(operator(o.operator).payments, o.totalCents);
  }
  for (const r of rows.revokes) {
    const o = bySn.get(r.order_sn);
    const cents = o?.totalCents ?? 0;
    // Counted on the day it was recorded as revoked (as a refund on its `refunded_day`), not on its order's day.
    if (r.state === 'revoked' && r.revoked_at !== null && businessDay(r.revoked_at) === day) {
      add(report.revokes, cents);
      add(payway(o).revokes, cents);
      add(operator(r.operator).revokes, cents);
    } else if (OPEN_REVOKE.has(r.state)) {
      add(report.open.revokes, cents);
      report.open.items.push({ kind: 'revoke', id: r.id, orderSn: r.order_sn, state: r.state, amountCents: cents });
    }
  }
  for (const r of rows.refunds) {
    if (r.state === 'refunded' && r.refunded_day === day) {
      add(report.refunds, r.amount_cents);
      add(payway(bySn.get(r.order_sn)).refunds, r.amount_cents);
      add(operator(r.operator).refunds, r.amount_cents);
    } else if (OPEN_REFUND.has(r.state)) {
      add(report.open.refunds, r.amount_cents);
      report.open.items.push({ kind: 'refund', id: r.id, orderSn: r.order_sn, state: r.state, amountCents: r.amount_cents });
    }
  }
  bookElsewhere(report.returnedElsewhere, paid, returns, open);
  const elsewhereOf = new Map(report.returnedElsewhere.byPayway.map((l) => [l.payway, l.cents]));
  for (const line of payways.values()) line.netCents = line.payments.cents - line.revokes.cents - line.refunds.cents - (elsewhereOf.get(line.payway) ?? 0);
  report.netCents = report.payments.cents - report.revokes.cents - report.refunds.cents - report.returnedElsewhere.cents;
  report.byPayway = [...payways.values()].sort((a, b) => a.payway.localeCompare(b.payway, 'en', { numeric: true }));
  report.byOperator = [...operators.values()].sort((a, b) => a.operator.localeCompare(b.operator));
  if (rows.counterPayments) report.counterPayments = rows.counterPayments;
  report.reconciled = reconciles(report);
  return report;
}

const sumOf = <L extends Tally>(lines: readonly L[]): Tally => lines.reduce((t, l) => ({ count: t.count + l.count, cents: t.cents + l.cents }), zero());
const same = (a: Tally, b: Tally) => a.count === b.count && a.cents === b.cents;

/**
 * Every breakdown sums to the totals, counts and cents; the net is payments less every way money went back;
 * and the net equals the day's orders' own net amounts (adjusted by this counter's revokes and refunds that
 * count on another day than their order's), with no order showing less returned than this counter recorded.
 */
export function reconciles(r: DayReport): boolean {
  const sum = (lines: Array<Record<'payments' | 'revokes' | 'refunds', Tally>>, k: 'payments' | 'revokes' | 'refunds'): Tally =>
    lines.reduce((t, l) => ({ count: t.count + l[k].count, cents: t.cents + l[k].cents }), zero());
  for (const k of ['payments', 'revokes', 'refunds'] as const) {
    if (!same(sum(r.byPayway, k), r[k]) || !same(sum(r.byOperator, k), r[k])) return false;
  }
  const e = r.returnedElsewhere;
  if (!same(sumOf(e.byPayway), e) || !same(sumOf(e.byOperator), e) || !same(sumOf(e.orders.map((o) => ({ count: 1, cents: o.cents }))), e)) return false;
  if (e.orders.some((o) => o.cents <= 0)) return false;
  const elsewhereOf = new Map(e.byPayway.map((l) => [l.payway, l.cents]));
  if (e.byPayway.some((l) => !r.byPayway.some((p) => p.payway === l.payway))) return false;
  if (r.byPayway.some((l) => l.netCents !== l.payments.cents - l.revokes.cents - l.refunds.cents - (elsewhereOf.get(l.payway) ?? 0))) return false;
  const net = r.byPayway.reduce((n, l) => n + l.netCents, 0);
  const open = (kind: OpenItem['kind']): Tally =>
    r.open.items.filter((i) => i.kind === kind).reduce((t, i) => ({ count: t.count + 1, cents: t.cents + i.amountCents }), zero());
  const c = r.check;
  return (
    net === r.netCents &&
    r.netCents === r.payments.cents - r.revokes.cents - r.refunds.cents - e.cents &&
    // The orders' truth: what the gateway says is kept on the day's orders, less this counter's returns booked on the day.
    r.netCents === c.ordersNetCents + c.returnedOnOtherDaysCents - c.returnedForOtherOrdersCents &&
    c.mismatches.length === 0 &&
    same(open('revoke'), r.open.revokes) &&
    same(open('refund'), r.open.refunds) &&
    counterReconciles(r.counterPayments) &&
    [r.payments, r.revokes, r.refunds, e].every((t) => Number.isSafeInteger(t.cents)) &&
    Number.isSafeInteger(r.netCents)
  );
}

/** The counter's payments: taken - returned = net, on the total and on every line; the lines sum to the total. */
function counterReconciles(cp: CounterPayments | undefined): boolean {
  if (!cp) return true;
  const lines = [cp, ...cp.byPayway, ...cp.byOperator];
  if (lines.some((l) => l.netCents !== l.taken.cents - l.returned.cents)) return false;
  for (const k of ['taken', 'returned'] as const) {
    if (!same(sumOf(cp.byPayway.map((l) => l[k])), cp[k]) || !same(sumOf(cp.byOperator.map((l) => l[k])), cp[k])) return false;
  }
  return true;
}

/**
 * The report as CSV: one line per figure (`section,key,name,count,cents,yuan`), amounts in cents (integers)
 * and yuan: totals, per payway, per operator, returned elsewhere (with its orders), the open revokes and
 * refunds, the counter's payments (taken / returned / net, per payway and operator, failed) and its open
 * payments, and the figures the net was checked against.
 */
export function dayReportCsv(r: DayReport): string {
  const yuan = (c: number) => (c / 100).toFixed(2);
  const lines = ['section,key,name,count,cents,yuan'];
  const cells = (...v: Array<string | number>) => lines.push(v.map(csvCell).join(','));
  const row = (section: string, key: string, name: string, t: Tally) => cells(section, key, name, t.count, t.cents, yuan(t.cents));
  const net = (section: string, key: string, name: string, cents: number) => cells(section, key, name, '', cents, yuan(cents));
  const e = r.returnedElsewhere;
  row('total', 'payments', '', r.payments);
  row('total', 'revokes', '', r.revokes);
  row('total', 'refunds', '', r.refunds);
  row('total', 'returned_elsewhere', '', e);
  net('total', 'net', '', r.netCents);
  for (const l of r.byPayway) {
    const name = l.paywayName ?? '';
    row('payway.payments', l.payway, name, l.payments);
    row('payway.revokes', l.payway, name, l.revokes);
    row('payway.refunds', l.payway, name, l.refunds);
    row('payway.returned_elsewhere', l.payway, name, e.byPayway.find((x) => x.payway === l.payway) ?? zero());
    net('payway.net', l.payway, name, l.netCents);
  }
  for (const l of r.byOperator) {
    row('operator.payments', l.operator, '', l.payments);
    row('operator.revokes', l.operator, '', l.revokes);
    row('operator.refunds', l.operator, '', l.refunds);
    row('operator.returned_elsewhere', l.operator, '', e.byOperator.find((x) => x.operator === l.operator) ?? zero());
  }
  for (const o of e.orders) cells('returned_elsewhere.order', o.orderSn, o.status, 1, o.cents, yuan(o.cents));
  for (const i of r.open.items) cells(`open.${i.kind}`, String(i.id), i.orderSn, i.state, i.amountCents, yuan(i.amountCents));
  const cp = r.counterPayments;
  if (cp) {
    row('counter.taken', '', '', cp.taken);
    row('counter.returned', '', '', cp.returned);
    net('counter.net', '', '', cp.netCents);
    row('counter.failed', '', '', cp.failed);
    for (const l of cp.byPayway) {
      row('counter.payway.taken', l.payway, l.paywayName ?? '', l.taken);
      row('counter.payway.returned', l.payway, l.paywayName ?? '', l.returned);
      net('counter.payway.net', l.payway, l.paywayName ?? '', l.netCents);
    }
    for (const l of cp.byOperator) {
      row('counter.operator.taken', l.operator, '', l.taken);
      row('counter.operator.returned', l.operator, '', l.returned);
      net('counter.operator.net', l.operator, '', l.netCents);
    }
    for (const p of cp.open) cells('open.payment', String(p.id), p.clientSn, p.state, p.amountCents, yuan(p.amountCents));
  }
  net('check.orders_net', '', '', r.check.ordersNetCents);
  net('check.returned_on_other_days', '', '', r.check.returnedOnOtherDaysCents);
  net('check.returned_for_other_orders', '', '', r.check.returnedForOtherOrdersCents);
  for (const m of r.check.mismatches) cells('check.mismatch', m.orderSn, '', '', m.cents, yuan(m.cents));
  cells('check.reconciled', '', '', r.reconciled ? 1 : 0, '', '');
  return lines.join('\n') + '\n';
}

/**
 * One CSV cell. A cell a spreadsheet could read as a formula (starting with = + - @, a tab or a CR, also after
 * leading blanks or line breaks; OWASP's CSV injection list) is prefixed with ' and quoted; a plain number
 * (negative cents) and a lone "-" (the operator of an order without one) are left as they are. A cell with a
 * quote, a comma, a line feed or a carriage return is quoted, so no value can split a row.
 */
export function csvCell(v: string | number | null): string {
  const s = v === null ? '-' : String(v);
  const plain = /^-?\d+(\.\d+)?$/.test(s) || s === '-';
  const safe = !plain && /^\s*[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
}
