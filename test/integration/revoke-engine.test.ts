/**
 * The revoke state machine against the sandbox over real HTTP: every answer
 * and fault of the table in ../shared/upay-v2.md ends in the right state with
 * the right number of gateway effects (the sandbox counts applied voids).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Revoke } from '../../main/domain';
import type { Fault } from '../../main/sandbox/gateway';
import { listJobs } from '../../main/printer';
import { createChaosProxy as createBlip } from '../support/chaos-net';
import { createHarness, until, type Harness } from '../support/harness';
import { databaseOf } from '../../main/runtime';
import { RevokesRepo } from '../../main/store/revokes';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const settledStates = ['revoked', 'rejected', 'expired', 'needs_attention'];
async function settle(harness: Harness, id: number, timeoutMs = 8000): Promise<Revoke> {
  return until(() => {
    const r = harness.rt.revokes.get(id)!;
    return settledStates.includes(r.state) ? r : undefined;
  }, timeoutMs);
}

function revokeCalls(harness: Harness, sn: string): number {
  return harness.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke' && (e.body as Record<string, string>)?.sn === sn).length;
}

interface Case {
  name: string;
  fault?: Fault;
  order?: { promotion?: boolean; sandboxStatus?: string };
  first: Revoke['state'];
  final: Revoke['state'];
  effects: number;
  /** revoke requests that reached the gateway */
  sends: number;
  gatewayCode?: string;
  /** Our code on the final row, when it matters. */
  code?: string;
  /** The local order's status afterwards, when not the default (CANCELED if revoked, else PAID). */
  localStatus?: string;
}

