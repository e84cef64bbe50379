/**
 * A payment keeps the facts of an answer (the order's sn, status, trade no, payway, QR) only once the skeleton
 * has found the answer to be about this payment (steps.ts `interpret`): an answer about another order is never
 * written on the row, not even for a moment. Were it written first and put back afterwards, a crash in between
 * would leave another order's PAID and trade no on the row, and the reversal would then tell the cashier the
 * money went back when none was taken. Real HTTP through a rewriting gateway in front of the sandbox, real
 * SQLite; the crash is the payment checkpoint's throw, the moment is read at that checkpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { databaseOf, type Runtime } from '../../main/runtime';
import type { PaymentRow } from '../../main/store/payments';
import { createHarness, until, type Harness } from '../support/harness';
import { createHostileGateway, type HostileGateway } from '../support/hostile-gateway';
import { barcodePayment, fastPay, QUIET_RECHECK, WHO } from '../support/pay';

let h: Harness | undefined;
let hostile: HostileGateway | undefined;
afterEach(async () => {
  await hostile?.close();
  await h?.close();
  hostile = undefined;
  h = undefined;
});

const OTHER_TRADE_NO = '4200009999999999999999999999';

/** Answers on `path` name another order: its sn and client_sn, PAID, a channel trade no and a QR of its own. */
function aboutAnotherOrder(gw: HostileGateway, path: string, other: { sn: string; clientSn: string }): void {
  gw.mode = (p) => (p === path ? 'rewrite' : 'pass');
  gw.rewrite = (p, json) => {
    const biz = json.biz_response as { data?: Record<string, unknown> } | undefined;
    if (p !== path || !biz?.data) return json;
    const data = { ...biz.data, sn: other.sn, client_sn: other.clientSn, order_status: 'PAID', trade_no: OTHER_TRADE_NO, qr_code: 'https://qr.example/another-order' };
    return { ...json, biz_response: { ...biz, data } };
  };
}

const lastPayment = (rt: Runtime) => databaseOf(rt).prepare('SELECT * FROM payments ORDER BY id DESC LIMIT 1').get() as PaymentRow;

/** The columns an answer's order facts are written to. */
const facts = (r: PaymentRow) => ({ order_sn: r.order_sn, order_status: r.order_status, seen_paid: r.seen_paid, trade_no: r.trade_no, qr_code: r.qr_code });
const NO_FACTS = { order_sn: '', order_status: null, seen_paid: 0, trade_no: null, qr_code: null };

describe('a payment’s first answer is judged before anything of it is kept', () => {
  it('PRECREATE_SUCCESS about another order: at the moment the answer is in, the row holds none of its facts; after, still none', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    hostile = await createHostileGateway(h.sandbox.gateway.url);
    const other = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, totalCents: 999 });
    aboutAnotherOrder(hostile, '/upay/v2/precreate', other);
    let seen: PaymentRow | undefined;
    const rt: Runtime = h.runtime({
      apiDomain: hostile.url,
      recheck: QUIET_RECHECK,
      payTiming: fastPay({ qrLifetimeMs: 10_000, qrFastMs: 60_000 }),
      payCheckpoint: (point) => {
        if (point === 'answer-received') seen = lastPayment(rt);
      },
    });
    const p = await rt.payments.request({ amountCents: 600, method: 'qr', payway: '3' }, WHO, 'test');
    expect(seen, 'the checkpoint ran').toBeDefined();
    expect(facts(seen!)).toEqual(NO_FACTS);
    expect(p).toMatchObject({ state: 'pending', qrCode: null, orderSn: null, error: { code: 'OTHER_ORDER' } });
    expect(facts(lastPayment(rt))).toEqual(NO_FACTS);
  });

  it('a crash right after PAY_IN_PROGRESS about another order (PAID, with a trade no): nothing of it stays; resumed, the reversal says no money was taken', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    const hh = h;
    hostile = await createHostileGateway(hh.sandbox.gateway.url);
    const other = hh.sandbox.gateway.seedOrder({ terminalSn: hh.terminalSn, totalCents: 888 });
    // The customer's wallet never finishes: the order stays in progress until the reversal aborts it.
    hh.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 1_000_000 });
    aboutAnotherOrder(hostile, '/upay/v2/pay', other);
    const crashing = hh.runtime({
      apiDomain: hostile.url,
      recheck: QUIET_RECHECK,
      payTiming: fastPay({ leaseMs: 200 }),
      payCheckpoint: (point) => {
        if (point === 'answer-received') throw new Error('crash');
      },
    });
    await expect(crashing.payments.request(barcodePayment(1500), WHO, 'test')).rejects.toThrow('crash');
    await crashing.close();
    const left = lastPayment(hh.rt);
    expect(left.state).toBe('sending');
    expect(facts(left)).toEqual(NO_FACTS);

    // Restarted (the answers truthful again), after the window: query first, then the cancel.
    await new Promise((r) => setTimeout(r, 600));
    const fresh = hh.runtime({ startWorkers: true, recheck: QUIET_RECHECK, payTiming: fastPay() });
    const done = await until(() => {
      const x = fresh.payments.get(left.id)!;
      return ['paid', 'failed', 'canceled'].includes(x.state) ? x : undefined;
    }, 10_000);
    expect(done).toMatchObject({ state: 'canceled', moneyReturned: false });
    expect(done.orderSn).not.toBe(other.sn);
    expect(done.tradeNo).not.toBe(OTHER_TRADE_NO);
    expect(hh.sandbox.gateway.counters(left.client_sn)).toMatchObject({ pay: 1, cancel: 1, moneyTaken: false });
  });
});
