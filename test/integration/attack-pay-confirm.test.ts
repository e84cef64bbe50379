/**
 * Attack: one confirmation of a same-amount payment replayed for many charges.
 * The confirmation is not a bare "yes" (`confirmDuplicate: true` once allowed
 * any number of charges of an amount already open: 40 concurrent confirmed
 * requests → 41 payments, 41 pay calls); it names the open payment the
 * cashier's dialog showed (`confirmDuplicateOf`), and main charges again only
 * while the open payments of that amount are exactly that one, checked in the
 * write-ahead row's IMMEDIATE transaction. A confirmed burst (one window, or
 * two runtimes on one data dir) starts one payment; a confirmation naming a
 * stale id (a payment of that amount opened after the dialog appeared, an id
 * of another amount, an id that is no payment) is refused, naming the open
 * payment, with no row and no gateway call.
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

let h: Harness;
let set: HandlerSet;
harnessWithHandlersEach((fresh) => ({ h, set } = fresh));

type Ok = { ok: true; value: PaymentView };
const started = (rs: Array<Result<PaymentView>>) => rs.filter((r): r is Ok => r.ok).map((r) => r.value);
const value = (r: Result<PaymentView>): PaymentView => {
  if (!r.ok) throw new Error(`expected a payment, got ${r.error.code} ${r.error.message}`);
  return r.value;
};

/** Pay calls the gateway received, over every client_sn it or we know. */
function payCalls(): number {
  const ours = databaseOf(h.rt).prepare('SELECT client_sn FROM payments').pluck().all() as string[];
  const seen = new Set([...ours, ...h.sandbox.gateway.orders().map((o) => o.clientSn)]);
  return [...seen].reduce((n, csn) => n + h.sandbox.gateway.counters(csn).pay, 0);
}

const rowsOfAmount = (cents = AMOUNT) => databaseOf(h.rt).prepare('SELECT count(*) FROM payments WHERE amount_cents = ?').pluck().get(cents) as number;

/** The customer is still typing a password: every pay stays PAY_IN_PROGRESS (the payment open) for the whole test. */
const keepOpen = () => h.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 100_000 }, BURST * 3);

const charge = (c: BoundHandlers, confirmDuplicateOf?: number, amountCents = AMOUNT) =>
  c['pay.request']({ method: 'barcode', amountCents, barcode: CUSTOMER_BARCODE, ...(confirmDuplicateOf !== undefined ? { confirmDuplicateOf } : {}) }) as Promise<Result<PaymentView>>;

/** Every refusal is PAYMENT_SAME_AMOUNT_OPEN naming `open`, in zh-CN and en. */
function expectRefusedNaming(rs: Array<Result<PaymentView>>, open: PaymentView): void {
  for (const r of rs.filter((x) => !x.ok)) {
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'PAYMENT_SAME_AMOUNT_OPEN',
        messageZh: expect.stringContaining(`收款编号 ${open.id}`),
        message: expect.stringContaining(`payment #${open.id}`),
        details: { paymentId: open.id, clientSn: open.clientSn, amountCents: open.amountCents },
      },
    });
  }
}

