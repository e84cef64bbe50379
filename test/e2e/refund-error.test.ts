/**
 * A refused refund is shown even when the order already has an outcome:
 * Chromium against the real runtime, handlers and sandbox gateway
 * (harness.ts), a supervisor signed in (no approval step). An order of
 * ￥100.00 is refunded ￥35.00 (退款成功); a second refund of ￥20.00 is then
 * refused by the runtime before anything is written (the store made
 * read-only: STORE_UNWRITABLE). The order's screen shows the refused request
 * above the earlier outcome, in a refund's own words (退款未完成, 退款请求没有
 * 被记录) with 钱款未变动 and the error, in zh-CN and en, until the cashier
 * dismisses it; the gateway saw one refund only.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseOf } from '../../main/runtime';
import { activateTerminal } from '../support/pay-e2e';
import { SCREENSHOTS, startApp, type AppEnv } from './harness';
import { CONTRAST, LAYOUT_PROBE, type LayoutProbe } from './layout';

describe('a refused refund after an earlier refund (Chromium, real runtime, sandbox gateway)', () => {
  let env: AppEnv;
  const page = () => env.page;

  beforeAll(async () => {
    env = await startApp({ viewport: { width: 1024, height: 768 }, deviceId: 'e2e-refund-error', role: 'supervisor' });
    await activateTerminal(env, 'e2e-refund-error');
    await page().goto(env.server.url);
    await page().waitForSelector('[data-tab="cashier"]');
  }, 120_000);

  afterAll(async () => {
    if (env) databaseOf(env.rt).pragma('query_only = 0');
    await env?.close();
  });

  /** The money sheet: the amount on its keypad (the first key replaces the proposed amount), then confirm. */
  async function refund(sn: string, amountKeys: string): Promise<void> {
    await page().click(`[data-order="${sn}"] [data-action="refund"]`);
    await page().waitForSelector('dialog.money-sheet[open] [data-amountpad]');
    for (const k of amountKeys) await page().click(`dialog[open] [data-amount-key="${k}"]`);
    await page().waitForSelector(`dialog[open] .money-sheet__amount[data-amount-cents="${Number(amountKeys)}"]`);
    await page().click('dialog[open] [data-action="confirm"]');
  }

  async function toggleLanguage(): Promise<void> {
    await page().click('[data-action="menu"]');
    await page().click('dialog[open] [data-action="language"]');
    await page().click('dialog[open] [data-action="close-sheet"]');
  }

  it('退款成功 ￥35.00, then a ￥20.00 refund refused (STORE_UNWRITABLE): the refusal, 钱款未变动, above the earlier outcome until dismissed', async () => {
    const order = env.sandbox.gateway.seedOrder({ terminalSn: env.rt.terminal.info()!.terminalSn, totalCents: 10_000, subject: '拿铁咖啡', operator: '小王' });
    await env.rt.orders.import({ sn: order.sn }, 'e2e');
    await page().fill('#order-search', order.sn);
    await page().click(`.order[data-sn="${order.sn}"]`);
    const detail = `[data-order="${order.sn}"]`;
    await page().waitForSelector(detail);

    const jobs = env.sandbox.printer.jobs().length;
    await refund(order.sn, '3500');
    await page().waitForSelector(`${detail} [data-outcome="refund-refunded"] [data-money="returned"]`);
    expect(await page().textContent(`${detail} [data-outcome="refund-refunded"]`)).toContain('￥35.00');
    expect(env.sandbox.gateway.effects('refund', order.sn)).toBe(1);
    // The 退款凭证 is printed: no write of the runtime's is left to run while the store is read-only.
    await env.sandbox.printer.waitForJobs(jobs + 1, 10_000);
    await new Promise((r) => setTimeout(r, 500));

    // The store refuses every write from here: the refund is refused before its row is written.
    databaseOf(env.rt).pragma('query_only = 1');
    try {
      await refund(order.sn, '2000');
      const failed = `${detail} [data-outcome="failed"][data-kind="refund"]`;
      await page().waitForSelector(`${failed}[data-record="none"]`);
      await page().waitForSelector('dialog[open]', { state: 'detached' });
    } finally {
      databaseOf(env.rt).pragma('query_only = 0');
    }
    const failed = `${detail} [data-outcome="failed"][data-kind="refund"]`;
    const text = (await page().textContent(failed))!;
    expect(text).toContain('退款未完成');
    expect(text).toContain('退款请求没有被记录');
    expect(text).not.toContain('撤销');
    expect(await page().textContent(`${failed} [data-money="unchanged"]`)).toBe('钱款未变动');
    expect(await page().getAttribute(`${failed} [data-error-code]`, 'data-error-code')).toBe('STORE_UNWRITABLE');
    // In view (the sheet gave the focus back to 退款, further down the order), and above the earlier outcome,
    // which is still there underneath (not mistaken for this request's).
    await expect
      .poll(() => page().evaluate(`(() => { const r = document.querySelector(${JSON.stringify(failed)}).getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight / 2; })()`), { timeout: 5000 })
      .toBe(true);
    const failedBox = (await page().locator(failed).boundingBox())!;
    const earlierBox = (await page().locator(`${detail} [data-outcome="refund-refunded"]`).boundingBox())!;
    expect(failedBox.y).toBeLessThan(earlierBox.y);
    expect(env.sandbox.gateway.effects('refund', order.sn)).toBe(1);
    expect(env.rt.refunds.forOrder(order.sn)).toHaveLength(1);
    const layout = (await page().evaluate(LAYOUT_PROBE)) as LayoutProbe;
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
    expect(layout.outside).toEqual([]);
    expect(layout.clipped).toEqual([]);
    expect(layout.small).toEqual([]);
    await page().screenshot({ path: path.join(SCREENSHOTS, 'refund-error-zh-CN-1024x768.png'), animations: 'disabled' });

    // At 800×600, light and dark: the refusal's title and 钱款未变动 in the upper half, readable (contrast ≥ 4.5:1).
    await page().setViewportSize({ width: 800, height: 600 });
    for (const scheme of ['light', 'dark'] as const) {
      await page().emulateMedia({ colorScheme: scheme });
      await page().evaluate(`document.querySelector(${JSON.stringify(failed)}).scrollIntoView({ block: 'start' })`);
      const probe = (await page().evaluate(`(() => {
        ${CONTRAST}
        const at = document.querySelector(${JSON.stringify(failed)});
        const title = at.querySelector('.outcome__title'), money = at.querySelector('[data-money="unchanged"]');
        const r = (el) => el.getBoundingClientRect();
        return { titleTop: r(title).top, moneyBottom: r(money).bottom, half: window.innerHeight / 2, height: window.innerHeight,
          titleContrast: contrast(title), moneyContrast: contrast(money) };
      })()`)) as { titleTop: number; moneyBottom: number; half: number; height: number; titleContrast: number; moneyContrast: number };
      expect(probe.titleTop, scheme).toBeGreaterThanOrEqual(0);
      expect(probe.titleTop, scheme).toBeLessThan(probe.half);
      expect(probe.moneyBottom, scheme).toBeLessThanOrEqual(probe.height);
      expect(probe.titleContrast, `${scheme} title`).toBeGreaterThanOrEqual(4.5);
      expect(probe.moneyContrast, `${scheme} money line`).toBeGreaterThanOrEqual(4.5);
      if (scheme === 'dark') await page().screenshot({ path: path.join(SCREENSHOTS, 'refund-error-zh-CN-dark-800x600.png'), animations: 'disabled' });
    }
    await page().emulateMedia({ colorScheme: 'light' });
    await page().setViewportSize({ width: 1024, height: 768 });

    // The same in English.
    await toggleLanguage();
    await page().waitForSelector('.app[data-lang="en"]');
    const en = (await page().textContent(failed))!;
    expect(en).toContain('Refund not done');
    expect(en).toContain('The refund was not recorded');
    expect(await page().textContent(`${failed} [data-money="unchanged"]`)).toBe('No money moved');
    await toggleLanguage();
    await page().waitForSelector('.app[data-lang="zh-CN"]');

    // Dismissed: the earlier outcome is what the order shows again.
    await page().click(`${failed} [data-action="dismiss-failure"]`);
    await page().waitForSelector(failed, { state: 'detached' });
    expect(await page().textContent(`${detail} [data-outcome="refund-refunded"]`)).toContain('退款成功');
    expect(env.pageErrors).toEqual([]);
  });
});
