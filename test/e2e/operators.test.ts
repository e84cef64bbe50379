/**
 * Operators in Chromium against the real runtime and the sandbox gateway:
 * the first-run account, operator management in store setup, sign-in on
 * the touch PIN pad, a revoke below the approval threshold and one above it
 * (the supervisor's PIN inside the confirmation), a lockout in both
 * languages, and sign-out. Screenshots in test-output/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, type Handlers } from '../../main/ipc/handlers';
import type { Runtime } from '../../main/runtime';
import type { Sandbox } from '../../main/sandbox';
import { createHarness, type Harness } from '../support/harness';
import { ensureUiBuilt, openApp, SCREENSHOTS, type AppPage } from './harness';

const WINDOW = { windowId: 7 };
const VIEWPORTS = [
  { width: 1024, height: 768 },
  { width: 800, height: 600 },
] as const;
const PINS = { it: '482913', cashier: '1357', supervisor: '2468', other: '9753' };

describe('operators UI (Chromium, real runtime, sandbox gateway)', () => {
  let h: Harness;
  let sandbox: Sandbox;
  let rt: Runtime;
  let handlers: Handlers;
  let app: AppPage;
  let page: Page;

  beforeAll(async () => {
    await ensureUiBuilt();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    // An activated terminal on the sandbox over loopback, with no operator yet.
    h = await createHarness();
    ({ sandbox, rt } = h);
    handlers = createHandlers(rt, { mode: 'sandbox', version: '0.1.0-e2e', vendor: sandbox.gateway.vendor, actor: 'e2e' });
    app = await openApp(rt.events, handlers, WINDOW, VIEWPORTS[0]);
    ({ page } = app);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  async function shoot(name: string): Promise<void> {
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp);
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      const widths = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
      expect(widths[0], `${name} at ${vp.width}x${vp.height}: no sideways scrolling`).toBeLessThanOrEqual(widths[1]);
      await page.screenshot({ path: path.join(SCREENSHOTS, `op-${name}-${vp.width}x${vp.height}.png`), animations: 'disabled' });
    }
    await page.setViewportSize(VIEWPORTS[0]);
  }

  /** Types a PIN on the touch pad `pad` (taps, not keys). */
  async function tapPin(pin: string, pad = 'sign-in'): Promise<void> {
    for (const d of pin) await page.click(`[data-pinpad="${pad}"] [data-pin-key="${d}"]`);
  }

  async function signIn(name: string, pin: string): Promise<void> {
    await page.click(`.roster [data-operator="${name}"]`);
    await tapPin(pin);
    await page.click('[data-pinpad="sign-in"] [data-pin-key="ok"]');
    await page.waitForSelector(`[data-signed-in="${name}"]`);
  }

  async function signOut(): Promise<void> {
    await page.click('[data-action="sign-out"]');
    await page.waitForSelector('[data-view="sign-in"]');
  }

  async function seedAndOpen(totalCents: number): Promise<string> {
    const order = sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents, subject: '拿铁咖啡', operator: '收款甲', payway: '3', paywayName: '微信' });
    await rt.orders.import({ sn: order.sn }, 'e2e');
    await page.click('[data-tab="cashier"]');
    // Below 1400 px the open order stands in the list's place.
    if (await page.isVisible('[data-action="back"]')) await page.click('[data-action="back"]');
    await page.click('[data-action="refresh"]');
    await page.click(`.order[data-sn="${order.sn}"]`);
    await page.waitForSelector(`[data-order="${order.sn}"]`);
    return order.sn;
  }

  const revokes = () => sandbox.gateway.log().filter((e) => e.endpoint === 'revoke').length;

  it('first run: no operator yet, so the screen asks store IT to create the account (PIN twice on the pad), then store setup opens', async () => {
    await page.waitForSelector('[data-view="bootstrap"]');
    expect(await page.textContent('[data-view="bootstrap"]')).toContain('首次设置');
    await shoot('01-bootstrap');
    await page.fill('input[name="operator-name"]', '门店IT');
    await tapPin(PINS.it, 'bootstrap');
    await page.click('[data-pinpad="bootstrap"] [data-pin-key="ok"]');
    await page.waitForSelector('[data-pinpad="bootstrap"][data-pinpad] .pinpad__label:has-text("再输入一次")');
    // The keyboard works too: digits and Enter.
    await page.keyboard.type(PINS.it);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-signed-in="门店IT"][data-role="store_it"]');
    expect(rt.operators.list()).toMatchObject([{ name: '门店IT', role: 'store_it', active: true }]);
  });

  it('operator management in store setup: store IT adds a cashier, a supervisor and another cashier', async () => {
    await page.click('[data-tab="setup"]');
    await page.click('[data-setup-tab="operators"]');
    await page.waitForSelector('[data-card="operators"]');
    for (const [name, role, pin] of [
      ['小王', 'cashier', PINS.cashier],
      ['李主管', 'supervisor', PINS.supervisor],
      ['小李', 'cashier', PINS.other],
    ] as const) {
      await page.fill('[data-form="add-operator"] input[name="name"]', name);
      await page.selectOption('[data-form="add-operator"] select[name="role"]', role);
      await page.fill('[data-form="add-operator"] input[name="pin"]', pin);
      await page.click('[data-action="add-operator"]');
      await page.waitForSelector(`[data-operator-row="${name}"]`);
    }
    expect(rt.operators.list().map((o) => `${o.name}:${o.role}`).sort()).toEqual(['小李:cashier', '小王:cashier', '李主管:supervisor', '门店IT:store_it'].sort());
    await page.evaluate('document.querySelector("[data-card=operators]").scrollIntoView()');
    await shoot('02-operator-management');
  });

  it('sign out, then a cashier signs in on the touch PIN pad; the status bar names them; store setup is refused to a cashier', async () => {
    await signOut();
    await shoot('03-sign-in-roster');
    await page.click('.roster [data-operator="小王"]');
    await tapPin(PINS.cashier);
    expect(await page.getAttribute('.pinpad__dots', 'data-pin-length')).toBe('4');
    await shoot('04-sign-in-pin-pad');
    await page.click('[data-pinpad="sign-in"] [data-pin-key="ok"]');
    await page.waitForSelector('[data-signed-in="小王"][data-role="cashier"]');
    expect(await page.textContent('[data-signed-in="小王"]')).toContain('收银员');
    await page.click('[data-tab="setup"]');
    await page.waitForSelector('[data-notice="store-it-only"]');
    expect(await handlers['settings.set']({ paperWidth: 58 }, WINDOW)).toMatchObject({ ok: false, error: { code: 'ROLE_REQUIRED' } });
  });

  it('a revoke below the threshold: no approval step; the receipt names the cashier who voided it apart from the payment\'s operator', async () => {
    const sn = await seedAndOpen(1250);
    await page.click('[data-action="revoke"]');
    await page.waitForSelector('dialog.dialog[open]');
    expect(await page.locator('[data-step="approval"]').count()).toBe(0);
    await shoot('05-confirm-below-threshold');
    await page.keyboard.press('Enter');
    await page.waitForSelector(`[data-order="${sn}"] [data-outcome="revoked"]`);
    expect(rt.revokes.forOrder(sn)).toMatchObject({ state: 'revoked', operator: '小王', approverName: null });
    const preview = await handlers['receipt.preview']({ revokeId: rt.revokes.forOrder(sn)!.id }, WINDOW);
    const lines = preview.ok && preview.value ? preview.value.lines.join('\n') : '';
    expect(lines).toMatch(/收银员\s+收款甲/);
    expect(lines).toMatch(/撤销人\s+小王/);
    await shoot('06-revoked-below-threshold');
  });

  it('a revoke above the threshold: the supervisor approves inside the confirmation (a wrong PIN first: refused, no gateway call)', async () => {
    const sn = await seedAndOpen(88_800);
    const before = revokes();
    await page.click('[data-action="revoke"]');
    await page.waitForSelector('dialog.dialog[open] [data-step="approval"]');
    expect(await page.textContent('[data-step="approval"]')).toContain('￥500.00');
    await page.click('[data-approver="李主管"]');
    await tapPin('0000', 'approval');
    await page.click('dialog [data-action="confirm"]');
    // A wrong PIN: refused in main, no gateway call; the sheet stays open with the approver kept and the tries left.
    await page.waitForSelector('dialog[open] [data-tries-left]');
    expect(revokes()).toBe(before);
    expect(rt.revokes.forOrder(sn)).toBeUndefined();
    expect(await page.getAttribute('[data-approver="李主管"]', 'aria-checked')).toBe('true');
    expect(await page.isDisabled('dialog [data-action="confirm"]')).toBe(true);
    await page.keyboard.type(PINS.supervisor);
    await shoot('07-confirm-with-approval');
    await page.click('dialog [data-action="confirm"]');
    await page.waitForSelector(`[data-order="${sn}"] [data-outcome="revoked"]`);
    expect(rt.revokes.forOrder(sn)).toMatchObject({ state: 'revoked', operator: '小王', approverName: '李主管' });
    const preview = await handlers['receipt.preview']({ revokeId: rt.revokes.forOrder(sn)!.id }, WINDOW);
    expect(preview.ok && preview.value ? preview.value.lines.join('\n') : '').toMatch(/审批人\s+李主管/);
    await shoot('08-revoked-with-approval');
  });

  it('5 wrong PINs lock an operator: the message in Chinese, then in English; the roster marks them locked', async () => {
    await signOut();
    await page.click('.roster [data-operator="小李"]');
    for (let i = 0; i < 5; i++) {
      await tapPin('1111');
      await page.click('[data-pinpad="sign-in"] [data-pin-key="ok"]');
      await page.waitForSelector(`[data-error-code="${i < 4 ? 'PIN_INVALID' : 'OPERATOR_LOCKED'}"]`);
    }
    expect(await page.textContent('[data-error-code="OPERATOR_LOCKED"]')).toContain('锁定');
    await shoot('09-locked-zh');
    await page.click('[data-action="language"]');
    await page.waitForSelector('html[lang="en"]');
    expect(await page.textContent('[data-error-code="OPERATOR_LOCKED"]')).toContain('locked');
    await shoot('10-locked-en');
    await page.click('[data-action="back"]');
    await page.waitForSelector('.roster [data-operator="小李"] .roster__locked');
    await page.click('[data-action="language"]');
    await page.waitForSelector('html[lang="zh-CN"]');
  });

  it('sign out: the window is back at the sign-in screen and its calls are refused (OPERATOR_REQUIRED)', async () => {
    await signIn('小王', PINS.cashier);
    await signOut();
    await shoot('11-signed-out');
    expect(await handlers['orders.list']({}, WINDOW)).toMatchObject({ ok: false, error: { code: 'OPERATOR_REQUIRED' } });
    expect(app.errors).toEqual([]);
  });
});