describe('the same-amount confirmation names the open payment it confirms', () => {
  it('attack: 40 concurrent pay.request confirming the open payment → one more payment (one pay call), 39 refused naming it', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    keepOpen();
    const first = value(await charge(cashier));
    expect(first.outcome).toBe('pending');
    // The dialog: the unconfirmed request is refused naming the open one, whose id the confirmation sends back.
    const refused = await charge(cashier);
    expectRefusedNaming([refused], first);
    const before = payCalls();

    const rs = await Promise.all(Array.from({ length: BURST }, () => charge(cashier, first.id)));
    const ok = started(rs);
    expect(ok, JSON.stringify(rs.filter((r) => !r.ok).slice(0, 2))).toHaveLength(1);
    const second = ok[0]!;
    expect(second.id).not.toBe(first.id);
    // The other 39 are refused by the payment the burst just started (opened after their dialog appeared).
    expectRefusedNaming(rs, second);
    expect(rowsOfAmount()).toBe(2);
    expect(payCalls()).toBe(before + 1);
  });

  it('attack: two runtimes on one data dir, 2 × 20 confirmed requests at once → still one more payment', async () => {
    const rt2 = h.runtime();
    const set2 = createHandlerSet(rt2, TEST_HANDLER_OPTIONS);
    const a = await signIn(h.rt, set, 'cashier');
    const b = await signIn(rt2, set2, 'cashier');
    keepOpen();
    const first = value(await charge(a));
    const before = payCalls();
    const rs = await Promise.all(Array.from({ length: BURST }, (_, i) => charge(i % 2 ? b : a, first.id)));
    expect(started(rs)).toHaveLength(1);
    expectRefusedNaming(rs, started(rs)[0]!);
    expect(rowsOfAmount()).toBe(2);
    expect(payCalls()).toBe(before + 1);
  });

  it('attack: a confirmation naming a stale id is refused, naming the payment open now; no row, no gateway call', async () => {
    const w1 = await signIn(h.rt, set, 'cashier', 'cashier-1');
    const w2 = await signIn(h.rt, set, 'cashier', 'cashier-2');
    keepOpen();
    const a = value(await charge(w1));
    // Window 1's dialog shows A. Meanwhile window 2 confirms A too and charges: B is open now, of the same amount.
    const b = value(await charge(w2, a.id));
    expect(b.id).not.toBe(a.id);
    const other = value(await charge(w1, undefined, 1_999));
    const rows = rowsOfAmount();
    const before = payCalls();

    // Window 1 confirms what its dialog showed (A): B was opened after it appeared, so B is named.
    const stale = await charge(w1, a.id);
    expectRefusedNaming([stale], b);
    // An id of a payment of another amount, one that is no payment at all, and no id: the same refusal.
    for (const id of [other.id, 987_654, undefined]) {
      const r = await charge(w1, id);
      expect(r, String(id)).toMatchObject({ ok: false, error: { code: 'PAYMENT_SAME_AMOUNT_OPEN' } });
      expectRefusedNaming([r], b);
    }
    // The bare boolean of before is no confirmation at all: refused by the contract.
    const bare = await w1['pay.request']({ method: 'barcode', amountCents: AMOUNT, barcode: CUSTOMER_BARCODE, confirmDuplicate: true } as never);
    expect(bare).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(rowsOfAmount()).toBe(rows);
    expect(payCalls()).toBe(before);

    // Confirming B, the newest open one, is still not enough while A is open too: "exactly the one named".
    const notExactly = await charge(w1, b.id);
    expect(notExactly).toMatchObject({ ok: false, error: { code: 'PAYMENT_SAME_AMOUNT_OPEN', details: { paymentId: a.id } } });
    expect(payCalls()).toBe(before);
  });

  it('the cashier’s own confirmation still works: the id the refusal named goes through once', async () => {
    const cashier = await signIn(h.rt, set, 'cashier');
    h.sandbox.gateway.inject('pay', { kind: 'pay_in_progress', queries: 100_000 }, 1);
    const first = value(await charge(cashier));
    const refused = await charge(cashier);
    const named = refused.ok ? undefined : (refused.error.details as { paymentId: number }).paymentId;
    expect(named).toBe(first.id);
    expect(await charge(cashier, named)).toMatchObject({ ok: true, value: { outcome: 'paid', headlineZh: '收款成功', amountCents: AMOUNT } });
    // The confirmation was spent: the first one is still open, and one more charge needs a confirmation again.
    expect(await charge(cashier)).toMatchObject({ ok: false, error: { code: 'PAYMENT_SAME_AMOUNT_OPEN', details: { paymentId: first.id } } });
  });
});