const cases: Case[] = [
  { name: 'CANCEL_SUCCESS → revoked', first: 'revoked', final: 'revoked', effects: 1, sends: 1 },
  {
    name: 'promotion: CANCEL_ERROR + UPAY_TCP_ORDER_NOT_REFUNDABLE → pending → query PAID → rejected, message verbatim',
    order: { promotion: true },
    first: 'pending',
    final: 'rejected',
    effects: 0,
    sends: 1,
    gatewayCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE',
  },
  {
    name: 'FAIL + UPAY_CANCEL_INVALID_ORDER_STATE (refunded at the gateway) → rejected',
    order: { sandboxStatus: 'PARTIAL_REFUNDED' },
    first: 'rejected',
    final: 'rejected',
    effects: 0,
    sends: 1,
    gatewayCode: 'UPAY_CANCEL_INVALID_ORDER_STATE',
  },
  {
    // Voided before our first send (another till, the merchant app): no money moved here, the order is brought up to date.
    name: 'FAIL + UPAY_CANCEL_ORDER_NOOP on the first send (voided elsewhere) → rejected VOIDED_ELSEWHERE, order CANCELED',
    order: { sandboxStatus: 'CANCELED' },
    first: 'rejected',
    final: 'rejected',
    effects: 0,
    sends: 1,
    gatewayCode: 'UPAY_CANCEL_ORDER_NOOP',
    code: 'VOIDED_ELSEWHERE',
    localStatus: 'CANCELED',
  },
  {
    name: 'CANCEL_IN_PROGRESS → pending → query CANCELED → revoked',
    fault: { kind: 'cancel_in_progress', queries: 2 },
    first: 'pending',
    final: 'revoked',
    effects: 1,
    sends: 1,
  },
  {
    name: 'CANCEL_ERROR without code (voided) → pending → query CANCELED → revoked',
    fault: { kind: 'cancel_error_no_code', outcome: 'canceled' },
    first: 'pending',
    final: 'revoked',
    effects: 1,
    sends: 1,
  },
  {
    name: 'CANCEL_ERROR without code (untouched) → pending → query PAID → re-sent → revoked',
    fault: { kind: 'cancel_error_no_code', outcome: 'untouched' },
    first: 'pending',
    final: 'revoked',
    effects: 1,
    sends: 2,
  },
  { name: 'connection dropped before the effect → pending → query PAID → re-sent', fault: { kind: 'drop_before' }, first: 'pending', final: 'revoked', effects: 1, sends: 2 },
  { name: 'connection dropped after the effect → pending → query CANCELED', fault: { kind: 'drop_after' }, first: 'pending', final: 'revoked', effects: 1, sends: 1 },
  { name: 'reset mid-body → pending → query CANCELED', fault: { kind: 'reset_mid_body' }, first: 'pending', final: 'revoked', effects: 1, sends: 1 },
  { name: 'HTTP 500 with HTML → pending → query PAID → re-sent', fault: { kind: 'http500_html' }, first: 'pending', final: 'revoked', effects: 1, sends: 2 },
  { name: 'malformed JSON (effect applied) → pending → query CANCELED', fault: { kind: 'malformed_json' }, first: 'pending', final: 'revoked', effects: 1, sends: 1 },
  {
    name: '500 UNKNOWN_SYSTEM_ERROR → pending → query PAID → re-sent',
    fault: { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' },
    first: 'pending',
    final: 'revoked',
    effects: 1,
    sends: 2,
  },
  {
    name: '500 MAINTENANCE_INPROGRESS → queued → sent again → revoked',
    fault: { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' },
    first: 'queued',
    final: 'revoked',
    effects: 1,
    sends: 2,
  },
  {
    name: '400 ILLEGAL_SIGN → queued (not applied) → sent again → revoked',
    fault: { kind: 'envelope', resultCode: '400', errorCode: 'ILLEGAL_SIGN' },
    first: 'queued',
    final: 'revoked',
    effects: 1,
    sends: 2,
  },
  {
    name: '400 TERMINAL_NOT_EXISTS → rejected, ask store IT',
    fault: { kind: 'envelope', resultCode: '400', errorCode: 'TERMINAL_NOT_EXISTS' },
    first: 'rejected',
    final: 'rejected',
    effects: 0,
    sends: 1,
    gatewayCode: 'TERMINAL_NOT_EXISTS',
  },
  { name: 'answer after the timeout (delay) → pending → query CANCELED', fault: { kind: 'delay', ms: 2500 }, first: 'pending', final: 'revoked', effects: 1, sends: 1 },
  { name: 'no answer at all (hang) → pending → query PAID → re-sent', fault: { kind: 'hang' }, first: 'pending', final: 'revoked', effects: 1, sends: 2 },
];

describe('revoke answers and faults (sandbox over HTTP)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      h = await createHarness({ runtime: { timeoutMs: 400 } });
      const o = h.paidOrder({ promotion: c.order?.promotion ?? false, ...(c.order?.sandboxStatus ? { status: c.order.sandboxStatus } : {}) });
      if (c.fault) h.sandbox.gateway.inject('revoke', c.fault, 1);
      const first = await h.rt.revokes.request({ sn: o.sn }, '收银员', 'test');
      expect(first.state).toBe(c.first);
      const final = await settle(h, first.id);
      expect(final.state).toBe(c.final);
      expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(c.effects);
      expect(revokeCalls(h, o.sn)).toBe(c.sends);
      if (c.gatewayCode) expect(final.error?.gatewayCode).toBe(c.gatewayCode);
      if (c.code) expect(final.error?.code).toBe(c.code);
      // One row per order, and a receipt job exactly when revoked.
      const rows = new RevokesRepo(databaseOf(h.rt)).list({}).filter((r) => r.order_sn === o.sn);
      expect(rows).toHaveLength(1);
      expect(listJobs(databaseOf(h.rt), { revokeId: first.id })).toHaveLength(c.final === 'revoked' ? 1 : 0);
      // A refusal leaves the order as we knew it; a revoke marks it CANCELED with nothing left to pay back.
      const local = h.rt.orders.get(o.sn)!;
      expect(local.status).toBe(c.localStatus ?? (c.final === 'revoked' ? 'CANCELED' : 'PAID'));
      if (local.status === 'CANCELED') expect(local.netCents).toBe(0);
    });
  }

  it('keeps the Chinese refusal verbatim beside our explanation', async () => {
    h = await createHarness();
    const o = h.paidOrder({ promotion: true });
    const r = await h.rt.revokes.request({ sn: o.sn }, null, 'test');
    expect(r.error).toMatchObject({
      code: 'GATEWAY_REFUSED',
      gatewayCode: 'UPAY_TCP_ORDER_NOT_REFUNDABLE',
      gatewayMessage: `订单${o.sn}参与了活动并且无法撤销`,
    });
    expect(r.error!.messageZh).toContain('钱款未变动');
    expect(r.error!.messageEn).toContain('no money moved');
  });

  it('a pending revoke whose queries keep failing goes to needs_attention; "query again" resolves it', async () => {
    h = await createHarness({ runtime: { timeoutMs: 300 } });
    const o = h.paidOrder();
    h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'http500_html' }, 1000);
    const first = await h.rt.revokes.request({ sn: o.sn }, null, 'test');
    expect(first.state).toBe('pending');
    const stuck = await settle(h, first.id);
    expect(stuck.state).toBe('needs_attention');
    expect(stuck.error?.code).toBe('NEEDS_ATTENTION');
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    expect(revokeCalls(h, o.sn)).toBe(1); // never re-sent blindly
    h.sandbox.gateway.clearFaults();
    const resolved = await h.rt.revokes.queryAgain(first.id, 'cashier');
    expect(resolved.state).toBe('revoked');
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
  });
});

