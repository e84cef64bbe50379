/**
 * pay.request failing unexpectedly (not a gateway outcome: those are states)
 * answers the one question the cashier has: may money have been taken? The
 * write-ahead row is committed before anything is sent, so the main process
 * looks the attempt's client_sn up after the failure:
 * - the row exists (the failure came after its commit: here the payment
 *   checkpoint throws, once right after the commit and once after the
 *   gateway's answer) → the answer is that payment's view, 正在确认（请勿重复收款）,
 *   and it is resolved by query: by the worker once the row is released (paid:
 *   the pay went out and was paid), by 再次查询 while this process still holds
 *   it (未收款: nothing was sent); never a second pay call;
 * - no row (the database read-only, the key vault unreadable) →
 *   PAYMENT_NOT_RECORDED, 未收款（钱款未扣）, naming the cause, nothing sent;
 *   charging again then works;
 * - the refusals that come before any row keep their own codes and words.
 * Real runtime, real handlers, sandbox gateway over HTTP; failures by the
 * runtime's checkpoint hook, SQLite's query_only and a replaced vault.key.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { payNotRecordedDetailsSchema, PAY_NOT_RECORDED, type PaymentView, type Result } from '../../main/ipc/contract';
import { createHandlerSet } from '../../main/ipc/handlers';
import type { PayCrashPoint } from '../../main/operations/pay/engine';
import { databaseOf, type Logger } from '../../main/runtime';
import { VAULT_KEY_FILE } from '../../main/terminal/vault';
import { createHarness, until, type Harness } from '../support/harness';
import { ensureOperator, okValue, signIn, TEST_HANDLER_OPTIONS, type BoundHandlers } from '../support/operators';
import { fastPay, QUIET_RECHECK } from '../support/pay';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** What the runtime logged at error level (store IT's log). */
let errors: string[] = [];
/** The payment checkpoint throws once at this point (then it is cleared). */
let failAt: PayCrashPoint | null = null;

const logger: Logger = { info: () => {}, warn: () => {}, error: (l) => errors.push(l) };

/** A harness whose payments fail once at `failAt`, with a cashier signed in at one window. */
async function counter(): Promise<{ h: Harness; cashier: BoundHandlers }> {
  errors = [];
  failAt = null;
  h = await createHarness({
    runtime: {
      logger,
      // Barcode payments queried every 50 ms for 1.5 s; the lease this process keeps on a row it was sending is short.
      payTiming: fastPay({ payWindowMs: 1500, leaseMs: 300 }),
      recheck: QUIET_RECHECK,
      payCheckpoint: (point) => {
        if (point !== failAt) return;
        failAt = null;
        throw new Error('injected: the process failed here');
      },
    },
  });
  const set = createHandlerSet(h.rt, TEST_HANDLER_OPTIONS);
  return { h, cashier: await signIn(h.rt, set, 'cashier', '小王') };
}

let code = 134567890123470000;
const barcode = () => String(code++);
const payCalls = (hh: Harness) => hh.sandbox.gateway.log().filter((e) => e.endpoint === 'pay' || e.endpoint === 'precreate').length;
const rows = (hh: Harness) => (databaseOf(hh.rt).prepare('SELECT count(*) AS n FROM payments').get() as { n: number }).n;

const value = (r: Result<PaymentView>): PaymentView => okValue(r, 'a payment view');

