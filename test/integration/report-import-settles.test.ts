/**
 * An import settles what is open on the order, as any answer a kind hears
 * does: a revoke or refund whose answer was lost, handed to a person
 * (needs_attention), ends when a person imports the order and the gateway
 * shows it done; counted once, on the day it settled. And the day report
 * (日结) never books a revoke's or refund's own money as "returned elsewhere"
 * while it is open: the gateway's return on such an order, up to what the open
 * operation would return, shows under the open items only, and is counted
 * when it settles; money returned beyond it (another till's refund) is
 * returned elsewhere at once. So a closed day's figures do not move when the
 * operation settles later. Real HTTP to the sandbox, a real SQLite file; only
 * the clock is faked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { receiptLines } from '../../main/common/receipt-text';
import { ManualClock } from '../../main/common/time';
import { dayReportCsv, type DayReport } from '../../main/report/day';
import { createRuntime, type Runtime } from '../../main/runtime';
import { atHour } from '../support/days';
import { closeExtra, createHarness, FAST_TIMING, tempDir, type Harness } from '../support/harness';

const D = '2026-05-22';
const D1 = '2026-05-23';
const at = atHour;
const WHO: Accountable = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };

let h: Harness | undefined;
const extra: Array<{ rt: Runtime; dir: string }> = [];
afterEach(async () => {
  await closeExtra(extra);
  await h?.close();
  h = undefined;
});

const brief = (r: DayReport) => ({
  payments: r.payments.cents,
  revokes: r.revokes.cents,
  refunds: r.refunds.cents,
  elsewhere: r.returnedElsewhere.cents,
  net: r.netCents,
  open: r.open.items.map((i) => `${i.kind}:${i.state}:${i.amountCents}`),
});

function expectTruth(r: DayReport): void {
  expect(r.netCents).toBe(r.payments.cents - r.revokes.cents - r.refunds.cents - r.returnedElsewhere.cents);
  expect(r.netCents).toBe(r.check.ordersNetCents + r.check.returnedOnOtherDaysCents - r.check.returnedForOtherOrdersCents);
  expect(r.check.mismatches).toEqual([]);
  expect(r.reconciled).toBe(true);
}

/** The operation's answer is lost after the gateway applied it, and every query is dropped: it ends needs_attention. */
async function untilAttention(clock: ManualClock, kick: () => void, state: () => string): Promise<void> {
  for (let i = 0; i < 300 && state() !== 'needs_attention'; i++) {
    clock.set(clock.now() + 500);
    kick();
    await new Promise((res) => setTimeout(res, 20));
  }
  expect(state()).toBe('needs_attention');
}

describe('an import settles what is open on the order', () => {
  it('a revoke handed to a person ends revoked when the order is imported: counted once, on its day', async () => {
    const clock = new ManualClock(at(D, 20));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const o = h.paidOrder({ finishedAt: at(D, 19), totalCents: 5000 });
    clock.set(at(D, 21));
    h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'drop_before' }, 1_000_000);
    const r = await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
    const rt = h.rt;
    await untilAttention(clock, () => rt.revokes.kick(), () => rt.revokes.get(r.id)!.state);
    h.sandbox.gateway.clearFaults();

    // Closing, 22:00: a person imports the order to see what happened.
    clock.set(at(D, 22));
    const imported = await h.rt.orders.import({ sn: o.sn }, 'test');
    expect(imported.status).toBe('CANCELED');
    const settled = h.rt.revokes.get(r.id)!;
    expect(settled.state).toBe('revoked');
    expect(settled.revokedAt).toBe(at(D, 22));
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);

    const closing = h.rt.dayReport(D);
    expect(brief(closing)).toEqual({ payments: 5000, revokes: 5000, refunds: 0, elsewhere: 0, net: 0, open: [] });
    expectTruth(closing);
    const paper = receiptLines(h.rt.refundPrinting.dayReportModel(closing).items).join('\n');
    expect(paper).not.toContain('其他途径退回');

    // The next day: nothing of it again; the closed day unchanged.
    clock.set(at(D1, 9));
    expect(brief(h.rt.dayReport(D1))).toEqual({ payments: 0, revokes: 0, refunds: 0, elsewhere: 0, net: 0, open: [] });
    expect(brief(h.rt.dayReport(D))).toEqual(brief(closing));
  });

  it('a refund handed to a person ends refunded when the order is imported and shows it applied', async () => {
    const clock = new ManualClock(at(D, 20));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const o = h.paidOrder({ finishedAt: at(D, 19), totalCents: 5000 });
    clock.set(at(D, 21));
    h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'drop_before' }, 1_000_000);
    const r = await h.rt.refunds.request({ sn: o.sn }, 1000, WHO, 'test');
    const rt = h.rt;
    await untilAttention(clock, () => rt.refunds.kick(), () => rt.refunds.get(r.id)!.state);
    h.sandbox.gateway.clearFaults();

    clock.set(at(D, 22));
    await h.rt.orders.import({ sn: o.sn }, 'test');
    expect(h.rt.refunds.get(r.id)!.state).toBe('refunded');
    const closing = h.rt.dayReport(D);
    expect(brief(closing)).toEqual({ payments: 5000, revokes: 0, refunds: 1000, elsewhere: 0, net: 4000, open: [] });
    expectTruth(closing);
  });
});

