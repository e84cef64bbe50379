/**
 * The open payments on the 收款 start screen (the list that keeps a cashier
 * from charging twice), measured in Chromium at 800×600 against the real
 * runtime, handlers and sandbox gateway, a cashier signed in: three payments
 * this window took, one of each tone (needs_attention, a QR waiting for the
 * customer, one paid after the cashier moved on), listed after 新收款. In the
 * light and the dark theme (the system's, followed by the app) the list's
 * title and every entry are wholly in the window, the list starts in the
 * upper half and ends before the ways to charge, and every text of it (the
 * amount badge, the headline, the countdown or order number's end, 查看) is
 * readable: contrast ≥ 4.5:1 against what is behind it. Screenshots:
 * test-output/screenshots/pay-open-list-*.png.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFitsWindow, payDesk, startPayApp } from '../support/pay-e2e';
import { SCREENSHOTS, type AppEnv } from './harness';
import { CONTRAST } from './layout';


/** Page-side: where the list and its entries are, and each of its texts' contrast and size. */
const LIST_PROBE = `(() => {
  ${CONTRAST}
  const list = document.querySelector('[data-pay-list]');
  const r = (el) => el.getBoundingClientRect();
  const texts = [...list.querySelectorAll('*')].filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .filter((el) => r(el).width > 0 && r(el).height > 0 && getComputedStyle(el).visibility !== 'hidden');
  const entries = [...list.querySelectorAll('[data-payment-item]')].map((el) => ({
    id: el.getAttribute('data-payment-item'), outcome: el.getAttribute('data-outcome'), top: r(el).top, bottom: r(el).bottom, left: r(el).left, right: r(el).right,
    text: el.textContent.trim(),
  }));
  const title = document.querySelector('#pay-open-title');
  const ways = document.querySelector('.payment__ways');
  return {
    theme: document.documentElement.dataset.theme,
    innerHeight: window.innerHeight, innerWidth: window.innerWidth,
    titleTop: r(title).top, titleContrast: contrast(title),
    listBottom: r(list).bottom, waysTop: r(ways).top,
    entries,
    texts: texts.map((el) => ({ text: el.textContent.trim().slice(0, 30), contrast: Math.round(contrast(el) * 100) / 100, px: parseFloat(getComputedStyle(el).fontSize) })),
  };
})()`;

interface ListProbe {
  theme: string;
  innerHeight: number;
  innerWidth: number;
  titleTop: number;
  titleContrast: number;
  listBottom: number;
  waysTop: number;
  entries: Array<{ id: string; outcome: string; top: number; bottom: number; left: number; right: number; text: string }>;
  texts: Array<{ text: string; contrast: number; px: number }>;
}

