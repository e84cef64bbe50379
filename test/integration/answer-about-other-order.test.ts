/**
 * An answer about another order is no result about this operation. A broken or hostile gateway (or a proxy)
 * may answer a revoke, a refund or a payment, and the queries after it, with another order's data: the
 * operation is then not recorded as done, no local order changes, the row stays pending (then
 * needs_attention) with words that say why, and another kind's open row is not settled by it. Once the
 * answers are about the order again, the query (the worker's, or a person's "query again") records the
 * truth. Real HTTP through a rewriting gateway in front of the sandbox, real SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { PAY_MESSAGES } from '../../main/operations/pay/messages';
import { REFUND_MESSAGES } from '../../main/operations/refund/messages';
import { REVOKE_MESSAGES } from '../../main/operations/revoke/messages';
import type { Runtime } from '../../main/runtime';
import type { Payment } from '../../main/store/payments';
import { createHarness, FAST_TIMING, until, type Harness } from '../support/harness';
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

const CASHIER: Accountable = { operatorId: null, operatorName: '收银员', approverId: null, approverName: null };

/**
 * The harness (its own runtime without workers: only the runtime behind the rewriting gateway works the rows)
 * and the runtime that talks to the gateway through it.
 */
async function setup(extra: Parameters<Harness['runtime']>[0] = {}): Promise<{ hh: Harness; rt: Runtime; gw: HostileGateway }> {
  h = await createHarness({ runtime: { startWorkers: false } });
  hostile = await createHostileGateway(h.sandbox.gateway.url);
  const rt = h.runtime({ apiDomain: hostile.url, startWorkers: true, recheck: QUIET_RECHECK, ...extra });
  return { hh: h, rt, gw: hostile };
}

/** Answers on `paths` get their order (`data`) changed by `change`; returns how many were rewritten so far. */
function rewriting(gw: HostileGateway, paths: string[], change: (data: Record<string, unknown>) => Record<string, unknown>): () => number {
  let n = 0;
  gw.mode = (path) => (paths.includes(path) ? 'rewrite' : 'pass');
  gw.rewrite = (path, json) => {
    const biz = json.biz_response as { data?: unknown } | undefined;
    if (!paths.includes(path) || !biz?.data || typeof biz.data !== 'object') return json;
    n += 1;
    return { ...json, biz_response: { ...biz, data: change(biz.data as Record<string, unknown>) } };
  };
  return () => n;
}

const truthful = (gw: HostileGateway) => {
  gw.mode = () => 'pass';
};

