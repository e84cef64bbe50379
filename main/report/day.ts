/**
 * The day report (日结) of one business day (UTC+8): payments seen, revokes
 * and refunds counted and summed per payway and per operator, and the
 * revokes and refunds still open. A pure computation from the rows, in
 * integer cents, checked against itself (every breakdown sums to the
 * totals) before anyone sees it.
 *
 * Which day a money movement belongs to: a payment counts on its order's
 * business day; a revoke and a refund count on the business day they were
 * recorded as done (`revoked_at`'s day, `refunded_day`), whatever day their
 * order was paid. So a revoke sent at 23:59:55 whose answer only came (or
 * was settled by a query) after midnight counts in the next day's report,
 * and in exactly one report. Open items are every revoke and refund still
 * open when the report is made, whatever day their order is.
 */
import { businessDay } from '../common/time';
import type { Order } from '../domain';
import type { RefundRow } from '../store/refunds';
import type { RevokeRow } from '../store/revokes';
import type { CounterPayments } from './payments';

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
  /** payments - revokes - refunds */
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
  netCents: number;
  byPayway: PaywayLine[];
  byOperator: OperatorLine[];
  open: { items: OpenItem[]; revokes: Tally; refunds: Tally };
  /** Every breakdown sums to the totals (always true for a report this module made; kept for the reader). */
  reconciled: boolean;
  /** Payments taken at this counter (./payments.ts): taken, returned by 冲正, net, and those still open. */
  counterPayments?: CounterPayments;
}

export interface DayReportRows {
  /** Orders paid on the day. */
  orders: Order[];
  /** Revokes recorded as revoked on the day (by `revoked_at`, any order's day), and every open one. */
  revokes: RevokeRow[];
  /** Refunds recorded on the day, and every open one. */
  refunds: RefundRow[];
  /** Orders the refunds belong to (any day). */
  refundOrders: Order[];
  /** Orders the revokes belong to (any day; those of the day may be in `orders` only). */
  revokeOrders?: Order[];
}

/** Order statuses that mean the payment happened (whatever came after). */
const PAID_ONCE = new Set(['PAID', 'PARTIAL_REFUNDED', 'REFUNDED', 'REFUND_INPROGRESS', 'REFUND_ERROR', 'CANCELED', 'CANCEL_INPROGRESS', 'CANCEL_ERROR']);
const OPEN_REVOKE = new Set(['sending', 'queued', 'pending', 'needs_attention']);
const OPEN_REFUND = OPEN_REVOKE;

const zero = (): Tally => ({ count: 0, cents: 0 });
const add = (t: Tally, cents: number): void => {
  t.count += 1;
  t.cents += cents;
};

export function computeDayReport(day: string, rows: DayReportRows, generatedAt: number): DayReport {
  const paid = rows.orders.filter((o) => o.businessDay === day && PAID_ONCE.has(o.status));
  const bySn = new Map<string, Order>([...(rows.revokeOrders ?? []), ...rows.refundOrders, ...rows.orders].map((o) => [o.sn, o]));
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
    netCents: 0,
    byPayway: [],
    byOperator: [],
    open: { items: [], revokes: zero(), refunds: zero() },
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
  for (const line of payways.values()) line.netCents = line.payments.cents - line.revokes.cents - line.refunds.cents;
  report.netCents = report.payments.cents - report.revokes.cents - report.refunds.cents;
  report.byPayway = [...payways.values()].sort((a, b) => a.payway.localeCompare(b.payway, 'en', { numeric: true }));
  report.byOperator = [...operators.values()].sort((a, b) => a.operator.localeCompare(b.operator));
  report.reconciled = reconciles(report);
  return report;
}

/** Every breakdown sums to the totals, counts and cents. */
export function reconciles(r: DayReport): boolean {
  const sum = (lines: Array<Record<'payments' | 'revokes' | 'refunds', Tally>>, k: 'payments' | 'revokes' | 'refunds'): Tally =>
    lines.reduce((t, l) => ({ count: t.count + l[k].count, cents: t.cents + l[k].cents }), zero());
  const same = (a: Tally, b: Tally) => a.count === b.count && a.cents === b.cents;
  for (const k of ['payments', 'revokes', 'refunds'] as const) {
    if (!same(sum(r.byPayway, k), r[k]) || !same(sum(r.byOperator, k), r[k])) return false;
  }
  const net = r.byPayway.reduce((n, l) => n + l.netCents, 0);
  const open = (kind: OpenItem['kind']): Tally =>
    r.open.items.filter((i) => i.kind === kind).reduce((t, i) => ({ count: t.count + 1, cents: t.cents + i.amountCents }), zero());
  return (
    net === r.netCents &&
    r.netCents === r.payments.cents - r.revokes.cents - r.refunds.cents &&
    same(open('revoke'), r.open.revokes) &&
    same(open('refund'), r.open.refunds) &&
    [r.payments, r.revokes, r.refunds].every((t) => Number.isSafeInteger(t.cents))
  );
}

/** The report as CSV: one line per section row, amounts in cents (integers) and yuan. */
export function dayReportCsv(r: DayReport): string {
  const yuan = (c: number) => (c / 100).toFixed(2);
  const lines = ['section,key,name,count,cents,yuan'];
  const row = (section: string, key: string, name: string, t: Tally) => lines.push([section, key, name, t.count, t.cents, yuan(t.cents)].map(csvCell).join(','));
  row('total', 'payments', '', r.payments);
  row('total', 'revokes', '', r.revokes);
  row('total', 'refunds', '', r.refunds);
  lines.push(['total', 'net', '', '', r.netCents, yuan(r.netCents)].map(csvCell).join(','));
  for (const l of r.byPayway) {
    row('payway.payments', l.payway, l.paywayName ?? '', l.payments);
    row('payway.revokes', l.payway, l.paywayName ?? '', l.revokes);
    row('payway.refunds', l.payway, l.paywayName ?? '', l.refunds);
  }
  for (const l of r.byOperator) {
    row('operator.payments', l.operator, '', l.payments);
    row('operator.revokes', l.operator, '', l.revokes);
    row('operator.refunds', l.operator, '', l.refunds);
  }
  for (const i of r.open.items) lines.push([`open.${i.kind}`, String(i.id), i.orderSn, i.state, i.amountCents, yuan(i.amountCents)].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

function csvCell(v: string | number): string {
  const s = String(v);
  // A cell starting with = + - @ would be a formula in a spreadsheet: quoted and prefixed.
  const safe = /^[=+\-@]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\n]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
}
