/**
 * A refund that waited too long in the queue is handed to a person as "not
 * sent, no money moved" and is never sent after that, by the re-check or a
 * tap: the cashier may have settled with the customer meanwhile. Confirmed
 * never applied, it ends void; a refund still needed is asked for again.
 * Real HTTP to the sandbox; a manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../main/common/time';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const WHO = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };
const HOUR = 3_600_000;

describe('a refund that waited too long', () => {
  it.each(['the re-check', 'a person\'s "query again"'])('is never sent after it was handed to a person; %s confirms it void', async (by) => {
    const clock = new ManualClock(Date.parse('2026-05-22T02:00:00Z'));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } }, runtime: { refundMaxAgeMs: HOUR } });
    const gw = h.sandbox.gateway;
    const o = h.paidOrder({ finishedAt: clock.now() });
    gw.inject('refund', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' }, 1000);
    const r = await h.rt.refunds.request({ sn: o.sn }, 400, WHO, 'test');
    expect(r.state).toBe('queued');
    clock.advance(2 * HOUR);
    h.rt.refunds.kick();
    const na = await until(() => h!.rt.refunds.get(r.id)!.state === 'needs_attention' && h!.rt.refunds.get(r.id)!, 5_000);
    expect(na.error?.code).toBe('TOO_OLD');
    expect(na.error?.messageZh).toContain('不会再自动发出');
    gw.clearFaults();
    gw.clearLog();
    if (by === 'the re-check') await h.rt.recheck.run();
    else await h.rt.refunds.queryAgain(r.id, 'cashier');
    const after = await until(() => h!.rt.refunds.get(r.id)!.state !== 'needs_attention' && h!.rt.refunds.get(r.id)!, 5_000);
    expect(after.state).toBe('rejected');
    expect(after.error?.code).toBe('TOO_OLD_NOT_SENT');
    expect(gw.log().filter((e) => e.endpoint === 'refund')).toHaveLength(0);
    expect(gw.effects('refund', o.sn)).toBe(0);
    // The order is free again: a refund still needed is an explicit new request.
    const again = await h.rt.refunds.request({ sn: o.sn }, 400, WHO, 'test');
    expect(again.state).toBe('refunded');
    expect(gw.effects('refund', o.sn)).toBe(1);
  });
});
