/**
 * Attack: "query again" tapped (or called) as fast as a window can. Each call
 * was a gateway query plus an audit entry, and on a payment being reversed a
 * gateway cancel too: 50 calls on a needs_attention payment made 50 queries,
 * 50 cancels and 150 audit rows in under a second.
 *
 * What holds (main/operations/engine.ts `queryRow`, for every kind): a
 * person's query asks the gateway about a row at most once per 2 s
 * (PERSON_QUERY_EVERY_MS), whichever window and however many at once; within
 * that it answers the row as stored, with no gateway call and no audit entry.
 * And a reversal a person's query drives keeps the kind's pacing: the next
 * cancel stays when the worker's schedule put it (nextCancel after the last
 * cancel, attentionEveryMs once a person was told), never one per tap, never
 * put off by taps either. The re-check keeps its own pace.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../main/ipc/contract';
import { createHandlerSet } from '../../main/ipc/handlers';
import { PERSON_QUERY_EVERY_MS } from '../../main/operations/engine';
import type { PayTiming } from '../../main/operations/pay/timing';
import { databaseOf } from '../../main/runtime';
import { createHarness, until, type Harness } from '../support/harness';
import { ShiftClock, signIn, TEST_HANDLER_OPTIONS, type BoundHandlers } from '../support/operators';
import { CUSTOMER_BARCODE, QUIET_RECHECK } from '../support/pay';

const TAPS = 50;

/** A barcode payment in doubt for 0.3 s, two cancels, then needs_attention with the next try a minute away. */
const T: Partial<PayTiming> = {
  payWindowMs: 300,
  payQueryEveryMs: 50,
  cancelRetryMs: 30,
  cancelRetryCapMs: 60,
  maxCancels: 2,
  attentionEveryMs: 60_000,
  leaseMs: 2_000,
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const auditRows = (hh: Harness): number => databaseOf(hh.rt).prepare('SELECT count(*) FROM audit_log').pluck().get() as number;

/** Three windows signed in as `role` (a supervisor: a refund needs no approval of another). */
async function setup(role: 'cashier' | 'supervisor' = 'cashier', clock = new ShiftClock()) {
  h = await createHarness({ clock, runtime: { payTiming: T, recheck: QUIET_RECHECK } });
  const set = createHandlerSet(h.rt, TEST_HANDLER_OPTIONS);
  const windows = [await signIn(h.rt, set, role, 'w1'), await signIn(h.rt, set, role, 'w2'), await signIn(h.rt, set, role, 'w3')];
  return { hh: h, windows, clock };
}

/** A payment the customer never finished, whose cancels are answered unclear: needs_attention, the reversal still on. */
async function paymentNeedingAttention(hh: Harness, cashier: BoundHandlers) {
  const gw = hh.sandbox.gateway;
  gw.inject('pay', { kind: 'pay_in_progress', queries: 1_000_000 });
  gw.inject('cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' }, 1_000_000);
  const r = (await cashier['pay.request']({ method: 'barcode', amountCents: 1_234, barcode: CUSTOMER_BARCODE })) as Result<{ id: number; clientSn: string }>;
  if (!r.ok) throw new Error(r.error.code);
  const p = await until(() => {
    const now = hh.rt.payments.get(r.value.id)!;
    return now.state === 'needs_attention' && now;
  }, 10_000, 5);
  expect(p.nextAttemptAt! - Date.now()).toBeGreaterThan(30_000);
  await hh.rt.payments.idle();
  return p;
}

