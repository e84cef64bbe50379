/**
 * Leaving the 收款 screen loses no payment (issue 24, the counter): Chromium
 * against the real runtime, handlers and sandbox gateway (harness.ts), a
 * cashier signed in at 800×600. A barcode payment the gateway keeps
 * PAY_IN_PROGRESS (the customer typing a password) until the test lets the
 * customer pay (/sandbox/customer-pay):
 * - Escape, then F2: the same payment and its headline 正在确认（请勿重复收款）
 *   are on screen again, then 收款成功 once it is paid;
 * - 新收款 and a tab switch keep it (listed on the start screen; the same amount
 *   still asks for a confirmation before a second charge);
 * - page.reload(): the same again, and a payment that ended while the page was
 *   away shows its outcome (收款成功) after the reload;
 * - the 待处理 list's entry for a payment opens the 收款 screen on it;
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFitsWindow, payDesk, startPayApp } from '../support/pay-e2e';
import { SCREENSHOTS, type AppEnv } from './harness';

const CONFIRMING = '正在确认（请勿重复收款）';
const PAID = '收款成功';

describe('the 收款 screen gives back a payment left open (Chromium, real runtime, sandbox gateway)', () => {
  let env: AppEnv;
  const page = () => env.page;

  beforeAll(async () => {
    // A payment in doubt is queried every 0.3 s for a minute (no cancel within a test); the customer pays when the test says.
    env = await startPayApp('e2e-pay-return', { payWindowMs: 60_000, payQueryEveryMs: 300, qrLifetimeMs: 60_000, maxCancels: 2 });
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const { control, payCalls, customerCode, scan } = payDesk(() => env, 134567890123460000);

  /** The 收款 screen by F2, its start (新收款 when a payment is shown), then the amount on the keypad. */
  async function amount(keys: string): Promise<void> {
    if (!(await page().isVisible('.payment'))) await page().keyboard.press('F2');
    await page().waitForSelector('.payment [data-amountpad]');
    if (await page().isVisible('[data-action="pay-new"]')) await page().click('[data-action="pay-new"]');
    await page().click('.payment [data-amount-key="clear"]');
    for (const k of keys) await page().click(`.payment [data-amount-key="${k}"]`);
    await page().waitForSelector(`[data-money-line][data-amount-cents="${Number(keys)}"]`);
  }

  /** A barcode payment the gateway keeps in progress (PAY_IN_PROGRESS, then CREATED on every query) until the customer pays. */
  async function paymentInProgress(keys: string): Promise<{ id: string; clientSn: string }> {
    await control('fault', { endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 1_000_000 } });
    await amount(keys);
    await scan(customerCode());
    const state = await page().waitForSelector('.payment__state[data-outcome="pending"]', { timeout: 20_000 });
    expect(await page().textContent('.payment__headline')).toBe(CONFIRMING);
    const id = (await state.getAttribute('data-payment'))!;
    const clientSn = (await page().textContent('.payment__detail code'))!.trim();
    expect(env.rt.payments.get(Number(id))?.state).toBe('pending');
    return { id, clientSn };
  }

  /** The payment `id` on the 收款 screen with this outcome and headline. */
  async function shown(id: string, outcome: string, headline: string): Promise<void> {
    await page().waitForSelector(`.payment__state[data-payment="${id}"][data-outcome="${outcome}"]`, { timeout: 20_000 });
    expect(await page().textContent('.payment__headline')).toBe(headline);
  }

  async function away(): Promise<void> {
    await page().keyboard.press('Escape');
    await page().waitForSelector('[data-view="cashier"]');
    expect(await page().locator('.payment').count()).toBe(0);
  }

  /** Nothing outside the window, clipped or too small to tap; the start screen fits 800×600 without scrolling; a screenshot. */
  async function check(name: string): Promise<void> {
    await expectFitsWindow(page(), name, `${name}: everything fits at 800x600`);
    await page().screenshot({ path: path.join(SCREENSHOTS, `pay-return-${name}-800x600.png`), animations: 'disabled' });
  }

  it('in progress → Escape → F2: the same payment and 正在确认 again; 新收款 and a tab switch keep it (the same amount still asks first); then 收款成功', async () => {
    await page().click('[data-tab="pay"]');
    const { id, clientSn } = await paymentInProgress('678');

    await away();
    await page().keyboard.press('F2');
    await shown(id, 'pending', CONFIRMING);

    // 新收款: the open payment stays on the start screen with its headline, one tap away.
    await page().click('[data-action="pay-new"]');
    const item = `[data-payment-item="${id}"][data-outcome="pending"]`;
    await page().waitForSelector(item);
    expect(await page().textContent(item)).toContain(CONFIRMING);
    await check('listed');
    // The same amount again: the confirmation first, and no second charge without it.
    for (const k of '678') await page().click(`.payment [data-amount-key="${k}"]`);
    const before = payCalls();
    await scan(customerCode());
    await page().waitForSelector('dialog[open] [data-same-amount]');
    expect(await page().textContent('dialog[open] [data-same-amount]')).toContain('请勿重复收款');
    await page().click('dialog[open] [data-action="cancel"]');
    expect(payCalls()).toBe(before);

    // A tab switch and back: the open payment is shown again by itself.
    await page().click('[data-tab="cashier"]');
    await page().waitForSelector('[data-view="cashier"]');
    await page().click('[data-tab="pay"]');
    await shown(id, 'pending', CONFIRMING);

    await control('customer-pay', { client_sn: clientSn });
    await shown(id, 'paid', PAID);
    expect(env.sandbox.gateway.counters(clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID', moneyTaken: true });
    await check('paid');
  });

  it('ended while the screen was away: Escape, the customer pays, F2 → 收款成功 for that payment', async () => {
    const { id, clientSn } = await paymentInProgress('555');
    await away();
    await control('customer-pay', { client_sn: clientSn });
    await expect.poll(() => env.rt.payments.get(Number(id))?.state, { timeout: 10_000 }).toBe('paid');
    await page().keyboard.press('F2');
    await shown(id, 'paid', PAID);
  });

  it('page.reload(): the open payment and its headline come back, then 收款成功; one that ended during the reload shows 收款成功', async () => {
    const first = await paymentInProgress('679');
    await page().reload();
    await page().waitForSelector('[data-view="cashier"]');
    await page().keyboard.press('F2');
    await shown(first.id, 'pending', CONFIRMING);
    await control('customer-pay', { client_sn: first.clientSn });
    await shown(first.id, 'paid', PAID);

    // Paid while the page was away (reloading): its outcome is read back.
    const second = await paymentInProgress('680');
    await away();
    await control('customer-pay', { client_sn: second.clientSn });
    await expect.poll(() => env.rt.payments.get(Number(second.id))?.state, { timeout: 10_000 }).toBe('paid');
    await page().reload();
    await page().waitForSelector('[data-view="cashier"]');
    await page().keyboard.press('F2');
    await shown(second.id, 'paid', PAID);
    expect(env.sandbox.gateway.counters(second.clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID' });
  });

  it('the 待处理 list’s entry for a payment opens the 收款 screen on that payment (not the newest one)', async () => {
    const a = await paymentInProgress('681');
    const b = await paymentInProgress('682');
    expect(b.id).not.toBe(a.id);
    await away();
    await page().click('[data-status="queue"]');
    const open = `[data-sheet="queue"] [data-action="open-payment"][data-payment-id="${a.id}"]`;
    await page().waitForSelector(open);
    await page().click(open);
    await shown(a.id, 'pending', CONFIRMING);
    await control('customer-pay', { client_sn: a.clientSn });
    await shown(a.id, 'paid', PAID);
    // The other one is still followed: 新收款 lists it, and it turns 收款成功 there too.
    await page().click('[data-action="pay-new"]');
    await page().waitForSelector(`[data-payment-item="${b.id}"][data-outcome="pending"]`);
    await control('customer-pay', { client_sn: b.clientSn });
    await page().waitForSelector(`[data-payment-item="${b.id}"][data-outcome="paid"]`, { timeout: 20_000 });
    expect(await page().textContent(`[data-payment-item="${b.id}"]`)).toContain(PAID);
    await page().click(`[data-payment-item="${b.id}"] [data-action="pay-show"]`);
    await shown(b.id, 'paid', PAID);
    expect(env.pageErrors).toEqual([]);
    expect(await page().evaluate('window.__cspViolations')).toEqual([]);
  });
});
