/**
 * Refunds and the day report in the cashier UI: Chromium on the renderer
 * bundle, the real IPC handlers, runtime and sandbox gateway (harness.ts).
 * A cashier is signed in at the page's window and a supervisor approves each
 * refund with a PIN. Screenshots in test-output/screenshots/ (r1-r6): a refund of an earlier
 * day's order, a partial refund, refund offered from the refused and
 * expired revoke screens, and the day report.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { businessDay } from '../../main/common/time';
import { createHandlerSet, forwardEvents, type Handlers } from '../../main/ipc/handlers';
import { createRuntime, databaseOf, type Runtime } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import type { SeedOrderInput } from '../../main/sandbox/gateway';
import { closedPort } from '../support/chaos-net';
import { ensureOperator, TEST_PINS } from '../support/operators';
import { ensureUiBuilt, installBridge, launch, RENDERER_DIST, SCREENSHOTS, serveStatic, type Browser, type StaticServer } from './harness';
import { LAYOUT_PROBE, type LayoutProbe } from './layout';

const DAY_MS = 86_400_000;

describe('refunds and the day report (Chromium, real runtime, sandbox gateway)', () => {
  let sandbox: Sandbox;
  let rt: Runtime;
  let server: StaticServer;
  let browser: Browser;
  let unforward: () => void;
  let dataDir: string;
  let supervisorId = 0;
  let handlers: Handlers;
  const errors: string[] = [];
  const page = () => browser.page;

  beforeAll(async () => {
    await ensureUiBuilt();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    sandbox = await createSandbox();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-e2e-refund-'));
    rt = createRuntime({ dataDir, apiDomain: sandbox.gateway.url, printer: 'virtual', virtualPrinterUri: sandbox.printer.uri, timeoutMs: 5_000 });
    const v = sandbox.gateway.vendor;
    await rt.terminal.activate({ appId: v.appId, code: sandbox.gateway.activationCodes()[0]!, deviceId: 'e2e-refund', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'e2e');
    await rt.terminal.checkin('e2e');
    // The page is one window with a cashier signed in; refunds need a supervisor's PIN (the default policy).
    const set = createHandlerSet(rt, { mode: 'sandbox', version: '0.1.0-e2e', vendor: v, actor: 'e2e' });
    const cashierId = await ensureOperator(rt, 'cashier', '小王');
    supervisorId = await ensureOperator(rt, 'supervisor', '李主管');
    const signedIn = await set.handlers['session.signIn']({ operatorId: cashierId, pin: TEST_PINS.cashier }, { windowId: 1 });
    if (!signedIn.ok) throw new Error(signedIn.error.message);
    handlers = set.handlers;
    server = await serveStatic(RENDERER_DIST);
    browser = await launch({ width: 1024, height: 768 });
    page().setDefaultTimeout(10_000);
    page().on('pageerror', (err) => errors.push(err.message));
    const bridge = await installBridge(browser.context, page(), handlers);
    unforward = forwardEvents(rt.events, (event, payload) => void bridge.emit(event, payload).catch(() => {}), set.orderRow);
    await page().goto(server.url);
    await page().waitForSelector('[data-tab="cashier"]');
  }, 120_000);

  afterAll(async () => {
    unforward?.();
    await browser?.close();
    await server?.close();
    await rt?.close();
    await sandbox?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The refund panel, the refund offers and the day report at the counter's sizes: checked for overflow, clipping and touch-sized targets, then photographed. */
  async function shoot(name: string): Promise<void> {
    for (const vp of [{ width: 800, height: 600 }, { width: 1024, height: 768 }]) {
      await page().setViewportSize(vp);
      await page().evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
      const probe = (await page().evaluate(LAYOUT_PROBE)) as LayoutProbe;
      const where = `${name} at ${vp.width}x${vp.height}`;
      expect(probe.scrollWidth, where).toBeLessThanOrEqual(probe.innerWidth);
      expect(probe.outside, where).toEqual([]);
      expect(probe.clipped, where).toEqual([]);
      expect(probe.small, where).toEqual([]);
      await page().screenshot({ path: path.join(SCREENSHOTS, `${name}-${vp.width}x${vp.height}.png`), animations: 'disabled' });
    }
  }

  async function seed(totalCents: number, extra: Partial<SeedOrderInput> = {}) {
    const order = sandbox.gateway.seedOrder({ terminalSn: rt.terminal.info()!.terminalSn, totalCents, subject: '拿铁咖啡', operator: '小王', ...extra });
    await rt.orders.import({ sn: order.sn }, 'e2e');
    return order;
  }

  /** Below 1400 px the open order stands in the list's place: back to the list first. */
  async function backToList(): Promise<void> {
    if (await page().isVisible('[data-action="back"]')) await page().click('[data-action="back"]');
  }

  async function open(sn: string): Promise<void> {
    await page().click('[data-tab="cashier"]');
    await backToList();
    await page().fill('#order-search', sn);
    await page().click(`.order[data-sn="${sn}"]`);
    await page().waitForSelector(`[data-order="${sn}"]`);
  }

  /** On the money sheet: the amount on its keypad (cash-register digits; none: the refundable amount), the supervisor's PIN, confirm. */
  async function refund(amountKeys?: string): Promise<void> {
    await page().waitForSelector('dialog.money-sheet[open] [data-amountpad]');
    if (amountKeys !== undefined) for (const k of amountKeys) await page().click(`dialog[open] [data-amount-key="${k}"]`);
    // The one supervisor is chosen already.
    for (const d of TEST_PINS.supervisor) await page().click(`dialog[open] [data-pinpad="approval"] [data-pin-key="${d}"]`);
    await page().click('dialog[open] [data-action="confirm"]');
  }

  it('refunds an order from an earlier day: amount defaults to the refundable amount, 退款凭证 shown and printed', async () => {
    const order = await seed(4200, { finishedAt: Date.now() - 3 * DAY_MS, payway: '3', paywayName: '微信' });
    await open(order.sn);
    await page().click(`[data-order="${order.sn}"] [data-action="refund"]`);
    await page().waitForSelector('dialog.money-sheet[open]');
    expect(await page().getAttribute('dialog[open] .money-sheet__amount', 'data-amount-cents')).toBe('4200');
    await shoot('r1-refund-form-earlier-day');
    await refund();
    await page().waitForSelector(`[data-order="${order.sn}"] [data-outcome="refund-refunded"] .receipt-frame .receipt`);
    expect(await page().textContent(`[data-order="${order.sn}"] [data-outcome="refund-refunded"]`)).toContain('退款凭证');
    expect(sandbox.gateway.effects('refund', order.sn)).toBe(1);
    expect(sandbox.gateway.getOrder(order.sn)!.orderStatus).toBe('REFUNDED');
    // Who refunded (the signed-in cashier) and who approved (the supervisor's PIN) are on the receipt.
    const receipt = (await page().textContent(`[data-order="${order.sn}"] .receipt-frame`))!;
    expect(receipt).toContain('小王');
    expect(receipt).toContain('李主管');
    await shoot('r2-refunded-earlier-day');
  });

  it('a partial refund leaves the rest refundable; more than the rest cannot be confirmed (and main refuses it with no call)', async () => {
    const order = await seed(5000);
    await open(order.sn);
    await page().click(`[data-order="${order.sn}"] [data-action="refund"]`);
    await refund('1234');
    await page().waitForSelector(`[data-order="${order.sn}"] [data-outcome="refund-refunded"]`);
    expect(sandbox.gateway.effects('refund', order.sn)).toBe(1);
    await page().waitForSelector(`[data-order="${order.sn}"] [data-refundable-cents="3766"]`);
    await page().click(`[data-order="${order.sn}"] [data-action="refund"]`);
    await page().waitForSelector('dialog.money-sheet[open] [data-amountpad]');
    for (const k of '4000') await page().click(`dialog[open] [data-amount-key="${k}"]`);
    await page().waitForSelector('dialog[open] [data-amount-too-high]');
    expect(await page().isDisabled('dialog[open] [data-action="confirm"]')).toBe(true);
    await shoot('r3-partial-refund');
    await page().click('dialog[open] [data-action="cancel"]');
    const direct = await handlers['refund.request']({ sn: order.sn, amountCents: 4000, approval: { operatorId: supervisorId, pin: TEST_PINS.supervisor } }, { windowId: 1 });
    expect(direct).toMatchObject({ ok: false, error: { code: 'REFUND_AMOUNT_TOO_HIGH' } });
    expect(sandbox.gateway.effects('refund', order.sn)).toBe(1);
  });

  it('the refused revoke screen offers 退款 directly', async () => {
    const order = await seed(3800, { promotion: true });
    await open(order.sn);
    await page().click('[data-action="revoke"]');
    await page().waitForSelector('dialog.dialog[open]');
    await page().keyboard.press('Enter');
    await page().waitForSelector(`[data-order="${order.sn}"] [data-outcome="rejected"]`);
    // Refund is now the action; a second revoke is not offered.
    expect(await page().locator(`[data-order="${order.sn}"] [data-action="revoke"]`).count()).toBe(0);
    await page().click(`[data-order="${order.sn}"] [data-action="refund"]`);
    await page().waitForSelector('dialog.money-sheet[open]');
    await shoot('r4-refused-offers-refund');
    await refund();
    await page().waitForSelector(`[data-order="${order.sn}"] [data-outcome="refund-refunded"]`);
    expect(sandbox.gateway.effects('refund', order.sn)).toBe(1);
  });

  it('the expired revoke screen offers 退款 directly', async () => {
    const order = await seed(1500);
    // A revoke queued yesterday that the day's end expired (the engine's own sweep), then the cashier opens the order.
    const down = createRuntime({ dataDir, apiDomain: `http://127.0.0.1:${await closedPort()}`, printer: 'none', startWorkers: false, timeoutMs: 500 });
    try {
      const queued = await down.revokes.request({ sn: order.sn }, '小王', 'e2e');
      expect(queued.state).toBe('queued');
    } finally {
      await down.close();
    }
    databaseOf(rt).prepare('UPDATE revokes SET deadline_day = ? WHERE order_sn = ?').run(businessDay(Date.now() - DAY_MS), order.sn);
    rt.revokes.kick();
    await open(order.sn);
    await page().waitForSelector(`[data-order="${order.sn}"] [data-outcome="expired"]`);
    await page().waitForSelector(`[data-order="${order.sn}"] [data-action="refund"]`);
    await shoot('r5-expired-offers-refund');
    await page().click(`[data-order="${order.sn}"] [data-action="refund"]`);
    await refund();
    await page().waitForSelector(`[data-order="${order.sn}"] [data-outcome="refund-refunded"]`);
    expect(sandbox.gateway.effects('refund', order.sn)).toBe(1);
    expect(sandbox.gateway.effects('revoke', order.sn)).toBe(0);
  });

  it('the day report (日结) sums the day and prints it', async () => {
    await page().click('[data-tab="cashier"]');
    await backToList();
    await page().click('[data-action="day-report"]');
    await page().waitForSelector('[data-day-report] [data-reconciled="true"]');
    const report = rt.dayReport();
    expect(await page().getAttribute('[data-net-cents]', 'data-net-cents')).toBe(String(report.netCents));
    expect(report.refunds.count).toBe(4);
    await shoot('r6-day-report');
    const before = sandbox.printer.jobs().length;
    await page().click('[data-action="print-day-report"]');
    const jobs = await sandbox.printer.waitForJobs(before + 1, 10_000);
    expect(jobs.at(-1)!.decoded.text).toContain('日结');
    await page().click('[data-action="close-day-report"]');
    expect(errors).toEqual([]);
  });
});
