/**
 * The counter, round two (issue 23), in Chromium against the real runtime
 * and the sandbox, a cashier signed in and a supervisor who approves:
 * - every outcome state puts its title and money line at the top, full
 *   width, inside the window (800×600 and 1024×768, zh-CN and en, light and
 *   dark), readable (contrast ≥ 4.5:1 computed from the rendered colours);
 * - one approval sheet for revoke and refund: amount and order pinned,
 *   confirm disabled until the PIN is complete, a wrong PIN keeps the sheet
 *   and the approver and says how many tries are left; tap counts;
 * - one status per order: only the actions that can succeed;
 * - search finds what the list shows; 7 rows with the order number at 800×600;
 * - a changed order updates its row only (no reload of the day);
 * - the day report's print button in view.
 * Screenshots: test-output/screenshots/money-*.png.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paidOrderInput } from '../../main/sandbox';
import type { SeedOrderInput } from '../../main/sandbox/gateway';
import type { RefundView, RevokeView } from '../../main/ipc/contract';
import { ensureOperator, TEST_PINS } from '../support/operators';
import { SCREENSHOTS, startApp, type AppEnv } from './harness';
import { CONTRAST } from './layout';

const SMALL = { width: 800, height: 600 };
const MEDIUM = { width: 1024, height: 768 };
const DAY_MS = 86_400_000;

/** Page-side: the title and money line of the outcome on screen, their boxes, and their contrast against what is behind them. */
const OUTCOME_PROBE = `(() => {
  ${CONTRAST}
  const box = (el) => { const r = el.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width }; };
  const outcome = document.querySelector('[data-outcome]');
  if (!outcome) return null;
  const title = outcome.querySelector('.outcome__title');
  const money = outcome.querySelector('.money');
  const detail = document.querySelector('.detail');
  return { state: outcome.dataset.outcome, title: box(title), money: box(money), detail: box(detail), outcomeTop: outcome.getBoundingClientRect().top,
    titleContrast: contrast(title), moneyContrast: contrast(money), innerHeight: window.innerHeight, innerWidth: window.innerWidth };
})()`;

interface OutcomeProbe {
  state: string;
  title: { top: number; bottom: number; left: number; right: number; width: number };
  money: { top: number; bottom: number; left: number; right: number; width: number };
  detail: { width: number };
  outcomeTop: number;
  titleContrast: number;
  moneyContrast: number;
  innerHeight: number;
  innerWidth: number;
}

