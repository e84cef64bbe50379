/**
 * A revoke that straddles midnight (UTC+8), with a fake clock, a real SQLite
 * file and real HTTP to the sandbox: sent at 23:59:55 on day D, its answer
 * lost, settled by a query after midnight.
 *
 * - 日结: the revoke counts in exactly one day's report, the day it was
 *   recorded as revoked (as a refund on its `refunded_day`), and while it is
 *   still open after midnight the new day's report lists it.
 * - The deadline: a pending revoke of a day that is over is no deadline, so
 *   the worker sleeps until the row's next query instead of running a pass on
 *   every turn of the event loop. Passes are counted by the sweep each pass
 *   runs (RevokesRepo.expiredQueued), not by timing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { businessDayStart, ManualClock } from '../../main/common/time';
import type { DayReport } from '../../main/report/day';
import { RevokesRepo } from '../../main/store/revokes';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = undefined;
});

const D0 = '2026-05-21';
const D = '2026-05-22';
const D1 = '2026-05-23';
const D2 = '2026-05-24';
const MIN = 60_000;
const at = (day: string, hh: number, mm = 0, ss = 0) => businessDayStart(day) + ((hh * 60 + mm) * 60 + ss) * 1000;
/** A pending revoke stays pending for 10 minutes of the fake clock: its next query is that far off. */
const SLOW = { firstQueryMs: 10 * MIN, queryEveryMs: 10 * MIN, pendingWindowMs: 60 * MIN, backoffBaseMs: 30, backoffCapMs: 200 };

async function midnightHarness(clock: ManualClock): Promise<Harness> {
  // Not strict: the terminal key of day D is still good after midnight, as for a counter that checked in.
  return createHarness({ clock, sandbox: { gateway: { strict: false } }, runtime: { timing: SLOW } });
}

/** A revoke sent late on D (default 23:59:55) that the gateway applies but whose answer is lost. */
async function lateRevoke(harness: Harness, clock: ManualClock, sentAt = at(D, 23, 59, 55)) {
  const o = harness.paidOrder({ finishedAt: at(D, 23), totalCents: 1000 });
  clock.set(sentAt);
  harness.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
  const r = await harness.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
  expect(r.state).toBe('pending');
  expect(harness.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
  return { order: o, revoke: r };
}

const tallies = (r: DayReport) => ({ payments: r.payments, revokes: r.revokes, net: r.netCents, open: r.open.items.map((i) => `${i.kind}:${i.orderSn}:${i.state}`) });

describe('日结 across midnight', () => {
  it('a revoke sent at 23:59:55, settled by query at 00:10 next day: counted once, on the day it was recorded; listed as open meanwhile', async () => {
    const clock = new ManualClock(at(D, 22));
    h = await midnightHarness(clock);
    // An ordinary revoke of D, done on D: counted on D.
    const early = h.paidOrder({ finishedAt: at(D, 22), totalCents: 500 });
    clock.set(at(D, 22, 30));
    expect((await h.rt.revokes.request({ sn: early.sn }, 'cashier', 'test')).state).toBe('revoked');

    const { order, revoke } = await lateRevoke(h, clock);

    // After midnight, before the query: the new day's report shows the open revoke of yesterday's order.
    clock.set(at(D1, 0, 0, 10));
    const openNow = h.rt.dayReport(D1);
    expect(openNow.open.items).toEqual([{ kind: 'revoke', id: revoke.id, orderSn: order.sn, state: 'pending', amountCents: 1000 }]);
    expect(openNow.open.revokes).toEqual({ count: 1, cents: 1000 });
    expect(openNow.reconciled).toBe(true);

    // The query at 00:10 settles it: revoked, recorded on D1.
    clock.set(at(D1, 0, 10));
    h.rt.revokes.kick();
    const done = await until(() => (h!.rt.revokes.get(revoke.id)!.state === 'revoked' ? h!.rt.revokes.get(revoke.id) : undefined));
    expect(done.revokedAt).toBe(at(D1, 0, 10));
    expect(h.sandbox.gateway.effects('revoke', order.sn)).toBe(1);

    const reports = Object.fromEntries([D0, D, D1, D2].map((day) => [day, h!.rt.dayReport(day)]));
    expect(tallies(reports[D]!)).toEqual({ payments: { count: 2, cents: 1500 }, revokes: { count: 1, cents: 500 }, net: 1000, open: [] });
    expect(tallies(reports[D1]!)).toEqual({ payments: { count: 0, cents: 0 }, revokes: { count: 1, cents: 1000 }, net: -1000, open: [] });
    // Every revoke in exactly one report, with its amount.
    const all = Object.values(reports).reduce((t, r) => ({ count: t.count + r.revokes.count, cents: t.cents + r.revokes.cents }), { count: 0, cents: 0 });
    expect(all).toEqual({ count: 2, cents: 1500 });
    for (const r of Object.values(reports)) expect(r.reconciled).toBe(true);
    // D1's line names the order's payway and the operator who revoked.
    const line = reports[D1]!.byPayway.find((l) => l.revokes.count === 1)!;
    expect(line.payway).toBe(h.rt.orders.get(order.sn)!.payway);
    expect(reports[D1]!.byOperator).toEqual([{ operator: 'cashier', payments: { count: 0, cents: 0 }, revokes: { count: 1, cents: 1000 }, refunds: { count: 0, cents: 0 } }]);
  });
});

describe('the deadline of a pending revoke after midnight', () => {
  // 30: the pending row was warned before midnight (the default lead); 0: it never was.
  it.each([30, 0])('warning lead %i min: after midnight the worker goes idle until the next query, no busy loop', async (leadMinutes) => {
    const clock = new ManualClock(at(D, 23));
    h = await midnightHarness(clock);
    h.rt.recheck.stop();
    h.rt.updateSettings({ expiryWarningMinutes: leadMinutes }, 'test');
    // Sent 100 ms before midnight: a wake-up armed for the day's end comes 100 ms later, within this test.
    const { order, revoke } = await lateRevoke(h, clock, at(D1, 0) - 100);
    h.rt.revokes.kick();
    await h.rt.revokes.idle();

    const sweeps = vi.spyOn(RevokesRepo.prototype, 'expiredQueued');
    clock.set(at(D1, 0, 0, 10)); // the row still pending, its next query at 00:09:59.9
    h.rt.revokes.kick();
    await until(() => sweeps.mock.calls.length >= 1); // the pass the kick asked for
    // Idle: nothing in flight and the next wake-up in the future. A wake-up time already past never lets it be.
    const idle = await Promise.race([h.rt.revokes.idle().then(() => true), new Promise<false>((res) => setTimeout(() => res(false), 3000))]);
    const passes = sweeps.mock.calls.length;
    expect(passes, 'passes after midnight').toBeLessThanOrEqual(2);
    expect(idle, 'idle after midnight').toBe(true);
    // And it stays asleep: 20 more timer turns of the event loop run no pass (the loop ran one on each).
    for (let i = 0; i < 20; i++) await new Promise((res) => setTimeout(res, 5));
    expect(sweeps.mock.calls.length - passes).toBe(0);
    expect(h.rt.revokes.get(revoke.id)!.state).toBe('pending');

    // The row is not forgotten: at its query time it is settled.
    clock.set(at(D1, 0, 10));
    h.rt.revokes.kick();
    const done = await until(() => h!.rt.revokes.get(revoke.id)!.state === 'revoked');
    expect(done).toBe(true);
    expect(h.sandbox.gateway.effects('revoke', order.sn)).toBe(1);
  });
});
