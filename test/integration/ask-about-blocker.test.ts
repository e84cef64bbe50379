/**
 * Before a revoke or a refund, an open money operation of another kind on the
 * same order is asked about first (its answer may settle it and free the
 * order): a payment is asked about as a payment. Real HTTP to the sandbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { paidOrderInput } from '../../main/sandbox';
import { createHarness, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const cashier = { operatorId: null, operatorName: 'c1', approverId: null, approverName: null };

describe('asking about the operation that blocks an order', () => {
  it('an open payment whose order the gateway shows PAID is queried as a payment, settles paid, and the revoke goes ahead', async () => {
    h = await createHarness();
    const gw = h.sandbox.gateway;
    // The payment's answer: in progress; the gateway shows it PAID at the first query. Nobody polls it here.
    h.rt.payments.stop();
    gw.inject('pay', { kind: 'pay_in_progress', queries: 0 }, 1);
    const p = await h.rt.payments.request({ amountCents: 2468, method: 'barcode', barcode: '134567890123456789' }, cashier, 'test');
    expect(p.state).toBe('pending');
    const sn = gw.getOrder(p.clientSn)!.sn;
    gw.clearLog();
    const r = await h.rt.revokes.request({ sn }, 'cashier', 'test');
    expect(h.rt.payments.get(p.id)!.state).toBe('paid');
    expect(r.state).toBe('revoked');
    expect(gw.getOrder(sn)!.orderStatus).toBe('CANCELED');
    // Queries about the order only (the payment's and the import's); no refund was touched.
    expect(gw.log().filter((e) => e.endpoint === 'refund')).toHaveLength(0);
  });
});

describe("the order's lock key", () => {
  it("an import that brings another client_sn while a revoke is open keeps the lock: a refund beside it is refused", async () => {
    h = await createHarness({ sandbox: { gateway: { strict: false } } });
    const gw = h.sandbox.gateway;
    h.rt.revokes.stop();
    const o = gw.seedOrder({ terminalSn: h.terminalSn, totalCents: 5000, subject: '测试商品', operator: 'op' });
    // The host recorded the order with a client_sn of its own (not the gateway's).
    h.rt.orders.record({ ...paidOrderInput(o), clientSn: `HOST-${o.clientSn}` });
    gw.inject('revoke', { kind: 'drop_before' }, 1); // lost on its way: pending, the lock held
    const r = await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
    expect(r.state).toBe('pending');
    // The renderer imports the order: the gateway's answer names its own client_sn.
    const imported = await h.rt.orders.import({ sn: o.sn }, 'test');
    expect(imported.clientSn).toBe(`HOST-${o.clientSn}`);
    gw.inject('query', { kind: 'drop_before' }, 10); // nobody can settle the revoke meanwhile
    await expect(h.rt.refunds.request({ sn: o.sn }, 'full', { operatorId: null, operatorName: 'c1', approverId: null, approverName: null }, 'test')).rejects.toMatchObject({ code: expect.stringMatching(/OPEN/) });
    expect(gw.log().filter((e) => e.endpoint === 'refund')).toHaveLength(0);
  });
});
