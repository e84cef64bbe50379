/**
 * Something throws after a money operation's row was committed as calling (`sending`, or a payment's
 * `canceling`) and before its answer is recorded: a listener told of it fails, the key vault cannot be opened,
 * the store refuses a write for a moment. The row never stays in that state under this process's lease with
 * nobody to resolve it (the cashier reading 正在确认 for minutes): a request certainly not sent is read as not
 * sent (a revoke or refund queued), one that may have left is asked about at once, and the worker resolves it.
 * Real runtime, real SQLite (read-only for a moment by its own pragma), real HTTP to the sandbox; the failures
 * come from a throwing listener, a replaced vault.key and SQLite's query_only, timed by the runtime's
 * checkpoint hooks (which only watch here: they never throw).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../main/common/time';
import { databaseOf, type Logger, type Runtime } from '../../main/runtime';
import { VAULT_KEY_FILE } from '../../main/terminal/vault';
import { createHarness, until, type Harness } from '../support/harness';
import { barcodePayment, fastPay, QUIET_RECHECK, WHO } from '../support/pay';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const CASHIER = { operatorId: null, operatorName: 'cashier', approverId: null, approverName: null };

/** What a runtime logged (any level). */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const push = (l: string) => void lines.push(l);
  return { logger: { info: push, warn: push, error: push }, lines };
}

/** The store refuses every write from now until `writable` (a full or read-only disk for a moment). */
const readOnly = (rt: Runtime) => databaseOf(rt).pragma('query_only = 1');
const writable = (rt: Runtime) => databaseOf(rt).pragma('query_only = 0');

/** The row's lease as stored (whoever holds it). */
const leaseOf = (rt: Runtime, table: string, id: number) => databaseOf(rt).prepare(`SELECT lease_owner FROM ${table} WHERE id = ?`).pluck().get(id) as string | null;

describe('the first send: whatever throws after the write-ahead commit', () => {
  it('a listener fails when the refund is shown as sending → it is still sent once and recorded; nothing is left sending', async () => {
    h = await createHarness();
    const hh = h;
    const o = hh.paidOrder();
    let thrown = 0;
    hh.rt.events.on('refund.updated', (r) => {
      if (r.state === 'sending' && thrown++ === 0) throw new Error('injected: a window could not be told');
    });
    await hh.rt.refunds.request({ sn: o.sn }, 400, CASHIER, 'test').catch(() => undefined);
    const row = hh.rt.refunds.forOrder(o.sn)[0]!;
    const done = await until(() => {
      const x = hh.rt.refunds.get(row.id)!;
      return x.state === 'sending' || x.state === 'pending' ? undefined : x;
    }, 3_000);
    expect(thrown).toBe(1);
    expect(done.state).toBe('refunded');
    expect(hh.sandbox.gateway.effects('refund', o.sn)).toBe(1);
    expect(hh.sandbox.gateway.log().filter((e) => e.endpoint === 'refund')).toHaveLength(1);
  });

  it('a revoke whose answer cannot be recorded (the store read-only for a moment) → asked about at once when it is writable → revoked; one revoke call', async () => {
    let arm = false;
    h = await createHarness({
      runtime: {
        recheck: QUIET_RECHECK,
        checkpoint: (point) => {
          if (point !== 'answer-received' || !arm) return;
          arm = false;
          readOnly(h!.rt);
        },
      },
    });
    const hh = h;
    const o = hh.paidOrder();
    arm = true;
    const failure = await hh.rt.revokes.request({ sn: o.sn }, 'op', 'test').then(
      () => null,
      (err: Error) => err,
    );
    writable(hh.rt);
    expect(failure?.message).toMatch(/readonly|read-only|query_only/i);
    const row = hh.rt.revokes.forOrder(o.sn)!;
    // The gateway did void it; the outcome is found by a query by itself, without a restart or a person.
    const done = await until(() => {
      const x = hh.rt.revokes.get(row.id)!;
      return x.state === 'revoked' ? x : undefined;
    }, 3_000);
    expect(done.state).toBe('revoked');
    expect(leaseOf(hh.rt, 'revokes', row.id)).toBeNull();
    expect(hh.sandbox.gateway.log().filter((e) => e.endpoint === 'revoke')).toHaveLength(1);
    expect(hh.sandbox.gateway.log().filter((e) => e.endpoint === 'query').length).toBeGreaterThanOrEqual(1);
  });

  it('a payment whose answer cannot be recorded → pending, asked about at once → paid; one pay call, never failed', async () => {
    let arm = false;
    h = await createHarness({
      runtime: {
        recheck: QUIET_RECHECK,
        payTiming: fastPay({ payWindowMs: 5_000 }),
        payCheckpoint: (point) => {
          if (point !== 'answer-received' || !arm) return;
          arm = false;
          readOnly(h!.rt);
        },
      },
    });
    const hh = h;
    const states: string[] = [];
    hh.rt.events.on('payment.updated', (p) => void states.push(p.state));
    arm = true;
    await hh.rt.payments.request(barcodePayment(2345), WHO, 'test').catch(() => undefined);
    writable(hh.rt);
    const id = databaseOf(hh.rt).prepare('SELECT id FROM payments ORDER BY id DESC LIMIT 1').pluck().get() as number;
    const done = await until(() => {
      const x = hh.rt.payments.get(id)!;
      return x.state === 'sending' || x.state === 'pending' ? undefined : x;
    }, 3_000);
    expect(done.state).toBe('paid');
    expect(states).not.toContain('failed');
    expect(hh.sandbox.gateway.counters(done.clientSn)).toMatchObject({ pay: 1, cancel: 0, orderStatus: 'PAID', moneyTaken: true });
  });
});

