/**
 * The counter (issue 14) end to end in Chromium against the real runtime and
 * the sandbox: a full day in a windowed list, scanning, the re-check after a
 * network cut, one status per order, the outcome and status bar layouts,
 * dark theme, the receipt's real QR code. Screens are photographed at
 * 800×600, 1024×768 and 1920×1080, in zh-CN and en, light and dark
 * (test-output/screenshots/counter-*), each checked for overflow, clipping
 * and touch-sized targets.
 */
import path from 'node:path';
import qrcode from 'qrcode-generator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { businessDay } from '../../main/common/time';
import { paidOrderInput } from '../../main/sandbox';
import type { SeedOrderInput } from '../../main/sandbox/gateway';
import { SCREENSHOTS, startApp, type AppEnv } from './harness';
import { LAYOUT_PROBE, type LayoutProbe } from './layout';

const SIZES = [
  { width: 800, height: 600 },
  { width: 1024, height: 768 },
  { width: 1920, height: 1080 },
] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the counter (Chromium, real runtime, sandbox gateway)', () => {
  let env: AppEnv;

  beforeAll(async () => {
    // The re-check looks for the gateway every second while it is unreachable (the default is every 10 s).
    env = await startApp({ viewport: SIZES[1], deviceId: 'e2e-counter', runtime: { recheck: { everyMs: 5 * 60_000, probeEveryMs: 1_000 } } });
    const v = env.sandbox.gateway.vendor;
    await env.rt.terminal.activate({ appId: v.appId, code: env.sandbox.gateway.activationCodes()[0]!, deviceId: 'e2e-counter', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'e2e');
    await env.rt.terminal.checkin('e2e');
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const terminalSn = () => env.rt.terminal.info()!.terminalSn;
  let n = 0;

  /** A paid order the host app recorded (as a POS does after each payment). */
  function record(totalCents: number, extra: Partial<SeedOrderInput> = {}) {
    const o = env.sandbox.gateway.seedOrder({ terminalSn: terminalSn(), totalCents, subject: `拿铁咖啡 ${++n}`, operator: n % 2 ? '小王' : '小李', ...extra });
    env.rt.orders.record(paidOrderInput(o));
    return o;
  }

  /** Polls a page expression (the CSP forbids the string-eval waitForFunction uses). */
  async function waitUntil(expression: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await env.page.evaluate(`(() => { try { return !!(${expression}); } catch { return false; } })()`))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`);
      await sleep(25);
    }
  }

  async function check(where: string): Promise<void> {
    await env.page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    const probe = (await env.page.evaluate(LAYOUT_PROBE)) as LayoutProbe;
    expect(probe.scrollWidth, where).toBeLessThanOrEqual(probe.innerWidth);
    expect(probe.outside, where).toEqual([]);
    expect(probe.clipped, where).toEqual([]);
    expect(probe.small, where).toEqual([]);
    // The page itself never scrolls: the status bar stays on screen.
    expect(await env.page.evaluate('document.documentElement.scrollHeight <= window.innerHeight'), where).toBe(true);
  }

  /** Every size, both languages, light and dark: checked and photographed. */
  async function shootAll(name: string, sheet?: string): Promise<void> {
    for (const lang of ['zh-CN', 'en'] as const) {
      if ((await env.page.getAttribute('.app', 'data-lang')) !== lang) {
        // A sheet covers the bar: closed for the switch, opened again after it.
        if (sheet) await env.page.click('[data-action="close-sheet"]');
        await switchLanguage();
        if (sheet) await env.page.click(sheet);
      }
      for (const scheme of ['light', 'dark'] as const) {
        await env.page.emulateMedia({ colorScheme: scheme });
        for (const size of SIZES) {
          await env.page.setViewportSize(size);
          await check(`${name} ${lang} ${scheme} ${size.width}x${size.height}`);
          await env.page.screenshot({ path: path.join(SCREENSHOTS, `counter-${name}-${lang}-${scheme}-${size.width}x${size.height}.png`), animations: 'disabled' });
        }
      }
    }
    await env.page.emulateMedia({ colorScheme: 'light' });
    await env.page.setViewportSize(SIZES[1]);
    if ((await env.page.getAttribute('.app', 'data-lang')) !== 'zh-CN') {
      if (sheet) await env.page.click('[data-action="close-sheet"]');
      await switchLanguage();
      if (sheet) await env.page.click(sheet);
    }
  }

  async function switchLanguage(): Promise<void> {
    await env.page.click('[data-action="menu"]');
    await env.page.click('[data-action="language"]');
    await env.page.click('[data-action="close-sheet"]');
  }

  async function confirmRevoke(): Promise<void> {
    await env.page.click('[data-action="revoke"]');
    await env.page.waitForSelector('dialog.dialog[open] [data-action="confirm"]:focus');
    await env.page.keyboard.press('Enter');
  }

  /**
   * A scanner: the code's keys and Enter in one burst, as a scanner sends them, whatever the load on this
   * machine (keys typed one call at a time can come further apart than a scanner's when the machine is busy).
   * Into a text field each key not taken by the app is typed, as the browser would.
   */
  async function scan(code: string): Promise<void> {
    await env.page.evaluate(`(() => {
      for (const key of [...${JSON.stringify(code)}, 'Enter']) {
        const target = document.activeElement || document.body;
        const e = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true });
        target.dispatchEvent(e);
        if (!e.defaultPrevented && key !== 'Enter' && target instanceof HTMLInputElement) {
          target.value += key;
          target.dispatchEvent(new Event('input', { bubbles: true }));
        }
      }
    })()`);
  }

  async function backToList(): Promise<void> {
    if (await env.page.isVisible('[data-action="back"]')) await env.page.click('[data-action="back"]');
  }

  const outcome = (sn: string, kind: string) => `[data-order="${sn}"] [data-outcome="${kind}"]`;

  it('a full day (600 orders) in a windowed list: few rows in the DOM, search focused on load, no boot text, ￥1,234.50', async () => {
    for (let i = 0; i < 598; i++) record(100 + i, { payway: i % 3 ? '3' : '2', paywayName: i % 3 ? '微信' : '支付宝' });
    const big = record(123_450, { payway: '3', paywayName: '微信' });
    record(99, { payway: '2', paywayName: '支付宝' });
    await env.page.goto(env.server.url);
    await env.page.waitForSelector(`.order[data-sn]`);
    expect(await env.page.evaluate('document.activeElement && document.activeElement.id')).toBe('order-search');
    expect(await env.page.locator('.boot').count()).toBe(0);
    expect(await env.page.textContent('.panel__meta')).toContain('600');
    const rows = await env.page.locator('.order').count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(60);
    // Scrolled to the end: the last rows are drawn, still only a window of them.
    await env.page.evaluate("document.querySelector('.orders-viewport').scrollTop = 1e9");
    await waitUntil("document.querySelector('.order[aria-posinset=\"600\"]') !== null");
    expect(await env.page.locator('.order').count()).toBeLessThan(60);

    await env.page.fill('#order-search', '1234.50');
    await env.page.waitForSelector(`.order[data-sn="${big.sn}"]`);
    expect(await env.page.textContent(`.order[data-sn="${big.sn}"] .order__amount`)).toBe('￥1,234.50');
    expect(await env.page.textContent(`.order[data-sn="${big.sn}"] .order__subject`)).toContain('拿铁咖啡');
    expect(await env.page.textContent(`.order[data-sn="${big.sn}"] .order__operator`)).toMatch(/小王|小李/);
    await env.page.fill('#order-search', '');
    await shootAll('list');
  });

  it('filters by payway and status, sorts by amount', async () => {
    await env.page.selectOption('[data-filter="payway"]', '2');
    await waitUntil("[...document.querySelectorAll('.order .order__payway')].every((e) => e.textContent === '支付宝')");
    await env.page.selectOption('[data-filter="sort"]', 'amountAsc');
    await waitUntil("document.querySelector('.order .order__amount').textContent === '￥0.99'");
    await env.page.selectOption('[data-filter="sort"]', 'amountDesc');
    await env.page.selectOption('[data-filter="payway"]', 'all');
    await waitUntil("document.querySelector('.order .order__amount').textContent === '￥1,234.50'");
    await env.page.selectOption('[data-filter="status"]', 'revoked');
    await env.page.waitForSelector('.placeholder:has-text("没有找到匹配的订单")');
    await env.page.selectOption('[data-filter="status"]', 'all');
    await env.page.selectOption('[data-filter="sort"]', 'newest');
  });

  it('a scan at scanner speed with the focus elsewhere opens the order (sn, client_sn, receipt QR of an order not yet on this till)', async () => {
    const a = record(4_200);
    const b = record(4_300);
    await env.page.click('[data-action="refresh"]');
    await env.page.waitForSelector(`.order[data-sn="${a.sn}"]`);
    // Focus on a button: a scanner's Enter must not press it.
    await env.page.focus('[data-action="refresh"]');
    const listCalls = () => env.bridge.calls.filter((c) => c.channel === 'orders.list').length;
    const before = listCalls();
    await scan(a.sn);
    await env.page.waitForSelector(`[data-order="${a.sn}"]`);
    expect(listCalls()).toBe(before);
    await backToList();

    // Into the search box: the scanned characters do not stay there.
    await env.page.focus('#order-search');
    await scan(b.clientSn);
    await env.page.waitForSelector(`[data-order="${b.sn}"]`);
    expect(await env.page.inputValue('#order-search')).toBe('');
    await backToList();

    // The QR on our receipts holds the order sn; this order was paid on another till (not recorded here).
    const other = env.sandbox.gateway.seedOrder({ terminalSn: terminalSn(), totalCents: 777, subject: '外带', operator: '小张' });
    await env.page.focus('[data-filter="sort"]');
    await scan(other.sn);
    await env.page.waitForSelector(`[data-order="${other.sn}"]`);
    expect(env.bridge.calls.some((c) => c.channel === 'orders.import')).toBe(true);
    await backToList();

    // Typing at a person's speed is typing, not a scan.
    await env.page.focus('#order-search');
    await env.page.keyboard.type(a.sn.slice(0, 8), { delay: 90 });
    await env.page.keyboard.press('Enter');
    await sleep(300);
    expect(await env.page.inputValue('#order-search')).toBe(a.sn.slice(0, 8));
    expect(await env.page.locator(`[data-order="${a.sn}"]`).count()).toBe(0);
    await env.page.fill('#order-search', '');
  });

  it('revoked: one status everywhere, result + receipt (real QR) + reprint in view at every size; reprint last receipt', async () => {
    const o = record(12_345, { payway: '3', paywayName: '微信', subject: '美式咖啡' });
    await env.page.fill('#order-search', o.sn);
    await env.page.click(`.order[data-sn="${o.sn}"]`);
    await confirmRevoke();
    await env.page.waitForSelector(outcome(o.sn, 'revoked'));
    await env.page.waitForSelector(`${outcome(o.sn, 'revoked')} .rl--qr svg.qr path`);
    expect(await env.page.getAttribute(`[data-order="${o.sn}"]`, 'data-status')).toBe('revoked');
    expect(await env.page.textContent(`[data-order="${o.sn}"] [data-badge="status"]`)).toBe('已撤销');
    // The QR drawn is the order sn, module for module.
    const qr = qrcode(0, 'M');
    qr.addData(o.sn);
    qr.make();
    const size = qr.getModuleCount() + 4;
    expect(await env.page.getAttribute(`${outcome(o.sn, 'revoked')} svg.qr`, 'viewBox')).toBe(`0 0 ${size} ${size}`);
    expect(await env.page.getAttribute(`${outcome(o.sn, 'revoked')} svg.qr`, 'aria-label')).toBe(`QR ${o.sn}`);

    for (const s of SIZES.slice(0, 2)) {
      await env.page.setViewportSize(s);
      await env.page.evaluate('new Promise((r) => requestAnimationFrame(r))');
      for (const sel of ['.outcome__title', '.money', '[data-action="reprint"]', '[data-print-state]']) {
        const inView = await env.page.evaluate(
          `(() => { const r = document.querySelector('${outcome(o.sn, 'revoked')} ${sel}').getBoundingClientRect(); return r.top >= 0 && r.top + 40 <= innerHeight && r.right <= innerWidth; })()`,
        );
        expect(inView, `${sel} at ${s.width}x${s.height}`).toBe(true);
      }
    }
    await env.page.setViewportSize(SIZES[1]);
    await shootAll('revoked');

    await backToList();
    await env.page.fill('#order-search', '');
    await env.page.waitForSelector(`.order[data-sn="${o.sn}"] [data-badge="revoked"]`);
    const jobs = (await env.sandbox.printer.waitForJobs(1, 10_000)).length;
    await env.page.click('[data-action="reprint-last"]');
    await env.page.waitForSelector(`[data-reprinted="${o.sn}"]`);
    const printed = await env.sandbox.printer.waitForJobs(jobs + 1, 10_000);
    expect(printed.at(-1)!.decoded.text).toContain(o.sn);
    expect(printed.at(-1)!.decoded.text).toContain('COPY');
  });

  it('re-check: network cut mid-revoke → needs_attention → network back → revoked on screen with no tap, within 10 s', async () => {
    const o = record(5_500);
    await env.page.fill('#order-search', o.sn);
    await env.page.click(`.order[data-sn="${o.sn}"]`);
    // The revoke reaches the gateway and is applied; the answer is lost as the network goes.
    env.sandbox.gateway.inject('revoke', { kind: 'drop_after' });
    // Until the cut, the gateway cannot say either (so the revoke stays unresolved, not revoked early).
    env.sandbox.gateway.inject('query', { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' }, Infinity);
    await confirmRevoke();
    await env.page.waitForSelector(`${outcome(o.sn, 'pending')}`);
    await env.proxy.stop();
    env.sandbox.gateway.clearFaults();
    try {
      await env.page.waitForSelector(outcome(o.sn, 'needs_attention'), { timeout: 15_000 });
      await env.page.waitForSelector('[data-status="network"][data-online="false"]');
      await env.page.waitForSelector('[data-status="queue"][data-count="1"]');
      await shootAll('needs-attention');
      // The open-revokes pill opens the queue, which opens the order.
      await backToList();
      await env.page.click('[data-status="queue"]');
      await env.page.waitForSelector(`[data-sheet="queue"] [data-sn="${o.sn}"]`);
      await shootAll('queue', '[data-status="queue"]');
      await env.page.click(`[data-sheet="queue"] [data-sn="${o.sn}"]`);
      await env.page.waitForSelector(outcome(o.sn, 'needs_attention'));
    } finally {
      await env.proxy.start();
    }
    const callsBefore = env.bridge.calls.length;
    const t0 = Date.now();
    await env.page.waitForSelector(outcome(o.sn, 'revoked'), { timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThanOrEqual(10_000);
    expect(env.bridge.calls.slice(callsBefore).filter((c) => c.channel === 'revoke.queryAgain' || c.channel === 'revoke.request' || c.channel === 'queue.drain')).toEqual([]);
    await env.page.waitForSelector('[data-status="network"][data-online="true"]');
    expect(env.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
  });

  it('queued: clear deadline text ("今天 23:59 前" / "before 23:59 today")', async () => {
    const o = record(880);
    await backToList();
    await env.page.fill('#order-search', o.sn);
    await env.page.click(`.order[data-sn="${o.sn}"]`);
    await env.proxy.stop();
    try {
      await confirmRevoke();
      await env.page.waitForSelector(outcome(o.sn, 'queued'));
      const today = businessDay(Date.now());
      const text = (await env.page.textContent(`${outcome(o.sn, 'queued')} .outcome__deadline`))!;
      expect(text).toBe(today === businessDay(Date.now() + 60_000) ? '须在今天 23:59 前完成' : text);
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
      await switchLanguage();
      expect(await env.page.textContent(`${outcome(o.sn, 'queued')} .outcome__deadline`)).toContain('before 23:59 today');
      await switchLanguage();
    } finally {
      await env.proxy.start();
    }
    await env.page.waitForSelector(outcome(o.sn, 'revoked'), { timeout: 10_000 });
  });

  it('status bar: one row at 1024 px in both languages; details on tap, printer recovery steps, manual dark switch', async () => {
    await env.page.setViewportSize(SIZES[1]);
    for (let i = 0; i < 2; i++) {
      const h = (await env.page.evaluate("document.querySelector('.statusbar').getBoundingClientRect().height")) as number;
      expect(h).toBeLessThan(90);
      const tops = (await env.page.evaluate("[...document.querySelectorAll('.statusbar .pill, .statusbar .tab')].map((e) => Math.round(e.getBoundingClientRect().top))")) as number[];
      expect(Math.max(...tops) - Math.min(...tops)).toBeLessThan(16);
      await switchLanguage();
    }
    await env.bridge.emit('printer.changed', { status: 'paper_out', detail: 'paper roll is empty' });
    await env.page.waitForSelector('[data-status="printer"][data-printer="paper_out"]');
    expect(await env.page.textContent('[data-status="printer"]')).toContain('缺纸');
    await env.page.click('[data-status="printer"]');
    await env.page.waitForSelector('[data-printer-help="paper_out"]');
    expect(await env.page.textContent('[data-printer-help]')).toContain('纸卷');
    await shootAll('printer-help', '[data-status="printer"]');
    await env.page.click('[data-action="close-sheet"]');
    await env.bridge.emit('printer.changed', { status: 'offline', detail: 'connect ECONNREFUSED' });
    await env.page.click('[data-status="printer"]');
    expect(await env.page.textContent('[data-printer-help="offline"]')).toContain('网线');
    await env.page.click('[data-action="close-sheet"]');
    await env.bridge.emit('printer.changed', { status: 'ok', detail: 'ready' });

    // Manual switch overrides the system's scheme; back to "follow system".
    await env.page.emulateMedia({ colorScheme: 'light' });
    await env.page.click('[data-action="menu"]');
    await env.page.click('[data-theme-choice="dark"]');
    await waitUntil("document.documentElement.dataset.theme === 'dark'");
    const bg = (await env.page.evaluate("getComputedStyle(document.body).getPropertyValue('--bg').trim()")) as string;
    expect(bg).toBe('#15171b');
    await env.page.click('[data-theme-choice="auto"]');
    await waitUntil("document.documentElement.dataset.theme === 'light'");
    await env.page.emulateMedia({ colorScheme: 'dark' });
    await waitUntil("document.documentElement.dataset.theme === 'dark'");
    await env.page.emulateMedia({ colorScheme: 'light' });
    await env.page.click('[data-action="close-sheet"]');
  });

  it('the crash page has a restart button that brings the cashier screen back', async () => {
    await env.page.goto(env.server.url + 'error.html');
    await env.page.click('[data-action="restart"]');
    await env.page.waitForSelector('.statusbar');
    await env.page.waitForSelector('.order[data-sn]');
  });

  it('the page had no errors and no CSP violations', async () => {
    expect(env.pageErrors).toEqual([]);
    expect(await env.page.evaluate('window.__cspViolations')).toEqual([]);
  });
});