describe('the counter, round two (Chromium, real runtime, sandbox gateway)', () => {
  let env: AppEnv;
  let n = 0;

  beforeAll(async () => {
    env = await startApp({ viewport: MEDIUM, deviceId: 'e2e-money', role: 'cashier' });
    await ensureOperator(env.rt, 'supervisor', '李主管');
    const v = env.sandbox.gateway.vendor;
    await env.rt.terminal.activate({ appId: v.appId, code: env.sandbox.gateway.activationCodes()[0]!, deviceId: 'e2e-money', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'e2e');
    await env.rt.terminal.checkin('e2e');
    for (let i = 0; i < 40; i++) record(1000 + i * 7);
    await env.page.goto(env.server.url);
    await env.page.waitForSelector('.order[data-sn]');
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const page = () => env.page;

  function record(totalCents: number, extra: Partial<SeedOrderInput> = {}) {
    const o = env.sandbox.gateway.seedOrder({ terminalSn: env.rt.terminal.info()!.terminalSn, totalCents, subject: `拿铁咖啡 ${++n}`, operator: '小王', ...extra });
    env.rt.orders.record(paidOrderInput(o));
    return o;
  }

  /** The app's own signal that a frame with the latest state has been laid out. */
  const settled = () => page().evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');

  /** Back to the list (below 1400 px the open order stands in its place), search box cleared. */
  async function backToList(): Promise<void> {
    if (await page().isVisible('[data-action="back"]')) await page().click('[data-action="back"]');
    await page().fill('#order-search', '');
  }

  async function open(sn: string): Promise<void> {
    await backToList();
    await page().fill('#order-search', sn);
    await page().click(`.order[data-sn="${sn}"]`);
    await page().waitForSelector(`[data-order="${sn}"]`);
  }

  async function setLanguage(lang: 'zh-CN' | 'en'): Promise<void> {
    if ((await page().getAttribute('.app', 'data-lang')) === lang) return;
    await page().click('[data-action="menu"]');
    await page().click('[data-action="language"]');
    await page().click('[data-action="close-sheet"]');
    await page().waitForSelector(`.app[data-lang="${lang}"]`);
  }

  /** Every outcome shown on an order, at both sizes, both languages, both themes: top, full width, in view, readable. */
  async function probeOutcome(name: string): Promise<void> {
    for (const lang of ['zh-CN', 'en'] as const) {
      await setLanguage(lang);
      for (const scheme of ['light', 'dark'] as const) {
        await page().emulateMedia({ colorScheme: scheme });
        for (const size of [SMALL, MEDIUM]) {
          await page().setViewportSize(size);
          await settled();
          const p = (await page().evaluate(OUTCOME_PROBE)) as OutcomeProbe;
          const where = `${name} ${lang} ${scheme} ${size.width}x${size.height}`;
          expect(p, where).not.toBeNull();
          for (const [what, b] of [['title', p.title], ['money line', p.money]] as const) {
            expect(b.top, `${where}: ${what} top`).toBeGreaterThanOrEqual(0);
            expect(b.bottom, `${where}: ${what} bottom`).toBeLessThanOrEqual(p.innerHeight);
            expect(b.right, `${where}: ${what} right`).toBeLessThanOrEqual(p.innerWidth);
            // Full width: as wide as the order's panel, less the outcome's own padding and border.
            expect(b.width, `${where}: ${what} width`).toBeGreaterThan(p.detail.width * 0.85);
          }
          expect(p.money.top, `${where}: money line below the title`).toBeGreaterThan(p.title.top);
          // At the top: the outcome starts in the upper third of the window.
          expect(p.outcomeTop, `${where}: outcome at the top`).toBeLessThan(p.innerHeight / 3);
          expect(p.titleContrast, `${where}: title contrast`).toBeGreaterThanOrEqual(4.5);
          expect(p.moneyContrast, `${where}: money line contrast`).toBeGreaterThanOrEqual(4.5);
          if (lang === 'zh-CN' && scheme === 'dark' && size === SMALL) {
            await page().screenshot({ path: path.join(SCREENSHOTS, `money-outcome-${name}-zh-CN-dark-800x600.png`), animations: 'disabled' });
          }
        }
      }
    }
    await page().emulateMedia({ colorScheme: 'light' });
    await page().setViewportSize(MEDIUM);
    await setLanguage('zh-CN');
  }

  it('every revoke and refund outcome: title and money line first, full width, in view, contrast ≥ 4.5:1', async () => {
    const o = record(5000);
    await backToList();
    await page().click('[data-action="refresh"]');
    await open(o.sn);
    const now = Date.now();
    const revoke: RevokeView = {
      id: 90_001,
      orderSn: o.sn,
      clientSn: o.clientSn,
      state: 'queued',
      outcome: 'queued',
      operator: '小王',
      operatorId: null,
      approverId: null,
      approverName: null,
      requestedAt: now,
      updatedAt: now,
      attempts: 0,
      queries: 0,
      deadlineDay: '2099-01-01',
      deadlineAt: now + DAY_MS,
      revokedAt: null,
      error: null,
    };
    const states: Array<RevokeView['state']> = ['queued', 'pending', 'needs_attention', 'rejected', 'expired', 'revoked'];
    let t = now;
    for (const state of states) {
      const view: RevokeView = {
        ...revoke,
        state,
        outcome: state === 'sending' ? 'pending' : state,
        updatedAt: ++t,
        revokedAt: state === 'revoked' ? t : null,
        error:
          state === 'rejected'
            ? { code: 'GATEWAY_REFUSED', messageZh: '收钱吧拒绝了撤销。', messageEn: 'Upay refused the revoke.', gatewayCode: 'UPAY_CANCEL_ORDER_FAIL', gatewayMessage: '订单参与了优惠活动，不能撤销' }
            : null,
      };
      await env.bridge.emit('revoke.updated', view);
      await page().waitForSelector(`[data-order="${o.sn}"] [data-outcome="${state === 'sending' ? 'pending' : state}"]`);
      await probeOutcome(`revoke-${state}`);
    }

    const r = record(5100);
    await backToList();
    await page().click('[data-action="refresh"]');
    await open(r.sn);
    const refund: RefundView = {
      id: 80_001,
      orderSn: r.sn,
      clientSn: r.clientSn,
      requestNo: '1',
      amountCents: 1234,
      state: 'queued',
      outcome: 'queued',
      operatorId: null,
      operatorName: '小王',
      approverId: null,
      approverName: '李主管',
      requestedAt: now,
      updatedAt: now,
      attempts: 0,
      queries: 0,
      refundedAt: null,
      error: null,
      lastResultCode: null,
    };
    for (const state of ['queued', 'pending', 'needs_attention', 'rejected', 'refunded'] as const) {
      await env.bridge.emit('refund.updated', { ...refund, state, outcome: state, updatedAt: ++t, refundedAt: state === 'refunded' ? t : null });
      await page().waitForSelector(`[data-order="${r.sn}"] [data-outcome="refund-${state}"]`);
      await probeOutcome(`refund-${state}`);
    }
    // A refunded outcome states the amount that moved.
    expect(await page().textContent(`[data-order="${r.sn}"] .money`)).toContain('￥12.34');
  });

  it('revoke with approval: one sheet, amount and order pinned in view at 800×600, confirm disabled until the PIN is complete, a wrong PIN keeps the sheet (tries left), 7 taps', async () => {
    env.rt.updateSettings({ revokeApproval: 'always' }, 'e2e');
    await page().reload();
    await page().waitForSelector('.order[data-sn]');
    const o = record(6600);
    await backToList();
    await page().click('[data-action="refresh"]');
    await page().setViewportSize(SMALL);
    await open(o.sn);
    let taps = 1; // the order in the list
    await page().click('[data-action="revoke"]');
    taps++;
    await page().waitForSelector('dialog.money-sheet[open] [data-pinpad="approval"]');
    // What is approved is in view, and so is the confirm button; it stays disabled until the PIN is complete.
    const inView = async (sel: string) =>
      page().evaluate(`(() => { const r = document.querySelector(${JSON.stringify(sel)}).getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; })()`);
    for (const sel of ['dialog[open] .money-sheet__amount', 'dialog[open] .money-sheet__order', 'dialog[open] [data-action="confirm"]', 'dialog[open] [data-pin-key="0"]', 'dialog[open] [data-approver="李主管"]']) {
      expect(await inView(sel), sel).toBe(true);
    }
    expect(await page().getAttribute('dialog[open] .money-sheet__amount', 'data-amount-cents')).toBe('6600');
    expect(await page().isDisabled('dialog[open] [data-action="confirm"]')).toBe(true);
    await page().screenshot({ path: path.join(SCREENSHOTS, 'money-approval-sheet-zh-CN-800x600.png'), animations: 'disabled' });
    // Enter with no PIN sends nothing.
    await page().keyboard.press('Enter');
    expect(env.bridge.calls.filter((c) => c.channel === 'revoke.request')).toHaveLength(0);
    // A wrong PIN: the sheet stays, the approver stays chosen, tries left are said.
    for (const d of '0000') await page().click(`dialog[open] [data-pin-key="${d}"]`);
    await page().click('dialog[open] [data-action="confirm"]');
    await page().waitForSelector('dialog[open] [data-tries-left]');
    expect(Number(await page().getAttribute('dialog[open] [data-tries-left]', 'data-tries-left'))).toBeGreaterThan(0);
    expect(await page().getAttribute('dialog[open] [data-approver="李主管"]', 'aria-checked')).toBe('true');
    await page().screenshot({ path: path.join(SCREENSHOTS, 'money-approval-wrong-pin-zh-CN-800x600.png'), animations: 'disabled' });
    expect(env.sandbox.gateway.effects('revoke', o.sn)).toBe(0);
    // The right PIN: 4 taps and confirm.
    for (const d of TEST_PINS.supervisor) {
      await page().click(`dialog[open] [data-pin-key="${d}"]`);
      taps++;
    }
    await page().click('dialog[open] [data-action="confirm"]');
    taps++;
    await page().waitForSelector(`[data-order="${o.sn}"] [data-outcome="revoked"]`);
    expect(taps).toBe(7);
    expect(env.sandbox.gateway.effects('revoke', o.sn)).toBe(1);
    env.rt.updateSettings({ revokeApproval: 'above' }, 'e2e');
    await page().setViewportSize(MEDIUM);
  });

  it('a partial refund with approval on the keypad in 10 taps (scan, 退款, 1-2-3-4, PIN, confirm); the order then states 已退 and 剩余可退', async () => {
    const o = record(5000, { finishedAt: Date.now() - 2 * DAY_MS });
    await page().setViewportSize(SMALL);
    await backToList();
    // The customer's receipt QR, scanned: the order opens (no tap). The scanner's keys arrive together, as a
    // scanner sends them, whatever the load on this machine.
    await page().evaluate(`(() => { for (const key of [...${JSON.stringify(o.sn)}, 'Enter']) document.body.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true })); })()`);
    await page().waitForSelector(`[data-order="${o.sn}"]`);
    let taps = 0;
    // An older order: refund is the action; revoke is not offered.
    expect(await page().locator(`[data-order="${o.sn}"] [data-action="revoke"]`).count()).toBe(0);
    await page().click(`[data-order="${o.sn}"] [data-action="refund"]`);
    taps++;
    await page().waitForSelector('dialog.money-sheet[open] [data-amountpad]');
    for (const k of '1234') {
      await page().click(`dialog[open] [data-amount-key="${k}"]`);
      taps++;
    }
    expect(await page().getAttribute('dialog[open] .money-sheet__amount', 'data-amount-cents')).toBe('1234');
    expect(await page().isDisabled('dialog[open] [data-action="confirm"]')).toBe(true);
    for (const d of TEST_PINS.supervisor) {
      await page().click(`dialog[open] [data-pin-key="${d}"]`);
      taps++;
    }
    await page().screenshot({ path: path.join(SCREENSHOTS, 'money-refund-with-approval-zh-CN-800x600.png'), animations: 'disabled' });
    await page().click('dialog[open] [data-action="confirm"]');
    taps++;
    await page().waitForSelector(`[data-order="${o.sn}"] [data-outcome="refund-refunded"]`);
    expect(taps).toBe(10);
    expect(env.sandbox.gateway.getOrder(o.sn)!.netCents).toBe(5000 - 1234);
    await page().waitForSelector(`[data-order="${o.sn}"] [data-refunded-cents="1234"][data-refundable-cents="3766"]`);
    expect(await page().textContent(`[data-order="${o.sn}"] .detail__refunded`)).toBe('已退 ￥12.34，剩余可退 ￥37.66');
    expect(await page().textContent(`[data-order="${o.sn}"] [data-badge="status"]`)).toBe('部分退款');
    await page().screenshot({ path: path.join(SCREENSHOTS, 'money-refund-done-zh-CN-800x600.png'), animations: 'disabled' });
    await page().setViewportSize(MEDIUM);
  });

  it('search finds the shown tail digits and amounts without a decimal point; a refunded filter; 7+ rows with the order number at 800×600', async () => {
    const o = record(8800);
    // One of today's orders partly refunded (the engine, as another till would), for the filter.
    const part = record(3000);
    await env.rt.refunds.request({ sn: part.sn }, 500, { operatorId: null, operatorName: '小王', approverId: null, approverName: null }, 'e2e');
    await page().click('[data-tab="cashier"]');
    await backToList();
    await page().click('[data-action="refresh"]');
    await page().waitForSelector(`.order[data-sn="${o.sn}"]`);
    const tail = (await page().textContent(`.order[data-sn="${o.sn}"] .order__sn`))!.replace('…', '');
    await page().fill('#order-search', tail);
    await page().waitForSelector(`.order[data-sn="${o.sn}"]`);
    await page().fill('#order-search', '88');
    await page().waitForSelector(`.order[data-sn="${o.sn}"]`);
    await page().fill('#order-search', '');
    await page().selectOption('[data-filter="status"]', 'refunded');
    await page().waitForSelector('.order[data-status="partial_refunded"]');
    expect(await page().locator('.order:not([data-status="partial_refunded"]):not([data-status="refunded"])').count()).toBe(0);
    await page().selectOption('[data-filter="status"]', 'all');
    await page().setViewportSize(SMALL);
    await settled();
    const shown = await page().evaluate(`(() => {
      const vp = document.querySelector('.orders-viewport').getBoundingClientRect();
      return [...document.querySelectorAll('.order')].filter((r) => { const b = r.getBoundingClientRect(); const sn = r.querySelector('.order__sn').getBoundingClientRect();
        return b.top >= vp.top - 1 && b.bottom <= Math.min(vp.bottom, window.innerHeight) + 1 && sn.width > 0; }).length;
    })()`);
    expect(shown).toBeGreaterThanOrEqual(7);
    await page().screenshot({ path: path.join(SCREENSHOTS, 'money-list-zh-CN-800x600.png'), animations: 'disabled' });
    await page().setViewportSize(MEDIUM);
  });

  it('a changed order updates its own row (orders.changed), not the whole day', async () => {
    const o = record(4321);
    await backToList();
    await page().click('[data-action="refresh"]');
    await page().waitForSelector(`.order[data-sn="${o.sn}"][data-status="paid"]`);
    const lists = () => env.bridge.calls.filter((c) => c.channel === 'orders.list').length;
    const before = lists();
    await env.rt.revokes.request({ sn: o.sn }, '小王', 'e2e');
    await page().waitForSelector(`.order[data-sn="${o.sn}"][data-status="revoked"]`);
    expect(lists()).toBe(before);
  });

  it('the day report: 打印日结 in view at 1024×768 and 800×600', async () => {
    await backToList();
    for (const size of [MEDIUM, SMALL]) {
      await page().setViewportSize(size);
      await page().click('[data-action="day-report"]');
      await page().waitForSelector('[data-day-report] [data-action="print-day-report"]');
      await settled();
      const box = await page().locator('[data-action="print-day-report"]').boundingBox();
      expect(box!.y + box!.height).toBeLessThanOrEqual(size.height);
      expect(box!.y).toBeGreaterThanOrEqual(0);
      await page().screenshot({ path: path.join(SCREENSHOTS, `money-day-report-zh-CN-${size.width}x${size.height}.png`), animations: 'disabled' });
      await page().click('[data-action="close-day-report"]');
    }
    await page().setViewportSize(MEDIUM);
    expect(env.pageErrors).toEqual([]);
  });
});
