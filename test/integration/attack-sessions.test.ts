/**
 * Attack: a session kept alive forever, and sessions that outlive what
 * store IT did to their operator. A session has an absolute lifetime
 * (default 12 h, a store-IT setting) however active its window is, and it
 * ends in every window at once, in this process and another one, when its
 * operator is disabled or their PIN is reset.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlerSet, type HandlerSet } from '../../main/ipc/handlers';
import type { Harness } from '../support/harness';
import { bind, ensureOperator, newWindow, signIn, TEST_PINS, ShiftClock, harnessWithHandlers, TEST_HANDLER_OPTIONS } from '../support/operators';



let h: Harness;
let clock: ShiftClock;
let set: HandlerSet;

beforeEach(async () => {
  clock = new ShiftClock();
  ({ h, set } = await harnessWithHandlers(clock));
});
afterEach(() => h.close());

const MINUTE = 60_000;

describe('a session has an absolute lifetime', () => {
  it('one call every 14 minutes keeps it alive for 12 hours, not for 24: then OPERATOR_REQUIRED (expired)', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    expect(h.rt.settings().sessionMaxHours).toBe(12);
    let elapsed = 0;
    while (elapsed + 14 * MINUTE < 12 * 60 * MINUTE) {
      clock.offset += 14 * MINUTE;
      elapsed += 14 * MINUTE;
      expect(await cashier['orders.search']({ text: '7' }), `after ${elapsed / MINUTE} min`).toMatchObject({ ok: true });
    }
    clock.offset += 12 * 60 * MINUTE - elapsed;
    expect(await cashier['orders.search']({ text: '7' })).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED', details: { reason: 'expired' } } });
    expect(await cashier['session.current']({})).toMatchObject({ ok: true, value: { signedIn: null } });
  });

  it('store IT sets the lifetime (sessionMaxHours); session.current shows when it ends', async () => {
    const it_ = await signIn(h.rt, set, 'store_it');
    expect(await it_['settings.set']({ sessionMaxHours: 2 })).toMatchObject({ ok: true, value: { sessionMaxHours: 2 } });
    expect(await it_['settings.set']({ sessionMaxHours: 25 })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const cashier = await signIn(h.rt, set, 'cashier');
    const current = await cashier['session.current']({});
    const signedIn = current.ok ? current.value.signedIn : null;
    expect(signedIn!.expiresAt).toBeLessThanOrEqual(signedIn!.signedInAt + 2 * 60 * MINUTE);
    for (let i = 0; i < 9; i++) {
      clock.offset += 13 * MINUTE;
      expect(await cashier['orders.search']({ text: '7' })).toMatchObject({ ok: true });
    }
    clock.offset += 13 * MINUTE;
    expect(await cashier['orders.search']({ text: '7' })).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED', details: { reason: 'expired' } } });
  });
});

describe('a session ends everywhere when its operator changes', () => {
  /** The same cashier signed in at two windows of this process and one of another (a second runtime on the data dir). */
  async function threeWindows() {
    const id = await ensureOperator(h.rt, 'cashier');
    const a = await signIn(h.rt, set, 'cashier');
    const b = await signIn(h.rt, set, 'cashier');
    const rt2 = h.runtime();
    const set2 = createHandlerSet(rt2, TEST_HANDLER_OPTIONS);
    const w = newWindow();
    expect(await set2.handlers['session.signIn']({ operatorId: id, pin: TEST_PINS.cashier }, w)).toMatchObject({ ok: true });
    const c = bind(set2, w);
    for (const x of [a, b, c]) expect(await x['orders.list']({})).toMatchObject({ ok: true });
    return { id, windows: [a, b, c], rt2 };
  }

  it('disabled by store IT at the counter: every window of that operator is signed out at once, the other process too', async () => {
    const it_ = await signIn(h.rt, set, 'store_it');
    const { id, windows, rt2 } = await threeWindows();
    try {
      expect(await it_['operators.setActive']({ operatorId: id, active: false })).toMatchObject({ ok: true });
      for (const x of windows) expect(await x['orders.list']({})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
      expect(await it_['orders.list']({})).toMatchObject({ ok: true });
    } finally {
      await rt2.close();
    }
  });

  it('disabled from the CLI (another process): the app\'s windows are signed out, and re-enabling does not bring them back', async () => {
    const { id, windows, rt2 } = await threeWindows();
    try {
      rt2.operators.setActive(id, false, 'cli:it');
      rt2.operators.setActive(id, true, 'cli:it');
      for (const x of windows) expect(await x['orders.list']({})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED', details: { reason: 'ended' } } });
    } finally {
      await rt2.close();
    }
  });

  it('PIN reset (by store IT at the counter, or from the CLI): every window of that operator is signed out', async () => {
    const it_ = await signIn(h.rt, set, 'store_it');
    const first = await threeWindows();
    try {
      expect(await it_['operators.resetPin']({ operatorId: first.id, pin: '24680' })).toMatchObject({ ok: true });
      for (const x of first.windows) expect(await x['orders.list']({})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    } finally {
      await first.rt2.close();
    }
    const w = newWindow();
    expect(await set.handlers['session.signIn']({ operatorId: first.id, pin: '24680' }, w)).toMatchObject({ ok: true });
    await h.rt.operators.resetPin(first.id, TEST_PINS.cashier, 'cli:it');
    expect(await bind(set, w)['orders.list']({})).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED', details: { reason: 'ended' } } });
  });
});
