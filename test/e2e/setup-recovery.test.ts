/**
 * Issue 23, items 4 and 7, in Chromium against the real runtime, the
 * sandbox gateway and the virtual printer:
 * - a cashier recovers a failed receipt from the counter: a hung printer is
 *   shown in red with what to do (not a grey 状态未知), the receipt of a
 *   revoke fails, the printer comes back, the cashier's 重试打印 prints it;
 *   store IT's failed-jobs list says what went wrong in zh-CN, not the raw
 *   error;
 * - store IT's setup is tabs that fit 800×600, every field labelled, the
 *   approval policy (revoke, refund, payment) editable there (read back
 *   through settings), 停用 asks first (cancel keeps the operator, confirm
 *   disables);
 * - main refuses the policy settings to a cashier's window.
 * Screenshots: test-output/screenshots/setup-*.png.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paidOrderInput } from '../../main/sandbox';
import { ensureOperator, newWindow, TEST_PINS } from '../support/operators';
import { APP_WINDOW, SCREENSHOTS, startApp, type AppEnv } from './harness';
import { LAYOUT_PROBE, type LayoutProbe } from './layout';

const SMALL = { width: 800, height: 600 };
const MEDIUM = { width: 1024, height: 768 };
/** A write to a hung printer times out after the transport's 10 s; the status query's 1.5 s before it. */
const FAIL_WAIT_MS = 40_000;

/** Page-side: visible form controls without a label (a <label>, aria-label or aria-labelledby). */
const UNLABELLED_PROBE = `(() => {
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el); return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  return [...document.querySelectorAll('.setup input, .setup select, .setup textarea')]
    .filter((el) => el.type !== 'hidden' && visible(el))
    .filter((el) => !(el.labels && [...el.labels].some((l) => l.textContent.trim())) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 80));
})()`;

/** Page-side: the tab bar's box. */
const TABS_PROBE = `(() => { const r = document.querySelector('.setup__tabs').getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, innerWidth: window.innerWidth, innerHeight: window.innerHeight }; })()`;

