/**
 * Events are per process, yet the window must see what another process on
 * the same data dir does (store IT's `upay-pos queue drain`, `revoke`,
 * `refund`, an order recorded or imported): the runtime notices other
 * connections' commits (PRAGMA data_version) and raises the same events its
 * own changes raise. Two runtimes on one data dir stand for the app and the
 * CLI; only the app's events are listened to. With no other process, the
 * watch adds no event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Revoke } from '../../main/domain';
import type { RuntimeEventMap } from '../../main/events';
import type { EventName, EventPayload } from '../../main/ipc/contract';
import { createHandlerSet, forwardEvents } from '../../main/ipc/handlers';
import type { Runtime } from '../../main/runtime';
import { createChaosProxy, type ChaosProxy } from '../support/chaos-net';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
let blip: ChaosProxy | undefined;
afterEach(async () => {
  await blip?.close();
  await h?.close();
  h = undefined;
  blip = undefined;
});

type Heard = { [E in keyof RuntimeEventMap]: { event: E; payload: RuntimeEventMap[E][0] } }[keyof RuntimeEventMap];
const WATCHED: Array<keyof RuntimeEventMap> = ['revoke.updated', 'refund.updated', 'payment.updated', 'orders.changed', 'queue.changed'];

/** Every money, order and queue event of a runtime, in order. */
function listen(rt: Runtime): Heard[] {
  const heard: Heard[] = [];
  for (const event of WATCHED) {
    (rt.events as unknown as { on(e: string, l: (p: unknown) => void): void }).on(event, (payload) => heard.push({ event, payload } as Heard));
  }
  return heard;
}

describe('changes made by another process reach this process as events', () => {
  it('a revoke queued here and sent by the other process (its queue drain): revoke.updated with the final state, and the window gets it', async () => {
    h = await createHarness();
    blip = await createChaosProxy(h.sandbox.gateway.port);
    // The app: its gateway unreachable (the revoke queues); its own outbox off, so that only the other process sends it
    // (its watch on, as with the workers).
    const app = h.runtime({ apiDomain: blip.url, startWorkers: false, watchOthers: true });
    const heard = listen(app);
    const set = createHandlerSet(app, { mode: 'sandbox', version: 't', vendor: null, actor: 'test' });
    const window: Array<{ event: EventName; payload: unknown }> = [];
    const stop = forwardEvents(app.events, <E extends EventName>(event: E, payload: EventPayload<E>) => window.push({ event, payload }), set.orderRow);
    try {
      const order = h.paidOrder();
      await blip.down();
      const queued = await app.revokes.request({ sn: order.sn }, null, 'test');
      expect(queued.state).toBe('queued');

      // The other process (h.rt, the "CLI" with the gateway reachable) drains the queue and settles it.
      h.rt.revokes.setOnline(true);
      await until(() => h!.rt.revokes.get(queued.id)!.state === 'revoked');

      const final = await until(() => heard.find((e): e is Heard & { event: 'revoke.updated' } => e.event === 'revoke.updated' && e.payload.id === queued.id && e.payload.state === 'revoked'), 5_000);
      expect(final.payload).toMatchObject<Partial<Revoke>>({ orderSn: order.sn, state: 'revoked', error: null });
      // The window: the revoke's view, its order's row, and the revoke queue as it now stands.
      await until(() => window.some((e) => e.event === 'revoke.updated' && (e.payload as EventPayload<'revoke.updated'>).state === 'revoked'), 5_000);
      const rows = window.filter((e) => e.event === 'orders.changed').flatMap((e) => (e.payload as EventPayload<'orders.changed'>).orders);
      expect(rows.filter((o) => o.sn === order.sn).at(-1)?.revoke).toMatchObject({ id: queued.id, state: 'revoked' });
      const queue = window.filter((e) => e.event === 'queue.changed').map((e) => e.payload as EventPayload<'queue.changed'>);
      expect(queue.at(-1)).toMatchObject({ queued: 0, pending: 0, sending: 0 });
    } finally {
      stop();
    }
  });

  it('a refund queued here and sent by the other process: refund.updated with refunded', async () => {
    h = await createHarness();
    blip = await createChaosProxy(h.sandbox.gateway.port);
    const app = h.runtime({ apiDomain: blip.url, startWorkers: false, watchOthers: true });
    const heard = listen(app);
    const order = h.paidOrder({ totalCents: 5000 });
    await blip.down();
    const who = { operatorId: null, operatorName: 'c1', approverId: null, approverName: null };
    const queued = await app.refunds.request({ sn: order.sn }, 1200, who, 'test');
    expect(queued.state).toBe('queued');
    h.rt.refunds.setOnline(true);
    const final = await until(() => heard.find((e): e is Heard & { event: 'refund.updated' } => e.event === 'refund.updated' && e.payload.id === queued.id && e.payload.state === 'refunded'), 8_000);
    expect(final.payload).toMatchObject({ orderSn: order.sn, amountCents: 1200, state: 'refunded' });
  });

  it('an order recorded by the other process: orders.changed names it, and the window gets its row', async () => {
    h = await createHarness();
    const app = h.runtime();
    const heard = listen(app);
    const set = createHandlerSet(app, { mode: 'sandbox', version: 't', vendor: null, actor: 'test' });
    const window: Array<{ event: EventName; payload: unknown }> = [];
    const stop = forwardEvents(app.events, <E extends EventName>(event: E, payload: EventPayload<E>) => window.push({ event, payload }), set.orderRow);
    try {
      // h.paidOrder records it through h.rt: another connection than the app's.
      const order = h.paidOrder({ totalCents: 4321 });
      await until(() => heard.some((e) => e.event === 'orders.changed' && e.payload.sns.includes(order.sn)), 5_000);
      const row = await until(
        () => window.flatMap((e) => (e.event === 'orders.changed' ? (e.payload as EventPayload<'orders.changed'>).orders : [])).find((o) => o.sn === order.sn),
        5_000,
      );
      expect(row).toMatchObject({ sn: order.sn, totalCents: 4321 });
      // Nothing else moved: no money event.
      expect(heard.filter((e) => e.event !== 'orders.changed')).toEqual([]);
    } finally {
      stop();
    }
  });

  it('with no other process, the watch adds no event to what this process raises itself', async () => {
    h = await createHarness();
    const rt = h.rt;
    const order = h.paidOrder();
    const heard = listen(rt);
    const r = await rt.revokes.request({ sn: order.sn }, null, 'test');
    expect(r.state).toBe('revoked');
    await rt.revokes.idle();
    await new Promise((res) => setImmediate(res));
    const own = heard.length;
    expect(heard.filter((e) => e.event === 'revoke.updated').map((e) => (e.payload as Revoke).state)).toContain('revoked');
    // Several looks (one a second): none finds anything, so none raises anything.
    await new Promise((res) => setTimeout(res, 2_500));
    expect(heard.slice(own)).toEqual([]);
    expect(heard.some((e) => e.event === 'orders.changed')).toBe(false);
  });
});
