/**
 * Attacks on supervisor approvals: one approval replayed for several money
 * operations and a sign-in, and a refund split into parts under the
 * approval threshold. Every approval is a counted PIN check of the
 * approver, good for one operation, recorded with it (operation, order,
 * amount, approver, window); it never signs a window in; and the refund
 * rule is judged on the order's cumulative refunds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HandlerSet } from '../../main/ipc/handlers';
import { MAX_FAILED_PINS } from '../../main/operators/service';
import { databaseOf } from '../../main/runtime';
import { approvalsFor } from '../../main/store/approvals';
import { listAudit } from '../../main/store/audit';
import type { Harness } from '../support/harness';
import { ensureOperator, signIn, TEST_PINS, harnessWithHandlers } from '../support/operators';

let h: Harness;
let set: HandlerSet;
const refundCalls = () => h.sandbox.gateway.log().filter((e) => e.endpoint === 'refund').length;

beforeEach(async () => ({ h, set } = await harnessWithHandlers()));
afterEach(() => h.close());

describe('a replayed approval', () => {
  it('each use is a counted PIN check of the approver: ￥800 and ￥900 revokes and a ￥700 refund use up 3 tries, the 5th use locks the approver, the 6th is refused', async () => {
    const cashier = await signIn(h.rt, set, 'cashier', '小王');
    const supervisorId = await ensureOperator(h.rt, 'supervisor', '李主管');
    const approval = { operatorId: supervisorId, pin: TEST_PINS.supervisor };
    const o1 = h.paidOrder({ totalCents: 80_000 });
    const o2 = h.paidOrder({ totalCents: 90_000 });
    const o3 = h.paidOrder({ totalCents: 70_000 });
    expect(await cashier['revoke.request']({ sn: o1.sn, approval })).toMatchObject({ ok: true, value: { state: 'revoked', approverId: supervisorId } });
    expect(await cashier['revoke.request']({ sn: o2.sn, approval })).toMatchObject({ ok: true, value: { state: 'revoked', approverId: supervisorId } });
    expect(await cashier['refund.request']({ sn: o3.sn, approval })).toMatchObject({ ok: true, value: { state: 'refunded', approverId: supervisorId } });
    expect(h.rt.operators.get(supervisorId)?.failedAttempts).toBe(3);

    // Each approval is recorded with its one operation, and the window it came from.
    expect(approvalsFor(databaseOf(h.rt), o1.sn)).toEqual([
      expect.objectContaining({ operation: 'revoke', orderSn: o1.sn, amountCents: 80_000, approverId: supervisorId, approverName: '李主管', operatorName: '小王', windowId: cashier.caller.windowId }),
    ]);
    expect(approvalsFor(databaseOf(h.rt), o3.sn)).toEqual([expect.objectContaining({ operation: 'refund', amountCents: 70_000, approverId: supervisorId })]);
    expect(listAudit(databaseOf(h.rt), 100).filter((e) => e.action === 'approval.granted')).toHaveLength(3);

    // The approval signed no window in: the cashier's window is the cashier's, and no other session exists.
    expect(await cashier['session.current']({})).toMatchObject({ ok: true, value: { signedIn: { name: '小王', role: 'cashier' } } });
    expect(set.sessions.size).toBe(1);

    const more = [h.paidOrder({ totalCents: 60_000 }), h.paidOrder({ totalCents: 61_000 }), h.paidOrder({ totalCents: 62_000 })];
    expect(await cashier['revoke.request']({ sn: more[0]!.sn, approval })).toMatchObject({ ok: true });
    expect(await cashier['revoke.request']({ sn: more[1]!.sn, approval })).toMatchObject({ ok: true });
    expect(h.rt.operators.get(supervisorId)?.lockedUntil).toEqual(expect.any(Number));
    expect(await cashier['revoke.request']({ sn: more[2]!.sn, approval })).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED', details: { lockedUntil: expect.any(Number) } } });
    expect(h.rt.revokes.forOrder(more[2]!.sn)).toBeUndefined();
    expect(listAudit(databaseOf(h.rt), 100).find((e) => e.action === 'operator.locked')).toMatchObject({ details: { operatorId: supervisorId, purpose: 'approval' } });
    expect(MAX_FAILED_PINS).toBe(5);
  });

  it('a right approval does not wipe wrong guesses: 3 wrong, the replayed right one, then one more wrong locks', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    for (let i = 0; i < 3; i++) {
      expect(await cashier['revoke.request']({ sn: h.paidOrder({ totalCents: 70_000 }).sn, approval: { operatorId: supervisorId, pin: `000${i}` } })).toMatchObject({ ok: false, error: { code: 'PIN_INVALID' } });
    }
    expect(await cashier['revoke.request']({ sn: h.paidOrder({ totalCents: 70_000 }).sn, approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } })).toMatchObject({ ok: true });
    const last = await cashier['revoke.request']({ sn: h.paidOrder({ totalCents: 70_000 }).sn, approval: { operatorId: supervisorId, pin: '0009' } });
    expect(last).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED' } });
  });
});

describe('a refund split into parts', () => {
  it('refundApproval=above ￥500: a ￥1,500 order refunded as three ￥500 parts needs an approval from the second part on', async () => {
    h.rt.updateSettings({ refundApproval: 'above', refundApprovalAboveCents: 50_000 }, 'test');
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    const order = h.paidOrder({ totalCents: 150_000 });
    h.sandbox.gateway.clearLog();
    expect(await cashier['refund.request']({ sn: order.sn, amountCents: 50_000 })).toMatchObject({ ok: true, value: { state: 'refunded' } });
    const second = await cashier['refund.request']({ sn: order.sn, amountCents: 50_000 });
    expect(second).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED' } });
    expect(refundCalls()).toBe(1);
    const approved = await cashier['refund.request']({ sn: order.sn, amountCents: 50_000, approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } });
    expect(approved).toMatchObject({ ok: true, value: { state: 'refunded', approverId: supervisorId } });
    expect(await cashier['refund.request']({ sn: order.sn, amountCents: 50_000 })).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED' } });
    expect(approvalsFor(databaseOf(h.rt), order.sn)).toEqual([expect.objectContaining({ operation: 'refund', amountCents: 50_000, cumulativeCents: 100_000 })]);
  });
});
