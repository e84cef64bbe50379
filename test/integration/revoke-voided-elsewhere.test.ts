/**
 * A revoke whose send finds the order already voided (FAIL +
 * UPAY_CANCEL_ORDER_NOOP) when no earlier send of this revoke can have landed:
 * the order was voided elsewhere (another till, the merchant's app) and this
 * revoke moved no money. It ends `rejected` / VOIDED_ELSEWHERE with words that
 * say so, the local order is brought up to date (CANCELED), no revoke receipt
 * is printed, the order's lock is released, its fleet event moved no money,
 * and across the two tills' 日结 the void counts once (the till that voided
 * it). A no-op after a send of ours that may have landed (a re-send after a
 * lost answer) is our own void: `revoked`. Two tills (two runtimes, two data
 * dirs, two terminals) on one sandbox over real HTTP; only the clock is faked.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { businessDayStart, ManualClock } from '../../main/common/time';
import type { Revoke } from '../../main/domain';
import { listJobs } from '../../main/printer';
import type { DayReport } from '../../main/report/day';
import { createRuntime, databaseOf, type Runtime } from '../../main/runtime';
import { paidOrderInput } from '../../main/sandbox';
import { openOperationOn } from '../../main/store/open-operations';
import { UpayClient } from '../../main/upay/client';
import { createChaosProxy, type ChaosProxy } from '../support/chaos-net';
import { createHarness, FAST_TIMING, tempDir, until, type Harness } from '../support/harness';

const D = '2026-05-22';
const at = (hh: number, mm = 0) => businessDayStart(D) + (hh * 60 + mm) * 60_000;
const VOIDED_ELSEWHERE = {
  code: 'VOIDED_ELSEWHERE',
  messageZh: '该订单已在其他地方撤销，钱款已退回顾客；本次没有再次撤销。',
  messageEn: 'This order was already voided elsewhere; the money went back to the customer; this till did not void it again.',
};
/** What the gateway answered the send that found the order voided, kept beside our words. */
const NOOP = { gatewayCode: 'UPAY_CANCEL_ORDER_NOOP', lastResultCode: 'FAIL' };

let h: Harness | undefined;
let blip: ChaosProxy | undefined;
const extra: Array<{ rt: Runtime; dir: string }> = [];
afterEach(async () => {
  await blip?.close();
  blip = undefined;
  for (const x of extra.splice(0)) {
    await x.rt.close();
    fs.rmSync(x.dir, { recursive: true, force: true });
  }
  await h?.close();
  h = undefined;
});