describe('the open payments listed on the 收款 start screen: in the upper part at 800×600, readable in both themes (Chromium)', () => {
  let env: AppEnv;
  const page = () => env.page;

  beforeAll(async () => {
    // A barcode payment in doubt is queried every 0.3 s for 2.5 s, then canceled once before a person is told; a QR waits 2 minutes.
    env = await startPayApp('e2e-pay-open-list', { payWindowMs: 2500, payQueryEveryMs: 300, qrLifetimeMs: 120_000, maxCancels: 1 });
    await page().click('[data-tab="pay"]');
    await page().waitForSelector('.payment [data-amountpad]');
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const { control, customerCode, scan } = payDesk(() => env, 134567890123480000);

  /** 新收款 when a payment is shown, then the amount on the keypad. */
  async function amount(keys: string): Promise<void> {
    if (await page().isVisible('[data-action="pay-new"]')) await page().click('[data-action="pay-new"]');
    await page().click('.payment [data-amount-key="clear"]');
    for (const k of keys) await page().click(`.payment [data-amount-key="${k}"]`);
    await page().waitForSelector(`[data-money-line][data-amount-cents="${Number(keys)}"]`);
  }

  const shown = (outcome: string) => page().waitForSelector(`.payment__state[data-outcome="${outcome}"]`, { timeout: 20_000 });

  it('three payments of three tones are listed; at 800×600, light and dark: title and entries in the window, from the upper half, before the ways; every text ≥ 4.5:1', async () => {
    // needs_attention: in doubt for the whole window, and the cancel's outcome unknown.
    await control('fault', { endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 1_000_000 } });
    await control('fault', { endpoint: 'cancel', fault: { kind: 'cancel_error_no_code', outcome: 'untouched' }, count: 1_000 });
    await amount('333');
    await scan(customerCode());
    await shown('needs_attention');
    env.sandbox.gateway.clearFaults();
    // A QR waiting for the customer (its countdown is the entry's detail).
    await amount('1288');
    await page().click('.payment [data-payway="3"]');
    await shown('awaiting_customer');
    // In doubt when the cashier moves on, paid a moment later: listed with 收款成功 until looked at.
    await control('fault', { endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 3 } });
    await amount('4650');
    await scan(customerCode());
    await shown('pending');
    await page().click('[data-action="pay-new"]');

    const list = '[data-pay-list]';
    await page().waitForSelector(`${list} [data-payment-item][data-outcome="paid"]`, { timeout: 20_000 });
    await page().waitForSelector(`${list} [data-payment-item][data-outcome="awaiting_customer"]`);
    await page().waitForSelector(`${list} [data-payment-item][data-outcome="needs_attention"]`);
    expect(await page().getAttribute(list, 'data-pay-list')).toBe('3');
    expect(await page().textContent('#pay-open-title')).toBe('未结束或未查看的收款（请勿重复收款）');
    await expectFitsWindow(page(), 'open list', 'open list: the start screen fits 800x600');

    for (const scheme of ['light', 'dark'] as const) {
      await page().emulateMedia({ colorScheme: scheme });
      await expect.poll(() => page().evaluate('document.documentElement.dataset.theme')).toBe(scheme);
      const p = (await page().evaluate(LIST_PROBE)) as ListProbe;
      expect(p.theme).toBe(scheme);
      expect(p.entries.map((e) => e.outcome).sort(), scheme).toEqual(['awaiting_customer', 'needs_attention', 'paid']);
      // Where: the title and the first entry in the upper half, every entry wholly in the window, all above the ways to charge.
      expect(p.titleTop, `${scheme}: the list's title in the window`).toBeGreaterThanOrEqual(0);
      expect(p.titleTop, `${scheme}: the list's title in the upper half`).toBeLessThan(p.innerHeight / 2);
      expect(p.entries[0]!.top, `${scheme}: the first entry in the upper half`).toBeLessThan(p.innerHeight / 2);
      for (const e of p.entries) {
        expect(e.top, `${scheme} ${e.outcome}: top in the window`).toBeGreaterThanOrEqual(0);
        expect(e.bottom, `${scheme} ${e.outcome}: bottom in the window`).toBeLessThanOrEqual(p.innerHeight);
        expect(e.left, `${scheme} ${e.outcome}`).toBeGreaterThanOrEqual(0);
        expect(e.right, `${scheme} ${e.outcome}`).toBeLessThanOrEqual(p.innerWidth);
      }
      expect(p.listBottom, `${scheme}: the list comes before the ways to charge`).toBeLessThanOrEqual(p.waysTop);
      // What: each entry says its state and its amount.
      const text = (o: string) => p.entries.find((e) => e.outcome === o)!.text;
      expect(text('needs_attention')).toContain('需要人工处理（请勿重复收款）');
      expect(text('needs_attention')).toContain('￥3.33');
      expect(text('awaiting_customer')).toContain('请顾客扫码付款（请勿重复收款）');
      expect(text('awaiting_customer')).toMatch(/剩余 \d+ 秒/);
      expect(text('paid')).toContain('收款成功');
      expect(text('paid')).toContain('￥46.50');
      // Readable: every text of the list (title, badges, headlines, details, 查看) at 4.5:1 or more, none tiny.
      expect(p.titleContrast, `${scheme} title`).toBeGreaterThanOrEqual(4.5);
      expect(p.texts.length, scheme).toBeGreaterThanOrEqual(1 + 3 * 4);
      expect(p.texts.filter((t) => t.contrast < 4.5), `${scheme}: contrast ≥ 4.5:1`).toEqual([]);
      expect(p.texts.filter((t) => t.px < 14), `${scheme}: text at least 14 px`).toEqual([]);
      await page().screenshot({ path: path.join(SCREENSHOTS, `pay-open-list-zh-CN-${scheme}-800x600.png`), animations: 'disabled' });
    }
    await page().emulateMedia({ colorScheme: 'light' });
    expect(env.pageErrors).toEqual([]);
    expect(await page().evaluate('window.__cspViolations')).toEqual([]);
  });
});
