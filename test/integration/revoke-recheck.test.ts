/**
 * The re-check of revokes nobody could confirm: asked about again by
 * themselves when the gateway is back and on a slow schedule, never while it
 * is unreachable (operations/recheck.ts), against the sandbox over real HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeEvents } from '../../main/events';
import { Recheck, type RecheckKind } from '../../main/operations/recheck';
import { createChaosProxy } from '../support/chaos-net';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Only the runtime under test works revokes: the harness's first one stands still. */
function quiet(harness: Harness): void {
  harness.rt.recheck.stop();
  harness.rt.revokes.stop();
}

const state = (harness: Harness, rt: Harness['rt'], id: number, want: string) => until(() => rt.revokes.get(id)!.state === want && rt.revokes.get(id)!, 10_000);

describe('re-check of unresolved revokes', () => {
  it('network cut mid-revoke → needs_attention, no query while offline; network back → revoked with no tap', async () => {
    h = await createHarness();
    quiet(h);
    const blip = await createChaosProxy(h.sandbox.gateway.port);
    try {
      const rt = h.runtime({ apiDomain: blip.url, timing: { pendingWindowMs: 400 }, recheck: { everyMs: 60_000, probeEveryMs: 100 } });
      const o = h.paidOrder();
      // The revoke reaches the gateway and is applied; its answer is lost with the network.
      h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
      const first = await rt.revokes.request({ sn: o.sn }, null, 'cashier');
      expect(first.state).toBe('pending');
      await blip.down();
      const stuck = await state(h, rt, first.id, 'needs_attention');
      expect(rt.revokes.isOnline()).toBe(false);
      h.sandbox.gateway.clearLog();
      await new Promise((r) => setTimeout(r, 500));
      expect(h.sandbox.gateway.log().filter((e) => e.endpoint === 'query')).toEqual([]);

      await blip.up();
      const resolved = await state(h, rt, stuck.id, 'revoked');
      expect(resolved.revokedAt).not.toBeNull();
      expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
      expect(h.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke')).toEqual([]); // resolved by query, never re-sent
    } finally {
      await blip.close();
    }
  });

  it('online: a needs_attention revoke is asked about again on the slow schedule', async () => {
    h = await createHarness({ runtime: { timeoutMs: 300 } });
    quiet(h);
    const rt = h.runtime({ recheck: { everyMs: 300, probeEveryMs: 100 }, timing: { pendingWindowMs: 300 } });
    const o = h.paidOrder();
    h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'http500_html' }, 1000);
    const first = await rt.revokes.request({ sn: o.sn }, null, 'cashier');
    await state(h, rt, first.id, 'needs_attention');
    h.sandbox.gateway.clearFaults();
    expect((await state(h, rt, first.id, 'revoked')).state).toBe('revoked');
  });
});

describe('Recheck (any operation kind)', () => {
  function fake(ids: number[]) {
    const asked: number[] = [];
    const kind: RecheckKind & { resumed: number } = {
      resumed: 0,
      unresolved: () => ids.filter((id) => !asked.includes(id)),
      recheck: async (id) => void asked.push(id),
      wakePending() {
        this.resumed++;
      },
    };
    return { kind, asked };
  }

  it('offline: probes, never queries; reachable again → online → every unresolved row queried once', async () => {
    const events = new RuntimeEvents();
    let online = false;
    let probes = 0;
    let reachable = false;
    const { kind, asked } = fake([1, 2]);
    const recheck = new Recheck([kind], {
      clock: { now: () => Date.now() },
      events,
      isOnline: () => online,
      setOnline: (v) => {
        online = v;
        events.emit('connectivity.changed', { online: v, at: Date.now() });
      },
      reachable: async () => (probes++, reachable),
      everyMs: 60_000,
      probeEveryMs: 20,
    });
    recheck.start();
    try {
      await until(() => probes >= 3);
      expect(asked).toEqual([]);
      reachable = true;
      await until(() => asked.length === 2);
      expect(asked).toEqual([1, 2]);
      expect(kind.resumed).toBe(1);
    } finally {
      recheck.stop();
    }
  });

  it('online: nothing unresolved costs nothing; the slow interval is honoured', async () => {
    const events = new RuntimeEvents();
    let now = 0;
    const ids = [7];
    let asked = 0;
    const recheck = new Recheck([{ unresolved: () => ids, recheck: async () => void asked++ }], {
      clock: { now: () => now },
      events,
      isOnline: () => true,
      setOnline: () => {},
      reachable: async () => true,
      everyMs: 1000,
      probeEveryMs: 10,
    });
    await recheck.tick();
    expect(asked).toBe(1);
    now = 500;
    await recheck.tick();
    expect(asked).toBe(1);
    now = 1000;
    await recheck.tick();
    expect(asked).toBe(2);
  });
});
