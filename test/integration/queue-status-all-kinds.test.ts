/**
 * One queue for the counter: `queue.changed` (whoever raises it: a kind whose
 * row moved, the connectivity, another process's commit) and `queue.status`
 * carry every kind's rows summed (queued, pending, sending, needsAttention),
 * the oldest open operation's age across kinds and the shared online flag;
 * never one kind's counts as "the queue". A burst of changes of several kinds
 * in one turn raises one `queue.changed`. A revoke queued (the gateway cut by a
 * proxy), a refund and payments pending; real HTTP to the sandbox, retries and
 * polls a minute out so only the steps of the test move anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../main/events';
import type { EventName, EventPayload } from '../../main/ipc/contract';
import { createHandlers, forwardEvents } from '../../main/ipc/handlers';
import { databaseOf, type Runtime } from '../../main/runtime';
import type { Fault } from '../../main/sandbox/gateway';
import type { ChaosProxy } from '../support/chaos-net';
import { until, type Harness } from '../support/harness';
import { MINUTE, quietBehindBlip } from '../support/quiet-blip';
import { barcodePayment, fastPay, WHO } from '../support/pay';

let h: Harness | undefined;
let blip: ChaosProxy | undefined;
afterEach(async () => {
  await blip?.close();
  await h?.close();
  blip = undefined;
  h = undefined;
});

const IN_PROGRESS_FOREVER: Fault = { kind: 'pay_in_progress', queries: 1_000_000 };
/** Two turns of the event loop: a coalesced queue.changed is out by then. */
const turns = () => new Promise<void>((r) => setImmediate(() => setImmediate(r)));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The counter's queue computed here from each kind's own counts: what every queue.changed and queue.status must say. */
function sumOfKinds(rt: Runtime): QueueStatus {
  const kinds = [rt.revokes.queueStatus(), rt.refunds.queueStatus(), rt.payments.queueStatus()];
  const ages = kinds.map((k) => k.oldestAgeMs).filter((a): a is number => a !== null);
  return {
    queued: kinds.reduce((n, k) => n + k.queued, 0),
    pending: kinds.reduce((n, k) => n + k.pending, 0),
    sending: kinds.reduce((n, k) => n + k.sending, 0),
    needsAttention: kinds.reduce((n, k) => n + k.needsAttention, 0),
    oldestAgeMs: ages.length ? Math.max(...ages) : null,
    online: rt.revokes.isOnline(),
  };
}

/** A status as the sum over kinds, the age within the few ms between the two readings. */
function expectSum(got: QueueStatus, want: QueueStatus): void {
  const { oldestAgeMs: gotAge, ...gotCounts } = got;
  const { oldestAgeMs: wantAge, ...wantCounts } = want;
  expect(gotCounts).toEqual(wantCounts);
  if (wantAge === null) expect(gotAge).toBeNull();
  else {
    expect(gotAge).not.toBeNull();
    expect(wantAge - gotAge!).toBeGreaterThanOrEqual(0);
    expect(wantAge - gotAge!).toBeLessThan(50);
  }
}

const counts = (q: QueueStatus) => ({ queued: q.queued, pending: q.pending, sending: q.sending, needsAttention: q.needsAttention, online: q.online });

