/**
 * The counter's 收款 screen (issue 24, item 3) in Chromium against the real
 * runtime, handlers, sandbox gateway (its HTTP control endpoints for faults
 * and the customer's QR payment) and virtual printer, a cashier signed in at
 * 800×600, reached by its tab (touch) and F2:
 * - the amount typed on the keypad and a customer's payment code scanned
 *   (told from an order scan by prefix and length) → 收款成功, the 收款凭证
 *   printed once;
 * - PAY_FAIL → 未收款（钱款未扣）; PAY_IN_PROGRESS and a lost answer →
 *   正在确认（请勿重复收款）, then resolved by the queries;
 * - 收款码 → our QR, measured on screen (≥ 200 px, ≥ 4 px a module), with a
 *   countdown; /sandbox/customer-pay → 收款成功;
 * - needs_attention with its next step;
 * - the same amount while a payment is open asks for a confirmation, and
 *   main refuses it without one;
 * - above store IT's payApproval threshold, the one approval sheet;
 * - pay.request failing unexpectedly: after its row was committed → that
 *   payment on screen, 正在确认（请勿重复收款）, then its outcome (no error, no
 *   second charge); before any row (the database read-only) → 未收款（钱款未扣）
 *   / Not paid (no money taken) with the cause, and charging again works.
 * Every state: headline and money line at the top, nothing outside the
 * window or clipped, touch-sized targets, text contrast ≥ 4.5:1 in both
 * themes; screenshots in dark (test-output/screenshots/pay-*.png).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PayCrashPoint } from '../../main/operations/pay/engine';
import { approvalsFor } from '../../main/store/approvals';
import { databaseOf } from '../../main/runtime';
import { ensureOperator, TEST_PINS } from '../support/operators';
import { expectFitsWindow, payDesk, SMALL, startPayApp } from '../support/pay-e2e';
import { SCREENSHOTS, type AppEnv } from './harness';
import { CONTRAST } from './layout';


/** The payment checkpoint throws once at this point (then it is cleared): a failure after the write-ahead row's commit. */
let failAt: PayCrashPoint | null = null;

/** Page-side: every visible text of the payment screen (and an open dialog) whose contrast is under 4.5:1, and where the headline and money lines are. */
const PAY_PROBE = `(() => {
  ${CONTRAST}
  const root = document.querySelector('dialog[open]') || document.querySelector('.payment');
  // Disabled controls are exempt (WCAG 1.4.3: inactive components).
  const texts = [...root.querySelectorAll('*')].filter((el) => !el.closest(':disabled')).filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; });
  const low = texts.map((el) => [el.textContent.trim().slice(0, 24), Math.round(contrast(el) * 100) / 100]).filter(([, c]) => c < 4.5);
  const top = (sel) => { const el = document.querySelector(sel); return el ? el.getBoundingClientRect().top : null; };
  const inView = (sel) => { const el = document.querySelector(sel); if (!el) return null; const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth; };
  return { texts: texts.length, low, amountTop: top('[data-money-line]'), headlineTop: top('.payment__headline'), moneyTop: top('.payment__money'),
    headlineInView: inView('.payment__headline'), innerHeight: window.innerHeight };
})()`;

interface PayProbe {
  texts: number;
  low: Array<[string, number]>;
  amountTop: number | null;
  headlineTop: number | null;
  moneyTop: number | null;
  headlineInView: boolean | null;
  innerHeight: number;
}