describe('pay.request after the payment row was committed: the payment’s own view, never a bare error', () => {
  it('failed after the gateway’s answer (the pay went out and was paid) → 正在确认（请勿重复收款） with the row’s id; the runtime then finds it paid; one pay call', async () => {
    const { h, cashier } = await counter();
    failAt = 'answer-received';
    const r = await cashier['pay.request']({ method: 'barcode', amountCents: 1234, barcode: barcode() });
    const v = value(r);
    expect(v).toMatchObject({ amountCents: 1234, state: 'sending', outcome: 'pending', headlineZh: '正在确认（请勿重复收款）', headlineEn: 'Confirming (do not charge again)', operatorName: '小王' });
    expect(h.rt.payments.byClientSn(v.clientSn)?.id).toBe(v.id);
    expect(rows(h)).toBe(1);
    expect(errors.join('\n')).toContain(`after payment ${v.id} was recorded`);
    // Resolved by the runtime by itself (the worker's query: the row was released): paid, never sent again.
    await until(() => h.rt.payments.get(v.id)!.state === 'paid', 5000);
    expect(value(await cashier['pay.queryAgain']({ paymentId: v.id }))).toMatchObject({ outcome: 'paid', headlineZh: '收款成功' });
    expect(h.sandbox.gateway.counters(v.clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID', moneyTaken: true });
    expect(payCalls(h)).toBe(1);
  });

  it('failed right after the commit, before anything was sent → 正在确认 (nothing known yet); 再次查询 then finds nothing was paid → 未收款（钱款未扣）; no pay call', async () => {
    const { h, cashier } = await counter();
    failAt = 'intent-committed';
    const v = value(await cashier['pay.request']({ method: 'qr', amountCents: 2500, payway: '3' }));
    expect(v).toMatchObject({ amountCents: 2500, method: 'qr', outcome: 'pending', headlineZh: '正在确认（请勿重复收款）' });
    expect(h.rt.payments.byClientSn(v.clientSn)?.id).toBe(v.id);
    // Still open: the same amount again is refused without the cashier's confirmation, like any open payment.
    expect(await cashier['pay.request']({ method: 'barcode', amountCents: 2500, barcode: barcode() })).toMatchObject({
      ok: false,
      error: { code: 'PAYMENT_SAME_AMOUNT_OPEN', details: { paymentId: v.id } },
    });
    // 再次查询 (the row is still this process's: a restart's resume would ask too): the gateway has no such order.
    let ended: PaymentView | undefined;
    await expect
      .poll(async () => (ended = value(await cashier['pay.queryAgain']({ paymentId: v.id }))).state, { timeout: 15_000, interval: 50 })
      .toMatch(/^(paid|failed|canceled)$/);
    expect(ended).toMatchObject({ moneyReturned: false, headlineZh: '未收款（钱款未扣）', headlineEn: 'Not paid (no money taken)' });
    expect(ended!.state).not.toBe('paid');
    expect(h.sandbox.gateway.counters(v.clientSn)).toMatchObject({ precreate: 0, moneyTaken: false });
    expect(payCalls(h)).toBe(0);
  });
});

describe('pay.request failed before any row: PAYMENT_NOT_RECORDED, 未收款（钱款未扣）, and charging again works', () => {
  it('the database read-only (a full or read-only disk) → PAYMENT_NOT_RECORDED naming STORE_UNWRITABLE; no row, no call; then the same request is charged', async () => {
    const { h, cashier } = await counter();
    databaseOf(h.rt).pragma('query_only = 1');
    let r: Result<PaymentView>;
    try {
      r = await cashier['pay.request']({ method: 'barcode', amountCents: 777, barcode: barcode() });
    } finally {
      databaseOf(h.rt).pragma('query_only = 0');
    }
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(PAY_NOT_RECORDED);
    expect(r.error.messageZh).toMatch(/^未收款（钱款未扣）：这笔收款没有记录，也没有发出/);
    expect(r.error.messageZh).toContain('本机数据库无法写入');
    expect(r.error.message).toMatch(/^Not paid \(no money taken\): this payment was not recorded and not sent/);
    const details = payNotRecordedDetailsSchema.parse(r.error.details);
    expect(details.cause).toBe('STORE_UNWRITABLE');
    expect(details.causeMessageZh).toContain('本机数据库无法写入');
    expect(h.rt.payments.byClientSn(details.clientSn)).toBeUndefined();
    expect(rows(h)).toBe(0);
    expect(payCalls(h)).toBe(0);
    expect(errors.join('\n')).toContain('nothing recorded or sent');
    // The cashier charges again: one payment, paid (no same-amount confirmation: nothing is open).
    expect(value(await cashier['pay.request']({ method: 'barcode', amountCents: 777, barcode: barcode() }))).toMatchObject({ state: 'paid', amountCents: 777 });
    expect(rows(h)).toBe(1);
    expect(payCalls(h)).toBe(1);
  });

  it('the terminal key cannot be opened (vault.key replaced) → PAYMENT_NOT_RECORDED naming VAULT_CANNOT_OPEN; no row, no call', async () => {
    const { h } = await counter();
    fs.writeFileSync(path.join(h.dataDir, VAULT_KEY_FILE), randomBytes(32));
    const other = h.runtime({ startWorkers: false, logger });
    const cashier = await signIn(other, createHandlerSet(other, TEST_HANDLER_OPTIONS), 'cashier', '小王');
    const r = await cashier['pay.request']({ method: 'qr', amountCents: 900, payway: '1' });
    expect(r).toMatchObject({ ok: false, error: { code: PAY_NOT_RECORDED, details: { cause: 'VAULT_CANNOT_OPEN' } } });
    expect(r.ok ? '' : r.error.messageZh).toContain('未收款（钱款未扣）');
    expect(r.ok ? '' : r.error.messageZh).toContain('终端密钥无法读取');
    expect(rows(h)).toBe(0);
    expect(payCalls(h)).toBe(0);
    // No key, vault or secret crosses: the details are the strict shape only.
    expect(payNotRecordedDetailsSchema.safeParse(r.ok ? null : r.error.details).success).toBe(true);
  });

  it('the refusals before any row keep their own codes and words: invalid input, the same amount open, approval required', async () => {
    const { h, cashier } = await counter();
    expect(await cashier['pay.request']({ method: 'barcode', amountCents: 100, barcode: '12' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'barcode' } } });
    h.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 1_000_000 });
    const open = value(await cashier['pay.request']({ method: 'barcode', amountCents: 4321, barcode: barcode() }));
    expect(open.outcome).toBe('pending');
    const same = await cashier['pay.request']({ method: 'barcode', amountCents: 4321, barcode: barcode() });
    expect(same).toMatchObject({ ok: false, error: { code: 'PAYMENT_SAME_AMOUNT_OPEN', details: { paymentId: open.id } } });
    expect(same.ok ? '' : same.error.messageZh).toContain('请勿重复收款');
    h.sandbox.gateway.clearFaults();
    h.rt.updateSettings({ payApproval: 'always' }, 'test');
    await ensureOperator(h.rt, 'supervisor');
    const approval = await cashier['pay.request']({ method: 'qr', amountCents: 500, payway: '3' });
    expect(approval).toMatchObject({ ok: false, error: { code: 'APPROVAL_REQUIRED', messageZh: '此收款需要主管审批：请主管输入 PIN。' } });
    expect(rows(h)).toBe(1);
    expect(errors).toEqual([]);
  });
});
