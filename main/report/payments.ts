/**
 * The day report's payments taken at this counter: taken (paid), returned by
 * a cancel (冲正), and net, per payway and per operator; and the payments
 * whose outcome is still open (listed in 日结 until they are final). Pure,
 * integer cents.
 *
 * Which day a payment counts on: the day the money moved, the same day the
 * report's main section books its order. A paid payment counts on its
 * order's business day (the order row written from the gateway's snapshot:
 * its payment time), or, with no order row stored, on the day it was
 * recorded paid (`paid_at`). A payment canceled after money was taken counts
 * taken and returned together on its order's day when the order is stored
 * (an import), else on the day it was requested (the reversal follows within
 * the payment's window; its net is zero either way). A failed or canceled
 * payment that took nothing counts (as failed) on the day it was requested.
 * So a QR code shown at 23:59 and paid at 00:00:30 counts on the next day, in
 * both sections.
 */
import { businessDay } from '../common/time';
import type { Payment } from '../store/payments';

/** A count and its sum in cents (the same shape as the day report's Tally). */
export interface Tally {
  count: number;
  cents: number;
}

export interface PaymentLine {
  taken: Tally;
  returned: Tally;
  netCents: number;
}

export interface CounterPayments extends PaymentLine {
  /** Every payment the report read: those counted on the day, those requested on it, and every one still open. */
  list: Payment[];
  byPayway: Array<PaymentLine & { payway: string; paywayName: string | null }>;
  byOperator: Array<PaymentLine & { operator: string }>;
  /** Payments whose outcome is still open (pending, canceling, needs_attention). */
  open: Array<Pick<Payment, 'id' | 'clientSn' | 'state' | 'amountCents' | 'orderSn' | 'businessDay'>>;
  failed: Tally;
}

const tally = (): Tally => ({ count: 0, cents: 0 });
const line = (): PaymentLine => ({ taken: tally(), returned: tally(), netCents: 0 });
const add = (t: Tally, cents: number): void => {
  t.count += 1;
  t.cents += cents;
};

function book(l: PaymentLine, p: Payment): void {
  if (p.state === 'paid') add(l.taken, p.amountCents);
  if (p.state === 'canceled' && p.moneyReturned) {
    // Taken, then returned by the reversal: both show, the net is zero.
    add(l.taken, p.amountCents);
    add(l.returned, p.amountCents);
  }
  l.netCents = l.taken.cents - l.returned.cents;
}

/** The business day a payment counts on (see the header); `orderDay`: its stored order's business day, if any. */
export function paymentDay(p: Payment, orderDay: string | null | undefined): string {
  const tookMoney = p.state === 'paid' || (p.state === 'canceled' && p.moneyReturned);
  if (tookMoney && orderDay) return orderDay;
  if (p.state === 'paid' && typeof p.paidAt === 'number') return businessDay(p.paidAt);
  return p.businessDay;
}

/** `orderDays`: the business day of each payment's stored order, by client_sn (the order's and the payment's). */
export function computeCounterPayments(day: string, payments: readonly Payment[], orderDays: ReadonlyMap<string, string> = new Map()): CounterPayments {
  const total = line();
  const failed = tally();
  const byPayway = new Map<string, PaymentLine & { payway: string; paywayName: string | null }>();
  const byOperator = new Map<string, PaymentLine & { operator: string }>();
  const open: CounterPayments['open'] = [];
  for (const p of payments) {
    if (p.state !== 'paid' && p.state !== 'canceled' && p.state !== 'failed') {
      open.push({ id: p.id, clientSn: p.clientSn, state: p.state, amountCents: p.amountCents, orderSn: p.orderSn, businessDay: p.businessDay });
      continue;
    }
    if (paymentDay(p, orderDays.get(p.clientSn)) !== day) continue;
    if (p.state === 'failed') add(failed, p.amountCents);
    book(total, p);
    const pw = p.payway ?? '';
    const w = byPayway.get(pw) ?? { payway: pw, paywayName: p.paywayName, ...line() };
    book(w, p);
    byPayway.set(pw, w);
    const o = byOperator.get(p.operatorName) ?? { operator: p.operatorName, ...line() };
    book(o, p);
    byOperator.set(p.operatorName, o);
  }
  const keep = (l: PaymentLine) => l.taken.count + l.returned.count > 0;
  return {
    ...total,
    failed,
    list: [...payments],
    byPayway: [...byPayway.values()].filter(keep).sort((a, b) => a.payway.localeCompare(b.payway)),
    byOperator: [...byOperator.values()].filter(keep).sort((a, b) => a.operator.localeCompare(b.operator)),
    open,
  };
}
