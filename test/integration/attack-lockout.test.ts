/**
 * Attack: a page with no session locks every operator, store IT included,
 * and can do it again whenever the lock lapses. Store IT can always unlock
 * from the trusted CLI (`upay-pos operators unlock`); every lock and unlock
 * is in the audit log, and the window the failures came from is named.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HandlerSet } from '../../main/ipc/handlers';
import { databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import type { Harness } from '../support/harness';
import { runMain } from '../support/cli-main';
import { ensureOperator, newWindow, TEST_PINS, harnessWithHandlers } from '../support/operators';

let h: Harness;
let set: HandlerSet;

beforeEach(async () => ({ h, set } = await harnessWithHandlers()));
afterEach(() => h.close());

const cli = (args: string[]) => runMain([...args, '--data-dir', h.dataDir, '--api-domain', h.sandbox.gateway.url, '--printer', 'none', '--json', '--operator', 'it-desk']);

describe('a locked-out shop', () => {
  it('a window with no session locks store IT; `upay-pos operators unlock` lifts it at once; lock and unlock are audited, with the window', async () => {
    const itId = await ensureOperator(h.rt, 'store_it');
    const page = newWindow();
    for (let i = 0; i < 5; i++) await set.handlers['session.signIn']({ operatorId: itId, pin: `1${i}00` }, page);
    expect(await set.handlers['session.signIn']({ operatorId: itId, pin: TEST_PINS.store_it }, newWindow())).toMatchObject({ ok: false, error: { code: 'OPERATOR_LOCKED' } });

    const r = await cli(['operators', 'unlock', '--id', String(itId)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"lockedUntil":null');
    expect(await set.handlers['session.signIn']({ operatorId: itId, pin: TEST_PINS.store_it }, newWindow())).toMatchObject({ ok: true, value: { signedIn: { role: 'store_it' } } });

    const audit = listAudit(databaseOf(h.rt), 100);
    const failed = audit.filter((e) => e.action === 'operator.pin_failed');
    expect(failed.length).toBeGreaterThanOrEqual(4);
    for (const e of failed) expect(e.details).toMatchObject({ operatorId: itId, purpose: 'sign-in', window: page.windowId });
    expect(audit.find((e) => e.action === 'operator.locked')).toMatchObject({ details: { operatorId: itId, window: page.windowId, lockedUntil: expect.any(Number) } });
    expect(audit.find((e) => e.action === 'operator.unlocked')).toMatchObject({ actor: 'cli:it-desk', subject: `operator:${itId}`, details: { wasLocked: true } });
  });

  it('unlock by name, and an unknown operator is a clear error', async () => {
    await ensureOperator(h.rt, 'cashier', '小王');
    expect((await cli(['operators', 'unlock', '--name', '小王'])).code).toBe(0);
    const unknown = await cli(['operators', 'unlock', '--id', '999']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stdout + unknown.stderr).toMatch(/OPERATOR_UNKNOWN/);
  });
});
