/**
 * A daily check-in that got no answer is not tried again before every call
 * (review 3, defect 2): after CHECKIN_UNCERTAIN (or a refused check-in) the
 * automatic check-in backs off (1 min, doubling, at most 15 min), shared by
 * the processes of the data dir, and calls meanwhile get the current key at
 * once. Real SQLite, real HTTP to the strict sandbox; check-ins are counted
 * in the sandbox's request log (no timing assertions); only the clock is
 * faked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { businessDay, ManualClock } from '../../main/common/time';
import { databaseOf } from '../../main/runtime';
import { readLease } from '../../main/store/locks';
import { CHECKIN_BACKOFF_BASE_MS, CHECKIN_BACKOFF_CAP_MS } from '../../main/terminal/provisioning';
import { createHarness, type Harness } from '../support/harness';

// 2026-03-10 12:00 in UTC+8.
const NOON = Date.UTC(2026, 2, 10, 4, 0, 0);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(): Promise<{ h: Harness; clock: ManualClock }> {
  const clock = new ManualClock(NOON);
  // Short deadlines: a hung check-in costs 3 × 400 ms here, not 3 × 20 s.
  h = await createHarness({ clock, runtime: { startWorkers: false, timeoutMs: 400 } });
  return { h, clock };
}

/** start(), a paid order, then a new business day: its first call checks in. */
async function startNextDay(): Promise<{ h: Harness; clock: ManualClock; order: ReturnType<Harness['paidOrder']> }> {
  const { h: harness, clock } = await start();
  const order = harness.paidOrder();
  clock.advance(DAY);
  return { h: harness, clock, order };
}

/** The next check-in refused: the gateway under maintenance. */
function refuseCheckin(harness: Harness): void {
  harness.sandbox.gateway.inject('checkin', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' });
}

function endpoints(harness: Harness): string[] {
  return harness.sandbox.gateway.log().map((e) => e.endpoint);
}

function checkins(harness: Harness): number {
  return endpoints(harness).filter((e) => e === 'checkin').length;
}

function outcome(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'error',
  );
}

