/**
 * Payments against the sandbox over real HTTP: every answer and fault of the
 * vendor's flow (barcode pay, PAY_IN_PROGRESS, lost answers, PAY_FAIL_ERROR,
 * the reversal 冲正 with CANCEL_ERROR and a gateway gone, QR precreate paid or
 * left to expire, the gateway unreachable before sending, a crash). Each case
 * counts the sandbox's pay requests and cancels for the attempt's client_sn,
 * and whether money was taken and returned: never a one-sided transaction,
 * never a double charge.
 */
import { describe, expect, it } from 'vitest';
import type { PayCrashPoint } from '../../main/operations/pay/engine';
import type { Fault, SandboxEndpoint } from '../../main/sandbox/gateway';
import { toPayment, type Payment, type PaymentRow } from '../../main/store/payments';
import { databaseOf } from '../../main/runtime';
import { until, type Harness } from '../support/harness';
import { barcodePayment, fastPay, FINAL, harnessPerTest, WHO } from '../support/pay';

const FAST_PAY = fastPay();
const BARCODE = barcodePayment();

const harness = harnessPerTest({ payTiming: FAST_PAY, recheck: { everyMs: 300, probeEveryMs: 100 } });

/** A payment whose process dies at `point` (the checkpoint throws; the lease is short so a fresh runtime may take it). */
async function crashAt(hh: Harness, point: PayCrashPoint): Promise<void> {
  const crashing = hh.runtime({
    payTiming: { ...FAST_PAY, leaseMs: 200 },
    payCheckpoint: (p) => {
      if (p === point) throw new Error('crash');
    },
  });
  await expect(crashing.payments.request(BARCODE, WHO, 'test')).rejects.toThrow('crash');
  await crashing.close();
}

function settle(hh: Pick<Harness, 'rt'>, id: number, states = FINAL, timeoutMs = 10_000): Promise<Payment> {
  return until(() => {
    const p = hh.rt.payments.get(id)!;
    return states.includes(p.state) ? p : undefined;
  }, timeoutMs);
}

interface Case {
  name: string;
  faults?: Array<[SandboxEndpoint, Fault, number?]>;
  first: Payment['state'];
  final: Payment['state'];
  pay: number;
  cancel: number;
  taken: boolean;
  returned: boolean;
  code?: string;
}

const IN_PROGRESS_FOREVER: Fault = { kind: 'pay_in_progress', queries: 1_000_000 };

const cases: Case[] = [
  { name: 'PAY_SUCCESS → paid', first: 'paid', final: 'paid', pay: 1, cancel: 0, taken: true, returned: false },
  {
    name: 'PAY_FAIL with a code → failed, no money taken, no cancel',
    faults: [['pay', { kind: 'pay_fail', errorCode: 'INSUFFICIENT_FUND' }]],
    first: 'failed',
    final: 'failed',
    pay: 1,
    cancel: 0,
    taken: false,
    returned: false,
    code: 'PAY_FAILED',
  },
  { name: 'PAY_IN_PROGRESS for 2 queries → pending → PAID', faults: [['pay', { kind: 'pay_in_progress', queries: 2 }]], first: 'pending', final: 'paid', pay: 1, cancel: 0, taken: true, returned: false },
  {
    name: 'PAY_IN_PROGRESS → PAY_CANCELED → failed, no cancel',
    faults: [['pay', { kind: 'pay_in_progress', queries: 1, then: 'PAY_CANCELED' }]],
    first: 'pending',
    final: 'failed',
    pay: 1,
    cancel: 0,
    taken: false,
    returned: false,
  },
  { name: 'still CREATED when the window ends → cancel → canceled', faults: [['pay', IN_PROGRESS_FOREVER]], first: 'pending', final: 'canceled', pay: 1, cancel: 1, taken: false, returned: false },
  { name: 'PAY_FAIL_ERROR (PAY_ERROR) → cancel at once → canceled', faults: [['pay', { kind: 'pay_fail_error' }]], first: 'pending', final: 'canceled', pay: 1, cancel: 1, taken: false, returned: false },
  {
    name: 'answer lost before the effect → query UPAY_ORDER_NOT_EXISTS → failed (never reached Upay)',
    faults: [['pay', { kind: 'drop_before' }]],
    first: 'pending',
    final: 'failed',
    pay: 1,
    cancel: 0,
    taken: false,
    returned: false,
    code: 'NOT_REACHED',
  },
  { name: 'answer lost after the effect → query PAID → paid', faults: [['pay', { kind: 'drop_after' }]], first: 'pending', final: 'paid', pay: 1, cancel: 0, taken: true, returned: false },
  { name: 'answer cut mid-body → query → paid', faults: [['pay', { kind: 'reset_mid_body' }]], first: 'pending', final: 'paid', pay: 1, cancel: 0, taken: true, returned: false },
  {
    name: 'CANCEL_ABORT_ERROR twice (untouched) → query, cancel again → canceled',
    faults: [
      ['pay', IN_PROGRESS_FOREVER],
      ['cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' }, 2],
    ],
    first: 'pending',
    final: 'canceled',
    pay: 1,
    cancel: 3,
    taken: false,
    returned: false,
  },
  {
    name: 'CANCEL_ERROR that did cancel → the query shows CANCELED → canceled, no further cancel',
    faults: [
      ['pay', IN_PROGRESS_FOREVER],
      ['cancel', { kind: 'cancel_error_no_code', outcome: 'canceled' }],
    ],
    first: 'pending',
    final: 'canceled',
    pay: 1,
    cancel: 1,
    taken: false,
    returned: false,
  },
  // A cancel whose answer is lost after the effect: pay-truth-reversal.test.ts (whether money went back then
  // follows the order's status alone, which the sandbox does not tell apart from an abort).
];

