/**
 * UPAY_ORDER_NOT_EXISTS about an order the gateway had acknowledged (PRECREATE_SUCCESS, PAY_IN_PROGRESS: an sn,
 * a QR, a business result code) proves nothing (a QR not scanned yet, a lagging index): the payment stays open
 * and its reversal goes on. Only an order never acknowledged ends "failed, never reached Upay" on it. Before:
 * any NOT_EXISTS on a query or a cancel ended the payment "未收款（钱款未扣）" while the order stayed open at the
 * gateway, and the customer could still pay it (a one-sided transaction).
 *
 * The gateway that "forgets" is a loopback proxy in front of the sandbox (test/support/hostile-gateway.ts):
 * every call is applied by the sandbox over real HTTP; the proxy only replaces the answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../main/runtime';
import type { Payment } from '../../main/store/payments';
import { createHarness, until, type Harness } from '../support/harness';
import { createHostileGateway, type HostileGateway } from '../support/hostile-gateway';
import { fastPay, QUIET_RECHECK, WHO } from '../support/pay';

const T = fastPay({ payWindowMs: 400, payQueryEveryMs: 40, qrLifetimeMs: 600 });
const NOT_EXISTS = { result_code: '200', biz_response: { result_code: 'FAIL', error_code: 'UPAY_ORDER_NOT_EXISTS', error_message: '订单不存在', data: null } };

let h: Harness | undefined;
let proxy: HostileGateway | undefined;
afterEach(async () => {
  await h?.close();
  await proxy?.close();
  h = undefined;
  proxy = undefined;
});

/** The harness's runtime closed; a runtime on the same data dir whose gateway is the proxy. */
async function behindProxy(): Promise<{ hh: Harness; rt: Runtime; gw: HostileGateway }> {
  h = await createHarness({ runtime: { payTiming: T, recheck: QUIET_RECHECK } });
  await h.rt.close();
  proxy = await createHostileGateway(h.sandbox.gateway.url);
  return { hh: h, rt: h.runtime({ apiDomain: proxy.url, payTiming: T, recheck: QUIET_RECHECK }), gw: proxy };
}

const settle = (rt: Runtime, id: number, states = ['paid', 'failed', 'canceled']): Promise<Payment> =>
  until(() => {
    const p = rt.payments.get(id)!;
    return states.includes(p.state) ? p : undefined;
  }, 10_000, 5);

describe('UPAY_ORDER_NOT_EXISTS after the gateway acknowledged the order', () => {
  it('a QR precreated, the first queries answer NOT_EXISTS, then the customer pays: paid, never "failed"', async () => {
    const { hh, rt, gw } = await behindProxy();
    let forgotten = 0;
    gw.mode = (path) => (path.endsWith('/upay/v2/query') && forgotten < 3 ? 'rewrite' : 'pass');
    gw.rewrite = (_path, json) => {
      forgotten += 1;
      // After the third "not found" the customer scans and pays the code (the sandbox's answer names it).
      const data = (json.biz_response as { data: { client_sn: string } }).data;
      if (forgotten === 3) hh.sandbox.gateway.customerPays(data.client_sn);
      return NOT_EXISTS;
    };
    const p = await rt.payments.request({ amountCents: 500, method: 'qr', payway: '3' }, WHO, 'test');
    expect(p.state).toBe('pending');
    expect(p.qrCode).toBeTruthy();
    const done = await settle(rt, p.id);
    expect(forgotten).toBe(3);
    const n = hh.sandbox.gateway.counters(p.clientSn);
    expect({ status: n.orderStatus, taken: n.moneyTaken, precreate: n.precreate }).toEqual({ status: 'PAID', taken: true, precreate: 1 });
    expect(done.state).toBe('paid');
  });

  it('a barcode payment in progress, its cancel answered NOT_EXISTS: the reversal goes on until the order is CANCELED', async () => {
    const { hh, rt, gw } = await behindProxy();
    hh.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 1_000_000 });
    // The first cancel changes nothing at the gateway (CANCEL_ABORT_ERROR, untouched), and the proxy answers NOT_EXISTS.
    hh.sandbox.gateway.inject('cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' });
    let rewritten = 0;
    gw.mode = (path) => (path.endsWith('/upay/v2/cancel') && rewritten < 1 ? 'rewrite' : 'pass');
    gw.rewrite = () => {
      rewritten += 1;
      return NOT_EXISTS;
    };
    const p = await rt.payments.request({ amountCents: 1234, method: 'barcode', barcode: '134567890123456789' }, WHO, 'test');
    expect(p.state).toBe('pending');
    const done = await settle(rt, p.id);
    expect(rewritten).toBe(1);
    const n = hh.sandbox.gateway.counters(p.clientSn);
    // Never left CREATED at the gateway with the payment recorded final here.
    expect({ status: n.orderStatus, taken: n.moneyTaken, pay: n.pay, cancel: n.cancel }).toEqual({ status: 'CANCELED', taken: false, pay: 1, cancel: 2 });
    expect(done).toMatchObject({ state: 'canceled', moneyReturned: false });
  });

  it('the gateway keeps answering NOT_EXISTS for an acknowledged order: needs_attention (never failed), tried again', async () => {
    const { hh, rt, gw } = await behindProxy();
    hh.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 1_000_000 });
    hh.sandbox.gateway.inject('cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' }, 1_000);
    gw.mode = (path) => (path.endsWith('/upay/v2/query') || path.endsWith('/upay/v2/cancel') ? 'rewrite' : 'pass');
    gw.rewrite = () => NOT_EXISTS;
    const p = await rt.payments.request({ amountCents: 1234, method: 'barcode', barcode: '134567890123456789' }, WHO, 'test');
    const attention = await settle(rt, p.id, ['needs_attention', 'paid', 'failed', 'canceled']);
    expect(attention.state).toBe('needs_attention');
    expect(attention.error?.messageZh).toContain('请勿重复收款');
    // Once the gateway answers again, the reversal (still going) ends it.
    gw.mode = () => 'pass';
    hh.sandbox.gateway.clearFaults();
    const done = await settle(rt, p.id);
    expect(done.state).toBe('canceled');
    expect(hh.sandbox.gateway.counters(p.clientSn)).toMatchObject({ orderStatus: 'CANCELED', moneyTaken: false });
  });

  it('never acknowledged (the pay lost before the effect): NOT_EXISTS still means never reached Upay → failed', async () => {
    const { hh, rt } = await behindProxy();
    hh.sandbox.gateway.inject('pay', { kind: 'drop_before' });
    const p = await rt.payments.request({ amountCents: 1234, method: 'barcode', barcode: '134567890123456789' }, WHO, 'test');
    const done = await settle(rt, p.id);
    expect(done).toMatchObject({ state: 'failed', error: { code: 'NOT_REACHED' } });
    expect(hh.sandbox.gateway.counters(p.clientSn)).toMatchObject({ pay: 1, cancel: 0, moneyTaken: false, orderStatus: null });
  });
});
