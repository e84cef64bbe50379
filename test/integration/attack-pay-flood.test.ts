/**
 * Attack: a flood of QR payments from a signed-in window. Each QR payment is a
 * precreate at the gateway and a local row polled every 2 s until the QR's
 * lifetime ends, so an unbounded flood (300 at once, each of its own amount:
 * no same-amount rule applies) made 300 gateway orders and 300 open rows,
 * and kept the pay worker (4 slots, due rows taken oldest id first) so busy
 * that a real cashier's barcode payment stayed 正在确认 for 40 s.
 *
 * What holds: (a) at most the counter's cap of payments is open at once
 * (PayTiming.maxOpen, 8), checked in the write-ahead row's IMMEDIATE
 * transaction (one process or two): the rest are refused with
 * PAYMENT_TOO_MANY_OPEN (zh-CN and en), no row and no gateway call; (b) the
 * worker takes due rows by when they fell due, then id, so a new payment's
 * query waits only for rows due before it, never behind every older row
 * polled again and again. Promptness is measured by the gateway's log (how
 * many queries of the flood's rows went before the cashier's), not by the
 * wall clock. And the open lists (pay.listOpen, operations.open) list every
 * open payment: they once kept the oldest 1,000 and dropped the newest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PaymentView, Result } from '../../main/ipc/contract';
import { createHandlerSet, type HandlerSet } from '../../main/ipc/handlers';
import { DEFAULT_PAY_TIMING, type PayTiming } from '../../main/operations/pay/timing';
import { dayOf } from '../../main/operations/pay/kind';
import { databaseOf, type Runtime } from '../../main/runtime';
import { PaymentsRepo } from '../../main/store/payments';
import { createHarness, until, type Harness } from '../support/harness';
import { ensureOperator, signIn, TEST_HANDLER_OPTIONS, type BoundHandlers } from '../support/operators';
import { barcodePayment, CUSTOMER_BARCODE, fastPay, QUIET_RECHECK, WHO } from '../support/pay';

const FLOOD = 300;
const CAP = DEFAULT_PAY_TIMING.maxOpen;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(payTiming?: Partial<PayTiming>): Promise<{ hh: Harness; set: HandlerSet }> {
  h = await createHarness({ runtime: { recheck: QUIET_RECHECK, ...(payTiming ? { payTiming } : {}) } });
  return { hh: h, set: createHandlerSet(h.rt, TEST_HANDLER_OPTIONS) };
}

const rows = (rt: Runtime) => databaseOf(rt).prepare('SELECT count(*) FROM payments').pluck().get() as number;
const gatewayCalls = (hh: Harness, endpoint: string) => hh.sandbox.gateway.log().filter((e) => e.endpoint === endpoint).length;
const qr = (w: BoundHandlers, i: number) => w['pay.request']({ method: 'qr', amountCents: 1_000 + i, payway: '3' }) as Promise<Result<PaymentView>>;

function expectCapped(rs: Array<Result<PaymentView>>): PaymentView[] {
  const ok = rs.filter((r): r is { ok: true; value: PaymentView } => r.ok).map((r) => r.value);
  expect(ok.length).toBe(CAP);
  for (const r of rs.filter((x) => !x.ok)) {
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'PAYMENT_TOO_MANY_OPEN',
        messageZh: expect.stringContaining(`尚未结束（最多 ${CAP} 笔）`),
        message: expect.stringContaining(`payments are still open on this counter (at most ${CAP})`),
        details: { open: CAP, cap: CAP },
      },
    });
    expect(r).toMatchObject({ error: { messageZh: expect.stringContaining('请先完成或取消其中一笔'), message: expect.stringContaining('Finish or cancel one first') } });
  }
  return ok;
}

describe('a QR flood is capped: at most 8 payments open on the counter', () => {
  it('attack: 300 concurrent QR requests of distinct amounts → 8 rows and 8 precreates; 292 refused PAYMENT_TOO_MANY_OPEN, no row, no gateway call', async () => {
    const { hh, set } = await setup();
    const hostile = await signIn(hh.rt, set, 'cashier', 'hostile');
    const rs = await Promise.all(Array.from({ length: FLOOD }, (_, i) => qr(hostile, i)));
    const ok = expectCapped(rs);
    for (const p of ok) expect(p.outcome).toBe('awaiting_customer');
    expect(rows(hh.rt)).toBe(CAP);
    expect(gatewayCalls(hh, 'precreate')).toBe(CAP);
    expect(hh.sandbox.gateway.orders()).toHaveLength(CAP);
    // Still capped afterwards, one at a time; once one ends (the customer pays), one more may start.
    expect(await qr(hostile, FLOOD)).toMatchObject({ ok: false, error: { code: 'PAYMENT_TOO_MANY_OPEN' } });
    hh.sandbox.gateway.customerPays(ok[0]!.clientSn);
    await until(() => hh.rt.payments.get(ok[0]!.id)!.state === 'paid', 10_000);
    expect(await qr(hostile, FLOOD + 1)).toMatchObject({ ok: true, value: { outcome: 'awaiting_customer' } });
    expect(rows(hh.rt)).toBe(CAP + 1);
    expect(gatewayCalls(hh, 'precreate')).toBe(CAP + 1);
  });

  it('attack: two runtimes on one data dir, 2 × 150 at once: still 8 rows and 8 precreates in all', async () => {
    const { hh, set } = await setup();
    const rt2 = hh.runtime();
    const a = await signIn(hh.rt, set, 'cashier', 'hostile-a');
    const b = await signIn(rt2, createHandlerSet(rt2, TEST_HANDLER_OPTIONS), 'cashier', 'hostile-b');
    const rs = await Promise.all(Array.from({ length: FLOOD }, (_, i) => qr(i % 2 ? b : a, i)));
    expectCapped(rs);
    expect(rows(hh.rt)).toBe(CAP);
    expect(gatewayCalls(hh, 'precreate')).toBe(CAP);
  });

  it('the cap is checked before a supervisor’s PIN: a capped request above the threshold spends no approval try', async () => {
    const { hh, set } = await setup();
    const hostile = await signIn(hh.rt, set, 'cashier', 'hostile');
    expectCapped(await Promise.all(Array.from({ length: CAP + 4 }, (_, i) => qr(hostile, i))));
    hh.rt.updateSettings({ payApproval: 'above', payApprovalAboveCents: 100 }, 'test');
    const supervisorId = await ensureOperator(hh.rt, 'supervisor');
    const before = hh.rt.operators.get(supervisorId)!.failedAttempts;
    const r = await hostile['pay.request']({ method: 'qr', amountCents: 5_000, payway: '3', approval: { operatorId: supervisorId, pin: '000000' } });
    expect(r).toMatchObject({ ok: false, error: { code: 'PAYMENT_TOO_MANY_OPEN' } });
    expect(hh.rt.operators.get(supervisorId)!.failedAttempts).toBe(before);
  });
});

/**
 * The gateway's log from `from` on: how many queries of rows other than `clientSn` it received before the first
 * query of `clientSn`, and how many of them were of a row already queried in that stretch (a row served twice
 * while the payment waited).
 */
