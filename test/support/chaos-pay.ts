/**
 * Payments in the chaos suites (the crash loop, chaos-crash.ts, and the
 * network chaos, chaos-network.ts): the short payment clocks, the payment
 * fault menu, the customer who pays some QR codes, settling what is open, and
 * the check against the gateway's truth for every attempt:
 * - one-sided: an order left CREATED, PAY_ERROR or CANCEL_ERROR at the
 *   gateway with nothing open here to reverse it;
 * - double charges: a client_sn sent more than once, or one sale (a cashier
 *   charging again after the runtime said "not paid") paid on two client_sns;
 * - recorded paid but not PAID: a row `paid` whose order the gateway never
 *   took the money for (or whose later void/refund is not recorded here);
 * - contradictions: any other disagreement (PAID at the gateway but not
 *   `paid` here, `canceled` but not CANCELED, `failed` but an order exists
 *   that is neither PAY_CANCELED nor untouched, money taken and not returned).
 */
import type { PaymentInput } from '../../main/operations/pay/request';
import type { Runtime } from '../../main/runtime';
import type { Fault, SandboxEndpoint, SandboxGateway } from '../../main/sandbox/gateway';
import type { Db } from '../../main/store/db';
import { sleep } from './chaos-env';

/** The payment clocks of the chaos runtimes: a barcode window of 400 ms, a QR lifetime of 300 ms, quick reversals. */
export const CHAOS_PAY_TIMING = {
  payWindowMs: 400,
  payQueryEveryMs: 40,
  qrFastMs: 30,
  qrFastForMs: 100,
  qrSlowMs: 60,
  qrLifetimeMs: 300,
  cancelRetryMs: 20,
  cancelRetryCapMs: 100,
  maxCancels: 3,
  attentionEveryMs: 100,
  leaseMs: 3_000,
} as const;

/** The vendor's flow, faulted: in progress for K queries (or for good), PAY_FAIL, PAY_FAIL_ERROR, answers lost, CANCEL_ERROR. */
export const PAY_FAULTS: ReadonlyArray<readonly [SandboxEndpoint, Fault]> = [
  ['pay', { kind: 'pay_in_progress', queries: 2 }],
  ['pay', { kind: 'pay_in_progress', queries: 1_000 }],
  ['pay', { kind: 'pay_in_progress', queries: 1, then: 'PAY_CANCELED' }],
  ['pay', { kind: 'pay_fail', errorCode: 'INSUFFICIENT_FUND' }],
  ['pay', { kind: 'pay_fail_error' }],
  ['pay', { kind: 'drop_before' }],
  ['pay', { kind: 'drop_after' }],
  ['pay', { kind: 'delay', ms: 300 }],
  ['precreate', { kind: 'drop_after' }],
  ['query', { kind: 'drop_before' }],
  ['query', { kind: 'delay', ms: 200 }],
  ['cancel', { kind: 'drop_after' }],
  ['cancel', { kind: 'drop_before' }],
  ['cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' }],
  ['cancel', { kind: 'cancel_error_no_code', outcome: 'canceled' }],
];

export const CHAOS_WHO = { operatorId: null, operatorName: 'chaos', approverId: null, approverName: null };

/** The i-th payment of a run: two barcodes, then a WeChat QR. */
export function payInput(i: number, amountCents = 100 + i): PaymentInput {
  return i % 3 === 2 ? { amountCents, method: 'qr', payway: '3' } : { amountCents, method: 'barcode', barcode: '134567890123456789' };
}

/** The customer scans and pays some of the QR codes waiting at the gateway (every 50 ms, with probability `p` each). */
export function customerPaysSome(gw: SandboxGateway, rand: () => number, p = 0.3): () => void {
  const t = setInterval(() => {
    for (const o of gw.orders()) if (o.orderStatus === 'CREATED' && o.dynamicId === '' && rand() < p) gw.customerPays(o.clientSn);
  }, 50);
  return () => clearInterval(t);
}

/** Works every open payment (query, then cancel once its window is over) until none is open, or `timeoutMs`. */
export async function settlePayments(rt: Runtime, timeoutMs = 30_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  while (rt.payments.open().length > 0 && Date.now() < end) {
    await rt.payments.wakeAll();
    await sleep(50);
  }
  return rt.payments.open().length;
}

export interface PayTruth {
  attempts: number;
  paid: number;
  canceled: number;
  failed: number;
  /** Canceled after the money was taken: the reversal gave it back. */
  returned: number;
  /** Paid payments whose order was then voided or refunded here (the gateway agrees: checked by checkMixedTruth). */
  paidThenVoided: number;
  open: number;
  oneSided: string[];
  doubleCharges: string[];
  recordedPaidNotPaid: string[];
  contradictions: string[];
}