describe('eligibility before any network call', () => {
  const DAY = 86_400_000;
  const ineligible: Array<[string, Record<string, unknown>, string]> = [
    ['yesterday', { finishedAt: Date.now() - DAY }, 'NOT_TODAY'],
    ['refunded', { status: 'REFUNDED' }, 'REFUNDED'],
    ['partly refunded (net < total)', { netCents: 1 }, 'REFUNDED'],
    ['not paid', { status: 'PAY_CANCELED' }, 'ALREADY_VOIDED'],
    ['pay error (reversal unknown)', { status: 'PAY_ERROR' }, 'UNRESOLVED'],
  ];
  for (const [name, patch, code] of ineligible) {
    it(`${name} → rejected ${code}, no gateway call`, async () => {
      h = await createHarness();
      const sn = String(7_000_000_000_000_000 + Math.floor(Math.random() * 1e9));
      h.rt.orders.record({ sn, clientSn: `C${sn}`, totalCents: 500, finishedAt: Date.now(), status: 'PAID', ...patch });
      h.sandbox.gateway.clearLog();
      const r = await h.rt.revokes.request({ sn }, null, 'test');
      expect(r.state).toBe('rejected');
      expect(r.error?.code).toBe(code);
      expect(r.error?.messageZh.length).toBeGreaterThan(0);
      expect(r.error?.messageEn.length).toBeGreaterThan(0);
      expect(h.sandbox.gateway.log()).toHaveLength(0);
    });
  }

  it('a non-today order says to use a refund, in both languages', async () => {
    h = await createHarness();
    h.rt.orders.record({ sn: '7000000000000001', clientSn: 'OLD1', totalCents: 500, finishedAt: Date.now() - 2 * DAY });
    const r = await h.rt.revokes.request({ sn: '7000000000000001' }, null, 'test');
    expect(r.error?.messageZh).toContain('退款');
    expect(r.error?.messageEn).toContain('refund');
  });

  it('an order unknown locally is imported by query first', async () => {
    h = await createHarness();
    const o = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, totalCents: 4321 });
    const r = await h.rt.revokes.request({ clientSn: o.clientSn }, null, 'test');
    expect(r.state).toBe('revoked');
    expect(h.sandbox.gateway.log().map((e) => e.endpoint)).toEqual(['query', 'revoke']);
  });

  it('an order nobody knows is a typed ORDER_NOT_FOUND error, no revoke row', async () => {
    h = await createHarness();
    await expect(h.rt.revokes.request({ sn: '1234567890123456' }, null, 'test')).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expect(new RevokesRepo(databaseOf(h.rt)).list({})).toHaveLength(0);
  });
});