function queriesAhead(hh: Harness, clientSn: string, fromSeq: number): { ahead: number; repeats: number; own: number } {
  const log = hh.sandbox.gateway.log().filter((e) => e.seq > fromSeq && e.endpoint === 'query');
  const first = log.findIndex((e) => e.clientSn === clientSn);
  expect(first, 'the payment was queried').toBeGreaterThanOrEqual(0);
  const before = log.slice(0, first).map((e) => e.clientSn);
  return { ahead: before.length, repeats: before.length - new Set(before).size, own: log.filter((e) => e.clientSn === clientSn).length };
}

describe('the worker takes due rows by when they fell due: a new payment is not queued behind every older one', () => {
  // A slow gateway (each query 30 ms, 4 slots) and QR rows due every 30 ms: far more due than the worker can ask.
  const OVERLOADED = fastPay({ payWindowMs: 30_000, payQueryEveryMs: 50, qrFastMs: 30, qrFastForMs: 60_000, qrSlowMs: 30, qrLifetimeMs: 60_000, leaseMs: 5_000 });

  it('the cap full of QR rows from a flood, the cashier’s barcode payment (in doubt, then paid) is asked about before any QR row is asked twice', async () => {
    const { hh, set } = await setup(OVERLOADED);
    const cashier = await signIn(hh.rt, set, 'cashier', 'real cashier');
    const hostile = await signIn(hh.rt, set, 'cashier', 'hostile');
    hh.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 2 }, 1);
    const real = await cashier['pay.request']({ method: 'barcode', amountCents: 4_650, barcode: CUSTOMER_BARCODE });
    expect(real).toMatchObject({ ok: true, value: { outcome: 'pending' } });
    const pay = (real as { ok: true; value: PaymentView }).value;
    const seq = hh.sandbox.gateway.log().at(-1)!.seq;
    hh.sandbox.gateway.inject('query', { kind: 'delay', ms: 30 }, Infinity);
    expectCapped([real, ...(await Promise.all(Array.from({ length: FLOOD }, (_, i) => qr(hostile, i))))]);
    await until(() => hh.rt.payments.get(pay.id)!.state === 'paid', 20_000);
    const q = queriesAhead(hh, pay.clientSn, seq);
    // Its first query went out before any QR row was asked twice, and it took its own three (2 in progress, then PAID).
    expect(q.repeats).toBe(0);
    expect(q.ahead).toBeLessThanOrEqual(CAP - 1);
    expect(q.own).toBe(3);
  });

  it('beyond the cap (store IT’s bound raised to 100 for the test): 100 QR rows overload the worker; the new barcode payment is still asked before any of them twice', async () => {
    const { hh } = await setup({ ...OVERLOADED, maxOpen: 101 });
    const rt = hh.rt;
    const qrs = await Promise.all(Array.from({ length: 100 }, (_, i) => rt.payments.request({ amountCents: 2_000 + i, method: 'qr', payway: '3' }, WHO, 'test')));
    expect(qrs.every((p) => p.state === 'pending' && p.qrCode)).toBe(true);
    hh.sandbox.gateway.inject('query', { kind: 'delay', ms: 30 }, Infinity);
    // Let the polling saturate: every QR row due, the worker behind.
    await until(() => hh.sandbox.gateway.log().filter((e) => e.endpoint === 'query').length >= 200, 20_000);
    const seq = hh.sandbox.gateway.log().at(-1)!.seq;
    hh.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 2 }, 1);
    const pay = await rt.payments.request(barcodePayment(4_651), WHO, 'test');
    expect(pay.state).toBe('pending');
    // In id order alone it was never reached while the QR rows kept falling due (the oldest 16 always came first).
    await until(() => rt.payments.get(pay.id)!.state === 'paid', 20_000);
    const q = queriesAhead(hh, pay.clientSn, seq);
    expect(q.repeats).toBe(0);
    expect(q.ahead).toBeLessThanOrEqual(100);
    expect(q.own).toBe(3);
  });
});

