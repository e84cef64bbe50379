/**
 * The refund state machine against the sandbox over real HTTP: the revoke
 * fault matrix repeated for refunds. Every answer and fault ends in the right
 * state with the right number of refunds applied at the sandbox (its effect
 * ledger), and never two: every re-send carries the same refund_request_no.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { databaseOf } from '../../main/runtime';
import type { Fault } from '../../main/sandbox/gateway';
import { RefundsRepo, type Refund } from '../../main/store/refunds';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const WHO: Accountable = { operatorId: null, operatorName: '收银员', approverId: null, approverName: null };
const settledStates = ['refunded', 'rejected', 'needs_attention'];

async function settle(harness: Harness, id: number, timeoutMs = 8000): Promise<Refund> {
  return until(() => {
    const r = harness.rt.refunds.get(id)!;
    return settledStates.includes(r.state) ? r : undefined;
  }, timeoutMs);
}

function refundCalls(harness: Harness, sn: string): Array<Record<string, string>> {
  return harness.sandbox.gateway
    .log()
    .filter((e) => e.endpoint === 'refund' && (e.body as Record<string, string>)?.sn === sn)
    .map((e) => e.body as Record<string, string>);
}

interface Case {
  name: string;
  fault?: Fault;
  first: Refund['state'];
  final: Refund['state'];
  /** refunds applied at the sandbox */
  effects: number;
  /** refund requests that reached the gateway */
  sends: number;
  gatewayCode?: string;
}

