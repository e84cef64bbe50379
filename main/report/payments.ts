/**
 * The day report's payments taken at this counter: taken (paid), returned by
 * a cancel (冲正), and net, per payway and per operator; and the payments
 * whose outcome is still open (listed in 日结 until they are final). Pure,
 * integer cents.
 */
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
  /** Every payment requested on the day (and every one still open). */
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

export function computeCounterPayments(day: string, payments: readonly Payment[]): CounterPayments {
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
    if (p.businessDay !== day) continue;
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
