/**
 * Attack: PIN guesses fired at once. Each check is counted in SQLite before
 * scrypt runs, so a burst of 40 counts as 40: at most 5 are hashed, the
 * operator ends locked, and nothing succeeds once it is. The same holds
 * through a revoke's, a refund's and a payment's supervisor approval, and
 * for two processes (two runtimes on one data dir).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Result } from '../../main/ipc/contract';
import { createHandlerSet, type HandlerSet } from '../../main/ipc/handlers';
import { MAX_FAILED_PINS } from '../../main/operators/service';
import { scryptLaneStats } from '../../main/operators/scrypt-lane';
import { databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import { createHarness, type Harness } from '../support/harness';
import { ensureOperator, newWindow, signIn, TEST_PINS } from '../support/operators';

const OPTIONS = { mode: 'sandbox' as const, version: 'test', vendor: null, actor: 'test' };
const BURST = 40;

let h: Harness;
let set: HandlerSet;

beforeEach(async () => {
  h = await createHarness();
  set = createHandlerSet(h.rt, OPTIONS);
});
afterEach(async () => {
  await h.close();
});

/** 40 guesses: wrong ones with the right PIN in the middle. */
const guesses = (right: string) => Array.from({ length: BURST }, (_, i) => (i === 17 ? right : String(4000 + i)));
const codes = (rs: Array<Result<unknown>>) => rs.map((r) => (r.ok ? 'OK' : r.error.code));
const count = (cs: string[], c: string) => cs.filter((x) => x === c).length;

function expectLockedAfterBurst(operatorId: number, before: number, cs: string[]): void {
  expect(scryptLaneStats().hashed - before, cs.join(',')).toBeLessThanOrEqual(MAX_FAILED_PINS);
  expect(count(cs, 'PIN_INVALID') + count(cs, 'OK')).toBeLessThanOrEqual(MAX_FAILED_PINS);
  expect(count(cs, 'OPERATOR_LOCKED')).toBeGreaterThanOrEqual(BURST - MAX_FAILED_PINS);
  expect(h.rt.operators.get(operatorId)?.lockedUntil).toEqual(expect.any(Number));
}

describe('a burst of concurrent PIN guesses counts every guess', () => {
  it('40 sign-ins from a window with no session: at most 5 hashed, the operator ends locked, the right PIN then refused', async () => {
    const id = await ensureOperator(h.rt, 'store_it');
    const before = scryptLaneStats().hashed;
    const w = newWindow();
    const rs = await Promise.all(guesses(TEST_PINS.store_it).map((pin) => set.handlers['session.signIn']({ operatorId: id, pin }, w)));
    const cs = codes(rs);
    expectLockedAfterBurst(id, before, cs);
    const locked = rs.find((r) => !r.ok && r.error.code === 'OPERATOR_LOCKED');
    expect(locked).toMatchObject({ ok: false, error: { details: { lockedUntil: expect.any(Number) } } });
    // Once locked, the right PIN is refused too, from any window, and unhashed.
    const after = scryptLaneStats().hashed;
    expect(await set.handlers['session.signIn']({ operatorId: id, pin: TEST_PINS.store_it }, newWindow())).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED' } });
    expect(scryptLaneStats().hashed).toBe(after);
    // The window's failures and the lock are in the audit, with the window.
    const audit = listAudit(databaseOf(h.rt), 200);
    expect(audit.filter((e) => e.action === 'operator.locked')).toHaveLength(1);
    expect(audit.find((e) => e.action === 'operator.pin_failed')).toMatchObject({ details: { operatorId: id, purpose: 'sign-in', window: w.windowId } });
  });

  it('two processes (two runtimes on one data dir) share the count: 2 × 20 guesses hash at most 5', async () => {
    const id = await ensureOperator(h.rt, 'cashier');
    const rt2 = h.runtime();
    try {
      const set2 = createHandlerSet(rt2, OPTIONS);
      const before = scryptLaneStats().hashed;
      const pins = guesses(TEST_PINS.cashier);
      const rs = await Promise.all(pins.map((pin, i) => (i % 2 ? set2 : set).handlers['session.signIn']({ operatorId: id, pin }, newWindow())));
      expectLockedAfterBurst(id, before, codes(rs));
    } finally {
      await rt2.close();
    }
  });

  it('40 revokes, each with a guessed supervisor approval: at most 5 hashed, at most one revoked, the supervisor ends locked', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    const orders = Array.from({ length: BURST }, (_, i) => h.paidOrder({ totalCents: 80_000 + i }));
    const before = scryptLaneStats().hashed;
    const rs = await Promise.all(guesses(TEST_PINS.supervisor).map((pin, i) => cashier['revoke.request']({ sn: orders[i]!.sn, approval: { operatorId: supervisorId, pin } })));
    const cs = codes(rs);
    expectLockedAfterBurst(supervisorId, before, cs);
    expect(orders.filter((o) => h.rt.revokes.forOrder(o.sn)).length).toBeLessThanOrEqual(1);
  });

  it('40 refunds, each with a guessed supervisor approval: at most 5 hashed, the supervisor ends locked', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    const orders = Array.from({ length: BURST }, (_, i) => h.paidOrder({ totalCents: 3_000 + i }));
    const before = scryptLaneStats().hashed;
    const rs = await Promise.all(guesses(TEST_PINS.supervisor).map((pin, i) => cashier['refund.request']({ sn: orders[i]!.sn, approval: { operatorId: supervisorId, pin } })));
    expectLockedAfterBurst(supervisorId, before, codes(rs));
    expect(orders.filter((o) => h.rt.refunds.forOrder(o.sn).length > 0).length).toBeLessThanOrEqual(1);
  });

  it('40 payments above the approval threshold, each with a guessed supervisor PIN: at most 5 hashed, at most one sent to the gateway, the supervisor ends locked', async () => {
    h.rt.updateSettings({ payApproval: 'above', payApprovalAboveCents: 10_000 }, 'test');
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    h.sandbox.gateway.clearLog();
    const before = scryptLaneStats().hashed;
    // Distinct amounts and codes: the same-amount guard must not be what stops them.
    const rs = await Promise.all(
      guesses(TEST_PINS.supervisor).map((pin, i) =>
        cashier['pay.request']({ method: 'barcode', amountCents: 20_000 + i, barcode: String(134_567_890_123_456_000n + BigInt(i)), approval: { operatorId: supervisorId, pin } }),
      ),
    );
    const cs = codes(rs);
    expectLockedAfterBurst(supervisorId, before, cs);
    const sent = h.sandbox.gateway.log().filter((e) => e.endpoint === 'pay').length;
    expect(sent, cs.join(',')).toBeLessThanOrEqual(1);
    expect((databaseOf(h.rt).prepare('SELECT count(*) AS n FROM payments').get() as { n: number }).n).toBe(sent);
    expect(count(cs, 'OK')).toBe(sent);
  });
});