const cases: Case[] = [
  { name: 'REFUND_SUCCESS → refunded', first: 'refunded', final: 'refunded', effects: 1, sends: 1 },
  {
    name: 'REFUND_FAIL + ACCOUNT_BALANCE_NOT_ENOUGH → rejected, code verbatim',
    fault: { kind: 'refund_fail' },
    first: 'rejected',
    final: 'rejected',
    effects: 0,
    sends: 1,
    gatewayCode: 'ACCOUNT_BALANCE_NOT_ENOUGH',
  },
  { name: 'REFUND_IN_PROGRESS → pending → query (K=2) → refunded', fault: { kind: 'refund_in_progress', queries: 2 }, first: 'pending', final: 'refunded', effects: 1, sends: 1 },
  {
    name: 'REFUND_ERROR without a code (applied) → pending → query → refunded',
    fault: { kind: 'refund_error', queries: 1, outcome: 'refunded' },
    first: 'pending',
    final: 'refunded',
    effects: 1,
    sends: 1,
  },
  {
    name: 'REFUND_ERROR without a code (untouched) → pending → the query by its refund_request_no shows it FAIL → rejected, nothing moved, never re-sent',
    fault: { kind: 'refund_error', queries: 1, outcome: 'untouched' },
    first: 'pending',
    final: 'rejected',
    effects: 0,
    sends: 1,
  },
  { name: 'connection dropped before the effect → pending → re-sent → refunded', fault: { kind: 'drop_before' }, first: 'pending', final: 'refunded', effects: 1, sends: 2 },
  { name: 'connection dropped after the effect → pending → query shows it applied', fault: { kind: 'drop_after' }, first: 'pending', final: 'refunded', effects: 1, sends: 1 },
  { name: 'reset mid-body → pending → applied', fault: { kind: 'reset_mid_body' }, first: 'pending', final: 'refunded', effects: 1, sends: 1 },
  { name: 'HTTP 500 with HTML → pending → re-sent', fault: { kind: 'http500_html' }, first: 'pending', final: 'refunded', effects: 1, sends: 2 },
  { name: 'malformed JSON (effect applied) → pending → applied', fault: { kind: 'malformed_json' }, first: 'pending', final: 'refunded', effects: 1, sends: 1 },
  {
    name: '500 UNKNOWN_SYSTEM_ERROR → pending → re-sent',
    fault: { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' },
    first: 'pending',
    final: 'refunded',
    effects: 1,
    sends: 2,
  },
  {
    name: '500 MAINTENANCE_INPROGRESS → queued → sent again → refunded',
    fault: { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' },
    first: 'queued',
    final: 'refunded',
    effects: 1,
    sends: 2,
  },
  {
    name: '400 ILLEGAL_SIGN → queued → sent again → refunded',
    fault: { kind: 'envelope', resultCode: '400', errorCode: 'ILLEGAL_SIGN' },
    first: 'queued',
    final: 'refunded',
    effects: 1,
    sends: 2,
  },
  {
    name: '400 TERMINAL_NOT_EXISTS → rejected',
    fault: { kind: 'envelope', resultCode: '400', errorCode: 'TERMINAL_NOT_EXISTS' },
    first: 'rejected',
    final: 'rejected',
    effects: 0,
    sends: 1,
    gatewayCode: 'TERMINAL_NOT_EXISTS',
  },
  { name: 'answer after the timeout (delay) → pending → applied', fault: { kind: 'delay', ms: 2500 }, first: 'pending', final: 'refunded', effects: 1, sends: 1 },
  { name: 'no answer at all (hang) → pending → re-sent', fault: { kind: 'hang' }, first: 'pending', final: 'refunded', effects: 1, sends: 2 },
];

describe('refund answers and faults (sandbox over HTTP)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      h = await createHarness({ runtime: { timeoutMs: 400 } });
      const o = h.paidOrder({ totalCents: 1000 });
      if (c.fault) h.sandbox.gateway.inject('refund', c.fault, 1);
      const first = await h.rt.refunds.request({ sn: o.sn }, 400, WHO, 'test');
      expect(first.state).toBe(c.first);
      const final = await settle(h, first.id);
      expect(final.state).toBe(c.final);
      expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(c.effects);
      const calls = refundCalls(h, o.sn);
      expect(calls).toHaveLength(c.sends);
      // Every send of this refund carries the number committed before the first one.
      expect(new Set(calls.map((b) => b.refund_request_no))).toEqual(new Set([first.requestNo]));
      if (c.gatewayCode) expect(final.error?.gatewayCode).toBe(c.gatewayCode);
      expect(h.sandbox.gateway.getOrder(o.sn)!.refunds).toHaveLength(c.effects);
      const local = h.rt.orders.get(o.sn)!;
      expect(local.netCents).toBe(c.final === 'refunded' ? 600 : 1000);
      expect(local.status).toBe(c.final === 'refunded' ? 'PARTIAL_REFUNDED' : 'PAID');
      expect(h.rt.refundPrinting.receiptFor(first.id) !== null).toBe(c.final === 'refunded');
    });
  }

  it('a pending refund whose queries keep failing goes to needs_attention; "query again" resolves it without a second refund', async () => {
    h = await createHarness({ runtime: { timeoutMs: 300 } });
    const o = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('refund', { kind: 'drop_after' }, 1);
    h.sandbox.gateway.inject('query', { kind: 'http500_html' }, 1000);
    const first = await h.rt.refunds.request({ sn: o.sn }, 'full', WHO, 'test');
    expect(first.state).toBe('pending');
    const stuck = await settle(h, first.id);
    expect(stuck.state).toBe('needs_attention');
    expect(refundCalls(h, o.sn)).toHaveLength(1);
    h.sandbox.gateway.clearFaults();
    const resolved = await h.rt.refunds.queryAgain(first.id, 'cashier');
    expect(resolved.state).toBe('refunded');
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(1);
    expect(h.rt.orders.get(o.sn)).toMatchObject({ status: 'REFUNDED', netCents: 0 });
  });
});

