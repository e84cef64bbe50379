/**
 * The 撤销/冲正 slip is durable: its print job is created in the same SQLite
 * transaction that records the payment `canceled` with money returned, so a
 * process that dies right after that commit (crash point
 * `canceled-committed`, before the row is published or the printer woken)
 * still prints the slip once after a restart. One original per payment: a
 * second queue of the same slip changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { databaseOf, type Runtime } from '../../main/runtime';
import type { Fault } from '../../main/sandbox/gateway';
import type { PaymentRow } from '../../main/store/payments';
import { createHarness, until, type Harness } from '../support/harness';
import { barcodePayment, FAST_BARCODE_PAY, WHO } from '../support/pay';

const BARCODE = barcodePayment(4321);
const IN_PROGRESS_FOREVER: Fault = { kind: 'pay_in_progress', queries: 1_000_000 };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const slipJobs = (rt: Runtime, paymentId: number) =>
  databaseOf(rt).prepare('SELECT id, state FROM print_jobs WHERE payment_id = ? ORDER BY id').all(paymentId) as Array<{ id: number; state: string }>;

describe('the 撤销/冲正 slip survives a crash right after the canceled commit', () => {
  it('killed at canceled-committed (before publish): the slip job is already stored; after restart it prints exactly once', async () => {
    // The harness's own runtime only activates (no workers, no printer): the crashing runtime alone works the payment.
    h = await createHarness({ runtime: { startWorkers: false, printer: 'none', payTiming: FAST_BARCODE_PAY } });
    const hh = h;
    let crashed = false;
    const crashing = hh.runtime({
      startWorkers: true,
      payCheckpoint: (point) => {
        if (point !== 'canceled-committed') return;
        crashed = true;
        throw new Error('crash');
      },
    });
    const published: string[] = [];
    crashing.events.on('payment.updated', (p) => published.push(p.state));
    // The customer pays while every query is lost: at the window's end the cancel voids the PAID order (money back).
    hh.sandbox.gateway.inject('pay', IN_PROGRESS_FOREVER);
    hh.sandbox.gateway.inject('query', { kind: 'drop_before' }, 1_000);
    const p = await crashing.payments.request(BARCODE, WHO, 'test');
    expect(p.state).toBe('pending');
    hh.sandbox.gateway.customerPays(p.clientSn);
    await until(() => crashed, 10_000);
    await crashing.close();
    hh.sandbox.gateway.clearFaults();

    // The crash came after the commit and before anything was published: `canceled` was never told, the printer never woken.
    expect(published).not.toContain('canceled');
    const row = databaseOf(hh.rt).prepare('SELECT * FROM payments WHERE id = ?').get(p.id) as PaymentRow;
    expect({ state: row.state, code: row.error_code }).toEqual({ state: 'canceled', code: 'REVERSED' });
    const n = hh.sandbox.gateway.counters(p.clientSn);
    expect({ pay: n.pay, cancel: n.cancel, taken: n.moneyTaken, returned: n.moneyReturned }).toEqual({ pay: 1, cancel: 1, taken: true, returned: true });
    // The slip's job was written by the canceled transaction itself.
    expect(slipJobs(hh.rt, p.id)).toEqual([{ id: expect.any(Number), state: 'pending' }]);

    // Restart with the printer: the stored job prints, once.
    const fresh = hh.runtime({ startWorkers: true, printer: 'virtual' });
    await until(() => slipJobs(fresh, p.id)[0]?.state === 'printed', 10_000);
    await new Promise((r) => setTimeout(r, 400));
    expect(slipJobs(fresh, p.id)).toHaveLength(1);
    expect(fresh.paymentPrinting.receiptFor(p.id)?.model.kind).toBe('payment-slip');
    expect(hh.sandbox.printer.jobs()).toHaveLength(1);
    expect(fresh.payments.get(p.id)?.moneyReturned).toBe(true);

    // Idempotent: queuing the same slip again (a replayed hook) adds no second original.
    const stored = databaseOf(fresh).prepare('SELECT * FROM payments WHERE id = ?').get(p.id) as PaymentRow;
    fresh.paymentPrinting.receipts.queue({ payment: stored, order: null }, Date.now());
    expect(slipJobs(fresh, p.id)).toHaveLength(1);
  });
});
