/**
 * A payment handed to a person (needs_attention: the cancel tries spent, the outcome unknown) is still reversed
 * by the worker every `attentionEveryMs`, as its words say ("系统仍在自动冲正"), not only at the slow re-check
 * (every 5 minutes; switched off here). Each try is one query and, while the order is still open, one cancel:
 * bounded, never a busy loop. Over real HTTP to the sandbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import type { PayTiming } from '../../main/operations/pay/timing';
import type { Payment } from '../../main/store/payments';
import { createHarness, until, type Harness } from '../support/harness';

const T: Partial<PayTiming> = {
  payWindowMs: 300,
  payQueryEveryMs: 50,
  cancelRetryMs: 30,
  cancelRetryCapMs: 60,
  maxCancels: 3,
  attentionEveryMs: 250,
  leaseMs: 2_000,
};
const WHO: Accountable = { operatorId: null, operatorName: '收银员 1', approverId: null, approverName: null };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const waitFor = (hh: Harness, id: number, states: string[], ms = 10_000): Promise<Payment> =>
  until(() => {
    const p = hh.rt.payments.get(id)!;
    return states.includes(p.state) ? p : undefined;
  }, ms, 5);

describe('needs_attention: the reversal goes on every attentionEveryMs', () => {
  it('the cancel tries spent → needs_attention; the worker cancels again on its own, at that pace, until CANCELED', async () => {
    // No re-check: only the worker can try again.
    h = await createHarness({ runtime: { payTiming: T, recheck: { everyMs: 600_000, probeEveryMs: 600_000 } } });
    const hh = h;
    const gw = hh.sandbox.gateway;
    gw.inject('pay', { kind: 'pay_in_progress', queries: 1_000_000 });
    // Every cancel answers CANCEL_ABORT_ERROR and changes nothing (the gateway answers: we stay online).
    gw.inject('cancel', { kind: 'cancel_error_no_code', outcome: 'untouched' }, 1_000);
    const p = await hh.rt.payments.request({ amountCents: 1234, method: 'barcode', barcode: '134567890123456789' }, WHO, 'test');
    const attention = await waitFor(hh, p.id, ['needs_attention', 'paid', 'failed', 'canceled']);
    expect(attention.state).toBe('needs_attention');
    expect(attention.error?.messageZh).toContain('系统仍在自动冲正');
    expect(attention.nextAttemptAt).not.toBeNull();
    const spent = gw.counters(p.clientSn).cancel;
    expect(spent).toBe(T.maxCancels);
    // Over ~1.1 s at one try every 250 ms: a few more cancels, each after a query, never a burst.
    await new Promise((r) => setTimeout(r, 1_100));
    const more = gw.counters(p.clientSn).cancel - spent;
    expect(more).toBeGreaterThanOrEqual(2);
    expect(more).toBeLessThanOrEqual(6);
    const cancels = gw.log().filter((e) => e.endpoint === 'cancel').map((e) => e.at);
    const gaps = cancels.slice(spent).map((at, i) => at - cancels[spent - 1 + i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(T.attentionEveryMs! - 20);
    expect(hh.rt.payments.get(p.id)!.state).toBe('needs_attention');
    // The gateway accepts the reversal again: the next try ends it, with no person and no re-check.
    gw.clearFaults();
    const done = await waitFor(hh, p.id, ['paid', 'failed', 'canceled'], 3_000);
    expect(done).toMatchObject({ state: 'canceled', moneyReturned: false });
    expect(gw.counters(p.clientSn)).toMatchObject({ orderStatus: 'CANCELED', moneyTaken: false, pay: 1 });
  });
});