describe('local checks before any call', () => {
  it('partial refunds summing past the net amount are refused locally with no call', async () => {
    h = await createHarness();
    const o = h.paidOrder({ totalCents: 1000 });
    const a = await h.rt.refunds.request({ sn: o.sn }, 300, WHO, 'test');
    const b = await h.rt.refunds.request({ sn: o.sn }, 300, WHO, 'test');
    expect([a.state, b.state]).toEqual(['refunded', 'refunded']);
    expect(h.rt.orders.get(o.sn)).toMatchObject({ status: 'PARTIAL_REFUNDED', netCents: 400 });
    h.sandbox.gateway.clearLog();
    await expect(h.rt.refunds.request({ sn: o.sn }, 401, WHO, 'test')).rejects.toMatchObject({ code: 'REFUND_AMOUNT_TOO_HIGH' });
    expect(h.sandbox.gateway.log()).toHaveLength(0);
    expect(new RefundsRepo(databaseOf(h.rt)).forOrder(o.sn)).toHaveLength(2);
    // The rest, exactly, is fine; then nothing is left.
    const c = await h.rt.refunds.request({ sn: o.sn }, 'full', WHO, 'test');
    expect(c).toMatchObject({ state: 'refunded', amountCents: 400 });
    expect(h.rt.orders.get(o.sn)).toMatchObject({ status: 'REFUNDED', netCents: 0 });
    h.sandbox.gateway.clearLog();
    await expect(h.rt.refunds.request({ sn: o.sn }, 1, WHO, 'test')).rejects.toMatchObject({ code: 'REFUND_NOT_REFUNDABLE_STATE' });
    expect(h.sandbox.gateway.log()).toHaveLength(0);
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(3);
  });

  for (const [name, amount, code] of [
    ['zero', 0, 'REFUND_AMOUNT_INVALID'],
    ['negative', -5, 'REFUND_AMOUNT_INVALID'],
    ['fractional cents', 1.5, 'REFUND_AMOUNT_INVALID'],
  ] as const) {
    it(`${name} amount → ${code}, no call`, async () => {
      h = await createHarness();
      const o = h.paidOrder({ totalCents: 1000 });
      h.sandbox.gateway.clearLog();
      await expect(h.rt.refunds.request({ sn: o.sn }, amount, WHO, 'test')).rejects.toMatchObject({ code });
      expect(h.sandbox.gateway.log()).toHaveLength(0);
    });
  }

  it('one open refund per order: the same amount returns it, another amount is refused', async () => {
    h = await createHarness({ runtime: { timeoutMs: 300 } });
    const o = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('refund', { kind: 'refund_in_progress', queries: 3 }, 1);
    const a = await h.rt.refunds.request({ sn: o.sn }, 500, WHO, 'test');
    expect(a.state).toBe('pending');
    const again = await h.rt.refunds.request({ sn: o.sn }, 500, WHO, 'test');
    expect(again.id).toBe(a.id);
    await expect(h.rt.refunds.request({ sn: o.sn }, 200, WHO, 'test')).rejects.toMatchObject({ code: 'REFUND_REFUND_OPEN' });
    expect((await settle(h, a.id)).state).toBe('refunded');
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(1);
  });

  it('an earlier day\'s order refunds (a revoke would be NOT_TODAY); who did it and who approved it are on the row', async () => {
    h = await createHarness();
    const o = h.paidOrder({ totalCents: 2000, finishedAt: Date.now() - 3 * 86_400_000 });
    const revoke = await h.rt.revokes.request({ sn: o.sn }, null, 'test');
    expect(revoke.error?.code).toBe('NOT_TODAY');
    const r = await h.rt.refunds.request({ sn: o.sn }, 'full', { operatorId: 7, operatorName: '张三', approverId: 2, approverName: '李店长' }, 'test');
    expect(r).toMatchObject({ state: 'refunded', amountCents: 2000, operatorId: 7, operatorName: '张三', approverId: 2, approverName: '李店长' });
    expect(refundCalls(h, o.sn)[0]!.operator).toBe('张三');
  });
});

describe('two runtimes on one data dir', () => {
  it('refunding the same order at once → one refund', async () => {
    h = await createHarness();
    const other = h.runtime();
    const o = h.paidOrder({ totalCents: 1000 });
    h.sandbox.gateway.inject('refund', { kind: 'delay', ms: 100 }, 1);
    const [a, b] = await Promise.allSettled([h.rt.refunds.request({ sn: o.sn }, 'full', WHO, 'a'), other.refunds.request({ sn: o.sn }, 'full', WHO, 'b')]);
    const ids = [a, b].filter((x) => x.status === 'fulfilled').map((x) => (x as PromiseFulfilledResult<Refund>).value.id);
    expect(new Set(ids).size).toBe(1);
    await settle(h, ids[0]!);
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(1);
    expect(refundCalls(h, o.sn)).toHaveLength(1);
  });
});

describe('the sandbox refund window', () => {
  it('an order paid more than 90 days ago is refused by the gateway (rejected, code verbatim), nothing applied', async () => {
    h = await createHarness();
    const o = h.paidOrder({ totalCents: 1000, finishedAt: Date.now() - 91 * 86_400_000 });
    const r = await h.rt.refunds.request({ sn: o.sn }, 'full', WHO, 'test');
    expect(r).toMatchObject({ state: 'rejected', error: { code: 'GATEWAY_REFUSED', gatewayCode: 'UPAY_REFUND_INVALID_ORDER_STATE' } });
    expect(h.sandbox.gateway.effects('refund', o.sn)).toBe(0);
  });
});