describe('queue.changed and queue.status: the whole counter', () => {
  it('carry the sum over revokes, refunds and payments; a burst across kinds in one turn raises one queue.changed', async () => {
    // The harness's own runtime stands for another process on the data dir: it does nothing by itself.
    const made = await quietBehindBlip({
      payTiming: fastPay({ payWindowMs: 10 * MINUTE, payQueryEveryMs: MINUTE, attentionEveryMs: MINUTE, leaseMs: 5 * MINUTE }),
    });
    h = made.h;
    blip = made.blip;
    const app = made.rt;
    // Every queue.changed, with the sum over kinds read in the same turn (the database as the event saw it).
    const heard: Array<{ got: QueueStatus; want: QueueStatus }> = [];
    app.events.on('queue.changed', (q) => heard.push({ got: q, want: sumOfKinds(app) }));
    // A second queue.changed before the turn it was raised in is over: moves in one turn not raised as one.
    let raisedThisTurn = false;
    let twiceInATurn = 0;
    app.events.on('queue.changed', () => {
      if (raisedThisTurn) twiceInATurn++;
      raisedThisTurn = true;
      setImmediate(() => (raisedThisTurn = false));
    });
    const moved: string[] = [];
    app.events.on('refund.updated', (r) => moved.push(`refund ${r.id} ${r.state}`));
    app.events.on('payment.updated', (p) => moved.push(`payment ${p.id} ${p.state}`));
    // The window: what the renderer's setQueue is given.
    const window: Array<EventPayload<'queue.changed'>> = [];
    const stopForwarding = forwardEvents(app.events, <E extends EventName>(event: E, payload: EventPayload<E>) => {
      if (event === 'queue.changed') window.push(payload as EventPayload<'queue.changed'>);
    });
    const handlers = createHandlers(app, { mode: 'sandbox', version: 't', vendor: null, actor: 'test', resolveOperator: () => ({ id: null, name: 'cashier', role: 'cashier' }) });
    const queueStatus = async (): Promise<QueueStatus> => {
      const r = await handlers['queue.status']({}, { windowId: 1 });
      if (!r.ok) throw new Error(r.error.code);
      return r.value;
    };
    try {
      const [o1, o2] = [h.paidOrder({ totalCents: 5000 }), h.paidOrder()];

      // Two payments the customer has not confirmed yet (pending, next asked a minute out), the first the oldest of all.
      h.sandbox.gateway.inject('pay', IN_PROGRESS_FOREVER, 2);
      const p1 = await app.payments.request(barcodePayment(1234), WHO, 'test');
      expect(p1.state).toBe('pending');
      await sleep(150); // the oldest operation is older than any other by more than the readings' margin
      const p2 = await app.payments.request(barcodePayment(2345), WHO, 'test');
      expect(p2.state).toBe('pending');
      // A refund applied whose answer is lost: pending.
      h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1);
      const refund = await app.refunds.request({ sn: o1.sn }, 'full', WHO, 'test');
      expect(refund.state).toBe('pending');
      // The gateway cut: a revoke queued, the counter offline.
      await blip.down();
      const revoke = await app.revokes.request({ sn: o2.sn }, null, 'test');
      expect(revoke.state).toBe('queued');
      await turns();

      // Each kind raised its moves, the connectivity its change: every one of them carried the sum over kinds.
      expect(heard.length).toBeGreaterThan(3);
      for (const e of heard) expectSum(e.got, e.want);
      const offline = { queued: 1, pending: 3, sending: 0, needsAttention: 0, online: false };
      expect(counts(heard.at(-1)!.got)).toEqual(offline);
      expect(counts(window.at(-1)!)).toEqual(offline);
      // queue.status says the same, the age that of the oldest payment.
      const status = await queueStatus();
      expect(counts(status)).toEqual(offline);
      expect(status.oldestAgeMs).toBeGreaterThanOrEqual(app.clock.now() - p1.requestedAt - 50);
      expectSum(status, sumOfKinds(app));

      // Another process (store IT's CLI) settles a refund and a payment between two of this process's looks: the look
      // publishes both in one turn, and one queue.changed follows, still counting the queued revoke.
      const before = heard.length;
      const other = databaseOf(h.rt);
      const at = Date.now();
      other.transaction(() => {
        other.prepare("UPDATE refunds SET state = 'needs_attention', updated_at = ? WHERE id = ?").run(at, refund.id);
        other.prepare("UPDATE payments SET state = 'paid', paid_at = ?, updated_at = ? WHERE id = ?").run(at, at, p2.id);
      })();
      await until(() => moved.includes(`refund ${refund.id} needs_attention`) && moved.includes(`payment ${p2.id} paid`), 5_000);
      await turns();
      expect(heard.length - before).toBe(1);
      const burst = heard.at(-1)!;
      expectSum(burst.got, burst.want);
      expect(counts(burst.got)).toEqual({ queued: 1, pending: 1, sending: 0, needsAttention: 1, online: false });
      expect(counts(await queueStatus())).toEqual(counts(burst.got));

      // Back online: the revoke goes, the re-check settles the refund; the payment is still the customer's.
      await blip.up();
      app.revokes.setOnline(true);
      await until(() => app.revokes.get(revoke.id)!.state === 'revoked' && app.refunds.get(refund.id)!.state === 'refunded', 10_000);
      await app.revokes.idle();
      await app.refunds.idle();
      await turns();
      for (const e of heard) expectSum(e.got, e.want);
      const online = { queued: 0, pending: 1, sending: 0, needsAttention: 0, online: true };
      expect(counts(heard.at(-1)!.got)).toEqual(online);
      expect(counts(window.at(-1)!)).toEqual(online);
      expect(counts(await queueStatus())).toEqual(online);
      expect(twiceInATurn).toBe(0);
    } finally {
      stopForwarding();
    }
  });
});
