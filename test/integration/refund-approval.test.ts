/**
 * Refunds through the IPC handlers under the operators policy: a refund needs
 * a signed-in operator and, by default, a supervisor's approval; the row, the
 * audit log and the 退款凭证 name who refunded and who approved. Refused
 * requests make no gateway call and leave no refund row.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HandlerSet } from '../../main/ipc/handlers';
import { databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import type { Harness } from '../support/harness';
import { ensureOperator, newWindow, signIn, TEST_PINS, harnessWithHandlers } from '../support/operators';

let h: Harness;
let set: HandlerSet;
const refundCalls = () => h.sandbox.gateway.log().filter((e) => e.endpoint === 'refund').length;

beforeEach(async () => ({ h, set } = await harnessWithHandlers()));
afterEach(() => h.close());

describe('a refund needs an operator and, by default, a supervisor', () => {
  it('no session → OPERATOR_REQUIRED; a cashier without approval → APPROVAL_REQUIRED; no call, no row', async () => {
    const order = h.paidOrder({ totalCents: 100 });
    h.sandbox.gateway.clearLog();
    expect(await set.handlers['refund.request']({ sn: order.sn }, newWindow())).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    const cashier = await signIn(h.rt, set, 'cashier');
    const r = await cashier['refund.request']({ sn: order.sn, amountCents: 50 });
    expect(r).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED' } });
    expect(r.ok ? '' : r.error.messageZh).toContain('主管');
    expect(refundCalls()).toBe(0);
    expect(h.rt.refunds.forOrder(order.sn)).toEqual([]);
  });

  it('a wrong supervisor PIN → PIN_INVALID, no call; the right one → refunded, with the approver on the row, the audit log and the receipt', async () => {
    const cashier = await signIn(h.rt, set, 'cashier', '小王');
    const supervisorId = await ensureOperator(h.rt, 'supervisor', '李主管');
    const order = h.paidOrder({ totalCents: 3000 });
    h.sandbox.gateway.clearLog();
    const wrong = await cashier['refund.request']({ sn: order.sn, approval: { operatorId: supervisorId, pin: '000000' } });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'PIN_INVALID' } });
    expect(refundCalls()).toBe(0);
    const r = await cashier['refund.request']({ sn: order.sn, amountCents: 1200, approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } });
    expect(r).toMatchObject({ ok: true, value: { state: 'refunded', amountCents: 1200, operatorName: '小王', approverId: supervisorId, approverName: '李主管' } });
    expect(refundCalls()).toBe(1);
    const audit = listAudit(databaseOf(h.rt), 50).find((e) => e.action === 'refund.requested');
    expect(audit).toMatchObject({ details: { operator: '小王', approverId: supervisorId, approverName: '李主管' } });
    const receipt = await cashier['refund.receipt']({ refundId: r.ok ? r.value.id : 0 });
    const lines = receipt.ok && receipt.value ? receipt.value.lines.join('\n') : '';
    expect(lines).toMatch(/退款人\s+小王/);
    expect(lines).toMatch(/审批人\s+李主管/);
  });

  it('the rule is a setting: never, or above a threshold', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    h.rt.updateSettings({ refundApproval: 'never' }, 'test');
    expect(await cashier['refund.request']({ sn: h.paidOrder({ totalCents: 900_000 }).sn })).toMatchObject({ ok: true, value: { state: 'refunded' } });
    h.rt.updateSettings({ refundApproval: 'above', refundApprovalAboveCents: 10_000 }, 'test');
    expect(await cashier['refund.request']({ sn: h.paidOrder({ totalCents: 10_000 }).sn })).toMatchObject({ ok: true, value: { state: 'refunded' } });
    expect(await cashier['refund.request']({ sn: h.paidOrder({ totalCents: 10_001 }).sn })).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED' } });
  });
});