describe('back-off after a daily check-in without an answer', () => {
  it('the next calls make no check-in; it is tried again after 1 min, then after 2 min, and a success ends the back-off', async () => {
    const { h, clock } = await start();
    expect(CHECKIN_BACKOFF_BASE_MS).toBe(MINUTE);
    expect(CHECKIN_BACKOFF_CAP_MS).toBe(15 * MINUTE);
    const order = h.paidOrder();
    clock.advance(DAY); // a new business day: the first call checks in
    h.sandbox.gateway.inject('checkin', { kind: 'hang' }, 3);

    h.sandbox.gateway.clearLog();
    // Strict sandbox: yesterday's key signs nothing but a check-in, so the call itself is refused.
    expect(await outcome(h.rt.orders.import({ sn: order.sn }, 't'))).toBe('GATEWAY_AUTH');
    expect(endpoints(h)).toEqual(['checkin', 'checkin', 'checkin', 'query']);
    expect(h.rt.terminal.info()!.lastCheckinDay).toBe('2026-03-10');

    // Every call in the back-off goes straight out with the current key: no check-in in front of it.
    for (const after of [0, 10_000, 59_000]) {
      clock.set(NOON + DAY + after);
      h.sandbox.gateway.clearLog();
      await outcome(h.rt.orders.import({ sn: order.sn }, 't'));
      expect(endpoints(h)).toEqual(['query']);
    }

    // Another process on the data dir sees the same back-off (the shared row).
    const other = h.runtime({ startWorkers: false, timeoutMs: 400 });
    h.sandbox.gateway.clearLog();
    await outcome(other.orders.import({ sn: order.sn }, 't'));
    expect(endpoints(h)).toEqual(['query']);
    expect(readLease(databaseOf(h.rt), 'terminal.checkin.backoff')).toBeDefined();

    // 1 min after the failure: tried again; no answer again → the back-off doubles to 2 min.
    h.sandbox.gateway.inject('checkin', { kind: 'hang' }, 3);
    clock.set(NOON + DAY + 2 * MINUTE);
    h.sandbox.gateway.clearLog();
    await outcome(h.rt.orders.import({ sn: order.sn }, 't'));
    expect(checkins(h)).toBe(3);

    clock.advance(MINUTE + 30_000);
    h.sandbox.gateway.clearLog();
    await outcome(other.orders.import({ sn: order.sn }, 't'));
    await outcome(h.rt.orders.import({ sn: order.sn }, 't'));
    expect(checkins(h)).toBe(0);

    // Past the 2 min: the gateway answers now; the call succeeds with the new key, the back-off is cleared.
    clock.advance(MINUTE);
    h.sandbox.gateway.clearLog();
    await expect(h.rt.orders.import({ sn: order.sn }, 't')).resolves.toMatchObject({ sn: order.sn, status: 'PAID' });
    expect(endpoints(h)).toEqual(['checkin', 'query']);
    expect(h.rt.terminal.info()!.lastCheckinDay).toBe(businessDay(clock.now()));
    expect(readLease(databaseOf(h.rt), 'terminal.checkin.backoff')).toBeUndefined();
    h.sandbox.gateway.clearLog();
    await expect(other.orders.import({ sn: order.sn }, 't')).resolves.toMatchObject({ status: 'PAID' });
    expect(endpoints(h)).toEqual(['query']);
  });

  it('the calls keep working meanwhile when the current key is still valid (a new terminal, key of today)', async () => {
    const { h, clock } = await start();
    const v = h.sandbox.gateway.vendor;
    const info = await h.rt.terminal.activate(
      { appId: v.appId, code: h.sandbox.gateway.activationCodes()[0]!, deviceId: 'test-counter', vendorSn: v.vendorSn, vendorKey: v.vendorKey, force: true },
      'it',
    );
    const order = h.sandbox.gateway.seedOrder({ terminalSn: info.terminalSn, totalCents: 990 });
    h.sandbox.gateway.inject('checkin', { kind: 'hang' }, 3);

    h.sandbox.gateway.clearLog();
    await expect(h.rt.orders.import({ sn: order.sn }, 't')).resolves.toMatchObject({ sn: order.sn, status: 'PAID' });
    expect(endpoints(h)).toEqual(['checkin', 'checkin', 'checkin', 'query']);

    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      h.sandbox.gateway.clearLog();
      await expect(h.rt.orders.import({ sn: order.sn }, 't')).resolves.toMatchObject({ status: 'PAID' });
      expect(endpoints(h)).toEqual(['query']);
    }
  });

  it('a refused check-in backs off too; a check-in asked for by a person runs at once and ends the back-off', async () => {
    const { h, order } = await startNextDay();
    refuseCheckin(h);

    h.sandbox.gateway.clearLog();
    await outcome(h.rt.orders.import({ sn: order.sn }, 't'));
    expect(endpoints(h)).toEqual(['checkin', 'query']);
    h.sandbox.gateway.clearLog();
    await outcome(h.rt.orders.import({ sn: order.sn }, 't'));
    expect(endpoints(h)).toEqual(['query']);

    // `upay-pos checkin` (or the app's button) is not held back by the back-off.
    h.sandbox.gateway.clearLog();
    await h.rt.terminal.checkin('it');
    expect(endpoints(h)).toEqual(['checkin']);
    expect(readLease(databaseOf(h.rt), 'terminal.checkin.backoff')).toBeUndefined();
    h.sandbox.gateway.clearLog();
    await expect(h.rt.orders.import({ sn: order.sn }, 't')).resolves.toMatchObject({ status: 'PAID' });
    expect(endpoints(h)).toEqual(['query']);
  });

  it('the back-off stops doubling at 15 min', async () => {
    const { h, clock, order } = await startNextDay();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      refuseCheckin(h);
      h.sandbox.gateway.clearLog();
      await outcome(h.rt.orders.import({ sn: order.sn }, 't'));
      expect(checkins(h)).toBe(1);
      const until = readLease(databaseOf(h.rt), 'terminal.checkin.backoff')!.until;
      waits.push(until - clock.now());
      clock.set(until);
    }
    expect(waits).toEqual([1, 2, 4, 8, 15, 15].map((m) => m * MINUTE));
  });
});