describe('barcode payments over HTTP to the sandbox', () => {
  it.each(cases)('$name', async (c) => {
    const hh = await harness();
    for (const [endpoint, fault, count] of c.faults ?? []) hh.sandbox.gateway.inject(endpoint, fault, count ?? 1);
    const p = await hh.rt.payments.request(BARCODE, WHO, 'test');
    expect(p.state).toBe(c.first);
    const done = await settle(hh, p.id);
    hh.sandbox.gateway.clearFaults();
    expect(done.state).toBe(c.final);
    if (c.code) expect(done.error?.code).toBe(c.code);
    const n = hh.sandbox.gateway.counters(p.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, taken: n.moneyTaken, returned: n.moneyReturned }).toEqual({ pay: c.pay, cancel: c.cancel, taken: c.taken, returned: c.returned });
    // Two-sided: what we recorded is what the gateway shows.
    if (done.state === 'paid') expect(n.orderStatus).toBe('PAID');
    if (done.state === 'canceled') expect(n.orderStatus).toBe('CANCELED');
    if (done.state === 'failed') expect([null, 'PAY_CANCELED']).toContain(n.orderStatus);
    expect(done.moneyReturned).toBe(c.returned);
    // 收款凭证 once when paid; the slip only when money went back.
    const receipt = hh.rt.paymentPrinting.receiptFor(p.id);
    expect(receipt?.model.kind ?? null).toBe(done.state === 'paid' ? 'payment' : c.returned ? 'payment-slip' : null);
  });

  it('queries lost while the customer pays → cancel of the PAID order → canceled, money returned, the slip printed', async () => {
    const hh = await harness();
    hh.sandbox.gateway.inject('pay', IN_PROGRESS_FOREVER);
    hh.sandbox.gateway.inject('query', { kind: 'drop_before' }, 1_000);
    const p = await hh.rt.payments.request(BARCODE, WHO, 'test');
    expect(p.state).toBe('pending');
    hh.sandbox.gateway.customerPays(p.clientSn);
    const done = await settle(hh, p.id);
    expect(done.state).toBe('canceled');
    expect(done.moneyReturned).toBe(true);
    const n = hh.sandbox.gateway.counters(p.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, taken: n.moneyTaken, returned: n.moneyReturned, status: n.orderStatus }).toEqual({ pay: 1, cancel: 1, taken: true, returned: true, status: 'CANCELED' });
    expect(hh.rt.paymentPrinting.receiptFor(p.id)?.model.kind).toBe('payment-slip');
  });

  it('every attempt has its own client_sn (≤ 32 bytes), sent once, never reused after a failure', async () => {
    const hh = await harness();
    hh.sandbox.gateway.inject('pay', { kind: 'pay_fail', errorCode: 'EXPIRED_BARCODE' });
    const a = await hh.rt.payments.request(BARCODE, WHO, 'test');
    const b = await hh.rt.payments.request(BARCODE, WHO, 'test');
    expect(a.state).toBe('failed');
    expect(b.state).toBe('paid');
    expect(a.clientSn).not.toBe(b.clientSn);
    for (const p of [a, b]) {
      expect(Buffer.byteLength(p.clientSn)).toBeLessThanOrEqual(32);
      expect(hh.sandbox.gateway.counters(p.clientSn).pay).toBe(1);
    }
    const log = hh.sandbox.gateway.log().filter((e) => e.endpoint === 'pay');
    expect(log.map((e) => e.errorCode ?? null)).not.toContain('CLIENT_SN_CONFLICT');
  });

  it('the gateway unreachable before sending → failed, not sent, no money taken, never sent later', async () => {
    const hh = await harness();
    const dead = hh.runtime({ apiDomain: 'http://127.0.0.1:9', payTiming: FAST_PAY });
    const p = await dead.payments.request(BARCODE, WHO, 'test');
    expect(p.state).toBe('failed');
    expect(p.error?.code).toBe('NOT_SENT');
    expect(p.error?.messageZh).toContain('未收款（钱款未扣）');
    await new Promise((r) => setTimeout(r, 300));
    dead.payments.wakeAll();
    await hh.rt.payments.idle();
    expect(hh.sandbox.gateway.counters(p.clientSn).pay).toBe(0);
    expect(hh.sandbox.gateway.log().filter((e) => e.endpoint === 'pay')).toHaveLength(0);
  });

  it('the gateway goes away during the reversal → needs_attention (never failed), and the reversal goes on to canceled', async () => {
    const hh = await harness();
    hh.sandbox.gateway.inject('pay', IN_PROGRESS_FOREVER);
    hh.sandbox.gateway.inject('cancel', { kind: 'drop_before' }, 1_000);
    const p = await hh.rt.payments.request(BARCODE, WHO, 'test');
    const attention = await settle(hh, p.id, ['needs_attention', ...FINAL]);
    expect(attention.state).toBe('needs_attention');
    expect(attention.error?.messageZh).toContain('请勿重复收款');
    hh.sandbox.gateway.clearFaults();
    const done = await settle(hh, p.id);
    expect(done.state).toBe('canceled');
    const n = hh.sandbox.gateway.counters(p.clientSn);
    expect(n.pay).toBe(1);
    expect(n.cancel).toBeGreaterThanOrEqual(FAST_PAY.maxCancels! + 1);
    expect(n.orderStatus).toBe('CANCELED');
    expect(n.moneyTaken).toBe(false);
  });
});

