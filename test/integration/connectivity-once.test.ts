/**
 * One gateway, one connectivity, one event: a change of the gateway's
 * reachability, whether a call's outcome of one kind showed it or the app
 * said so (its network signal), raises exactly one `connectivity.changed`
 * (and one `queue.changed` for it, not one per kind), while every kind
 * still learns it: back online, every kind's queued rows are sent at once
 * and the re-check runs. Real HTTP to the sandbox through a proxy the test
 * cuts and restores; retries and polls are set a minute out, so only the
 * online signal can send or ask anything within the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../main/runtime';
import type { ChaosProxy } from '../support/chaos-net';
import { createHarness, until, type Harness } from '../support/harness';
import { quietBehindBlip } from '../support/quiet-blip';

let h: Harness | undefined;
let blip: ChaosProxy | undefined;
afterEach(async () => {
  await blip?.close();
  await h?.close();
  blip = undefined;
  h = undefined;
});

const WHO = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };

/** The quiet runtime behind the proxy (test/support/quiet-blip.ts), kept for afterEach. */
async function setUp(): Promise<{ h: Harness; blip: ChaosProxy; rt: Runtime }> {
  const made = await quietBehindBlip();
  h = made.h;
  blip = made.blip;
  return made;
}

/** Every connectivity.changed and queue.changed the runtime raises, in order. */
function listen(rt: Runtime): { connectivity: boolean[]; queue: boolean[] } {
  const heard = { connectivity: [] as boolean[], queue: [] as boolean[] };
  rt.events.on('connectivity.changed', (c) => heard.connectivity.push(c.online));
  rt.events.on('queue.changed', (q) => heard.queue.push(q.online));
  return heard;
}

const online = (rt: Runtime) => [rt.revokes.isOnline(), rt.refunds.isOnline(), rt.payments.isOnline()];
/** Two turns of the event loop: a coalesced queue.changed is out by then. */
const turns = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));

describe('one connectivity change raises one connectivity.changed', () => {
  it('learned from a call outcome of one kind: once offline, once online; another kind’s queued rows go when it is back', async () => {
    const { h, blip, rt } = await setUp();
    const [o1, o2, o3] = [h.paidOrder({ totalCents: 5000 }), h.paidOrder(), h.paidOrder()];
    const heard = listen(rt);

    await blip.down();
    // A refund that cannot reach the gateway: the refunds learn it is gone; every kind knows, one event.
    const refund = await rt.refunds.request({ sn: o1.sn }, 'full', WHO, 'test');
    expect(refund.state).toBe('queued');
    expect(heard.connectivity).toEqual([false]);
    expect(online(rt)).toEqual([false, false, false]);
    // A revoke queued too: nothing new to say.
    const queuedRevoke = await rt.revokes.request({ sn: o2.sn }, null, 'test');
    expect(queuedRevoke.state).toBe('queued');
    await turns();
    expect(heard.connectivity).toEqual([false]);

    await blip.up();
    // A revoke that gets through: the revokes learn the gateway is back; one event, and every kind knows.
    const fresh = await rt.revokes.request({ sn: o3.sn }, null, 'test');
    expect(fresh.state).toBe('revoked');
    expect(heard.connectivity).toEqual([false, true]);
    expect(online(rt)).toEqual([true, true, true]);
    // Queued rows of another kind (and of the one that learned it) are sent now, not at their retry a minute out.
    await until(() => rt.refunds.get(refund.id)!.state === 'refunded', 5_000);
    await until(() => rt.revokes.get(queuedRevoke.id)!.state === 'revoked', 5_000);
    expect(h.sandbox.gateway.effects('refund', o1.sn)).toBe(1);
    expect(h.sandbox.gateway.effects('revoke', o2.sn)).toBe(1);
    await rt.refunds.idle();
    await rt.revokes.idle();
    expect(heard.connectivity).toEqual([false, true]);
  });

  it('said by the app (setOnline on one kind): once each way, one queue.changed for it; queued rows of another kind go and the re-check runs', async () => {
    const { h, blip, rt } = await setUp();
    const [o1, o2] = [h.paidOrder(), h.paidOrder({ totalCents: 5000 })];
    // A revoke applied whose answer is lost: pending, first asked about a minute from now (or by the re-check).
    h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
    const pending = await rt.revokes.request({ sn: o1.sn }, null, 'test');
    expect(pending.state).toBe('pending');
    await turns();
    const heard = listen(rt);

    // The app's network signal, on the revokes as the shell gives it.
    rt.revokes.setOnline(false);
    expect(heard.connectivity).toEqual([false]);
    expect(online(rt)).toEqual([false, false, false]);
    await turns();
    expect(heard.queue).toEqual([false]);
    // Said again, or by another kind: no change, nothing raised.
    rt.revokes.setOnline(false);
    rt.payments.setOnline(false);
    await turns();
    expect(heard).toEqual({ connectivity: [false], queue: [false] });

    await blip.down();
    const refund = await rt.refunds.request({ sn: o2.sn }, 'full', WHO, 'test');
    expect(refund.state).toBe('queued');
    await turns();
    expect(heard.connectivity).toEqual([false]);

    await blip.up();
    rt.revokes.setOnline(true);
    expect(heard.connectivity).toEqual([false, true]);
    expect(online(rt)).toEqual([true, true, true]);
    // The refunds' queued row goes at once; the re-check (run by the one event) asks about the pending revoke.
    await until(() => rt.refunds.get(refund.id)!.state === 'refunded', 5_000);
    await until(() => rt.revokes.get(pending.id)!.state === 'revoked', 5_000);
    expect(h.sandbox.gateway.effects('revoke', o1.sn)).toBe(1);
    await rt.refunds.idle();
    await rt.revokes.idle();
    expect(heard.connectivity).toEqual([false, true]);
  });

  it('said by the app with nothing queued: exactly one connectivity.changed and one queue.changed per change', async () => {
    h = await createHarness();
    const rt = h.rt;
    const heard = listen(rt);
    rt.payments.setOnline(false);
    await turns();
    rt.refunds.setOnline(true);
    await turns();
    rt.revokes.setOnline(true); // "drain now" while online: no change, nothing raised
    await turns();
    expect(heard).toEqual({ connectivity: [false, true], queue: [false, true] });
  });
});