describe('the open lists keep every open payment', () => {
  it('1,005 open payments (seeded past the cap, as an earlier version could leave): pay.listOpen and operations.open list every one, the newest included', async () => {
    const { hh, set } = await setup();
    const cashier = await signIn(hh.rt, set, 'cashier');
    const repo = new PaymentsRepo(databaseOf(hh.rt));
    const now = hh.rt.clock.now();
    // Held by another (dead) process for an hour: open, listed, and left alone by this worker meanwhile.
    databaseOf(hh.rt).transaction(() => {
      for (let i = 0; i < 1_005; i++) {
        repo.insertSending(
          { client_sn: `SEED${String(i).padStart(6, '0')}`, method: 'qr', amount_cents: 10_000 + i, payway: '3', subject: '收款', window_until: now + 3_600_000, operator_id: null, operator: 'seed', approver_id: null, approver_name: null, requested_at: now, requested_day: dayOf(now) },
          'seed-process',
          now + 3_600_000,
        );
      }
    })();
    const newest = repo.byClientSn('SEED001004')!;
    const listed = await cashier['pay.listOpen']({});
    expect(listed.ok && listed.value.length).toBe(1_005);
    expect(listed.ok && listed.value.some((p) => p.id === newest.id)).toBe(true);
    const ops = await cashier['operations.open']({});
    expect(ops.ok && ops.value.filter((o) => o.kind === 'pay').length).toBe(1_005);
    expect(ops.ok && ops.value.some((o) => o.kind === 'pay' && o.id === newest.id)).toBe(true);
    // And the cap counts them all: no new payment starts.
    expect(await qr(cashier, 1)).toMatchObject({ ok: false, error: { code: 'PAYMENT_TOO_MANY_OPEN', details: { open: 1_005, cap: CAP } } });
  });
});