describe('pay.queryAgain is paced per payment', () => {
  it('attack: 50 taps in a row on a needs_attention payment → at most one query, no cancel (the next is a minute away), one audit row', async () => {
    const { hh, windows } = await setup();
    const p = await paymentNeedingAttention(hh, windows[0]!);
    const gw = hh.sandbox.gateway;
    const before = { ...gw.counters(p.clientSn), audit: auditRows(hh) };

    const views = [];
    for (let i = 0; i < TAPS; i++) views.push(await windows[0]!['pay.queryAgain']({ paymentId: p.id }));
    for (const v of views) expect(v).toMatchObject({ ok: true, value: { id: p.id, outcome: 'needs_attention' } });

    const after = gw.counters(p.clientSn);
    expect(after.query - before.query).toBeLessThanOrEqual(1);
    expect(after.cancel - before.cancel).toBe(0);
    expect(auditRows(hh) - before.audit).toBeLessThanOrEqual(1);
    // The worker's schedule is untouched: the next reversal try is still where it was.
    expect(hh.rt.payments.get(p.id)!.nextAttemptAt).toBe(p.nextAttemptAt);
  });

  it('attack: 50 taps at once from three windows → at most one query and one audit row', async () => {
    const { hh, windows } = await setup();
    const p = await paymentNeedingAttention(hh, windows[0]!);
    const gw = hh.sandbox.gateway;
    const before = { ...gw.counters(p.clientSn), audit: auditRows(hh) };
    const rs = await Promise.all(Array.from({ length: TAPS }, (_, i) => windows[i % 3]!['pay.queryAgain']({ paymentId: p.id })));
    for (const r of rs) expect(r).toMatchObject({ ok: true, value: { id: p.id } });
    expect(gw.counters(p.clientSn).query - before.query).toBeLessThanOrEqual(1);
    expect(gw.counters(p.clientSn).cancel - before.cancel).toBe(0);
    expect(auditRows(hh) - before.audit).toBeLessThanOrEqual(1);
  });

  it('paced, not locked: after 2 s a tap asks again; the reversal waits for its own time (no cancel per tap), then goes on', async () => {
    const { hh, windows, clock } = await setup();
    const p = await paymentNeedingAttention(hh, windows[0]!);
    const gw = hh.sandbox.gateway;
    const tap = () => windows[1]!['pay.queryAgain']({ paymentId: p.id });
    const c0 = gw.counters(p.clientSn);
    await tap();
    expect(gw.counters(p.clientSn).query).toBe(c0.query + 1);
    clock.offset += PERSON_QUERY_EVERY_MS / 2;
    await tap();
    expect(gw.counters(p.clientSn).query).toBe(c0.query + 1);
    // Every 2 s, for a while: one query each, and still no cancel before the attention interval has passed.
    for (let i = 0; i < 5; i++) {
      clock.offset += PERSON_QUERY_EVERY_MS;
      await tap();
    }
    expect(gw.counters(p.clientSn).query).toBe(c0.query + 6);
    expect(gw.counters(p.clientSn).cancel).toBe(c0.cancel);
    expect(hh.rt.payments.get(p.id)!.nextAttemptAt).toBe(p.nextAttemptAt);
    // Its time has come (a person's query then drives the reversal on, as the worker would): one cancel.
    clock.offset += T.attentionEveryMs!;
    await tap();
    expect(gw.counters(p.clientSn).cancel).toBe(c0.cancel + 1);
  });
});

describe('every kind’s queryAgain is paced (the skeleton’s queryRow)', () => {
  /** A revoke or refund whose answer was lost and whose queries get a proxy's HTML page: needs_attention after the window. */
  async function inDoubt(kind: 'revoke' | 'refund') {
    const { hh, windows } = await setup('supervisor');
    const gw = hh.sandbox.gateway;
    const o = hh.paidOrder();
    gw.inject(kind, { kind: 'drop_after' });
    gw.inject('query', { kind: 'http500_html' }, 1_000_000);
    const r = kind === 'revoke' ? await windows[0]!['revoke.request']({ sn: o.sn }) : await windows[0]!['refund.request']({ sn: o.sn, amountCents: 100 });
    if (!r.ok) throw new Error(r.error.code);
    const id = (r.value as { id: number }).id;
    const get = () => (kind === 'revoke' ? hh.rt.revokes.get(id)! : hh.rt.refunds.get(id)!);
    await until(() => get().state === 'needs_attention', 10_000);
    await (kind === 'revoke' ? hh.rt.revokes.idle() : hh.rt.refunds.idle());
    return { hh, windows, id, sn: o.sn };
  }
  const queries = (hh: Harness, sn: string) => hh.sandbox.gateway.log().filter((e) => e.endpoint === 'query' && e.sn === sn).length;

  it.each(['revoke', 'refund'] as const)('attack: 50 %s.queryAgain taps (concurrent, three windows), then 50 in a row → at most one query and its audit rows', async (kind) => {
    const { hh, windows, id, sn } = await inDoubt(kind);
    const q0 = queries(hh, sn);
    const a0 = auditRows(hh);
    const rs = await Promise.all(
      Array.from({ length: TAPS }, (_, i) => (kind === 'revoke' ? windows[i % 3]!['revoke.queryAgain']({ revokeId: id }) : windows[i % 3]!['refund.queryAgain']({ refundId: id }))),
    );
    for (const r of rs) expect(r).toMatchObject({ ok: true, value: { id, state: 'needs_attention' } });
    // And 50 more one after another.
    for (let i = 0; i < TAPS; i++) await (kind === 'revoke' ? windows[0]!['revoke.queryAgain']({ revokeId: id }) : windows[0]!['refund.queryAgain']({ refundId: id }));
    expect(queries(hh, sn) - q0).toBeLessThanOrEqual(1);
    expect(auditRows(hh) - a0).toBeLessThanOrEqual(2);
  });
});
