/**
 * A success answer that arrives after a payment was recorded `canceled` is stale (an order never goes from
 * CANCELED back to PAID): it must not turn the row into `paid` (a 收款凭证 for money the reversal returned). The
 * pay kind lists `canceled` in `successNeverOverwrites`; the ignored answer is audited (`pay.stale_success`).
 * Revokes keep "the gateway's truth wins over any state" (a revoke recorded rejected, then seen CANCELED).
 *
 * The race, over real HTTP to the sandbox: process A's pay is applied at once but its PAY_SUCCESS is slow; A's
 * lease on the row lapses, process B takes the row over, its queries are lost, the window ends, B cancels (the
 * money goes back) and records `canceled`; then A's PAY_SUCCESS arrives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import type { PayTiming } from '../../main/operations/pay/timing';
import { databaseOf } from '../../main/runtime';
import { createHarness, until, type Harness } from '../support/harness';

const T: Partial<PayTiming> = { payWindowMs: 300, payQueryEveryMs: 50, cancelRetryMs: 30, cancelRetryCapMs: 100, maxCancels: 3, attentionEveryMs: 150, leaseMs: 400 };
const WHO: Accountable = { operatorId: null, operatorName: '收银员 1', approverId: null, approverName: null };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a stale success never overwrites a canceled payment', () => {
  it('PAY_SUCCESS after another process canceled the payment (money returned): stays canceled, no 收款凭证, audited', async () => {
    h = await createHarness({ runtime: { startWorkers: false, payTiming: T } });
    const hh = h;
    // Process B: the app, its worker on.
    const other = hh.runtime({ payTiming: T, startWorkers: true });
    hh.sandbox.gateway.inject('pay', { kind: 'delay', ms: 1_500 });
    hh.sandbox.gateway.inject('query', { kind: 'drop_before' }, 3);
    const asked = hh.rt.payments.request({ amountCents: 1234, method: 'barcode', barcode: '134567890123456789' }, WHO, 'cli');
    const row = await until(() => other.payments.open()[0], 2_000, 2);
    const canceled = await until(() => {
      const p = other.payments.get(row.id)!;
      return p.state === 'canceled' ? p : undefined;
    }, 5_000, 5);
    expect(canceled.moneyReturned).toBe(true);
    // A's answer comes now: PAY_SUCCESS, stale.
    const answered = await asked;
    expect(answered.state).toBe('canceled');
    const n = hh.sandbox.gateway.counters(row.clientSn);
    expect({ pay: n.pay, status: n.orderStatus, taken: n.moneyTaken, returned: n.moneyReturned }).toEqual({ pay: 1, status: 'CANCELED', taken: true, returned: true });
    const after = other.payments.get(row.id)!;
    expect({ state: after.state, moneyReturned: after.moneyReturned, paidAt: after.paidAt }).toEqual({ state: 'canceled', moneyReturned: true, paidAt: null });
    // Only the 撤销/冲正 slip: no 收款凭证 for the returned money.
    expect((await until(() => hh.rt.paymentPrinting.receiptFor(row.id), 5_000)).model.kind).toBe('payment-slip');
    const stale = databaseOf(other).prepare("SELECT details FROM audit_log WHERE action = 'pay.stale_success'").all() as Array<{ details: string }>;
    expect(stale).toHaveLength(1);
    expect(JSON.parse(stale[0]!.details)).toMatchObject({ payId: row.id, state: 'canceled', resultCode: 'PAY_SUCCESS', orderStatus: 'PAID' });
    // The day report: taken and returned, net zero (not counted paid).
    expect(other.dayReport().counterPayments).toMatchObject({ taken: { count: 1, cents: 1234 }, returned: { count: 1, cents: 1234 }, netCents: 0 });
  });
});
