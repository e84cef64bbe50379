/**
 * One flow per row in a process: a person's "query again" (or the re-check,
 * or another kind's request asking about the order) while the worker is
 * mid-call on the same row waits for that call instead of starting a second
 * flow. The row's lease keeps other processes out, but one process holds
 * one lease owner for all its flows; two flows on one row re-sent a revoke
 * twice (the second answered "invalid state" and was recorded rejected while
 * the void went through) and recorded a payment paid while its reversal
 * returned the money. Real HTTP to the sandbox; the slow calls are held at
 * the dispatcher.
 */
import { Agent, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseOf } from '../../main/runtime';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Holds every call whose path has `path` in it until `onHold` settles (the call is on its way meanwhile, as far as the caller knows). */
class HoldingAgent extends Agent {
  constructor(
    private readonly path: string,
    private readonly onHold: () => Promise<unknown>,
  ) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (!String(opts.path).includes(this.path)) return super.dispatch(opts, handler);
    const go = () => super.dispatch(opts, handler);
    this.onHold().then(go, go);
    return true;
  }
}

const cashier = { operatorId: null, operatorName: 'c1', approverId: null, approverName: null };

describe('one flow per row', () => {
  it('revoke: "query again" while the worker re-sends waits for it; one re-send, never rejected while the void goes through', async () => {
    h = await createHarness({ sandbox: { gateway: { strict: false } } });
    const gw = h.sandbox.gateway;
    const o = h.paidOrder();
    gw.inject('revoke', { kind: 'drop_before' }, 1); // the first send never arrives: pending
    gw.inject('query', { kind: 'delay', ms: 300 }, 2); // the worker's query is slow: the cashier's tap lands inside it
    const r = await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
    expect(r.state).toBe('pending');
    gw.inject('revoke', { kind: 'cancel_in_progress', queries: 1 }, 1); // the re-send: accepted, in progress
    await until(() => gw.log().some((e) => e.endpoint === 'query'), 5_000); // the worker is asking
    const q = await h.rt.revokes.queryAgain(r.id, 'cashier');
    expect(q.state).not.toBe('rejected');
    const done = await until(() => h!.rt.revokes.get(r.id)!.state === 'revoked' && h!.rt.revokes.get(r.id)!, 10_000);
    expect(done.state).toBe('revoked');
    expect(gw.log().filter((e) => e.endpoint === 'revoke')).toHaveLength(2); // the lost first send and one re-send
    expect(gw.getOrder(o.sn)!.orderStatus).toBe('CANCELED');
    expect(h.rt.orders.get(o.sn)!.status).toBe('CANCELED');
  });

  it('payment: "查询" during the reversal waits for it; the local outcome is the gateway\'s, and no 收款凭证 for returned money', async () => {
    let payment: { id: number; clientSn: string; qrCode?: string | null } | undefined = undefined;
    let during: string | undefined;
    let tapped = false;
    const agent = new HoldingAgent('/upay/v2/cancel', async () => {
      if (tapped) return;
      tapped = true;
      // The cancel is on its way; the customer pays at the last second; the cashier taps 查询 while it travels.
      h!.sandbox.gateway.customerPays(payment!.clientSn);
      void h!.rt.payments.queryAgain(payment!.id, 'cashier').then((p) => (during = p.state));
      await new Promise((r) => setTimeout(r, 200));
    });
    h = await createHarness({
      runtime: {
        dispatcher: agent,
        payTiming: { qrLifetimeMs: 300, qrFastMs: 50, qrFastForMs: 100, qrSlowMs: 50, cancelRetryMs: 30, cancelRetryCapMs: 100, maxCancels: 3, leaseMs: 5_000 },
      },
    });
    payment = await h.rt.payments.request({ amountCents: 4321, method: 'qr', payway: '1' }, cashier, 'test');
    expect(payment.qrCode).toBeTruthy();
    const final = await until(() => {
      const p = h!.rt.payments.get(payment!.id)!;
      return !['sending', 'pending', 'canceling'].includes(p.state) && during !== undefined && p;
    }, 10_000);
    const money = h.sandbox.gateway.counters(payment.clientSn);
    const gatewayStatus = h.sandbox.gateway.getOrder(payment.clientSn)?.orderStatus;
    // Whatever the race gave, the local record is the gateway's: the reversal returned the money.
    expect(gatewayStatus).toBe('CANCELED');
    expect(final.state).toBe('canceled');
    expect(during).not.toBe('paid');
    expect(money.moneyTaken && money.moneyReturned).toBe(true);
    expect(h.rt.paymentPrinting.receiptFor(payment.id)?.model.kind ?? null).not.toBe('payment');
    await agent.close();
  });

  it('a row\'s lease outlasts the longest call the settings allow and the query after it (another process never takes it mid-call)', async () => {
    const leases: Record<string, number> = {};
    const lease = (table: string) => {
      const row = databaseOf(h!.rt).prepare(`SELECT lease_until FROM ${table} ORDER BY id DESC LIMIT 1`).get() as { lease_until: number };
      leases[table] = row.lease_until - Date.now();
    };
    const agent = new HoldingAgent('/upay/v2/', async () => {
      for (const t of ['revokes', 'payments']) if (databaseOf(h!.rt).prepare(`SELECT count(*) FROM ${t} WHERE state = 'sending'`).pluck().get()) lease(t);
    });
    // The longest timeout the settings allow (120 s) for every call.
    h = await createHarness({ runtime: { dispatcher: agent, timeoutMs: 120_000 } });
    const o = h.paidOrder();
    expect((await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test')).state).toBe('revoked');
    expect((await h.rt.payments.request({ amountCents: 1234, method: 'barcode', barcode: '134567890123456789' }, cashier, 'test')).state).toBe('paid');
    expect(leases.revokes).toBeGreaterThan(2 * 120_000);
    expect(leases.payments).toBeGreaterThan(2 * 120_000);
    await agent.close();
  });
});