describe('the 收款 screen (Chromium, real runtime, sandbox gateway, virtual printer)', () => {
  let env: AppEnv;
  let supervisorId = 0;
  const page = () => env.page;

  beforeAll(async () => {
    // Short clocks: a barcode payment in doubt is queried every 0.4 s for 4 s, then canceled; cancels tried twice before a person is told.
    env = await startPayApp(
      'e2e-pay',
      { payWindowMs: 4000, payQueryEveryMs: 400, qrLifetimeMs: 60_000, maxCancels: 2 },
      {
        runtime: {
          payCheckpoint: (point) => {
            if (point !== failAt) return;
            failAt = null;
            throw new Error('injected: the process failed here');
          },
        },
        before: async (e) => {
          supervisorId = await ensureOperator(e.rt, 'supervisor', '李主管');
        },
      },
    );
    await page().click('[data-tab="pay"]');
    await page().waitForSelector('.payment [data-amountpad]');
  }, 120_000);

  afterAll(async () => {
    await env?.close();
  });

  const { control, payCalls, customerCode, scan } = payDesk(() => env, 134567890123450000);
  const counters = (clientSn: string) => env.sandbox.gateway.counters(clientSn);

  /** A fresh payment: 新收款 when one is shown, then the amount on the keypad (cash-register digits). */
  async function amount(keys: string): Promise<void> {
    if (await page().isVisible('[data-action="pay-new"]')) await page().click('[data-action="pay-new"]');
    else await page().click('.payment [data-amount-key="clear"]');
    for (const k of keys) await page().click(`.payment [data-amount-key="${k}"]`);
    await page().waitForSelector(`[data-money-line][data-amount-cents="${Number(keys)}"]`);
  }

  const outcome = (o: string) => page().waitForSelector(`.payment__state[data-outcome="${o}"]`, { timeout: 20_000 });
  const clientSnShown = async () => (await page().textContent('.payment__detail code'))!.trim();

  /** Layout at 800×600, the lines at the top, contrast in both themes; a screenshot in dark. */
  async function check(name: string): Promise<void> {
    await expectFitsWindow(page(), name, `${name}: everything fits at 800x600 (no scrolling)`);
    for (const theme of ['light', 'dark']) {
      await page().evaluate(`document.documentElement.dataset.theme = ${JSON.stringify(theme)}`);
      const p = (await page().evaluate(PAY_PROBE)) as PayProbe;
      expect(p.texts, name).toBeGreaterThan(3);
      expect(p.low, `${name} (${theme}): contrast ≥ 4.5:1`).toEqual([]);
      expect(p.amountTop!, `${name}: the amount at the top`).toBeLessThan(p.innerHeight / 4);
      if (p.headlineTop !== null) {
        expect(p.headlineTop, `${name}: the headline at the top`).toBeLessThan(p.innerHeight / 4);
        expect(p.moneyTop!, `${name}: the money line under it`).toBeLessThan(p.innerHeight / 3);
        expect(p.headlineInView, name).toBe(true);
      }
    }
    await page().screenshot({ path: path.join(SCREENSHOTS, `pay-${name}-zh-CN-dark-800x600.png`), animations: 'disabled' });
  }

  it('the 收款 tab is on the status bar for a touch screen (F2 and Escape too); the keypad types the amount; an order number scanned here is not charged', async () => {
    expect(await page().getAttribute('[data-tab="pay"]', 'aria-current')).toBe('page');
    await page().keyboard.press('Escape');
    await page().waitForSelector('[data-view="cashier"]');
    await page().keyboard.press('F2');
    await page().waitForSelector('[data-view="pay"] [data-amountpad]');
    await amount('1234');
    expect(await page().textContent('[data-money-line]')).toContain('￥12.34');
    await check('start');
    const before = payCalls();
    await scan('7894259244096543');
    await page().waitForSelector('[data-pay-notice]');
    expect(await page().textContent('[data-pay-notice]')).toContain('不是顾客付款码');
    // The scan's digits did not join the amount.
    expect(await page().getAttribute('[data-money-line]', 'data-amount-cents')).toBe('1234');
    expect(payCalls()).toBe(before);
  });

  it('keypad amount + a scanned customer code → barcode payment → 收款成功, 收款凭证 printed once', async () => {
    await amount('1234');
    const jobs = env.sandbox.printer.jobs().length;
    const customer = customerCode();
    await scan(customer);
    await outcome('paid');
    expect(await page().textContent('.payment__headline')).toBe('收款成功');
    expect(await page().getAttribute('.payment__money', 'data-amount-cents')).toBe('1234');
    const clientSn = await clientSnShown();
    expect(counters(clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID', moneyTaken: true, moneyReturned: false });
    const printed = await env.sandbox.printer.waitForJobs(jobs + 1, 10_000);
    expect(printed.at(-1)!.decoded.text).toContain('收款凭证');
    expect(printed.at(-1)!.decoded.text).toContain(clientSn);
    await check('paid');
    // Once: a query again and a moment later, still one receipt for it.
    await page().click('.payment [data-action="pay-new"]');
    await new Promise((r) => setTimeout(r, 800));
    expect(env.sandbox.printer.jobs().filter((j) => j.decoded.text.includes(clientSn))).toHaveLength(1);
  });

  it('PAY_FAIL → 未收款（钱款未扣）, no cancel, nothing printed', async () => {
    await control('fault', { endpoint: 'pay', fault: { kind: 'pay_fail', errorCode: 'INSUFFICIENT_FUND' } });
    await amount('500');
    const jobs = env.sandbox.printer.jobs().length;
    await scan(customerCode());
    await outcome('failed');
    expect(await page().textContent('.payment__headline')).toBe('未收款（钱款未扣）');
    const clientSn = await clientSnShown();
    expect(counters(clientSn)).toMatchObject({ pay: 1, cancel: 0, moneyTaken: false });
    await check('failed');
    expect(env.sandbox.printer.jobs().length).toBe(jobs);
  });

  it('PAY_IN_PROGRESS → 正在确认（请勿重复收款）, then the queries resolve it → 收款成功; a lost answer likewise', async () => {
    await control('fault', { endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 4 } });
    await amount('678');
    await scan(customerCode());
    await outcome('pending');
    expect(await page().textContent('.payment__headline')).toBe('正在确认（请勿重复收款）');
    await check('pending');
    await outcome('paid');
    const clientSn = await clientSnShown();
    expect(counters(clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID' });
    expect(counters(clientSn).query).toBeGreaterThanOrEqual(1);

    await control('fault', { endpoint: 'pay', fault: { kind: 'drop_after' } });
    await amount('679');
    await scan(customerCode());
    await outcome('paid');
    expect(counters(await clientSnShown())).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID' });
  });

  it('收款码 → our QR, big enough to scan, with a countdown; the customer pays (/sandbox/customer-pay) → 收款成功', async () => {
    await amount('888');
    await page().click('.payment [data-payway="3"]');
    await outcome('awaiting_customer');
    const qr = await page().waitForSelector('.payment__qr svg.qr');
    const box = (await qr.boundingBox())!;
    const modules = (await page().evaluate('document.querySelector(".payment__qr svg.qr").viewBox.baseVal.width')) as number;
    expect(box.width, 'QR width').toBeGreaterThanOrEqual(200);
    expect(box.height, 'QR height').toBeGreaterThanOrEqual(200);
    expect(box.width / modules, 'px per module').toBeGreaterThanOrEqual(4);
    expect(box.y + box.height).toBeLessThanOrEqual(SMALL.height);
    const first = Number(await page().getAttribute('[data-seconds-left]', 'data-seconds-left'));
    expect(first).toBeGreaterThan(50);
    expect(first).toBeLessThanOrEqual(60);
    await expect.poll(async () => Number(await page().getAttribute('[data-seconds-left]', 'data-seconds-left')), { timeout: 5000 }).toBeLessThan(first);
    expect(await page().textContent('.payment__countdown')).toMatch(/剩余 \d+ 秒/);
    await check('qr');
    const clientSn = await clientSnShown();
    const jobs = env.sandbox.printer.jobs().length;
    await control('customer-pay', { client_sn: clientSn });
    await outcome('paid');
    expect(counters(clientSn)).toMatchObject({ precreate: 1, cancel: 0, orderStatus: 'PAID', moneyTaken: true });
    await env.sandbox.printer.waitForJobs(jobs + 1, 10_000);
    expect(await page().locator('.payment__qr svg').count()).toBe(0);
  });

  it('needs_attention: the outcome still unknown after the cancels → the next step in words, the order number to give', async () => {
    await control('fault', { endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 1_000_000 } });
    await control('fault', { endpoint: 'cancel', fault: { kind: 'cancel_error_no_code', outcome: 'untouched' }, count: 1_000 });
    await amount('333');
    await scan(customerCode());
    await outcome('pending');
    await outcome('needs_attention');
    const text = (await page().textContent('.payment__headline'))!;
    expect(text).toContain('需要人工处理');
    expect(text).toContain('请勿重复收款');
    expect(text).toContain('联系门店 IT');
    expect(await page().isVisible('[data-action="pay-query"]')).toBe(true);
    await check('needs_attention');
    env.sandbox.gateway.clearFaults();
  });

  it('the same amount while that payment is open asks for a confirmation first; main refuses it without one', async () => {
    // The needs_attention payment of ￥3.33 is still open.
    const open = env.rt.payments.open().find((p) => p.amountCents === 333)!;
    expect(open).toBeTruthy();
    await amount('333');
    const before = payCalls();
    await scan(customerCode());
    await page().waitForSelector('dialog[open] [data-same-amount]');
    expect(await page().textContent('dialog[open] [data-same-amount]')).toContain('请勿重复收款');
    await check('same-amount');
    await page().click('dialog[open] [data-action="cancel"]');
    expect(payCalls()).toBe(before);
    // Main, not only the screen: the window's call without the confirmation is refused before any gateway call.
    const direct = await env.handlers['pay.request']({ method: 'barcode', amountCents: 333, barcode: customerCode() }, { windowId: 1 });
    expect(direct).toMatchObject({ ok: false, error: { code: 'PAYMENT_SAME_AMOUNT_OPEN', details: { clientSn: open.clientSn } } });
    expect(payCalls()).toBe(before);
    // Confirmed: charged.
    await scan(customerCode());
    await page().click('dialog[open] [data-action="confirm"]');
    await outcome('paid');
    expect(payCalls()).toBe(before + 1);
  });

  it('above store IT’s payApproval threshold: the one approval sheet, a supervisor’s PIN, recorded as a pay approval', async () => {
    env.rt.updateSettings({ payApproval: 'above', payApprovalAboveCents: 10_000 }, 'e2e');
    await page().reload();
    await page().click('[data-tab="pay"]');
    await amount('20000');
    const before = payCalls();
    await scan(customerCode());
    await page().waitForSelector('dialog.money-sheet[open] [data-step="approval"]');
    expect(await page().getAttribute('dialog[open] .money-sheet__amount', 'data-amount-cents')).toBe('20000');
    expect(await page().textContent('dialog[open] .approval__why')).toContain('收款金额超过 ￥100.00');
    expect(await page().isDisabled('dialog[open] [data-action="confirm"]')).toBe(true);
    await check('approval');
    expect(payCalls()).toBe(before);
    for (const d of TEST_PINS.supervisor) await page().click(`dialog[open] [data-pinpad="approval"] [data-pin-key="${d}"]`);
    await page().click('dialog[open] [data-action="confirm"]');
    await outcome('paid');
    const clientSn = await clientSnShown();
    expect(approvalsFor(databaseOf(env.rt), clientSn)).toEqual([expect.objectContaining({ operation: 'pay', amountCents: 20_000, approverId: supervisorId, approverName: '李主管' })]);
    // Below it: no sheet.
    await amount('9999');
    await scan(customerCode());
    await outcome('paid');
    env.rt.updateSettings({ payApproval: 'never' }, 'e2e');
    expect(env.pageErrors).toEqual([]);
    expect(await page().evaluate('window.__cspViolations')).toEqual([]);
  });

  it('pay.request fails after its row was committed (the gateway’s answer not recorded): that payment is shown, 正在确认（请勿重复收款）, no error; then 收款成功 by itself, charged once', async () => {
    await control('fault', { endpoint: 'pay', fault: { kind: 'pay_in_progress', queries: 3 } });
    await amount('4567');
    const before = payCalls();
    failAt = 'answer-received';
    await scan(customerCode());
    const state = await outcome('pending');
    expect(failAt, 'the failure happened').toBeNull();
    expect(await page().textContent('.payment__headline')).toBe('正在确认（请勿重复收款）');
    const clientSn = await clientSnShown();
    const row = env.rt.payments.byClientSn(clientSn)!;
    expect(await state.getAttribute('data-payment')).toBe(String(row.id));
    expect(await page().getAttribute('.payment__money', 'data-amount-cents')).toBe('4567');
    // No bare error, no "cannot confirm": the payment itself is what the cashier reads.
    expect(await page().locator('.payment [data-error-code], [data-pay-record]').count()).toBe(0);
    await check('failed-after-row');
    await outcome('paid');
    expect(await page().textContent('.payment__headline')).toBe('收款成功');
    expect(counters(clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID', moneyTaken: true });
    expect(payCalls()).toBe(before + 1);
  });

  it('pay.request fails before any row (the database read-only): 未收款（钱款未扣） / Not paid (no money taken) with the cause, nothing sent; charging again works', async () => {
    await amount('2468');
    const before = payCalls();
    databaseOf(env.rt).pragma('query_only = 1');
    try {
      await scan(customerCode());
      await page().waitForSelector('[data-pay-record="none"]');
    } finally {
      databaseOf(env.rt).pragma('query_only = 0');
    }
    const words = (await page().textContent('[data-pay-record]'))!;
    expect(words).toBe('未收款（钱款未扣）：这笔收款没有被记录，也没有发出。可以再试一次。');
    expect(words).not.toContain('请勿重复收款');
    // What failed, under it: the cause's code and words (the answer is not said twice).
    expect(await page().getAttribute('.payment [data-error-code]', 'data-error-code')).toBe('STORE_UNWRITABLE');
    expect(await page().textContent('.payment [data-error-code] .notice__message')).toContain('本机数据库无法写入');
    // The answer comes first, above the cause.
    const order = (await page().evaluate(`(() => { const a = document.querySelector('[data-pay-record]'), b = document.querySelector('.payment [data-error-code]'); return a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? 'record-first' : 'error-first'; })()`)) as string;
    expect(order).toBe('record-first');
    expect(payCalls()).toBe(before);
    expect(env.rt.payments.open().some((p) => p.amountCents === 2468)).toBe(false);
    await check('not-recorded');

    // In English: the same answer, definitive.
    await page().click('[data-action="menu"]');
    await page().click('dialog[open] [data-action="language"]');
    await page().click('dialog[open] [data-action="close-sheet"]');
    await page().waitForSelector('.app[data-lang="en"]');
    expect(await page().textContent('[data-pay-record="none"]')).toBe('Not paid (no money taken): this payment was not recorded and not sent. You can try again.');
    expect(await page().textContent('.payment [data-error-code] .notice__message')).toContain('The local database cannot be written');
    await page().click('[data-action="menu"]');
    await page().click('dialog[open] [data-action="language"]');
    await page().click('dialog[open] [data-action="close-sheet"]');
    await page().waitForSelector('.app[data-lang="zh-CN"]');

    // Charging again (the amount is still on the keypad): no same-amount question (nothing open), 收款成功.
    expect(await page().getAttribute('[data-money-line]', 'data-amount-cents')).toBe('2468');
    await scan(customerCode());
    await outcome('paid');
    expect(await page().locator('[data-pay-record]').count()).toBe(0);
    expect(payCalls()).toBe(before + 1);
    expect(env.pageErrors).toEqual([]);
    expect(await page().evaluate('window.__cspViolations')).toEqual([]);
  });
});