describe('recovery from the counter and store IT setup (Chromium, real runtime, sandbox gateway, virtual printer)', () => {
  let env: AppEnv;
  let supervisorId: number;
  let cashierId: number;
  let storeItId: number;
  let n = 0;

  beforeAll(async () => {
    // One send before a receipt is 'failed', so a hung printer fails it within one write timeout.
    env = await startApp({ viewport: MEDIUM, deviceId: 'e2e-setup-recovery', role: 'cashier', runtime: { printWorker: { backoffBaseMs: 100, pollMs: 200, maxAttempts: 1 } } });
    cashierId = await ensureOperator(env.rt, 'cashier');
    supervisorId = await ensureOperator(env.rt, 'supervisor', '李主管');
    storeItId = await ensureOperator(env.rt, 'store_it');
    await ensureOperator(env.rt, 'cashier', '小李');
    const v = env.sandbox.gateway.vendor;
    await env.rt.terminal.activate({ appId: v.appId, code: env.sandbox.gateway.activationCodes()[0]!, deviceId: 'e2e-setup-recovery', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'e2e');
    await env.rt.terminal.checkin('e2e');
    await env.page.goto(env.server.url);
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const page = () => env.page;
  /** The app's own signal that a frame with the latest state has been laid out. */
  const settled = () => page().evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  const approval = () => ({ operatorId: supervisorId, pin: TEST_PINS.supervisor });

  function record(totalCents: number) {
    const o = env.sandbox.gateway.seedOrder({ terminalSn: env.rt.terminal.info()!.terminalSn, totalCents, subject: `拿铁咖啡 ${++n}`, operator: '小王' });
    env.rt.orders.record(paidOrderInput(o));
    return o;
  }

  /** Resolves once `count` print jobs are 'failed', checked on the runtime's own print.updated events. */
  function failedJobs(count: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = async (): Promise<void> => {
        const r = await env.handlers['print.jobs']({ state: 'failed' }, APP_WINDOW);
        if (r.ok && r.value.length >= count) {
          env.rt.events.off('print.updated', onUpdate);
          clearTimeout(timer);
          resolve();
        }
      };
      const onUpdate = (): void => void check();
      const timer = setTimeout(() => {
        env.rt.events.off('print.updated', onUpdate);
        reject(new Error(`fewer than ${count} failed print jobs`));
      }, FAIL_WAIT_MS);
      env.rt.events.on('print.updated', onUpdate);
      void check();
    });
  }

  async function open(sn: string): Promise<void> {
    if (await page().isVisible('[data-action="back"]')) await page().click('[data-action="back"]');
    await page().click('[data-action="refresh"]');
    await page().fill('#order-search', sn);
    await page().click(`.order[data-sn="${sn}"]`);
    await page().waitForSelector(`[data-order="${sn}"]`);
  }

  it('a cashier retries a failed receipt from the counter; printer trouble in red with what to do', async () => {
    await page().waitForSelector('.order[data-sn], [data-action="refresh"]');
    const revoked = record(4200);
    const refunded = record(5000);
    env.sandbox.printer.setHang(true);
    const before = env.sandbox.printer.jobs().length;

    // The money moves for real; their receipts meet a printer that accepts and never reads.
    expect(await env.handlers['revoke.request']({ sn: revoked.sn, approval: approval() }, APP_WINDOW)).toMatchObject({ ok: true, value: { state: 'revoked' } });
    expect(await env.handlers['refund.request']({ sn: refunded.sn, amountCents: 1234, approval: approval() }, APP_WINDOW)).toMatchObject({ ok: true, value: { state: 'refunded' } });

    await open(revoked.sn);
    const failed = `[data-order="${revoked.sn}"] [data-receipt-state="failed"]`;
    await page().waitForSelector(failed, { timeout: FAIL_WAIT_MS });
    // What to do, and the button to do it, right there for a cashier.
    expect(await page().textContent(`${failed} .receipt-panel__failed`)).toContain('重试打印');
    await page().waitForSelector(`${failed} [data-action="retry-print"]`);

    // The hung printer is trouble: red, not a grey 状态未知, with steps.
    const pill = page().locator('[data-status="printer"]');
    await page().waitForSelector('[data-status="printer"].pill--bad');
    expect(await pill.getAttribute('class')).not.toContain('pill--muted');
    await pill.click();
    await page().waitForSelector('[data-printer-help]');
    expect(await page().getAttribute('[data-printer-help]', 'class')).toContain('notice--error');
    expect((await page().textContent('[data-printer-help]'))!.length).toBeGreaterThan(10);
    if (await page().isVisible('[data-action="close-sheet"]')) await page().click('[data-action="close-sheet"]');
    await page().setViewportSize(SMALL);
    await settled();
    await page().screenshot({ path: path.join(SCREENSHOTS, 'setup-retry-print-failed-zh-CN-800x600.png'), animations: 'disabled' });

    // Both receipts (the revoke's and the refund's) have failed before the printer comes back.
    await failedJobs(2);
    // The printer comes back; the cashier (not store IT) retries, and the receipt prints.
    env.sandbox.printer.setHang(false);
    expect(env.sandbox.printer.jobs()).toHaveLength(before);
    await page().click(`${failed} [data-action="retry-print"]`);
    const printed = await env.sandbox.printer.waitForJobs(before + 1, FAIL_WAIT_MS);
    expect(printed.length).toBe(before + 1);
    // The receipt the printer took is the revoke's.
    expect(printed.at(-1)!.decoded.text).toContain(revoked.sn.slice(-6));
    expect(env.bridge.calls.filter((c) => c.channel === 'print.retry')).toHaveLength(1);
    await page().waitForSelector(`[data-order="${revoked.sn}"] [data-receipt-state="printed"]`, { timeout: FAIL_WAIT_MS });
    await settled();
    await page().screenshot({ path: path.join(SCREENSHOTS, 'setup-retry-print-recovered-zh-CN-800x600.png'), animations: 'disabled' });
    await page().setViewportSize(MEDIUM);
  }, 120_000);

  it("store IT's failed-jobs list says what went wrong in zh-CN, never the raw error", async () => {
    // The refund's receipt failed on the hung printer too and was not retried.
    const signedIn = await env.handlers['session.signIn']({ operatorId: storeItId, pin: TEST_PINS.store_it }, APP_WINDOW);
    expect(signedIn.ok).toBe(true);
    await page().reload();
    await page().click('[data-tab="setup"]');
    await page().click('[data-setup-tab="printer"]');
    await page().waitForSelector('.job[data-job] .job__error', { timeout: FAIL_WAIT_MS });
    const errors = await page().locator('.job__error').allTextContents();
    expect(errors.length).toBeGreaterThan(0);
    for (const text of errors) {
      expect(text).toMatch(/[\u4e00-\u9fff]/);
      expect(text).not.toMatch(/did not take|timed out|ECONN|printer at|[A-Za-z]{4,}/);
    }
  }, 60_000);

  it('store IT setup: tabs fit 800×600, labelled fields, the policy edited and read back, 停用 asks first', async () => {
    await page().setViewportSize(SMALL);
    await page().waitForSelector('.setup__tabs');
    const tabs = await page().locator('[data-setup-tab]').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { setupTab: string } }).dataset.setupTab));
    expect(tabs.length).toBeGreaterThanOrEqual(4);
    expect(tabs).toContain('policy');
    expect(tabs).toContain('operators');
    for (const tab of tabs) {
      await page().click(`[data-setup-tab="${tab}"]`);
      await page().waitForSelector(`.setup__grid[data-section="${tab}"]`);
      await settled();
      const where = `setup tab ${tab} at 800x600`;
      const bar = (await page().evaluate(TABS_PROBE)) as { top: number; bottom: number; left: number; right: number; innerWidth: number; innerHeight: number };
      expect(bar.left, `${where}: tab bar left`).toBeGreaterThanOrEqual(0);
      expect(bar.right, `${where}: tab bar right`).toBeLessThanOrEqual(bar.innerWidth);
      expect(bar.top, `${where}: tab bar top`).toBeGreaterThanOrEqual(0);
      expect(bar.bottom, `${where}: tab bar bottom`).toBeLessThanOrEqual(bar.innerHeight);
      const layout = (await page().evaluate(LAYOUT_PROBE)) as LayoutProbe;
      expect(layout.scrollWidth, `${where}: no horizontal overflow`).toBeLessThanOrEqual(layout.innerWidth);
      expect(layout.outside, `${where}: outside the window`).toEqual([]);
      expect(await page().evaluate(UNLABELLED_PROBE), `${where}: unlabelled fields`).toEqual([]);
    }

    // The approval policy, edited by store IT and read back through settings.
    await page().click('[data-setup-tab="policy"]');
    await page().waitForSelector('[data-card="policy"] [data-form="policy"]');
    await page().selectOption('select[name="revokeApproval"]', 'above');
    await page().fill('input[name="revokeAbove"]', '123.45');
    await page().selectOption('select[name="refundApproval"]', 'always');
    await page().selectOption('select[name="payApproval"]', 'above');
    await page().fill('input[name="payAbove"]', '888');
    await page().click('[data-action="save-policy"]');
    await page().waitForSelector('[data-saved="policy"]');
    const read = await env.handlers['settings.get']({}, APP_WINDOW);
    const policy = { revokeApproval: 'above', revokeApprovalAboveCents: 12345, refundApproval: 'always', payApproval: 'above', payApprovalAboveCents: 88800 };
    expect(read).toMatchObject({ ok: true, value: policy });
    expect(env.rt.settings()).toMatchObject(policy);
    await page().locator('.setup__tabs').scrollIntoViewIfNeeded();
    await settled();
    await page().screenshot({ path: path.join(SCREENSHOTS, 'setup-policy-zh-CN-800x600.png'), animations: 'disabled' });

    // 停用 asks first: cancel keeps the operator enabled, confirm disables.
    await page().click('[data-setup-tab="operators"]');
    const row = '[data-operator-row="小李"]';
    await page().waitForSelector(`${row}[data-active="true"]`);
    await page().click(`${row} [data-action="disable"]`);
    await page().waitForSelector('.dialog [data-action="cancel"]');
    await page().click('.dialog [data-action="cancel"]');
    await page().waitForSelector('.dialog', { state: 'detached' });
    await page().waitForSelector(`${row}[data-active="true"]`);
    expect(env.rt.operators.list().find((o) => o.name === '小李')?.active).toBe(true);
    await page().click(`${row} [data-action="disable"]`);
    await page().click('.dialog [data-action="confirm"]');
    await page().waitForSelector(`${row}[data-active="false"]`);
    expect(env.rt.operators.list().find((o) => o.name === '小李')?.active).toBe(false);
    expect(env.pageErrors).toEqual([]);
  }, 120_000);

  it("main refuses the policy settings to a cashier's window", async () => {
    const window = newWindow();
    expect((await env.handlers['session.signIn']({ operatorId: cashierId, pin: TEST_PINS.cashier }, window)).ok).toBe(true);
    const before = env.rt.settings();
    expect(await env.handlers['settings.set']({ revokeApproval: 'never', refundApproval: 'never' }, window)).toMatchObject({ ok: false, error: { code: 'ROLE_REQUIRED' } });
    expect(await env.handlers['settings.set']({ revokeApprovalAboveCents: 1 }, window)).toMatchObject({ ok: false, error: { code: 'ROLE_REQUIRED' } });
    expect(env.rt.settings()).toMatchObject({ revokeApproval: before.revokeApproval, revokeApprovalAboveCents: before.revokeApprovalAboveCents, refundApproval: before.refundApproval });
  });
});
