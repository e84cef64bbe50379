/**
 * The cashier UI end to end in Chromium, against the real runtime: the
 * renderer bundle served with the app's CSP, `window.pos` forwarding to the
 * real IPC handlers, a runtime on a temp data dir talking to the sandbox
 * gateway through a proxy this test can switch off, receipts printed on the
 * virtual printer. Every screen is photographed at 1024×768 and 1920×1080
 * (test-output/screenshots/), with no horizontal overflow, touch-sized
 * targets and real CJK glyphs asserted on each.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Handlers } from '../../main/ipc/handlers';
import { REVOKE_MESSAGES } from '../../main/operations/revoke/messages';
import { UpayClient } from '../../main/upay/client';
import { type Runtime, databaseOf } from '../../main/runtime';
import type { Sandbox } from '../../main/sandbox';
import type { SeedOrderInput } from '../../main/sandbox/gateway';
import { businessDay } from '../../main/common/time';
import { APP_WINDOW, SCREENSHOTS, startApp, type AppEnv, type Browser, type InstalledBridge, type SwitchableProxy } from './harness';
import { LAYOUT_PROBE, type LayoutProbe } from './layout';

const VIEWPORTS = [
  { width: 1024, height: 768 },
  { width: 800, height: 600 },
  { width: 1920, height: 1080 },
] as const;

/**
 * Waits for the page's fonts, then draws Chinese characters on a canvas with
 * the page's font: real glyphs differ from one another and have ink; a missing
 * glyph draws like U+E000 (a code point no font here has: tofu or nothing).
 * `chars` (every Chinese character the UI can show) must all have glyphs.
 * With the npm browser the page sees no system font at all (see the harness),
 * so these glyphs can only come from the bundled Noto Sans SC.
 */
const GLYPH_PROBE = `async (chars) => {
  await document.fonts.ready;
  await document.fonts.load('48px "Noto Sans SC"', chars);
  await document.fonts.load('bold 48px "Noto Sans SC"', chars);
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (ch) => {
    const c = document.createElement('canvas');
    c.width = 64; c.height = 64;
    const g = c.getContext('2d');
    g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
    g.fillStyle = '#000'; g.font = '48px ' + font; g.textBaseline = 'top';
    g.fillText(ch, 4, 4);
    const d = g.getImageData(0, 0, 64, 64).data;
    let ink = 0, sig = '';
    for (let i = 0; i < d.length; i += 4) { const dark = d[i] < 128; ink += dark ? 1 : 0; sig += dark ? '1' : '0'; }
    return { ink, sig };
  };
  const [a, b, c] = ['撤', '销', '钱'].map(draw);
  const tofu = draw('\\uE000');
  const missing = [...chars].filter((ch) => { const g = draw(ch); return g.ink === 0 || g.sig === tofu.sig; });
  const loaded = [...document.fonts].filter((f) => f.family.replace(/["']/g, '') === 'Noto Sans SC' && f.status === 'loaded').map((f) => f.weight);
  return {
    font,
    ink: Math.min(a.ink, b.ink, c.ink),
    distinct: a.sig !== b.sig && b.sig !== c.sig && a.sig !== c.sig,
    bundled: document.fonts.check('16px "Noto Sans SC"', '撤销') && document.fonts.check('bold 16px "Noto Sans SC"', '撤销'),
    loaded,
    missing,
  };
}`;