describe('QR payments (precreate) over HTTP to the sandbox', () => {
  it('PRECREATE_SUCCESS gives the qr_code; the customer pays → paid, 收款凭证', async () => {
    const hh = await harness();
    const p = await hh.rt.payments.request({ amountCents: 500, method: 'qr', payway: '3' }, WHO, 'test');
    expect(p.state).toBe('pending');
    expect(p.qrCode).toMatch(/^weixin:\/\//);
    hh.sandbox.gateway.customerPays(p.clientSn);
    const done = await settle(hh, p.id);
    expect(done.state).toBe('paid');
    const n = hh.sandbox.gateway.counters(p.clientSn);
    expect({ precreate: n.precreate, pay: n.pay, cancel: n.cancel, taken: n.moneyTaken }).toEqual({ precreate: 1, pay: 0, cancel: 0, taken: true });
    expect(hh.rt.paymentPrinting.receiptFor(p.id)?.model.kind).toBe('payment');
    expect(hh.rt.orders.get(done.orderSn!)?.status).toBe('PAID');
  });

  it('nobody pays within the lifetime → cancel → canceled, no money taken', async () => {
    const hh = await harness();
    const p = await hh.rt.payments.request({ amountCents: 500, method: 'qr', payway: '1' }, WHO, 'test');
    const done = await settle(hh, p.id);
    expect(done.state).toBe('canceled');
    const n = hh.sandbox.gateway.counters(p.clientSn);
    expect({ precreate: n.precreate, cancel: n.cancel, taken: n.moneyTaken, status: n.orderStatus }).toEqual({ precreate: 1, cancel: 1, taken: false, status: 'CANCELED' });
    expect(n.query).toBeGreaterThanOrEqual(3);
    expect(hh.rt.paymentPrinting.receiptFor(p.id)).toBeNull();
  });
});

describe('crash resume: query first, then cancel; the payment is never sent again', () => {
  it('killed after the write-ahead commit, before the send → resumed by query → failed (never reached), no pay sent', async () => {
    const hh = await harness();
    await crashAt(hh, 'intent-committed');
    const row = hh.rt.payments.open()[0]!;
    expect(row.state).toBe('sending');
    await new Promise((r) => setTimeout(r, 250));
    const fresh = hh.runtime({ payTiming: FAST_PAY });
    const done = await settle({ rt: fresh }, row.id);
    expect(done.state).toBe('failed');
    const n = hh.sandbox.gateway.counters(row.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, taken: n.moneyTaken }).toEqual({ pay: 0, cancel: 0, taken: false });
    expect(n.query).toBeGreaterThanOrEqual(1);
  });

  it('killed after an in-progress answer; restarted after the window → query, then cancel → canceled', async () => {
    const hh = await harness();
    hh.sandbox.gateway.inject('pay', IN_PROGRESS_FOREVER);
    await crashAt(hh, 'answer-received');
    const row = hh.rt.payments.open()[0]!;
    await new Promise((r) => setTimeout(r, 600));
    const fresh = hh.runtime({ payTiming: FAST_PAY });
    const done = await settle({ rt: fresh }, row.id);
    expect(done.state).toBe('canceled');
    const n = hh.sandbox.gateway.counters(row.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, status: n.orderStatus }).toEqual({ pay: 1, cancel: 1, status: 'CANCELED' });
    const firstQuery = hh.sandbox.gateway.log().findIndex((e) => e.endpoint === 'query');
    const firstCancel = hh.sandbox.gateway.log().findIndex((e) => e.endpoint === 'cancel');
    expect(firstQuery).toBeGreaterThanOrEqual(0);
    expect(firstQuery).toBeLessThan(firstCancel);
  });
});

