/**
 * Attack: the same amount charged 40 times at once. While a payment is open,
 * the same amount is not charged again without the cashier's confirmation;
 * the check and the write-ahead row are one IMMEDIATE transaction, so a burst
 * of 40 identical pay.request calls through the handlers starts exactly one
 * payment at the gateway (counted by the sandbox per client_sn) and refuses 39
 * with PAYMENT_SAME_AMOUNT_OPEN naming the open payment, in zh-CN and en. The
 * same holds for two runtimes on one data dir. A confirmed repeat goes through.
 */
import { describe, expect, it } from 'vitest';
import type { PaymentView, Result } from '../../main/ipc/contract';
import type { HandlerSet } from '../../main/ipc/handlers';
import { createHandlerSet } from '../../main/ipc/handlers';
import { databaseOf } from '../../main/runtime';
import type { Harness } from '../support/harness';
import { signIn, TEST_HANDLER_OPTIONS, type BoundHandlers } from '../support/operators';
import { harnessWithHandlersEach } from '../support/operators-each';
import { CUSTOMER_BARCODE } from '../support/pay';

const BURST = 40;
const AMOUNT = 4_321;
const BARCODE = CUSTOMER_BARCODE;

let h: Harness;
let set: HandlerSet;
harnessWithHandlersEach((fresh) => ({ h, set } = fresh));

/** pay requests the gateway received (dropped and hung ones included), summed over every client_sn it saw. */
function payRequestsAtGateway(): { total: number; clientSns: string[] } {
  const ours = databaseOf(h.rt).prepare('SELECT client_sn FROM payments').pluck().all() as string[];
  const seen = [...new Set([...ours, ...h.sandbox.gateway.orders().map((o) => o.clientSn)])];
  const total = seen.reduce((n, csn) => n + h.sandbox.gateway.counters(csn).pay, 0);
  return { total, clientSns: seen.filter((csn) => h.sandbox.gateway.counters(csn).pay > 0) };
}

/** The customer is still typing a password: every pay stays PAY_IN_PROGRESS (the payment open) for the whole test. */
const keepOpen = () => h.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 100_000 }, BURST * 2);

function expectOneStarted(rs: Array<Result<PaymentView>>): PaymentView {
  const started = rs.filter((r): r is { ok: true; value: PaymentView } => r.ok).map((r) => r.value);
  const refused = rs.filter((r) => !r.ok);
  expect(started, JSON.stringify(refused.slice(0, 2))).toHaveLength(1);
  expect(refused).toHaveLength(BURST - 1);
  const open = started[0]!;
  expect(open).toMatchObject({ amountCents: AMOUNT, headlineZh: '正在确认（请勿重复收款）' });
  for (const r of refused) {
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'PAYMENT_SAME_AMOUNT_OPEN',
        messageZh: expect.stringContaining(`￥43.21 的收款正在确认（请勿重复收款，收款编号 ${open.id}）`),
        message: expect.stringContaining(`A payment of ￥43.21 is still being confirmed (do not charge again; payment #${open.id})`),
        details: { paymentId: open.id, clientSn: open.clientSn, amountCents: AMOUNT },
      },
    });
  }
  // Exactly one payment row, one client_sn, one pay request at the gateway.
  expect(h.rt.payments.open().filter((p) => p.amountCents === AMOUNT)).toHaveLength(1);
  const gw = payRequestsAtGateway();
  expect(gw).toEqual({ total: 1, clientSns: [open.clientSn] });
  expect(h.sandbox.gateway.counters(open.clientSn)).toMatchObject({ pay: 1, cancel: 0 });
  return open;
}

/** `confirmDuplicateOf`: the open payment the cashier's confirmation named (attack-pay-confirm.test.ts attacks it). */
const charge = (c: BoundHandlers, confirmDuplicateOf?: number) =>
  c['pay.request']({ method: 'barcode', amountCents: AMOUNT, barcode: BARCODE, ...(confirmDuplicateOf ? { confirmDuplicateOf } : {}) }) as Promise<Result<PaymentView>>;

describe('a burst of identical payments starts one', () => {
  it('40 concurrent pay.request of the same amount, unconfirmed: one payment at the gateway, 39 refused naming it', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    keepOpen();
    const rs = await Promise.all(Array.from({ length: BURST }, () => charge(cashier)));
    expectOneStarted(rs);
  });

  it('two runtimes on one data dir, 2 × 20 at once: still one payment at the gateway', async () => {
    const rt2 = h.runtime();
    const set2 = createHandlerSet(rt2, TEST_HANDLER_OPTIONS);
    const a = await signIn(h.rt, set, 'cashier');
    const b = await signIn(rt2, set2, 'cashier');
    keepOpen();
    const rs = await Promise.all(Array.from({ length: BURST }, (_, i) => charge(i % 2 ? b : a)));
    expectOneStarted(rs);
  });

  it('a confirmed repeat goes through: the cashier confirms and a second payment of the same amount is taken', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    h.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 100_000 }, 1);
    const first = await charge(cashier);
    expect(first).toMatchObject({ ok: true, value: { outcome: 'pending' } });
    const refused = await charge(cashier);
    expect(refused).toMatchObject({ ok: false, error: { code: 'PAYMENT_SAME_AMOUNT_OPEN' } });
    const again = await charge(cashier, refused.ok ? undefined : (refused.error.details as { paymentId: number }).paymentId);
    expect(again).toMatchObject({ ok: true, value: { outcome: 'paid', headlineZh: '收款成功', amountCents: AMOUNT } });
    const firstView = (first as { ok: true; value: PaymentView }).value;
    const againView = (again as { ok: true; value: PaymentView }).value;
    expect(againView.clientSn).not.toBe(firstView.clientSn);
    expect(h.sandbox.gateway.counters(firstView.clientSn)).toMatchObject({ pay: 1 });
    expect(h.sandbox.gateway.counters(againView.clientSn)).toMatchObject({ pay: 1, orderStatus: 'PAID' });
    expect(payRequestsAtGateway().total).toBe(2);
  });
});
