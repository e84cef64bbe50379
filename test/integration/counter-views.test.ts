/**
 * What the counter's screens read from main (issue 23), with the real
 * runtime, SQLite file and sandbox gateway:
 * - the approval and refund policy is store IT's alone: a cashier or a
 *   supervisor trying to change it is refused in main and nothing changes;
 *   store IT's change is audited and the sessions see the new rule;
 * - an order's view carries every operation of every kind, an
 *   `orders.changed` event carries only that order's row, and the open
 *   operations of every kind are listed for the 待处理 pill.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName, EventPayload } from '../../main/ipc/contract';
import { createHandlerSet, forwardEvents, type HandlerSet } from '../../main/ipc/handlers';
import { databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import { orderStatus } from '../../main/common/order-status';
import { businessDay } from '../../main/common/time';
import { createHarness, type Harness } from '../support/harness';
import { signIn } from '../support/operators';

let h: Harness;
let set: HandlerSet;

beforeEach(async () => {
  h = await createHarness();
  set = createHandlerSet(h.rt, { mode: 'sandbox', version: 't', vendor: null, actor: 'test' });
});

afterEach(async () => {
  await h.close();
});

describe('the approval policy belongs to store IT', () => {
  it('a cashier and a supervisor are refused (ROLE_REQUIRED) and the rule stays; store IT changes it, audited, and sessions see it', async () => {
    const before = h.rt.settings();
    for (const role of ['cashier', 'supervisor'] as const) {
      const who = await signIn(h.rt, set, role);
      const r = await who['settings.set']({ refundApproval: 'never', revokeApproval: 'never', refundApprovalAboveCents: 0 });
      expect(r, role).toMatchObject({ ok: false, error: { code: 'ROLE_REQUIRED' } });
    }
    expect(h.rt.settings()).toMatchObject({ refundApproval: before.refundApproval, revokeApproval: before.revokeApproval });
    expect(listAudit(databaseOf(h.rt)).filter((a) => a.action === 'settings.changed')).toHaveLength(0);

    const it_ = await signIn(h.rt, set, 'store_it', 'IT 小张');
    expect(await it_['settings.set']({ refundApproval: 'above', refundApprovalAboveCents: 20_000, storeName: '沙箱一号店' })).toMatchObject({
      ok: true,
      value: { refundApproval: 'above', refundApprovalAboveCents: 20_000, storeName: '沙箱一号店' },
    });
    const audit = listAudit(databaseOf(h.rt)).find((a) => a.action === 'settings.changed');
    expect(audit?.actor).toContain('IT 小张');
    expect(JSON.stringify(audit?.details)).toContain('refundApprovalAboveCents');
    const cashier = await signIn(h.rt, set, 'cashier');
    expect(await cashier['session.current']({})).toMatchObject({ ok: true, value: { refundApproval: 'above', refundApprovalAboveCents: 20_000 } });
  });
});

describe('orders with every operation, one changed row at a time', () => {
  it('a refund shows on the order view, in its own orders.changed row, and among the open operations until it is done', async () => {
    const order = h.paidOrder({ totalCents: 5000 });
    const other = h.paidOrder({ totalCents: 700 });
    const cashier = await signIn(h.rt, set, 'store_it');
    const day = await cashier['orders.list']({});
    expect(day.ok && day.value.orders.map((o) => o.sn)).toEqual(expect.arrayContaining([order.sn, other.sn]));

    const events: Array<{ event: EventName; payload: unknown }> = [];
    const stop = forwardEvents(h.rt.events, <E extends EventName>(event: E, payload: EventPayload<E>) => events.push({ event, payload }), set.orderRow);
    try {
      const r = await cashier['refund.request']({ sn: order.sn, amountCents: 1234 });
      expect(r).toMatchObject({ ok: true, value: { state: 'refunded' } });
    } finally {
      stop();
    }
    const changed = events.filter((e) => e.event === 'orders.changed').map((e) => e.payload as EventPayload<'orders.changed'>);
    expect(changed.length).toBeGreaterThan(0);
    // Only the changed order's row travels, never the day.
    for (const c of changed) expect(c.orders.map((o) => o.sn)).toEqual([order.sn]);
    const last = changed.at(-1)!.orders[0]!;
    expect(last.operations).toEqual([expect.objectContaining({ kind: 'refund', state: 'refunded', amountCents: 1234 })]);
    const status = orderStatus(last, last.operations, businessDay(Date.now()));
    expect({ key: status.key, refunded: status.refundedCents, refundable: status.refundableCents, revoke: status.actions.revoke }).toEqual({
      key: 'partial_refunded',
      refunded: 1234,
      refundable: 3766,
      revoke: false,
    });
    // The day's list has it too, without a full re-read.
    const again = await cashier['orders.list']({});
    expect(again.ok && again.value.orders.find((o) => o.sn === order.sn)?.operations).toHaveLength(1);
    expect(await cashier['operations.open']({})).toEqual({ ok: true, value: [] });

    // An open one (the gateway unreachable: queued) is listed, of its kind.
    await h.sandbox.close();
    const queued = await cashier['refund.request']({ sn: other.sn });
    expect(queued.ok && ['queued', 'pending', 'needs_attention'].includes(queued.value.state)).toBe(true);
    const open = await cashier['operations.open']({});
    expect(open).toMatchObject({ ok: true, value: [{ kind: 'refund', orderSn: other.sn, amountCents: 700 }] });
  });
});
