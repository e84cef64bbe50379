/**
 * The optional payment approval (issue 24, item 3): off by default; above
 * store IT's `payApproval` threshold a cashier's payment needs a
 * supervisor's PIN, judged and recorded in the main process like a revoke's
 * or a refund's (operation `pay`, amount, approver, operator, window, with
 * the attempt's client_sn). Attacks: the renderer calls pay.request directly
 * without an approval above the threshold (refused, no gateway call, no
 * row), and one approval replayed for payment after payment (each use a
 * counted PIN check: the approver locks and the payment is refused).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HandlerSet } from '../../main/ipc/handlers';
import { MAX_FAILED_PINS } from '../../main/operators/service';
import { databaseOf } from '../../main/runtime';
import { approvalsFor } from '../../main/store/approvals';
import type { Harness } from '../support/harness';
import { ensureOperator, signIn, TEST_PINS, harnessWithHandlers } from '../support/operators';

let h: Harness;
let set: HandlerSet;
const payCalls = () => h.sandbox.gateway.log().filter((e) => e.endpoint === 'pay' || e.endpoint === 'precreate').length;
const payments = () => databaseOf(h.rt).prepare('SELECT count(*) AS n FROM payments').get() as { n: number };
let code = 134567890123456000;
const barcode = () => String(code++);

beforeEach(async () => ({ h, set } = await harnessWithHandlers()));
afterEach(() => h.close());

describe('payment approval above a store-IT threshold', () => {
  it('is off by default: a cashier takes ￥5000 with no supervisor', async () => {
    expect(h.rt.settings().payApproval).toBe('never');
    const cashier = await signIn(h.rt, set, 'cashier', '小王');
    const r = await cashier['pay.request']({ method: 'barcode', amountCents: 500_000, barcode: barcode() });
    expect(r).toMatchObject({ ok: true, value: { state: 'paid', operatorName: '小王' } });
    expect(await cashier['session.current']({})).toMatchObject({ ok: true, value: { payApproval: 'never' } });
  });

  it('attack: pay.request called directly above the threshold without approval → APPROVAL_REQUIRED (zh-CN and en), no call, no row; at or below it, no approval', async () => {
    h.rt.updateSettings({ payApproval: 'above', payApprovalAboveCents: 20_000 }, 'test');
    const cashier = await signIn(h.rt, set, 'cashier', '小王');
    h.sandbox.gateway.clearLog();
    const refused = await cashier['pay.request']({ method: 'barcode', amountCents: 20_001, barcode: barcode() });
    expect(refused).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED', messageZh: '此收款需要主管审批：请主管输入 PIN。' } });
    expect(refused.ok ? '' : refused.error.message).toContain('This payment needs a supervisor');
    const qr = await cashier['pay.request']({ method: 'qr', amountCents: 30_000, payway: '3' });
    expect(qr).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED' } });
    expect(payCalls()).toBe(0);
    expect(payments().n).toBe(0);
    // At the threshold: no supervisor.
    expect(await cashier['pay.request']({ method: 'barcode', amountCents: 20_000, barcode: barcode() })).toMatchObject({ ok: true, value: { state: 'paid' } });
    expect(payCalls()).toBe(1);
  });

  it('with a supervisor PIN it proceeds, and the approval is recorded (operation pay, amount, approver, operator, window, client_sn); a wrong PIN → PIN_INVALID, no call', async () => {
    h.rt.updateSettings({ payApproval: 'above', payApprovalAboveCents: 20_000 }, 'test');
    const cashier = await signIn(h.rt, set, 'cashier', '小王');
    const supervisorId = await ensureOperator(h.rt, 'supervisor', '李主管');
    h.sandbox.gateway.clearLog();
    expect(await cashier['pay.request']({ method: 'barcode', amountCents: 25_000, barcode: barcode(), approval: { operatorId: supervisorId, pin: '000000' } })).toMatchObject({
      ok: false,
      error: { code: 'PIN_INVALID' },
    });
    expect(payCalls()).toBe(0);
    const r = await cashier['pay.request']({ method: 'barcode', amountCents: 25_000, barcode: barcode(), approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } });
    expect(r).toMatchObject({ ok: true, value: { state: 'paid', amountCents: 25_000, operatorName: '小王' } });
    const clientSn = r.ok ? r.value.clientSn : '';
    expect(approvalsFor(databaseOf(h.rt), clientSn)).toEqual([
      expect.objectContaining({ operation: 'pay', orderSn: clientSn, amountCents: 25_000, approverId: supervisorId, approverName: '李主管', operatorName: '小王', windowId: cashier.caller.windowId }),
    ]);
    // The payment row names its approver (the fleet exports it).
    expect(h.rt.payments.byClientSn(clientSn)).toMatchObject({ approverId: supervisorId, approverName: '李主管' });
    expect(payCalls()).toBe(1);
  });

  it('attack: one approval replayed payment after payment is a counted PIN check each time: the approver locks and the next payment is refused with no call', async () => {
    h.rt.updateSettings({ payApproval: 'always' }, 'test');
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    const approval = { operatorId: supervisorId, pin: TEST_PINS.supervisor };
    h.sandbox.gateway.clearLog();
    for (let i = 0; i < MAX_FAILED_PINS - 1; i++) {
      expect(await cashier['pay.request']({ method: 'barcode', amountCents: 100 + i, barcode: barcode(), approval })).toMatchObject({ ok: true, value: { state: 'paid' } });
    }
    expect(h.rt.operators.get(supervisorId)?.failedAttempts).toBe(MAX_FAILED_PINS - 1);
    // The 5th use counts and locks; the 6th is refused before any PIN check or gateway call.
    await cashier['pay.request']({ method: 'barcode', amountCents: 200, barcode: barcode(), approval });
    const calls = payCalls();
    expect(await cashier['pay.request']({ method: 'barcode', amountCents: 201, barcode: barcode(), approval })).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED' } });
    expect(payCalls()).toBe(calls);
  });

  it('a supervisor taking a payment approves their own; the same amount open still asks for the confirmation before any PIN check', async () => {
    h.rt.updateSettings({ payApproval: 'always' }, 'test');
    const supervisor = await signIn(h.rt, set, 'supervisor');
    expect(await supervisor['pay.request']({ method: 'qr', amountCents: 4200, payway: '1' })).toMatchObject({ ok: true, value: { outcome: 'awaiting_customer' } });
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    const before = h.rt.operators.get(supervisorId)!.failedAttempts;
    expect(await cashier['pay.request']({ method: 'qr', amountCents: 4200, payway: '1', approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } })).toMatchObject({
      ok: false,
      error: { code: 'PAYMENT_SAME_AMOUNT_OPEN' },
    });
    expect(h.rt.operators.get(supervisorId)!.failedAttempts).toBe(before);
  });
});