describe('restart the next day', () => {
  it('a payment left in progress by a crash is resumed the next day: query first, then cancel → canceled; one pay request', async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const hh = await harness(clock);
    hh.sandbox.gateway.inject('pay', IN_PROGRESS_FOREVER);
    await crashAt(hh, 'answer-received');
    await hh.rt.close();
    const row = toPayment(databaseOf(hh.runtime({ startWorkers: false })).prepare('SELECT * FROM payments').get() as PaymentRow);
    offset = 86_400_000;
    hh.sandbox.gateway.clearLog();
    const nextDay = hh.runtime({ payTiming: FAST_PAY });
    const done = await settle({ rt: nextDay }, row.id);
    expect(done.state).toBe('canceled');
    const n = hh.sandbox.gateway.counters(row.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, status: n.orderStatus, taken: n.moneyTaken }).toEqual({ pay: 1, cancel: 1, status: 'CANCELED', taken: false });
    const calls = hh.sandbox.gateway.log().filter((e) => e.endpoint === 'query' || e.endpoint === 'cancel');
    expect(calls[0]).toMatchObject({ endpoint: 'query', resultCode: '200', bizResultCode: 'SUCCESS' });
  });
});

describe('the fleet export', () => {
  it('a payment exports created, paid / canceled / needs_attention events in the transactions that make them', async () => {
    const hh = await harness();
    const paid = await hh.rt.payments.request(BARCODE, WHO, 'test');
    hh.sandbox.gateway.inject('pay', IN_PROGRESS_FOREVER);
    const canceled = await hh.rt.payments.request({ ...BARCODE, amountCents: 99 }, WHO, 'test');
    await settle(hh, canceled.id);
    const events = databaseOf(hh.rt)
      .prepare("SELECT op_id, op_state, order_sn, amount_cents, operator_name, json_extract(payload, '$.client_sn') AS client_sn FROM fleet_outbox WHERE kind = 'payment' ORDER BY seq")
      .all() as Array<{ op_id: number; op_state: string; order_sn: string | null; amount_cents: number; operator_name: string; client_sn: string }>;
    const of = (id: number) => events.filter((e) => e.op_id === id).map((e) => e.op_state);
    expect(of(paid.id)).toEqual(['sending', 'paid']);
    expect(of(canceled.id)).toEqual(['sending', 'canceled']);
    const paidEvent = events.find((e) => e.op_id === paid.id && e.op_state === 'paid')!;
    expect(paidEvent).toMatchObject({ amount_cents: 1234, operator_name: '收银员 1', client_sn: paid.clientSn });
    expect(paidEvent.order_sn).toMatch(/^\d{16}$/);
    // Written as migration 11's triggers write every event: the identity of that moment, the epoch, a unique id.
    const ids = databaseOf(hh.rt)
      .prepare("SELECT event_id, o.epoch AS epoch, f.epoch AS current, o.terminal_sn AS sn, t.terminal_sn AS terminal FROM fleet_outbox o, fleet_state f, terminal t WHERE o.kind = 'payment' AND f.id = 1 AND t.id = 1")
      .all() as Array<{ event_id: string; epoch: string; current: string; sn: string | null; terminal: string }>;
    expect(ids.length).toBe(events.length);
    for (const r of ids) expect(r).toMatchObject({ epoch: r.current, sn: r.terminal });
    expect(ids[0]!.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids.map((r) => r.event_id)).size).toBe(ids.length);
  });
});