describe('an answer about another order than the operation’s', () => {
  it('revoke: CANCEL_SUCCESS and the queries about another sn → not revoked, no order changed, needs_attention saying why; truthful again → revoked', async () => {
    const { hh, rt, gw } = await setup();
    const a = hh.paidOrder();
    const b = hh.paidOrder();
    const before = { a: rt.orders.get(a.sn)!, b: rt.orders.get(b.sn)! };
    const rewritten = rewriting(gw, ['/upay/v2/revoke', '/upay/v2/query'], (d) => ({ ...d, sn: b.sn, client_sn: b.clientSn }));

    const r = await rt.revokes.request({ sn: a.sn }, 'op', 'test');
    // The gateway did void A, but its answer named B: nothing is recorded from it.
    expect(hh.sandbox.gateway.effects('revoke', a.sn)).toBe(1);
    expect(r).toMatchObject({ state: 'pending', error: { code: 'OTHER_ORDER', messageZh: REVOKE_MESSAGES.OTHER_ORDER.zh, messageEn: REVOKE_MESSAGES.OTHER_ORDER.en } });
    expect(r.lastResultCode).toBeNull();
    expect(rt.orders.get(a.sn)).toEqual(before.a);

    // Every query answer names B too: the window ends with a person told why.
    const attention = await until(() => {
      const x = rt.revokes.get(r.id)!;
      return x.state !== 'pending' ? x : undefined;
    });
    expect(attention).toMatchObject({ state: 'needs_attention', error: { code: 'OTHER_ORDER_ATTENTION', messageZh: REVOKE_MESSAGES.OTHER_ORDER_ATTENTION.zh } });
    expect(rewritten()).toBeGreaterThan(1);
    expect(rt.orders.get(a.sn)).toEqual(before.a);
    expect(rt.orders.get(b.sn)).toEqual(before.b);

    // The answers are about A again: a person's "query again" records the truth.
    truthful(gw);
    const done = await rt.revokes.queryAgain(r.id, 'test');
    expect(done.state).toBe('revoked');
    expect(rt.orders.get(a.sn)).toMatchObject({ status: 'CANCELED', netCents: 0 });
    expect(rt.orders.get(b.sn)).toEqual(before.b);
    expect(hh.sandbox.gateway.effects('revoke', a.sn)).toBe(1);
  });

  it('revoke: an answer whose order carries no sn nor client_sn is judged as before (revoked)', async () => {
    const { hh, rt, gw } = await setup();
    const a = hh.paidOrder();
    rewriting(gw, ['/upay/v2/revoke'], ({ sn: _sn, client_sn: _clientSn, ...rest }) => rest);
    const r = await rt.revokes.request({ sn: a.sn }, 'op', 'test');
    expect(r.state).toBe('revoked');
    expect(rt.orders.get(a.sn)).toMatchObject({ status: 'CANCELED', netCents: 0 });
  });

  it('refund: REFUND_SUCCESS and the queries about another sn → not refunded, no net amount changed, needs_attention saying why; truthful again → refunded', async () => {
    const { hh, rt, gw } = await setup();
    const a = hh.paidOrder({ totalCents: 5000 });
    const b = hh.paidOrder({ totalCents: 3000 });
    const before = { a: rt.orders.get(a.sn)!, b: rt.orders.get(b.sn)! };
    // Another order, fully refunded: applied to A it would zero its net amount.
    const rewritten = rewriting(gw, ['/upay/v2/refund', '/upay/v2/query'], (d) => ({ ...d, sn: b.sn, client_sn: b.clientSn, net_amount: '0', order_status: 'REFUNDED' }));

    const r = await rt.refunds.request({ sn: a.sn }, 1200, CASHIER, 'test');
    expect(hh.sandbox.gateway.effects('refund', a.sn)).toBe(1);
    expect(r).toMatchObject({ state: 'pending', error: { code: 'OTHER_ORDER', messageZh: REFUND_MESSAGES.OTHER_ORDER.zh, messageEn: REFUND_MESSAGES.OTHER_ORDER.en } });
    expect(rt.orders.get(a.sn)).toEqual(before.a);

    const attention = await until(() => {
      const x = rt.refunds.get(r.id)!;
      return x.state !== 'pending' ? x : undefined;
    });
    expect(attention).toMatchObject({ state: 'needs_attention', error: { code: 'OTHER_ORDER_ATTENTION', messageZh: REFUND_MESSAGES.OTHER_ORDER_ATTENTION.zh } });
    expect(rewritten()).toBeGreaterThan(1);
    expect(rt.orders.get(a.sn)).toEqual(before.a);
    expect(rt.orders.get(b.sn)).toEqual(before.b);

    truthful(gw);
    const done = await rt.refunds.queryAgain(r.id, 'test');
    expect(done.state).toBe('refunded');
    expect(rt.orders.get(a.sn)).toMatchObject({ status: 'PARTIAL_REFUNDED', netCents: 3800 });
    expect(rt.orders.get(b.sn)).toEqual(before.b);
    expect(hh.sandbox.gateway.effects('refund', a.sn)).toBe(1);
  });

  it('pay: PAY_SUCCESS and the queries about another client_sn → not paid, no order recorded, pending saying why; truthful again → paid with its own order', async () => {
    const { hh, rt, gw } = await setup({ payTiming: fastPay({ payWindowMs: 5_000 }) });
    const other = hh.sandbox.gateway.seedOrder({ terminalSn: hh.terminalSn, totalCents: 777 });
    const orders = rt.orders.count();
    const rewritten = rewriting(gw, ['/upay/v2/pay', '/upay/v2/query', '/upay/v2/cancel'], (d) => ({ ...d, sn: other.sn, client_sn: other.clientSn }));

    const p = await rt.payments.request(barcodePayment(1234), WHO, 'test');
    expect(hh.sandbox.gateway.counters(p.clientSn)).toMatchObject({ pay: 1, orderStatus: 'PAID' });
    expect(p).toMatchObject({ state: 'pending', orderSn: null, error: { code: 'OTHER_ORDER', messageZh: PAY_MESSAGES.OTHER_ORDER.zh, messageEn: PAY_MESSAGES.OTHER_ORDER.en } });
    expect(p.orderSn).not.toBe(other.sn);

    // The worker's queries are answered about the other order as well: still confirming, nothing recorded.
    await until(() => rewritten() >= 4);
    const meanwhile = rt.payments.get(p.id)!;
    expect(meanwhile).toMatchObject({ state: 'pending', error: { code: 'OTHER_ORDER' } });
    expect(meanwhile.orderSn).not.toBe(other.sn);
    expect(meanwhile.tradeNo).toBeNull();
    expect(rt.orders.count()).toBe(orders);
    expect(rt.orders.find({ clientSn: other.clientSn })).toBeUndefined();

    // The answers are about this payment again: the next query records it paid, with its own order.
    truthful(gw);
    const paid = await until(() => {
      const x = rt.payments.get(p.id)!;
      return x.state !== 'pending' ? x : undefined;
    });
    expect(paid.state).toBe('paid');
    expect(paid.orderSn).not.toBe(other.sn);
    expect(rt.orders.find({ clientSn: p.clientSn })).toMatchObject({ sn: paid.orderSn, totalCents: 1234 });
    expect(rt.orders.find({ clientSn: other.clientSn })).toBeUndefined();
    expect(hh.sandbox.gateway.counters(p.clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID' });
  });

  it('pay: an answer about another terminal’s order → not paid; its own query then records it paid', async () => {
    const { hh, rt, gw } = await setup({ payTiming: fastPay({ payWindowMs: 5_000 }) });
    const till2 = hh.sandbox.gateway.createTerminal('till-2');
    rewriting(gw, ['/upay/v2/pay'], (d) => ({ ...d, terminal_sn: till2.terminalSn }));
    const p = await rt.payments.request(barcodePayment(2345), WHO, 'test');
    expect(p).toMatchObject({ state: 'pending', error: { code: 'OTHER_ORDER' } });
    const paid = await until(() => {
      const x = rt.payments.get(p.id)!;
      return x.state !== 'pending' ? x : undefined;
    });
    expect(paid.state).toBe('paid');
    expect(rt.orders.find({ clientSn: p.clientSn })).toMatchObject({ totalCents: 2345 });
  });

  it('pay (QR): PRECREATE_SUCCESS about another client_sn → its QR is never shown nor kept; the customer pays the real one → paid', async () => {
    const { hh, rt, gw } = await setup({ payTiming: fastPay({ qrLifetimeMs: 10_000 }) });
    const other = hh.sandbox.gateway.seedOrder({ terminalSn: hh.terminalSn, totalCents: 999 });
    rewriting(gw, ['/upay/v2/precreate'], (d) => ({ ...d, sn: other.sn, client_sn: other.clientSn, qr_code: 'https://qr.example/another-order', order_status: 'PAID' }));
    const p = await rt.payments.request({ amountCents: 600, method: 'qr', payway: '3' }, WHO, 'test');
    expect(p).toMatchObject({ state: 'pending', qrCode: null, orderSn: null, orderStatus: null, error: { code: 'OTHER_ORDER' } });
    truthful(gw);
    hh.sandbox.gateway.customerPays(p.clientSn);
    const paid = await until(() => {
      const x = rt.payments.get(p.id)!;
      return x.state !== 'pending' ? x : undefined;
    });
    expect(paid.state).toBe('paid');
    expect(paid.orderSn).not.toBe(other.sn);
    expect(rt.orders.find({ clientSn: p.clientSn })).toMatchObject({ totalCents: 600 });
  });

  it('pay: every answer about another order → never paid, the reversal runs, needs_attention saying why; truthful again → the truth (canceled)', async () => {
    const { hh, rt, gw } = await setup({ payTiming: fastPay() });
    const other = hh.sandbox.gateway.seedOrder({ terminalSn: hh.terminalSn, totalCents: 888 });
    const orders = rt.orders.count();
    rewriting(gw, ['/upay/v2/pay', '/upay/v2/query', '/upay/v2/cancel'], (d) => ({ ...d, sn: other.sn, client_sn: other.clientSn, order_status: 'PAID' }));
    const p = await rt.payments.request(barcodePayment(1500), WHO, 'test');
    expect(p.state).toBe('pending');
    const attention = await until((): Payment | undefined => {
      const x = rt.payments.get(p.id)!;
      return x.state === 'pending' || x.state === 'canceling' ? undefined : x;
    });
    expect(attention).toMatchObject({ state: 'needs_attention', error: { code: 'OTHER_ORDER_ATTENTION', messageZh: PAY_MESSAGES.OTHER_ORDER_ATTENTION.zh } });
    expect(attention.orderSn).not.toBe(other.sn);
    expect(rt.orders.count()).toBe(orders);

    // The gateway did take the money and give it back (our cancels reached it): once the answers are about this
    // payment again, the re-check records what it holds.
    truthful(gw);
    const done = await rt.payments.recheck(p.id);
    expect(done.state).toBe('canceled');
    expect(done.moneyReturned).toBe(true);
    expect(hh.sandbox.gateway.counters(p.clientSn)).toMatchObject({ pay: 1, orderStatus: 'CANCELED', moneyReturned: true });
    expect(rt.orders.find({ clientSn: other.clientSn })).toBeUndefined();
  });

  it('another kind’s answer about another order settles nothing: a payment answered with an order whose revoke is open', async () => {
    // Revokes are asked about only by a person here (their worker's first query is far off).
    const slow = { ...FAST_TIMING, firstQueryMs: 600_000, queryEveryMs: 600_000, pendingWindowMs: 1_200_000 };
    const { hh, rt, gw } = await setup({ timing: slow, payTiming: fastPay({ payWindowMs: 5_000 }) });
    const a = hh.paidOrder();
    const before = rt.orders.get(a.sn)!;
    // The revoke of A gets no answer (a proxy's error page, nothing done): it stays pending.
    hh.sandbox.gateway.inject('revoke', { kind: 'http500_html' });
    const r = await rt.revokes.request({ sn: a.sn }, 'op', 'test');
    expect(r.state).toBe('pending');

    // A payment's answer names A, voided: it is about neither this payment nor a question about A.
    rewriting(gw, ['/upay/v2/pay'], (d) => ({ ...d, sn: a.sn, client_sn: a.clientSn, order_status: 'CANCELED', net_amount: '0' }));
    const p = await rt.payments.request(barcodePayment(4321), WHO, 'test');
    expect(rt.revokes.get(r.id)!.state).toBe('pending');
    expect(rt.orders.get(a.sn)).toEqual(before);
    expect(p).toMatchObject({ state: 'pending', error: { code: 'OTHER_ORDER' } });

    // The payment's own query (not rewritten) records it paid; the revoke is still A's own query's to decide.
    const paid = await until(() => {
      const x = rt.payments.get(p.id)!;
      return x.state !== 'pending' ? x : undefined;
    });
    expect(paid.state).toBe('paid');
    expect(paid.orderSn).not.toBe(a.sn);
    expect(rt.revokes.get(r.id)!.state).toBe('pending');
    expect(rt.orders.get(a.sn)).toEqual(before);
    truthful(gw);
    const done = await rt.revokes.queryAgain(r.id, 'test');
    expect(done.state).toBe('revoked');
    expect(hh.sandbox.gateway.effects('revoke', a.sn)).toBe(1);
  });
});
