/**
 * The day report (日结) answers for every fen, over real HTTP to the sandbox
 * and a real SQLite file:
 *
 * - Money that went back outside this counter (voided or refunded at another
 *   till, a 冲正 whose order was imported, an order voided elsewhere and stored
 *   by a refused refund attempt) is shown as "returned elsewhere" on the
 *   order's day, per payway and operator, with its orders; the net equals the
 *   money taken and kept. An unpaid QR code canceled, imported later, is not a
 *   payment at all.
 * - reconciled: the net is checked against the orders' own net amounts, also
 *   across days (a refund recorded the day after its order), and an order on
 *   which this counter recorded more returned than the gateway shows is never
 *   reconciled.
 * - Both sections book a payment on the same day: a QR shown at 23:59 and
 *   paid at 00:00:30 counts on the next day in the main section and in the
 *   counter's payments; while open it is listed (CSV too).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { receiptLines } from '../../main/common/receipt-text';
import { businessDay, businessDayStart, ManualClock } from '../../main/common/time';
import type { PayTiming } from '../../main/operations/pay/timing';
import { dayReportCsv, type DayReport } from '../../main/report/day';
import { createRuntime, type Runtime } from '../../main/runtime';
import { paidOrderInput } from '../../main/sandbox';
import type { Payment } from '../../main/store/payments';
import { createHarness, FAST_TIMING, tempDir, until, type Harness } from '../support/harness';

const D = '2026-05-22';
const D1 = '2026-05-23';
const at = (day: string, hh: number, mm = 0, ss = 0) => businessDayStart(day) + ((hh * 60 + mm) * 60 + ss) * 1000;
const WHO: Accountable = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };
const PAY: Partial<PayTiming> = { payWindowMs: 400, payQueryEveryMs: 40, qrFastMs: 30, qrFastForMs: 150, qrSlowMs: 60, qrLifetimeMs: 400, leaseMs: 2_000 };

let h: Harness | undefined;
const extra: Array<{ rt: Runtime; dir: string }> = [];
afterEach(async () => {
  for (const x of extra.splice(0)) {
    await x.rt.close();
    fs.rmSync(x.dir, { recursive: true, force: true });
  }
  await h?.close();
  h = undefined;
});

/** Another till of the same merchant: its own data dir and terminal, the same gateway. */
async function anotherTill(hh: Harness, clock?: ManualClock): Promise<Runtime> {
  const dir = tempDir();
  const rt = createRuntime({
    dataDir: dir,
    apiDomain: hh.sandbox.gateway.url,
    printer: 'virtual',
    virtualPrinterUri: hh.sandbox.printer.uri,
    timing: FAST_TIMING,
    ...(clock ? { clock } : {}),
  });
  extra.push({ rt, dir });
  const v = hh.sandbox.gateway.vendor;
  await rt.terminal.activate({ appId: v.appId, code: hh.sandbox.gateway.addActivationCode(), deviceId: 'till-2', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
  await rt.terminal.checkin('test');
  return rt;
}

/** Every fen: the net is payments less every way money went back, and equals the taken orders' own net amounts. */
function expectTruth(r: DayReport): void {
  expect(r.netCents).toBe(r.payments.cents - r.revokes.cents - r.refunds.cents - r.returnedElsewhere.cents);
  expect(r.netCents).toBe(r.check.ordersNetCents + r.check.returnedOnOtherDaysCents - r.check.returnedForOtherOrdersCents);
  expect(r.check.mismatches).toEqual([]);
  expect(r.reconciled).toBe(true);
}

const FINAL = ['paid', 'failed', 'canceled'];
const settle = (hh: Harness, id: number): Promise<Payment> =>
  until(() => {
    const p = hh.rt.payments.get(id)!;
    return FINAL.includes(p.state) ? p : undefined;
  }, 10_000, 5);

describe('日结: money returned outside this counter', () => {
  it('voided and refunded at another till, learned by a refresh: returned elsewhere on the order’s day, per payway and operator; net = money kept', async () => {
    const clock = new ManualClock(at(D, 10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const voided = h.paidOrder({ totalCents: 5000, payway: '3', operator: 'op-a' });
    const refunded = h.paidOrder({ totalCents: 3000, payway: '1', operator: 'op-b' });
    const partly = h.paidOrder({ totalCents: 2000, payway: '3', operator: 'op-a' });
    // Here: 5.00 of `partly` refunded.
    clock.set(at(D, 11));
    expect((await h.rt.refunds.request({ sn: partly.sn }, 500, WHO, 'test')).state).toBe('refunded');
    // Another till: voids one, refunds another in full, and 7.00 more of `partly`.
    const till2 = await anotherTill(h, clock);
    clock.set(at(D, 12));
    expect((await till2.revokes.request({ sn: voided.sn }, 'till-2', 'test')).state).toBe('revoked');
    expect((await till2.refunds.request({ sn: refunded.sn }, 'full', WHO, 'test')).state).toBe('refunded');
    expect((await till2.refunds.request({ sn: partly.sn }, 700, WHO, 'test')).state).toBe('refunded');

    // Before this counter hears of it, its report cannot know: every fen taken is still counted as kept.
    const before = h.rt.dayReport(D);
    expect({ net: before.netCents, elsewhere: before.returnedElsewhere.cents }).toEqual({ net: 10000 - 500, elsewhere: 0 });
    expectTruth(before);

    // A query answer refreshes the three local PAID orders (a receipt scanned, an import).
    clock.set(at(D, 13));
    for (const o of [voided, refunded, partly]) await h.rt.orders.import({ sn: o.sn }, 'test');
    expect([voided, refunded, partly].map((o) => h!.rt.orders.get(o.sn)!.netCents)).toEqual([0, 0, 800]);
    const r = h.rt.dayReport(D);
    expect(r.payments).toEqual({ count: 3, cents: 10000 });
    expect(r.revokes).toEqual({ count: 0, cents: 0 });
    expect(r.refunds).toEqual({ count: 1, cents: 500 });
    expect({ count: r.returnedElsewhere.count, cents: r.returnedElsewhere.cents }).toEqual({ count: 3, cents: 5000 + 3000 + 700 });
    // What is still kept: the 8.00 left of `partly`.
    expect(r.netCents).toBe(800);
    expect(r.check.ordersNetCents).toBe(800);
    expectTruth(r);
    expect(r.returnedElsewhere.byPayway.map((l) => [l.payway, l.count, l.cents])).toEqual([
      ['1', 1, 3000],
      ['3', 2, 5700],
    ]);
    expect(r.byPayway.map((l) => [l.payway, l.netCents])).toEqual([
      ['1', 0],
      ['3', 800],
    ]);
    expect(r.returnedElsewhere.byOperator.map((l) => [l.operator, l.cents])).toEqual([
      ['op-a', 5700],
      ['op-b', 3000],
    ]);
    expect(r.returnedElsewhere.orders.map((o) => [o.orderSn, o.status, o.cents]).sort()).toEqual(
      [
        [voided.sn, 'CANCELED', 5000],
        [refunded.sn, 'REFUNDED', 3000],
        [partly.sn, 'PARTIAL_REFUNDED', 700],
      ].sort(),
    );
    // On paper and in the CSV, on its own line.
    const paper = receiptLines(h.rt.refundPrinting.dayReportModel(r).items).join('\n');
    expect(paper).toMatch(/其他途径退回\s+3 \/ [¥￥]87\.00/);
    expect(paper).toContain(voided.sn);
    const csv = dayReportCsv(r);
    expect(csv).toContain('total,returned_elsewhere,,3,8700,87.00\n');
    expect(csv).toContain('total,net,,,800,8.00\n');
    expect(csv).toContain('operator.returned_elsewhere,op-b,,1,3000,30.00\n');
    expect(csv).toContain(`returned_elsewhere.order,${voided.sn},CANCELED,1,5000,50.00\n`);
    expect(csv).toContain('check.reconciled,,,1,,\n');
  });

  it('the reviewer’s case: an order voided elsewhere, stored CANCELED by a refused refund attempt: 50.00 taken, 50.00 returned elsewhere, net 0; never-paid orders not counted', async () => {
    h = await createHarness({ runtime: { payTiming: PAY } });
    const day = businessDay(Date.now());
    const gw = h.sandbox.gateway;
    const a = gw.seedOrder({ terminalSn: h.terminalSn, totalCents: 5000, status: 'CANCELED', operator: 'op' });
    await expect(h.rt.refunds.request({ sn: a.sn }, 1000, WHO, 'test')).rejects.toMatchObject({ code: 'REFUND_NOT_REFUNDABLE_STATE' });
    expect(h.rt.orders.get(a.sn)).toMatchObject({ status: 'CANCELED', netCents: 0 });
    // A payment that failed at the gateway (PAY_CANCELED), imported: nothing was taken.
    const b = gw.seedOrder({ terminalSn: h.terminalSn, totalCents: 700, status: 'PAY_CANCELED', operator: 'op' });
    await h.rt.orders.import({ sn: b.sn }, 'test');
    // A QR code nobody paid, canceled by the runtime, its order imported later: CANCELED without a channel transaction.
    const qr = await h.rt.payments.request({ amountCents: 900, method: 'qr', payway: '3' }, WHO, 'test');
    expect(await settle(h, qr.id)).toMatchObject({ state: 'canceled', moneyReturned: false });
    const qrOrder = await h.rt.orders.import({ clientSn: qr.clientSn }, 'test');
    expect({ status: qrOrder.status, tradeNo: qrOrder.tradeNo }).toEqual({ status: 'CANCELED', tradeNo: null });

    const r = h.rt.dayReport(day);
    expect(r.payments).toEqual({ count: 1, cents: 5000 });
    expect({ count: r.returnedElsewhere.count, cents: r.returnedElsewhere.cents }).toEqual({ count: 1, cents: 5000 });
    expect(r.returnedElsewhere.orders.map((o) => o.orderSn)).toEqual([a.sn]);
    expect(r.netCents).toBe(0);
    expectTruth(r);
    expect(r.counterPayments).toMatchObject({ taken: { count: 0, cents: 0 }, returned: { count: 0, cents: 0 }, netCents: 0, open: [] });
  });

  it('a 冲正 that gave money back, its order imported later: both sections on the same day, taken and returned, net 0', async () => {
    h = await createHarness({ runtime: { payTiming: PAY, recheck: { everyMs: 600_000, probeEveryMs: 600_000 } } });
    const day = businessDay(Date.now());
    const gw = h.sandbox.gateway;
    gw.inject('pay', { kind: 'pay_in_progress', queries: 1_000_000 });
    gw.inject('query', { kind: 'drop_before' }, 1_000);
    const p = await h.rt.payments.request({ amountCents: 1234, method: 'barcode', barcode: '134567890123456789' }, WHO, 'test');
    gw.customerPays(p.clientSn);
    await until(() => gw.counters(p.clientSn).cancel >= 1, 5_000, 2);
    gw.clearFaults();
    expect(await settle(h, p.id)).toMatchObject({ state: 'canceled', moneyReturned: true });
    await h.rt.orders.import({ clientSn: p.clientSn }, 'test');

    const r = h.rt.dayReport(day);
    expect(r.payments).toEqual({ count: 1, cents: 1234 });
    expect(r.returnedElsewhere.cents).toBe(1234);
    expect(r.netCents).toBe(0);
    expectTruth(r);
    expect(r.counterPayments).toMatchObject({ taken: { count: 1, cents: 1234 }, returned: { count: 1, cents: 1234 }, netCents: 0 });
  });
});

describe('日结: reconciled only when the net equals the orders’ own net amounts', () => {
  it('a refund recorded the next day on a day’s order, with money also returned elsewhere: each day reconciles, and the days sum to the order’s net', async () => {
    const clock = new ManualClock(at(D, 10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const o = h.paidOrder({ totalCents: 4000 });
    const till2 = await anotherTill(h, clock);
    clock.set(at(D, 11));
    expect((await till2.refunds.request({ sn: o.sn }, 1000, WHO, 'test')).state).toBe('refunded');
    clock.set(at(D1, 9));
    // Here, the next day: 5.00 (the refund's answer refreshes the order: net 25.00).
    expect((await h.rt.refunds.request({ sn: o.sn }, 500, WHO, 'test')).state).toBe('refunded');
    expect(h.rt.orders.get(o.sn)!.netCents).toBe(2500);

    const rd = h.rt.dayReport(D);
    expect({ payments: rd.payments.cents, refunds: rd.refunds.cents, elsewhere: rd.returnedElsewhere.cents, net: rd.netCents }).toEqual({ payments: 4000, refunds: 0, elsewhere: 1000, net: 3000 });
    expect(rd.check).toMatchObject({ ordersNetCents: 2500, returnedOnOtherDaysCents: 500, returnedForOtherOrdersCents: 0 });
    expectTruth(rd);
    const rd1 = h.rt.dayReport(D1);
    expect({ payments: rd1.payments.cents, refunds: rd1.refunds.cents, elsewhere: rd1.returnedElsewhere.cents, net: rd1.netCents }).toEqual({ payments: 0, refunds: 500, elsewhere: 0, net: -500 });
    expect(rd1.check).toMatchObject({ ordersNetCents: 0, returnedOnOtherDaysCents: 0, returnedForOtherOrdersCents: 500 });
    expectTruth(rd1);
    expect(rd.netCents + rd1.netCents).toBe(h.rt.orders.get(o.sn)!.netCents);
  });

  it('this counter recorded more returned than the order shows (a stale copy recorded over it): never reconciled; the CSV and the paper say so', async () => {
    const clock = new ManualClock(at(D, 10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const o = h.paidOrder({ totalCents: 3000 });
    expect((await h.rt.refunds.request({ sn: o.sn }, 1000, WHO, 'test')).state).toBe('refunded');
    // The host app records its stale copy of the order again: PAID, net 30.00.
    h.rt.orders.record(paidOrderInput(o));
    expect(h.rt.orders.get(o.sn)).toMatchObject({ status: 'PAID', netCents: 3000 });
    const r = h.rt.dayReport(D);
    expect(r.check.mismatches).toEqual([{ orderSn: o.sn, cents: -1000 }]);
    expect(r.reconciled).toBe(false);
    expect(dayReportCsv(r)).toContain('check.reconciled,,,0,,\n');
    expect(dayReportCsv(r)).toContain(`check.mismatch,${o.sn},,,-1000,-10.00\n`);
    expect(receiptLines(h.rt.refundPrinting.dayReportModel(r).items).join('\n')).toContain('核对不符');
  });
});

describe('日结: both sections book a payment on the day its money moved', () => {
  it('a QR shown at 23:59, paid at 00:00:30: listed open (CSV too) before midnight, then counted on the next day in both sections, never on the first', async () => {
    const clock = new ManualClock(at(D, 23, 59));
    h = await createHarness({
      clock,
      sandbox: { gateway: { strict: false } },
      runtime: { payTiming: { qrFastMs: 30, qrFastForMs: 150, qrSlowMs: 60, qrLifetimeMs: 240_000, leaseMs: 2000 } },
    });
    const p = await h.rt.payments.request({ amountCents: 8800, method: 'qr', payway: '3' }, WHO, 'test');
    expect(p).toMatchObject({ state: 'pending', businessDay: D });
    clock.set(at(D, 23, 59, 30));
    const open = h.rt.dayReport(D);
    expect(open.counterPayments!.open).toEqual([expect.objectContaining({ id: p.id, clientSn: p.clientSn, state: 'pending', amountCents: 8800 })]);
    expect(dayReportCsv(open)).toContain(`open.payment,${p.id},${p.clientSn},pending,8800,88.00\n`);
    expectTruth(open);

    clock.set(at(D1, 0, 0, 30));
    h.sandbox.gateway.customerPays(p.clientSn);
    const done = await until(() => {
      const x = h!.rt.payments.get(p.id);
      return x?.state === 'paid' ? x : undefined;
    }, 8000);
    expect(h.rt.orders.get(done.orderSn!)!.businessDay).toBe(D1);

    const [rd, rd1] = [h.rt.dayReport(D), h.rt.dayReport(D1)];
    expect({ main: rd.payments, counter: rd.counterPayments!.taken, open: rd.counterPayments!.open }).toEqual({
      main: { count: 0, cents: 0 },
      counter: { count: 0, cents: 0 },
      open: [],
    });
    expect({ main: rd1.payments, counter: rd1.counterPayments!.taken, net: rd1.netCents, counterNet: rd1.counterPayments!.netCents }).toEqual({
      main: { count: 1, cents: 8800 },
      counter: { count: 1, cents: 8800 },
      net: 8800,
      counterNet: 8800,
    });
    expectTruth(rd);
    expectTruth(rd1);
    const csv = dayReportCsv(rd1);
    expect(csv).toContain('counter.taken,,,1,8800,88.00\n');
    expect(csv).toContain('counter.net,,,,8800,88.00\n');
    expect(csv).toContain('counter.operator.taken,cashier,,1,8800,88.00\n');
    expect(csv).toContain('counter.payway.net,3,');
  });
});