/** Every Chinese character the UI can show: the renderer's own strings and the revoke messages it displays. */
function uiChineseCharacters(): string {
  const dir = path.join(__dirname, '../../renderer/src');
  const sources = fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  const text = sources.join('') + JSON.stringify(REVOKE_MESSAGES);
  return [...new Set(text.match(/[\u3001-\u303f\u4e00-\u9fff\uff01-\uff5e]/g) ?? [])].join('');
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cashier UI (Chromium, real runtime, sandbox gateway)', () => {
  let sandbox: Sandbox;
  let proxy: SwitchableProxy;
  let rt: Runtime;
  let handlers: Handlers;
  let browser: Browser;
  let page: Page;
  let bridge: InstalledBridge;

  let env: AppEnv;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    env = await startApp({ viewport: VIEWPORTS[0], deviceId: 'e2e-pos-01' });
    ({ sandbox, proxy, rt, handlers, browser, page, bridge, pageErrors } = env);
    await page.goto(env.server.url);
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  /** Screenshots at both sizes, each checked for overflow, small targets and real CJK glyphs. */
  async function shoot(name: string): Promise<void> {
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp);
      // The view from its top (the store setup view scrolls).
      await page.evaluate('document.querySelector(".main").scrollTop = 0');
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      const probe = (await page.evaluate(LAYOUT_PROBE)) as LayoutProbe;
      const where = `${name} at ${vp.width}x${vp.height}`;
      expect(probe.scrollWidth, where).toBeLessThanOrEqual(probe.innerWidth);
      expect(probe.outside, where).toEqual([]);
      expect(probe.clipped, where).toEqual([]);
      expect(probe.small, where).toEqual([]);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${vp.width}x${vp.height}.png`), animations: 'disabled' });
    }
    await page.setViewportSize(VIEWPORTS[0]);
  }

  const terminalSn = () => rt.terminal.info()!.terminalSn;

  /** An order paid earlier on the gateway, then imported by the runtime (as the host app would). */
  async function seed(totalCents: number, extra: Partial<SeedOrderInput> = {}) {
    const order = sandbox.gateway.seedOrder({ terminalSn: terminalSn(), totalCents, subject: '拿铁咖啡', operator: '小王', ...extra });
    await rt.orders.import({ sn: order.sn }, 'e2e');
    return order;
  }

  /** Shows the order in the list (refresh, or search when it is not today's) and opens it. */
  async function open(sn: string, search = false): Promise<void> {
    await page.click('[data-tab="cashier"]');
    // Below 1400 px the open order stands in the list's place.
    if (await page.isVisible('[data-action="back"]')) await page.click('[data-action="back"]');
    await page.fill('#order-search', search ? sn : '');
    if (!search) await page.click('[data-action="refresh"]');
    await page.click(`.order[data-sn="${sn}"]`);
    await page.waitForSelector(`[data-order="${sn}"]`);
  }

  /** The language switch sits behind the status bar's "more" button. */
  async function switchLanguage(): Promise<void> {
    await page.click('[data-action="menu"]');
    await page.click('[data-action="language"]');
    await page.click('[data-action="close-sheet"]');
  }

  async function confirmRevoke(): Promise<void> {
    await page.click('[data-action="revoke"]');
    await page.waitForSelector('dialog.dialog[open] [data-action="confirm"]:focus');
    await page.keyboard.press('Enter');
  }

  const outcome = (sn: string, kind: string) => `[data-order="${sn}"] [data-outcome="${kind}"]`;
  const revokeCalls = (sn: string) => bridge.calls.filter((c) => c.channel === 'revoke.request' && (c.input as { sn?: string }).sn === sn).length;

  it('renders Chinese text with real glyphs (no tofu) and starts on store setup while not activated', async () => {
    await page.waitForSelector('[data-card="terminal"]');
    const chars = uiChineseCharacters();
    expect(chars.length).toBeGreaterThan(100);
    const glyphs = (await page.evaluate(`(${GLYPH_PROBE})(${JSON.stringify(chars)})`)) as {
      font: string;
      ink: number;
      distinct: boolean;
      bundled: boolean;
      loaded: string[];
      missing: string[];
    };
    expect(glyphs.font.split(',')[0]).toMatch(/^["']?Noto Sans SC["']?$/);
    expect(glyphs.bundled, 'the bundled Noto Sans SC is loaded for Chinese text').toBe(true);
    expect(new Set(glyphs.loaded)).toEqual(new Set(['400', '700']));
    expect(glyphs.ink).toBeGreaterThan(50);
    expect(glyphs.distinct).toBe(true);
    expect(glyphs.missing, `characters without a glyph (browser: ${browser.found.source})`).toEqual([]);
    expect(await page.textContent('[data-status="mode"]')).toContain('沙箱');
    await shoot('01-provisioning-not-activated');
  });

  it('provisions the terminal, saves printer settings and prints a test page', async () => {
    const code = sandbox.gateway.activationCodes()[0]!;
    await page.fill('[data-form="activate"] input[name="code"]', code);
    await page.click('[data-action="activate"]');
    await page.waitForSelector('[data-terminal-sn]');
    expect(await page.getAttribute('[data-terminal-sn]', 'data-terminal-sn')).toBe(terminalSn());
    expect(await page.textContent('[data-done="terminal"]')).toContain(terminalSn());
    expect(sandbox.gateway.effects('activate')).toBe(1);
    expect(sandbox.gateway.activationCodes()).not.toContain(code);

    await page.click('[data-action="checkin"]');
    await page.waitForSelector('[data-done="terminal"]:has-text("签到成功")');
    expect(sandbox.gateway.effects('checkin', terminalSn())).toBe(1);

    await page.click('[data-setup-tab="printer"]');
    await page.check('input[name="paperWidth"][value="58"]');
    await page.click('[data-action="save-printer"]');
    await page.waitForSelector('[data-done="printer"]');
    expect(rt.settings().paperWidth).toBe(58);

    await page.click('[data-action="test-print"]');
    const jobs = await sandbox.printer.waitForJobs(1, 10_000);
    expect(jobs[0]!.decoded.qr).toContain('UPAY-POS-TEST');
    await page.click('[data-action="printer-status"]');
    await page.waitForSelector('[data-status="printer"][data-printer="ok"]');
    await shoot('02-provisioning-activated');
  });

  it('lists today’s orders and searches by order number prefix and by amount', async () => {
    const a = await seed(1250, { payway: '3', paywayName: '微信' });
    const b = await seed(8800, { payway: '17', paywayName: '银联云闪付' });
    await page.click('[data-tab="cashier"]');
    await page.click('[data-action="refresh"]');
    await page.waitForSelector(`.order[data-sn="${a.sn}"]`);
    await page.waitForSelector(`.order[data-sn="${b.sn}"]`);
    await shoot('03-cashier-list');

    await page.fill('#order-search', '12.50');
    await page.waitForSelector(`.order[data-sn="${b.sn}"]`, { state: 'detached' });
    expect(await page.locator('.order').count()).toBe(1);
    await page.fill('#order-search', b.clientSn);
    await page.waitForSelector(`.order[data-sn="${b.sn}"]`);
    expect(await page.locator('.order').count()).toBe(1);
    await page.fill('#order-search', '');
  });

  it('revokes an order: confirm dialog, progress, revoked with receipt preview, printed, reprint', async () => {
    const order = await seed(1250, { payway: '3', paywayName: '微信', subject: '美式咖啡' });
    await open(order.sn);

    await page.click('[data-action="revoke"]');
    await page.waitForSelector('dialog.dialog[open]');
    const dialog = (await page.textContent('dialog.dialog'))!;
    expect(dialog).toContain('￥12.50');
    expect(dialog).toContain('微信');
    expect(await page.evaluate('document.activeElement.dataset.action')).toBe('confirm');
    await shoot('04-confirm-dialog');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog.dialog', { state: 'detached' });
    expect(revokeCalls(order.sn)).toBe(0);

    // Slow gateway: the progress screen stays up long enough to photograph.
    sandbox.gateway.inject('revoke', { kind: 'delay', ms: 2500 });
    await confirmRevoke();
    await page.waitForSelector(outcome(order.sn, 'progress'));
    // Once it is on its way, nothing on the order can be tapped again.
    expect(await page.locator(`[data-order="${order.sn}"] [data-action="revoke"]:not([disabled])`).count()).toBe(0);
    expect(await page.textContent('[data-money]')).toContain('正在确认');
    await shoot('05-progress');

    await page.waitForSelector(outcome(order.sn, 'revoked'));
    expect(await page.textContent(outcome(order.sn, 'revoked'))).toContain('钱款已退回');
    await page.waitForSelector(`${outcome(order.sn, 'revoked')} .receipt-frame .receipt .rl--qr[data-qr="${order.sn}"]`);
    const printed = await sandbox.printer.waitForJobs(2, 10_000);
    expect(printed[1]!.decoded.text).toContain(order.sn);
    expect(printed[1]!.decoded.text).toContain('撤销');
    await page.waitForSelector('[data-receipt-state="printed"]');
    const preview = (await page.textContent('.receipt-frame'))!;
    expect(preview).toContain(order.sn);
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(1);
    await shoot('06-revoked-receipt');

    await page.click('[data-action="reprint"]');
    const again = await sandbox.printer.waitForJobs(3, 10_000);
    expect(again[2]!.decoded.text).toContain('COPY');
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(1);
  });

  it('a refused revoke (promotion order) shows the gateway’s own Chinese message and code', async () => {
    const order = await seed(3800, { promotion: true, payway: '1', paywayName: '支付宝' });
    await open(order.sn);
    await confirmRevoke();
    await page.waitForSelector(outcome(order.sn, 'rejected'));
    const text = (await page.textContent(outcome(order.sn, 'rejected')))!;
    expect(text).toContain(`订单${order.sn}参与了活动并且无法撤销`);
    expect(text).toContain('UPAY_TCP_ORDER_NOT_REFUNDABLE');
    expect(text).toContain('钱款未变动');
    expect(text).toContain('退款');
    expect(sandbox.gateway.getOrder(order.sn)!.orderStatus).toBe('PAID');
    await shoot('07-rejected-gateway');
  });

  it('an order already voided elsewhere: 订单已在其他地方撤销 and 钱款已退回顾客, never 钱款未变动; no second void', async () => {
    const order = await seed(4100);
    // Another till (a second client of the gateway) voids it first; this till still holds it PAID.
    const other = new UpayClient({ apiDomain: sandbox.gateway.url });
    const voided = await other.revoke(rt.terminal.signer(), { sn: order.sn }).finally(() => other.close());
    expect(voided.ok && voided.value.resultCode).toBe('CANCEL_SUCCESS');
    await open(order.sn);
    await confirmRevoke();
    const shown = outcome(order.sn, 'voided-elsewhere');
    await page.waitForSelector(shown);
    const text = (await page.textContent(shown))!;
    expect(text).toContain('订单已在其他地方撤销');
    expect(text).toContain('钱款已退回顾客');
    expect(text).not.toContain('钱款未变动');
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(1);
  });

  it('yesterday’s order offers a refund, not a revoke (main refuses one with NOT_TODAY), in Chinese and in English', async () => {
    const order = await seed(990, { finishedAt: Date.now() - 86_400_000 });
    await open(order.sn, true);
    expect(await page.textContent(`[data-order="${order.sn}"]`)).toContain('不是今天的订单');
    expect(await page.locator(`[data-order="${order.sn}"] [data-action="revoke"]`).count()).toBe(0);
    expect(await page.getAttribute(`[data-order="${order.sn}"] [data-action="refund"]`, 'class')).toContain('btn--primary');
    expect(await handlers['revoke.request']({ sn: order.sn }, APP_WINDOW)).toMatchObject({ ok: true, value: { state: 'rejected', error: { code: 'NOT_TODAY' } } });
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(0);
    await shoot('08-not-today-refund');

    await switchLanguage();
    await page.waitForSelector('.app[data-lang="en"]');
    const en = (await page.textContent(`[data-order="${order.sn}"]`))!;
    expect(en).toContain("Not today's order");
    expect(await page.getAttribute('[data-status="mode"]', 'title')).toContain('SANDBOX');
    // The choice is kept in the main process as the signed-in operator's own language.
    const who = await page.getAttribute('[data-signed-in]', 'data-signed-in');
    expect(rt.operators.list().find((o) => o.name === who)?.language).toBe('en');
    await shoot('09-rejected-not-today-en');
    await switchLanguage();
    await page.waitForSelector('.app[data-lang="zh-CN"]');
  });

  it('gateway down: the revoke is queued, then revoked by itself when the gateway is back (no click)', async () => {
    const order = await seed(2000);
    await open(order.sn);
    await proxy.stop();
    await sleep(100);
    await confirmRevoke();
    await page.waitForSelector(outcome(order.sn, 'queued'));
    expect(await page.textContent(outcome(order.sn, 'queued'))).toContain('无需再次点击');
    await page.waitForSelector('[data-status="network"][data-online="false"]');
    await page.waitForSelector('[data-status="queue"][data-count="1"]');
    await shoot('10-queued-offline');

    // The deadline warning the engine raises near the end of the business day (crafted: the clock is real).
    const view = await handlers['revoke.forOrder']({ sn: order.sn }, APP_WINDOW);
    if (!view.ok || !view.value) throw new Error('revoke not found');
    await bridge.emit('revoke.warning', {
      revoke: view.value,
      deadlineAt: view.value.deadlineAt,
      messageZh: REVOKE_MESSAGES.DEADLINE_NEAR.zh,
      messageEn: REVOKE_MESSAGES.DEADLINE_NEAR.en,
    });
    await page.waitForSelector('[data-banner="deadline"]');
    expect(await page.textContent('[data-banner="deadline"]')).toContain(order.sn);
    await shoot('11-queued-deadline-warning');

    const clicksBefore = bridge.calls.length;
    await proxy.start();
    await page.waitForSelector(outcome(order.sn, 'revoked'), { timeout: 15_000 });
    await page.waitForSelector('[data-status="network"][data-online="true"]');
    await page.waitForSelector('[data-banner="deadline"]', { state: 'detached' });
    expect(bridge.calls.slice(clicksBefore).filter((c) => c.channel === 'revoke.request' || c.channel === 'queue.drain')).toEqual([]);
    expect(revokeCalls(order.sn)).toBe(1);
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(1);
  });

  it('a queued revoke whose business day ended shows the expired screen (refund instead)', async () => {
    const order = await seed(1500);
    await open(order.sn);
    await proxy.stop();
    await sleep(100);
    try {
      await confirmRevoke();
      await page.waitForSelector(outcome(order.sn, 'queued'));
      // Move the revoke's deadline into the past: the engine's own sweep expires it.
      databaseOf(rt).prepare('UPDATE revokes SET deadline_day = ? WHERE order_sn = ?').run(businessDay(Date.now() - 86_400_000), order.sn);
      rt.revokes.kick();
      await page.waitForSelector(outcome(order.sn, 'expired'));
      const text = (await page.textContent(outcome(order.sn, 'expired')))!;
      expect(text).toContain('钱款未变动');
      expect(text).toContain('退款');
      await shoot('12-expired');
    } finally {
      await proxy.start();
    }
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(0);
  });

  it('a double tap on confirm sends one revoke (and the backend dedupes a repeat)', async () => {
    const order = await seed(666);
    await open(order.sn);
    await page.click('[data-action="revoke"]');
    await page.waitForSelector('dialog.dialog[open]');
    // Two clicks in the same frame, before any re-render.
    await page.evaluate(`(() => { const b = document.querySelector('dialog [data-action="confirm"]'); b.click(); b.click(); })()`);
    await page.waitForSelector(outcome(order.sn, 'revoked'));
    expect(revokeCalls(order.sn)).toBe(1);
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(1);
    expect(await page.locator(`[data-order="${order.sn}"] [data-action="revoke"]`).count()).toBe(0);

    const first = await handlers['revoke.forOrder']({ sn: order.sn }, APP_WINDOW);
    const repeat = await handlers['revoke.request']({ sn: order.sn }, APP_WINDOW);
    expect(repeat.ok && first.ok && repeat.value.id === first.value?.id).toBe(true);
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(1);
  });

  it('an unanswered revoke is pending, then needs attention; "query again" resolves it', async () => {
    const order = await seed(4321, { payway: '1', paywayName: '支付宝' });
    await open(order.sn);
    sandbox.gateway.inject('revoke', { kind: 'drop_after' });
    sandbox.gateway.inject('query', { kind: 'envelope', resultCode: '500', errorCode: 'UNKNOWN_SYSTEM_ERROR' }, Infinity);
    try {
      await confirmRevoke();
      await page.waitForSelector(`${outcome(order.sn, 'pending')}[data-state="pending"]`);
      expect(await page.textContent(outcome(order.sn, 'pending'))).toContain('正在确认');
      await shoot('13-pending');
      await page.waitForSelector(outcome(order.sn, 'needs_attention'), { timeout: 15_000 });
      expect(await page.textContent(outcome(order.sn, 'needs_attention'))).toContain(order.sn);
      await page.waitForSelector('[data-status="queue"][data-count="1"]');
      await shoot('14-needs-attention');
    } finally {
      sandbox.gateway.clearFaults();
    }
    await page.click('[data-action="query-again"]');
    await page.waitForSelector(outcome(order.sn, 'revoked'));
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(1);
  });

  it('store setup shows the queue and no failed print jobs; the page had no errors and no CSP violations', async () => {
    await page.click('[data-tab="setup"]');
    await page.click('[data-setup-tab="queue"]');
    await page.waitForSelector('[data-card="queue"]');
    await page.waitForSelector('[data-status="queue"][data-count="0"]');
    await shoot('15-setup-after');
    expect(await page.evaluate('window.__cspViolations.slice()')).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('the crash page (error.html) renders in Chinese and English under the CSP', async () => {
    const errorPage = await browser.context.newPage();
    try {
      const errors: string[] = [];
      errorPage.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
      for (const vp of VIEWPORTS) {
        await errorPage.setViewportSize(vp);
        await errorPage.goto(`${env.server.url}error.html`);
        expect(await errorPage.textContent('body')).toContain('收银程序多次出错');
        expect(await errorPage.textContent('body')).toContain('The POS app stopped');
        expect(await errorPage.evaluate('document.documentElement.scrollWidth <= innerWidth')).toBe(true);
        await errorPage.screenshot({ path: path.join(SCREENSHOTS, `16-error-page-${vp.width}x${vp.height}.png`) });
      }
      expect(await errorPage.evaluate('window.__cspViolations.slice()')).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await errorPage.close();
    }
  });
});
