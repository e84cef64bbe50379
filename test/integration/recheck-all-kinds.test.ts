/**
 * One gateway, one connectivity: a refund (or any kind) that lost the
 * gateway is asked about again as soon as the gateway is back, exactly as a
 * revoke is, not at the re-check's slow schedule; and what one kind learns
 * about the gateway, every kind knows (the status bar's 离线 ends when any
 * call succeeds). Real HTTP through a proxy the test cuts and restores.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createChaosProxy } from '../support/chaos-net';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const WHO = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };

describe('the re-check and connectivity across kinds', () => {
  it('a needs_attention refund is asked about when the gateway is back, not at the slow schedule; every kind is online again', async () => {
    h = await createHarness({ runtime: { timeoutMs: 300 } });
    h.rt.recheck.stop();
    for (const k of [h.rt.revokes, h.rt.refunds, h.rt.payments]) k.stop();
    const blip = await createChaosProxy(h.sandbox.gateway.port);
    try {
      // The slow schedule is a minute: only the probe's "back" can settle it within the wait below.
      const rt = h.runtime({ apiDomain: blip.url, timeoutMs: 300, timing: { pendingWindowMs: 400 }, recheck: { everyMs: 60_000, probeEveryMs: 100 } });
      const o = h.paidOrder();
      h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1); // applied; the answer lost with the network
      const first = await rt.refunds.request({ sn: o.sn }, 'full', WHO, 'test');
      expect(first.state).toBe('pending');
      await blip.down();
      await until(() => rt.refunds.get(first.id)!.state === 'needs_attention', 10_000);
      expect(rt.refunds.isOnline()).toBe(false);
      // What the refunds learned, every kind knows.
      expect(rt.revokes.isOnline()).toBe(false);
      expect(rt.payments.isOnline()).toBe(false);
      await blip.up();
      const done = await until(() => rt.refunds.get(first.id)!.state === 'refunded' && rt.refunds.get(first.id)!, 10_000);
      expect(done.state).toBe('refunded');
      expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(1);
      expect([rt.revokes.isOnline(), rt.refunds.isOnline(), rt.payments.isOnline()]).toEqual([true, true, true]);
    } finally {
      await blip.close();
    }
  });
});