describe('a re-send: the key vault cannot be opened after the row was committed as sending', () => {
  it('a queued refund taken by a worker whose vault cannot open the key → queued again (not sent), never left sending; sent once when the key opens', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    const hh = h;
    const o = hh.paidOrder();
    hh.sandbox.gateway.inject('refund', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' }, 1);
    const r = await hh.rt.refunds.request({ sn: o.sn }, 300, CASHIER, 'test');
    expect(r.state).toBe('queued');

    // Another process on the data dir whose vault.key is not the one that sealed the terminal key.
    const keyFile = path.join(hh.dataDir, VAULT_KEY_FILE);
    const key = fs.readFileSync(keyFile);
    fs.writeFileSync(keyFile, randomBytes(32));
    const bad = recorder();
    const other = hh.runtime({ startWorkers: true, logger: bad.logger, recheck: QUIET_RECHECK });
    await until(() => (bad.lines.some((l) => /sealed key cannot be opened/.test(l)) ? true : undefined), 3_000);
    await other.close();

    const after = hh.rt.refunds.get(r.id)!;
    expect(after.state).toBe('queued');
    expect(after.error?.code).toBe('QUEUED');
    expect(leaseOf(hh.rt, 'refunds', r.id)).toBeNull();
    expect(hh.sandbox.gateway.log().filter((e) => e.endpoint === 'refund')).toHaveLength(1);
    expect(hh.sandbox.gateway.effects('refund', o.sn)).toBe(0);

    // The right key again: the refund goes out once.
    fs.writeFileSync(keyFile, key);
    const good = hh.runtime({ startWorkers: true, recheck: QUIET_RECHECK });
    const done = await until(() => {
      const x = good.refunds.get(r.id)!;
      return x.state === 'refunded' ? x : undefined;
    }, 5_000);
    expect(done.state).toBe('refunded');
    expect(hh.sandbox.gateway.effects('refund', o.sn)).toBe(1);
  });
});

describe('the payment’s cancel: its answer cannot be recorded', () => {
  it('a person’s "query again" starts the cancel and its answer is lost to the store → canceling asked about at once → canceled, nothing taken', async () => {
    const clock = new ManualClock(Date.parse('2026-05-22T02:00:00Z'));
    let arm = false;
    h = await createHarness({
      clock,
      runtime: {
        recheck: QUIET_RECHECK,
        // The worker never polls this QR by itself during the test (its first query is a minute away).
        payTiming: fastPay({ qrFastMs: 60_000, qrSlowMs: 60_000, qrLifetimeMs: 1_000 }),
        payCheckpoint: (point) => {
          if (point !== 'answer-received' || !arm) return;
          arm = false;
          readOnly(h!.rt);
        },
      },
    });
    const hh = h;
    const p = await hh.rt.payments.request({ amountCents: 700, method: 'qr', payway: '3' }, WHO, 'test');
    expect(p.state).toBe('pending');
    clock.advance(2_000);
    arm = true;
    await hh.rt.payments.queryAgain(p.id, 'cashier').catch(() => undefined);
    writable(hh.rt);
    expect(hh.sandbox.gateway.counters(p.clientSn)).toMatchObject({ cancel: 1 });
    const done = await until(() => {
      const x = hh.rt.payments.get(p.id)!;
      return x.state === 'canceled' || x.state === 'failed' || x.state === 'paid' ? x : undefined;
    }, 3_000);
    expect(done).toMatchObject({ state: 'canceled', moneyReturned: false });
    expect(leaseOf(hh.rt, 'payments', p.id)).toBeNull();
    expect(hh.sandbox.gateway.counters(p.clientSn)).toMatchObject({ precreate: 1, cancel: 1, moneyTaken: false });
  });
});