/** Another till of the merchant: its own data dir, terminal and printer queue; the same gateway (or a proxy to it) and clock. */
async function anotherTill(hh: Harness, clock: ManualClock, apiDomain = hh.sandbox.gateway.url): Promise<Runtime> {
  const dir = tempDir();
  const rt = createRuntime({ dataDir: dir, apiDomain, printer: 'virtual', virtualPrinterUri: hh.sandbox.printer.uri, timing: FAST_TIMING, timeoutMs: 3000, clock });
  extra.push({ rt, dir });
  const v = hh.sandbox.gateway.vendor;
  await rt.terminal.activate({ appId: v.appId, code: hh.sandbox.gateway.addActivationCode(), deviceId: 'till-b', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
  await rt.terminal.checkin('test');
  return rt;
}

/** The revoke once final, the fake clock moved on meanwhile (queries and re-sends are due by it). */
function settled(rt: Runtime, id: number, clock: ManualClock): Promise<Revoke> {
  return until(() => {
    clock.advance(100);
    const r = rt.revokes.get(id)!;
    return ['revoked', 'rejected', 'expired'].includes(r.state) ? r : undefined;
  });
}

const revokeCalls = (hh: Harness, sn: string) => hh.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke' && (e.body as Record<string, string>).sn === sn).length;

const brief = (r: DayReport) => ({ payments: r.payments, revokes: r.revokes, elsewhere: r.returnedElsewhere.cents, net: r.netCents });

/** Every fen: the net is payments less every way money went back, and equals the taken orders' own net amounts. */
function expectTruth(r: DayReport): void {
  expect(r.netCents).toBe(r.payments.cents - r.revokes.cents - r.refunds.cents - r.returnedElsewhere.cents);
  expect(r.netCents).toBe(r.check.ordersNetCents + r.check.returnedOnOtherDaysCents - r.check.returnedForOtherOrdersCents);
  expect(r.check.mismatches).toEqual([]);
  expect(r.reconciled).toBe(true);
}

/** The revoke moved no money at this till: its words, no receipt, the lock released, the order CANCELED, a no-money event. */
function expectVoidedElsewhere(rt: Runtime, r: Revoke, order: { sn: string; clientSn: string }, answered: typeof NOOP | null = NOOP): void {
  if (answered) expect({ gatewayCode: r.error?.gatewayCode, lastResultCode: r.lastResultCode }).toEqual(answered);
  else expect(r.error).toMatchObject({ gatewayCode: null, gatewayMessage: null });
  expect(r.state).toBe('rejected');
  expect(r.error).toMatchObject(VOIDED_ELSEWHERE);
  expect(r.revokedAt).toBeNull();
  const db = databaseOf(rt);
  expect(listJobs(db, { revokeId: r.id })).toHaveLength(0);
  expect(openOperationOn(db, order.clientSn)).toBeUndefined();
  expect(rt.orders.get(order.sn)).toMatchObject({ status: 'CANCELED', netCents: 0 });
  const event = db.prepare("SELECT op_state, no_money FROM fleet_outbox WHERE kind = 'revoke' AND op_id = ? ORDER BY seq DESC LIMIT 1").get(r.id);
  expect(event).toEqual({ op_state: 'rejected', no_money: 1 });
}

describe('a revoke of an order already voided at another till', () => {
  it('till A voids its order, then till B (local copy still PAID) tries: one void at the gateway, counted once across the two 日结', async () => {
    const clock = new ManualClock(at(10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const b = await anotherTill(h, clock);
    const o = h.paidOrder({ totalCents: 5000, operator: 'op-a', finishedAt: at(10) });
    clock.set(at(10, 5));
    expect((await b.orders.import({ sn: o.sn }, 'test')).status).toBe('PAID'); // a receipt scanned at till B

    clock.set(at(10, 10));
    const ra = await h.rt.revokes.request({ sn: o.sn }, 'cashier-a', 'test');
    expect(ra.state).toBe('revoked');
    clock.set(at(10, 20));
    const rb = await b.revokes.request({ sn: o.sn }, 'cashier-b', 'test');

    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    expect(revokeCalls(h, o.sn)).toBe(2);
    expectVoidedElsewhere(b, rb, o);
    expect(b.revokes.forOrder(o.sn)).toMatchObject({ id: rb.id, state: 'rejected' });
    // Till A's revoke is the one revoke, with its receipt.
    expect(listJobs(databaseOf(h.rt), { revokeId: ra.id })).toHaveLength(1);

    // Asking again at till B: the order is known CANCELED now, refused with no gateway call.
    const again = await b.revokes.request({ sn: o.sn }, 'cashier-b', 'test');
    expect(again).toMatchObject({ state: 'rejected', error: { code: 'ALREADY_VOIDED' } });
    expect(revokeCalls(h, o.sn)).toBe(2);

    // 日结: till A paid and voided it; till B neither (an order of another till is no payment here).
    const a = h.rt.dayReport(D);
    expect(brief(a)).toEqual({ payments: { count: 1, cents: 5000 }, revokes: { count: 1, cents: 5000 }, elsewhere: 0, net: 0 });
    expectTruth(a);
    const rB = b.dayReport(D);
    expect(brief(rB)).toEqual({ payments: { count: 0, cents: 0 }, revokes: { count: 0, cents: 0 }, elsewhere: 0, net: 0 });
    expect(rB.open.items).toEqual([]);
    expectTruth(rB);
    expect(a.revokes.cents + rB.revokes.cents).toBe(5000);
  });

  it('till B’s own sale voided at till A: B books it returned elsewhere on its own day, not as its revoke', async () => {
    const clock = new ManualClock(at(10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const b = await anotherTill(h, clock);
    const bSn = b.terminal.info()!.terminalSn;
    const o = h.sandbox.gateway.seedOrder({ terminalSn: bSn, totalCents: 5000, subject: '测试商品', operator: 'op-b', finishedAt: at(10) });
    b.orders.record(paidOrderInput(o));
    expect(b.orders.get(o.sn)!.terminalSn).toBe(bSn);

    clock.set(at(10, 10));
    expect((await h.rt.revokes.request({ sn: o.sn }, 'cashier-a', 'test')).state).toBe('revoked'); // imported at till A and voided there
    clock.set(at(10, 20));
    const rb = await b.revokes.request({ sn: o.sn }, 'cashier-b', 'test');

    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    expectVoidedElsewhere(b, rb, o);
    const a = h.rt.dayReport(D);
    expect(brief(a)).toEqual({ payments: { count: 0, cents: 0 }, revokes: { count: 1, cents: 5000 }, elsewhere: 0, net: -5000 });
    expectTruth(a);
    const rB = b.dayReport(D);
    expect(brief(rB)).toEqual({ payments: { count: 1, cents: 5000 }, revokes: { count: 0, cents: 0 }, elsewhere: 5000, net: 0 });
    expect(rB.returnedElsewhere.orders.map((x) => [x.orderSn, x.cents])).toEqual([[o.sn, 5000]]);
    expectTruth(rB);
    expect(a.revokes.cents + rB.revokes.cents).toBe(5000);
  });

  it('a revoke that waited in the queue (every earlier send certainly not sent) finds the order voided meanwhile: voided elsewhere', async () => {
    const clock = new ManualClock(at(10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const b = await anotherTill(h, clock);
    const o = h.paidOrder({ totalCents: 5000, operator: 'op-a', finishedAt: at(10) });
    await b.orders.import({ sn: o.sn }, 'test');
    clock.set(at(10, 10));
    expect((await h.rt.revokes.request({ sn: o.sn }, 'cashier-a', 'test')).state).toBe('revoked');

    clock.set(at(10, 20));
    h.sandbox.gateway.inject('revoke', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' }, 1);
    const queued = await b.revokes.request({ sn: o.sn }, 'cashier-b', 'test');
    expect(queued.state).toBe('queued');
    const rb = await settled(b, queued.id, clock);

    expect(rb.attempts).toBe(2);
    expect(revokeCalls(h, o.sn)).toBe(3);
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    expectVoidedElsewhere(b, rb, o);
    expect(brief(b.dayReport(D))).toMatchObject({ revokes: { count: 0, cents: 0 }, net: 0 });
  });

  it('a queued revoke (nothing of it ever sent) learns from an import that the order was voided meanwhile: voided elsewhere, never sent', async () => {
    const clock = new ManualClock(at(10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const b = await anotherTill(h, clock);
    const o = h.paidOrder({ totalCents: 5000, operator: 'op-a', finishedAt: at(10) });
    await b.orders.import({ sn: o.sn }, 'test');
    clock.set(at(10, 10));
    expect((await h.rt.revokes.request({ sn: o.sn }, 'cashier-a', 'test')).state).toBe('revoked');

    clock.set(at(10, 20));
    h.sandbox.gateway.inject('revoke', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' }, 1);
    const queued = await b.revokes.request({ sn: o.sn }, 'cashier-b', 'test');
    expect(queued.state).toBe('queued');
    // Before its retry is due (the clock stands still), an import's answer shows the order CANCELED.
    expect((await b.orders.import({ sn: o.sn }, 'test')).status).toBe('CANCELED');
    const rb = await settled(b, queued.id, clock);

    expect(rb.attempts).toBe(1);
    expectVoidedElsewhere(b, rb, o, null);
    expect(revokeCalls(h, o.sn)).toBe(2); // A's void and B's refused (maintenance) send: B's revoke is never sent again
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    expect(brief(b.dayReport(D))).toMatchObject({ revokes: { count: 0, cents: 0 }, net: 0 });
  });
});

describe('a no-op after a send of ours that may have landed', () => {
  it('a re-send after a lost answer answered UPAY_CANCEL_ORDER_NOOP stays revoked: the first send may have voided it', async () => {
    const clock = new ManualClock(at(10));
    let holdOnQuery: string | null = null;
    h = await createHarness({
      clock,
      sandbox: {
        gateway: {
          strict: false,
          // Once the gateway has answered the query PAID, the re-send that follows waits on the wire.
          onRequest: (e) => {
            if (e.endpoint === 'query' && e.sn === holdOnQuery) {
              holdOnQuery = null;
              blip!.hold();
            }
          },
        },
      },
    });
    blip = await createChaosProxy(h.sandbox.gateway.port);
    const b = await anotherTill(h, clock, blip.url);
    const bSn = b.terminal.info()!.terminalSn;
    const o = h.sandbox.gateway.seedOrder({ terminalSn: bSn, totalCents: 5000, subject: '测试商品', operator: 'op-b', finishedAt: at(10) });
    b.orders.record(paidOrderInput(o));

    clock.set(at(10, 10));
    h.sandbox.gateway.inject('revoke', { kind: 'drop_before' }, 1); // the first send's answer is lost
    holdOnQuery = o.sn;
    const first = await b.revokes.request({ sn: o.sn }, 'cashier-b', 'test');
    expect(first.state).toBe('pending');
    // The query answered PAID; the re-send is committed and held on the wire.
    await until(() => {
      clock.advance(100);
      const r = b.revokes.get(first.id)!;
      return r.state === 'sending' && r.attempts === 2 && blip!.heldBytes > 0;
    });
    // Meanwhile the order is voided from this very terminal: what our first send landing late at the gateway looks like.
    const upay = new UpayClient({ apiDomain: h.sandbox.gateway.url });
    const late = await upay.revoke(b.terminal.signer(), { sn: o.sn });
    expect(late.ok && late.value.resultCode).toBe('CANCEL_SUCCESS');
    blip.release();

    const rb = await settled(b, first.id, clock);
    expect(rb.state).toBe('revoked');
    expect(rb.lastResultCode).toBe('FAIL');
    const noop = h.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke' && e.sn === o.sn).at(-1)!;
    expect(noop.errorCode).toBe('UPAY_CANCEL_ORDER_NOOP');
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    const db = databaseOf(b);
    expect(listJobs(db, { revokeId: rb.id })).toHaveLength(1);
    expect(openOperationOn(db, o.clientSn)).toBeUndefined();
    expect(b.orders.get(o.sn)).toMatchObject({ status: 'CANCELED', netCents: 0 });
    const r = b.dayReport(D);
    expect(brief(r)).toEqual({ payments: { count: 1, cents: 5000 }, revokes: { count: 1, cents: 5000 }, elsewhere: 0, net: 0 });
    expectTruth(r);
  });
});