describe('one revoke per order', () => {
  it('a double tap returns the open revoke and sends once', async () => {
    h = await createHarness();
    const o = h.paidOrder();
    h.sandbox.gateway.inject('revoke', { kind: 'delay', ms: 150 }, 1);
    const [a, b] = await Promise.all([h.rt.revokes.request({ sn: o.sn }, null, 'test'), h.rt.revokes.request({ sn: o.sn }, null, 'test')]);
    expect(a.id).toBe(b.id);
    await settle(h, a.id);
    expect(revokeCalls(h, o.sn)).toBe(1);
    expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    // After success, asking again answers with the revoked one: nothing is sent.
    const again = await h.rt.revokes.request({ sn: o.sn }, null, 'test');
    expect(again).toMatchObject({ id: a.id, state: 'revoked' });
    expect(revokeCalls(h, o.sn)).toBe(1);
  });
});

describe('offline queue', () => {
  it('not sent → queued; sent in request order when the network is back, without a click', async () => {
    h = await createHarness();
    const blip = await createBlip(h.sandbox.gateway.port);
    try {
      const rt = h.runtime({ apiDomain: blip.url, timing: { backoffBaseMs: 60_000, backoffCapMs: 60_000 } });
      const orders = [h.paidOrder(), h.paidOrder(), h.paidOrder()];
      await blip.down();
      const queued = [];
      for (const o of orders) queued.push(await rt.revokes.request({ sn: o.sn }, null, 'test'));
      expect(queued.map((r) => r.state)).toEqual(['queued', 'queued', 'queued']);
      expect(queued[0]!.error?.code).toBe('QUEUED');
      expect(rt.revokes.queueStatus()).toMatchObject({ queued: 3, online: false });
      expect(rt.revokes.queueStatus().oldestAgeMs).toBeGreaterThanOrEqual(0);
      const events: string[] = [];
      rt.events.on('connectivity.changed', (c) => events.push(c.online ? 'online' : 'offline'));
      await blip.up();
      rt.revokes.setOnline(true);
      for (const r of queued) expect((await until(() => (rt.revokes.get(r.id)!.state === 'revoked' ? rt.revokes.get(r.id) : undefined))).state).toBe('revoked');
      const sent = h.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke').map((e) => (e.body as Record<string, string>).sn);
      expect(sent).toEqual(orders.map((o) => o.sn));
      for (const o of orders) expect(h.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
      expect(rt.revokes.queueStatus()).toMatchObject({ queued: 0, pending: 0, online: true });
      expect(events).toContain('online');
    } finally {
      await blip.close();
    }
  });

  it('backs off with jitter while the gateway stays unreachable', async () => {
    h = await createHarness();
    const blip = await createBlip(h.sandbox.gateway.port);
    try {
      const rt = h.runtime({ apiDomain: blip.url, timing: { backoffBaseMs: 40, backoffCapMs: 160 } });
      const o = h.paidOrder();
      await blip.down();
      const r = await rt.revokes.request({ sn: o.sn }, null, 'test');
      expect(r.state).toBe('queued');
      const row = await until(() => {
        const x = new RevokesRepo(databaseOf(rt)).get(r.id)!;
        return x.attempts >= 5 && x.state === 'queued' ? x : undefined;
      }, 5000);
      expect(row.next_attempt_at! - Date.now()).toBeLessThanOrEqual(160);
      await blip.up();
      expect((await settle(h, r.id)).state).toBe('revoked');
    } finally {
      await blip.close();
    }
  });
});
