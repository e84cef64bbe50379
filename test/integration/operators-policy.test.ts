/**
 * The operators' rules, through the IPC handlers against the real runtime
 * and the sandbox gateway over HTTP: who may revoke, when a supervisor must
 * approve, PIN lockout (durable across a restart), store-IT-only channels,
 * idle sessions, the first-run bootstrap, and who the revoke row, the audit
 * log and the receipt name.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_IT_CHANNELS } from '../../main/ipc/access';
import { CHANNEL_NAMES, type Channel } from '../../main/ipc/contract';
import { createHandlerSet, type HandlerSet } from '../../main/ipc/handlers';
import { LOCKOUT_MS } from '../../main/operators/service';
import { databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import type { Harness } from '../support/harness';
import { bind, ensureOperator, newWindow, signIn, TEST_PINS, ShiftClock, harnessWithHandlers, TEST_HANDLER_OPTIONS } from '../support/operators';



let h: Harness;
let clock: ShiftClock;
let set: HandlerSet;

const revokeCalls = () => h.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke').length;

beforeEach(async () => {
  clock = new ShiftClock();
  ({ h, set } = await harnessWithHandlers(clock));
});
afterEach(() => h.close());

describe('a revoke needs a signed-in operator', () => {
  it('no session → OPERATOR_REQUIRED, no gateway call, no revoke row', async () => {
    const order = h.paidOrder();
    h.sandbox.gateway.clearLog();
    for (const caller of [undefined, newWindow()]) {
      const r = await set.handlers['revoke.request']({ sn: order.sn }, caller);
      expect(r).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED', messageZh: expect.stringContaining('登录') } });
    }
    expect(h.sandbox.gateway.log()).toHaveLength(0);
    expect(h.rt.revokes.forOrder(order.sn)).toBeUndefined();
  });

  it('a session belongs to the window that signed in: another window is refused', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const order = h.paidOrder({ totalCents: 1200 });
    const other = await set.handlers['revoke.request']({ sn: order.sn }, newWindow());
    expect(other).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    expect(revokeCalls()).toBe(0);
    expect(await cashier['revoke.request']({ sn: order.sn })).toMatchObject({ ok: true, value: { state: 'revoked', operator: 'test-cashier' } });
  });

  it('a cashier revokes ￥500.00 and below alone; the row, the audit log and the receipt name who voided it apart from the payment\'s operator', async () => {
    const cashier = await signIn(h.rt, set, 'cashier', '小王');
    const order = h.paidOrder({ totalCents: 50_000, operator: '收款甲' });
    const r = await cashier['revoke.request']({ sn: order.sn });
    expect(r).toMatchObject({ ok: true, value: { state: 'revoked', operator: '小王', operatorId: expect.any(Number), approverId: null, approverName: null } });
    const audit = listAudit(databaseOf(h.rt), 50).find((e) => e.action === 'revoke.requested');
    expect(audit).toMatchObject({ actor: 'test:小王', details: { operator: '小王', operatorId: expect.any(Number) } });
    const preview = await cashier['receipt.preview']({ revokeId: r.ok ? r.value.id : 0 });
    const lines = preview.ok && preview.value ? preview.value.lines.join('\n') : '';
    expect(lines).toMatch(/收银员\s+收款甲/);
    expect(lines).toMatch(/撤销人\s+小王/);
    expect(lines).not.toContain('审批人');
  });

  it('a cashier above the threshold without approval → APPROVAL_REQUIRED, no gateway call', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const order = h.paidOrder({ totalCents: 50_001 });
    h.sandbox.gateway.clearLog();
    const r = await cashier['revoke.request']({ sn: order.sn });
    expect(r).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED', details: { thresholdCents: 50_000 } } });
    expect(r.ok ? '' : r.error.messageZh).toContain('主管');
    expect(revokeCalls()).toBe(0);
    expect(h.rt.revokes.forOrder(order.sn)).toBeUndefined();
  });

  it('a cashier above the threshold with a supervisor\'s PIN → revoked; row, audit and receipt carry the approver', async () => {
    const cashier = await signIn(h.rt, set, 'cashier', '小王');
    const supervisorId = await ensureOperator(h.rt, 'supervisor', '李主管');
    const order = h.paidOrder({ totalCents: 88_800, operator: '收款甲' });
    const r = await cashier['revoke.request']({ sn: order.sn, approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } });
    expect(r).toMatchObject({ ok: true, value: { state: 'revoked', operator: '小王', approverId: supervisorId, approverName: '李主管' } });
    const audit = listAudit(databaseOf(h.rt), 50).find((e) => e.action === 'revoke.requested');
    expect(audit?.details).toMatchObject({ operator: '小王', approverId: supervisorId, approver: '李主管' });
    const preview = await cashier['receipt.preview']({ revokeId: r.ok ? r.value.id : 0 });
    const lines = preview.ok && preview.value ? preview.value.lines.join('\n') : '';
    expect(lines).toMatch(/收银员\s+收款甲/);
    expect(lines).toMatch(/撤销人\s+小王/);
    expect(lines).toMatch(/审批人\s+李主管/);
  });

  it('a signed-in supervisor approves their own revoke above the threshold', async () => {
    const supervisor = await signIn(h.rt, set, 'supervisor');
    const order = h.paidOrder({ totalCents: 100_000 });
    expect(await supervisor['revoke.request']({ sn: order.sn })).toMatchObject({ ok: true, value: { state: 'revoked', approverId: null } });
  });

  it('a wrong supervisor PIN → PIN_INVALID, counted, no gateway call; a cashier cannot approve', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    const otherCashier = await ensureOperator(h.rt, 'cashier', 'cashier-2');
    const order = h.paidOrder({ totalCents: 60_000 });
    h.sandbox.gateway.clearLog();
    const r = await cashier['revoke.request']({ sn: order.sn, approval: { operatorId: supervisorId, pin: '0000' } });
    expect(r).toMatchObject({ ok: false, error: { code: 'PIN_INVALID', details: { remaining: 4 } } });
    expect(h.rt.operators.get(supervisorId)?.failedAttempts).toBe(1);
    const byCashier = await cashier['revoke.request']({ sn: order.sn, approval: { operatorId: otherCashier, pin: TEST_PINS.cashier } });
    expect(byCashier).toMatchObject({ ok: false, error: { code: 'APPROVER_NOT_ALLOWED' } });
    expect(revokeCalls()).toBe(0);
    expect(h.rt.revokes.forOrder(order.sn)).toBeUndefined();
  });

  it('the policy is a setting: always, or never', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    h.rt.updateSettings({ revokeApproval: 'always' }, 'test');
    expect(await cashier['revoke.request']({ sn: h.paidOrder({ totalCents: 100 }).sn })).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED' } });
    h.rt.updateSettings({ revokeApproval: 'never' }, 'test');
    expect(await cashier['revoke.request']({ sn: h.paidOrder({ totalCents: 900_000 }).sn })).toMatchObject({ ok: true, value: { state: 'revoked' } });
  });
});

describe('PIN lockout', () => {
  it('5 wrong PINs → locked (a right PIN is refused too), still locked after a restart, open again after 5 minutes', async () => {
    const id = await ensureOperator(h.rt, 'cashier');
    const window = newWindow();
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await set.handlers['session.signIn']({ operatorId: id, pin: '0000' }, window);
      codes.push(r.ok ? 'ok' : r.error.code);
    }
    expect(codes).toEqual(['PIN_INVALID', 'PIN_INVALID', 'PIN_INVALID', 'PIN_INVALID', 'OPERATOR_LOCKED']);
    const right = await set.handlers['session.signIn']({ operatorId: id, pin: TEST_PINS.cashier }, window);
    expect(right).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED', message: expect.stringContaining('locked'), messageZh: expect.stringContaining('锁定') } });

    // A restart: a new runtime on the same data dir, new handlers (no session survives, the lockout does).
    await h.rt.close();
    const rt2 = h.runtime();
    const set2 = createHandlerSet(rt2, TEST_HANDLER_OPTIONS);
    expect(await set2.handlers['session.signIn']({ operatorId: id, pin: TEST_PINS.cashier }, window)).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED' } });
    const roster = await set2.handlers['operators.roster']({});
    expect(roster.ok && roster.value.find((o) => o.id === id)).toMatchObject({ locked: true });

    clock.offset += LOCKOUT_MS + 1000;
    expect(await set2.handlers['session.signIn']({ operatorId: id, pin: TEST_PINS.cashier }, window)).toMatchObject({ ok: true, value: { signedIn: { operatorId: id } } });
  });

  it('store IT resets the PIN of a locked operator, which lifts the lock', async () => {
    const it_ = await signIn(h.rt, set, 'store_it');
    const id = await ensureOperator(h.rt, 'cashier');
    for (let i = 0; i < 5; i++) await set.handlers['session.signIn']({ operatorId: id, pin: '0000' }, newWindow());
    expect(h.rt.operators.get(id)?.lockedUntil).not.toBeNull();
    expect(await it_['operators.resetPin']({ operatorId: id, pin: '4321' })).toMatchObject({ ok: true, value: { lockedUntil: null, failedAttempts: 0 } });
    expect(await set.handlers['session.signIn']({ operatorId: id, pin: '4321' }, newWindow())).toMatchObject({ ok: true });
  });
});

describe('store IT only', () => {
  const INPUTS: Partial<Record<Channel, unknown>> = {
    'terminal.activate': { code: '12345678' },
    'operators.add': { name: 'x', role: 'cashier', pin: '1234' },
    'operators.setActive': { operatorId: 1, active: false },
    'operators.resetPin': { operatorId: 1, pin: '1234' },
    'settings.set': { paperWidth: 58 },
  };

  it('the list is what the issue names', () => {
    expect([...STORE_IT_CHANNELS].sort()).toEqual(
      ['operators.add', 'operators.list', 'operators.resetPin', 'operators.setActive', 'printer.test', 'queue.drain', 'settings.set', 'terminal.activate', 'terminal.checkin'].sort(),
    );
  });

  for (const role of ['cashier', 'supervisor'] as const) {
    it(`refused for a ${role} (ROLE_REQUIRED), nothing changes`, async () => {
      const who = await signIn(h.rt, set, role);
      const before = { settings: h.rt.settings(), operators: h.rt.operators.list(), audit: listAudit(databaseOf(h.rt), 1000).length };
      h.sandbox.gateway.clearLog();
      for (const c of STORE_IT_CHANNELS) {
        const r = await who[c](INPUTS[c] ?? {});
        expect(r, c).toMatchObject({ ok: false, error: { code: 'ROLE_REQUIRED' } });
      }
      expect(h.sandbox.gateway.log()).toHaveLength(0);
      expect(h.rt.settings()).toEqual(before.settings);
      expect(h.rt.operators.list()).toEqual(before.operators);
      expect(listAudit(databaseOf(h.rt), 1000).length).toBe(before.audit);
    });
  }

  it('everyone signed in may list, search, preview and reprint', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const order = h.paidOrder();
    const r = await cashier['revoke.request']({ sn: order.sn });
    const revokeId = r.ok ? r.value.id : 0;
    for (const [c, input] of [
      ['orders.list', {}],
      ['orders.search', { text: order.sn }],
      ['revoke.listOpen', {}],
      ['revoke.forOrder', { sn: order.sn }],
      ['queue.status', {}],
      ['receipt.preview', { revokeId }],
      ['receipt.reprint', { revokeId }],
      ['printer.status', {}],
      ['print.jobs', {}],
      ['settings.get', {}],
    ] as const) {
      expect(await cashier[c](input), c).toMatchObject({ ok: true });
    }
  });

  it('store IT may call every store-IT channel', async () => {
    const it_ = await signIn(h.rt, set, 'store_it');
    expect(await it_['settings.set']({ paperWidth: 58, revokeApprovalAboveCents: 10_000 })).toMatchObject({ ok: true, value: { paperWidth: 58, revokeApprovalAboveCents: 10_000 } });
    expect(await it_['queue.drain']({})).toMatchObject({ ok: true });
    expect(await it_['operators.list']({})).toMatchObject({ ok: true });
    expect(await it_['terminal.checkin']({})).toMatchObject({ ok: true });
  });

  it('every channel that is not for anyone refuses a caller without a session', async () => {
    for (const c of CHANNEL_NAMES) {
      const r = await set.handlers[c]({}, newWindow());
      if (r.ok || r.error.code === 'INVALID_INPUT') continue;
      expect(['OPERATOR_REQUIRED', 'NO_WINDOW', 'OPERATORS_EXIST', 'VENDOR_NOT_CONFIGURED'], c).toContain(r.error.code);
    }
  });
});

describe('sessions', () => {
  it('an expired session is refused (OPERATOR_REQUIRED, reason expired), with no gateway call', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    expect(await cashier['orders.list']({})).toMatchObject({ ok: true });
    const order = h.paidOrder();
    h.sandbox.gateway.clearLog();
    clock.offset += h.rt.settings().sessionIdleMinutes * 60_000 + 1;
    const r = await cashier['revoke.request']({ sn: order.sn });
    expect(r).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED', details: { reason: 'expired' }, messageZh: expect.stringContaining('超时') } });
    expect(h.sandbox.gateway.log()).toHaveLength(0);
    expect(await cashier['session.current']({})).toMatchObject({ ok: true, value: { signedIn: null } });
  });

  it('activity keeps a session alive; sign-out ends it; a user switch is one sign-in', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const idle = h.rt.settings().sessionIdleMinutes * 60_000;
    clock.offset += idle - 1000;
    expect(await cashier['orders.search']({ text: '7' })).toMatchObject({ ok: true });
    clock.offset += idle - 1000;
    expect(await cashier['orders.search']({ text: '7' })).toMatchObject({ ok: true });
    expect(await cashier['session.signOut']({})).toMatchObject({ ok: true, value: { signedIn: null } });
    expect(await cashier['orders.list']({})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    const supervisorId = await ensureOperator(h.rt, 'supervisor');
    expect(await cashier['session.signIn']({ operatorId: supervisorId, pin: TEST_PINS.supervisor })).toMatchObject({ ok: true, value: { signedIn: { role: 'supervisor' } } });
    const audit = listAudit(databaseOf(h.rt), 50).map((e) => e.action);
    expect(audit).toContain('session.signed_in');
    expect(audit).toContain('session.signed_out');
  });

  it('a screen\'s own polling (status, the day\'s list) does not keep an unattended session alive', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    const idle = h.rt.settings().sessionIdleMinutes * 60_000;
    clock.offset += idle - 1000;
    for (const c of ['queue.status', 'orders.list', 'printer.status', 'terminal.status'] as const) expect(await cashier[c]({}), c).toMatchObject({ ok: true });
    clock.offset += 2000;
    expect(await cashier['queue.status']({})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED', details: { reason: 'expired' } } });
  });

  it('a disabled operator is signed out at once and cannot sign in', async () => {
    const it_ = await signIn(h.rt, set, 'store_it');
    const cashier = await signIn(h.rt, set, 'cashier');
    const id = (await ensureOperator(h.rt, 'cashier'));
    expect(await it_['operators.setActive']({ operatorId: id, active: false })).toMatchObject({ ok: true, value: { active: false } });
    expect(await cashier['orders.list']({})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    expect(await cashier['session.signIn']({ operatorId: id, pin: TEST_PINS.cashier })).toMatchObject({ ok: false, error: { code: 'OPERATOR_UNKNOWN' } });
  });

  it('the language is the signed-in operator\'s own', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    expect(await cashier['session.setLanguage']({ language: 'en' })).toMatchObject({ ok: true, value: { signedIn: { language: 'en' } } });
    expect(h.rt.settings().language).toBe('zh-CN');
    await cashier['session.signOut']({});
    const again = await signIn(h.rt, set, 'cashier');
    expect(await again['session.current']({})).toMatchObject({ ok: true, value: { signedIn: { language: 'en' } } });
  });

  it('nothing secret crosses: no PIN, no hash in any operator answer', async () => {
    const it_ = await signIn(h.rt, set, 'store_it');
    await ensureOperator(h.rt, 'cashier');
    const answers = JSON.stringify([await it_['operators.list']({}), await it_['operators.roster']({}), await it_['session.current']({})]);
    expect(answers).not.toMatch(/scrypt|pin_hash|pinHash|9999|1111/);
  });
});

describe('first run', () => {
  it('a fresh terminal is open to no one: bootstrap creates the first store IT operator (signed in), then never again', async () => {
    const w = newWindow();
    expect(await set.handlers['session.current']({}, w)).toMatchObject({ ok: true, value: { bootstrap: true, signedIn: null } });
    expect(await set.handlers['settings.set']({ paperWidth: 58 }, w)).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    const r = await set.handlers['operators.bootstrap']({ name: '门店IT', pin: '482913' }, w);
    expect(r).toMatchObject({ ok: true, value: { bootstrap: false, signedIn: { name: '门店IT', role: 'store_it' } } });
    const it_ = bind(set, w);
    expect(await it_['settings.set']({ paperWidth: 58 })).toMatchObject({ ok: true });
    expect(await set.handlers['operators.bootstrap']({ name: 'intruder', pin: '1234' }, newWindow())).toMatchObject({ ok: false, error: { code: 'OPERATORS_EXIST' } });
    expect(h.rt.operators.list().map((o) => o.name)).toEqual(['门店IT']);
    expect(listAudit(databaseOf(h.rt), 50).map((e) => e.action)).toContain('operator.bootstrap');
  });

  it('two windows bootstrapping at once: exactly one store IT operator', async () => {
    const rs = await Promise.all([
      set.handlers['operators.bootstrap']({ name: 'a', pin: '1234' }, newWindow()),
      set.handlers['operators.bootstrap']({ name: 'b', pin: '1234' }, newWindow()),
    ]);
    expect(rs.filter((r) => r.ok)).toHaveLength(1);
    expect(h.rt.operators.count()).toBe(1);
  });
});

describe('embedding: a host app\'s own login', () => {
  it('the resolver decides who is signed in; none → no revoke; our sign-in is refused', async () => {
    let current: { id: null; name: string; role: 'cashier' | 'supervisor' | 'store_it' } | null = null;
    const host = createHandlerSet(h.rt, { ...TEST_HANDLER_OPTIONS, resolveOperator: () => current });
    const w = newWindow();
    const order = h.paidOrder({ totalCents: 2000 });
    h.sandbox.gateway.clearLog();
    expect(await host.handlers['revoke.request']({ sn: order.sn }, w)).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    expect(revokeCalls()).toBe(0);
    expect(await host.handlers['session.signIn']({ operatorId: 1, pin: '1234' }, w)).toMatchObject({ ok: false, error: { code: 'SIGN_IN_BY_HOST' } });
    current = { id: null, name: 'host-cashier', role: 'cashier' };
    expect(await host.handlers['revoke.request']({ sn: order.sn }, w)).toMatchObject({ ok: true, value: { state: 'revoked', operator: 'host-cashier', operatorId: null } });
    expect(await host.handlers['session.current']({}, w)).toMatchObject({ ok: true, value: { hostSignIn: true, signedIn: { name: 'host-cashier' } } });
  });
});