export const emptyPayTruth = (): PayTruth => ({
  attempts: 0,
  paid: 0,
  canceled: 0,
  failed: 0,
  returned: 0,
  paidThenVoided: 0,
  open: 0,
  oneSided: [],
  doubleCharges: [],
  recordedPaidNotPaid: [],
  contradictions: [],
});

/** Adds `b`'s counts and findings to `a`. */
export function addPayTruth(a: PayTruth, b: PayTruth, prefix = ''): void {
  for (const k of ['attempts', 'paid', 'canceled', 'failed', 'returned', 'paidThenVoided', 'open'] as const) a[k] += b[k];
  for (const k of ['oneSided', 'doubleCharges', 'recordedPaidNotPaid', 'contradictions'] as const) a[k].push(...b[k].map((m) => prefix + m));
}

/**
 * Every payment row (or those of `clientSns`) against the gateway's truth (its
 * counters per client_sn). `sales` groups client_sns charged for one sale (a
 * cashier trying again after "not paid"): at most one of them may be PAID.
 */
export function checkPayTruth(db: Db, gw: SandboxGateway, clientSns?: Iterable<string>, sales: Iterable<readonly string[]> = []): PayTruth {
  const t = emptyPayTruth();
  const wanted = clientSns ? new Set(clientSns) : null;
  const rows = (db.prepare('SELECT client_sn, state, order_sn, error_code FROM payments ORDER BY id').all() as Array<{ client_sn: string; state: string; order_sn: string; error_code: string | null }>).filter(
    (r) => !wanted || wanted.has(r.client_sn),
  );
  const voids = db.prepare(`SELECT (SELECT count(*) FROM revokes WHERE order_sn = @sn AND state = 'revoked') + (SELECT count(*) FROM refunds WHERE order_sn = @sn AND state = 'refunded')`).pluck();
  const localOrder = db.prepare('SELECT status FROM orders WHERE sn = ?').pluck();
  for (const r of rows) {
    t.attempts++;
    const n = gw.counters(r.client_sn);
    const status = n.orderStatus;
    if (status === 'CREATED' || status === 'PAY_ERROR' || status === 'CANCEL_ERROR') t.oneSided.push(`${r.client_sn}: gateway ${status}, local ${r.state}`);
    if (n.pay + n.precreate > 1) t.doubleCharges.push(`${r.client_sn}: sent ${n.pay + n.precreate} times`);
    const said = `${r.client_sn}: local ${r.state}, gateway ${status ?? 'none'} (taken ${n.moneyTaken}, returned ${n.moneyReturned})`;
    switch (r.state) {
      case 'paid': {
        t.paid++;
        const voided = r.order_sn ? (voids.get({ sn: r.order_sn }) as number) : 0;
        if (voided > 0) t.paidThenVoided++;
        // PAID, or voided / refunded since, by an operation recorded here, with our order row saying the same.
        const explained = status === 'PAID' || (voided > 0 && status !== null && localOrder.get(r.order_sn) === status);
        if (!n.moneyTaken || !explained) t.recordedPaidNotPaid.push(said);
        break;
      }
      case 'canceled':
        t.canceled++;
        if (n.moneyTaken) t.returned++;
        if (status !== 'CANCELED' || (n.moneyTaken && !n.moneyReturned)) t.contradictions.push(said);
        break;
      case 'failed':
        t.failed++;
        if (n.moneyTaken && !n.moneyReturned) t.contradictions.push(said);
        if (status !== null && status !== 'PAY_CANCELED' && status !== 'CANCELED') t.contradictions.push(said);
        break;
      default:
        t.open++;
    }
    if (r.state !== 'paid' && status === 'PAID') t.contradictions.push(`${said}: money taken, not recorded paid`);
  }
  // Charged: the money was taken and kept, or taken for a payment recorded paid (a void of it later is the cashier's own).
  const stateOf = new Map(rows.map((r) => [r.client_sn, r.state]));
  const charged = (csn: string) => {
    const n = gw.counters(csn);
    return n.moneyTaken && (stateOf.get(csn) === 'paid' || !n.moneyReturned);
  };
  for (const sale of sales) {
    const paid = sale.filter(charged);
    if (paid.length > 1) t.doubleCharges.push(`one sale charged on ${paid.length} client_sns: ${paid.join(', ')}`);
  }
  return t;
}

/** One line of the counts, for the suites' summaries. */
export function payTruthLine(t: PayTruth): string {
  return (
    `payments=${t.attempts} paid=${t.paid} canceled=${t.canceled} returned=${t.returned} failed=${t.failed} paid_then_voided=${t.paidThenVoided} open=${t.open} ` +
    `one_sided=${t.oneSided.length} double_charges=${t.doubleCharges.length} recorded_paid_not_paid=${t.recordedPaidNotPaid.length} pay_contradictions=${t.contradictions.length}`
  );
}