describe('an open operation’s money is never returned elsewhere', () => {
  it('a refund still open at closing: shown open; only another till’s refund is returned elsewhere; the day does not move when it settles', async () => {
    const clock = new ManualClock(at(D, 20));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const o = h.paidOrder({ finishedAt: at(D, 19), totalCents: 5000 });
    clock.set(at(D, 21));
    h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'drop_before' }, 1_000_000);
    const r = await h.rt.refunds.request({ sn: o.sn }, 1000, WHO, 'test');
    const rt = h.rt;
    await untilAttention(clock, () => rt.refunds.kick(), () => rt.refunds.get(r.id)!.state);
    h.sandbox.gateway.clearFaults();

    // Another till refunds ¥5 of it: the gateway's last transaction is that one, which settles nothing here.
    clock.set(at(D, 21, 30));
    const dir = tempDir();
    const b = createRuntime({ dataDir: dir, apiDomain: h.sandbox.gateway.url, printer: 'none', timing: FAST_TIMING, clock });
    extra.push({ rt: b, dir });
    const v = h.sandbox.gateway.vendor;
    await b.terminal.activate({ appId: v.appId, code: h.sandbox.gateway.addActivationCode(), deviceId: 'till-2', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
    expect((await b.refunds.request({ sn: o.sn }, 500, { ...WHO, operatorName: 'cashier-b' }, 'test')).state).toBe('refunded');

    // Closing: the order imported shows ¥15 returned; ¥10 of it may be the open refund's.
    clock.set(at(D, 22));
    const imported = await h.rt.orders.import({ sn: o.sn }, 'test');
    expect(imported).toMatchObject({ status: 'PARTIAL_REFUNDED', netCents: 3500 });
    expect(h.rt.refunds.get(r.id)!.state).toBe('needs_attention');
    const closing = h.rt.dayReport(D);
    expect(brief(closing)).toEqual({ payments: 5000, revokes: 0, refunds: 0, elsewhere: 500, net: 4500, open: ['refund:needs_attention:1000'] });
    expect(closing.returnedElsewhere.orders.map((e) => [e.orderSn, e.cents])).toEqual([[o.sn, 500]]);
    expectTruth(closing);
    expect(dayReportCsv(closing)).toContain('total,returned_elsewhere,,1,500,5.00');
    const paper = receiptLines(h.rt.refundPrinting.dayReportModel(closing).items).join('\n');
    expect(paper).toMatch(/其他途径退回\s+1 \/ ￥5\.00/);

    // The next day a person asks again: the refund applied; it counts on that day, the closed day stays as it was.
    clock.set(at(D1, 9));
    expect((await h.rt.refunds.queryAgain(r.id, 'test')).state).toBe('refunded');
    const later = h.rt.dayReport(D);
    expect(brief(later)).toEqual({ ...brief(closing), open: [] });
    expectTruth(later);
    const next = h.rt.dayReport(D1);
    expect(brief(next)).toEqual({ payments: 0, revokes: 0, refunds: 1000, elsewhere: 0, net: -1000, open: [] });
    expectTruth(next);
  });
});
