/**
 * An order paid at another till of the merchant, imported here to void or
 * refund it (`orders import`, a refund's or revoke's `findOrImport`), is never
 * this counter's payment: the day report (日结) books it only as the base of
 * this counter's revokes and refunds, so no old day's report of this counter
 * changes when it is imported, and every figure stays reconciled. The store
 * keeps the paying terminal (`orders.terminal_sn`, schema version 18) from the
 * gateway's answer, never moved by a later answer; an order stored before
 * version 18 (no terminal) is this counter's, as before; so is an order paid
 * under a terminal this counter was before a re-activation. Real HTTP to the
 * sandbox, real SQLite files; only the clock is faked.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Accountable } from '../../main/common/accountable';
import { ManualClock } from '../../main/common/time';
import type { DayReport } from '../../main/report/day';
import { createRuntime, type Runtime } from '../../main/runtime';
import { DB_FILE } from '../../main/store/db';
import { migrate, schemaVersion } from '../../main/store/migrate';
import { atHour } from '../support/days';
import { closeExtra, createHarness, FAST_TIMING, tempDir, type Harness } from '../support/harness';

const D0 = '2026-05-19';
const D = '2026-05-22';
const at = atHour;
const WHO: Accountable = { operatorId: null, operatorName: 'cashier-b', approverId: null, approverName: null };

let h: Harness | undefined;
const extra: Array<{ rt: Runtime; dir: string }> = [];
afterEach(async () => {
  await closeExtra(extra);
  await h?.close();
  h = undefined;
});

/** Another till of the same merchant: its own data dir and terminal, the same gateway and clock. */
async function anotherTill(hh: Harness, clock: ManualClock): Promise<Runtime> {
  const dir = tempDir();
  const rt = createRuntime({ dataDir: dir, apiDomain: hh.sandbox.gateway.url, printer: 'none', timing: FAST_TIMING, clock });
  extra.push({ rt, dir });
  const v = hh.sandbox.gateway.vendor;
  await rt.terminal.activate({ appId: v.appId, code: hh.sandbox.gateway.addActivationCode(), deviceId: 'till-2', vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
  await rt.terminal.checkin('test');
  return rt;
}

const brief = (r: DayReport) => ({
  payments: r.payments,
  revokes: r.revokes,
  refunds: r.refunds,
  elsewhere: r.returnedElsewhere.cents,
  net: r.netCents,
  reconciled: r.reconciled,
});

/** Every fen: the net is payments less every way money went back, and equals the taken orders' own net amounts. */
function expectTruth(r: DayReport): void {
  expect(r.netCents).toBe(r.payments.cents - r.revokes.cents - r.refunds.cents - r.returnedElsewhere.cents);
  expect(r.netCents).toBe(r.check.ordersNetCents + r.check.returnedOnOtherDaysCents - r.check.returnedForOtherOrdersCents);
  expect(r.check.mismatches).toEqual([]);
  expect(r.reconciled).toBe(true);
}

describe('an order of another till, imported here', () => {
  it('refunded here days later: only this till’s refund; its old 日结 does not change', async () => {
    const clock = new ManualClock(at(D0, 10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const o = h.paidOrder({ totalCents: 4000, operator: 'op-a', finishedAt: at(D0, 10) });
    expect(h.rt.orders.get(o.sn)!.terminalSn).toBe(h.terminalSn); // the host app's own sale: this terminal's

    clock.set(at(D, 9));
    const b = await anotherTill(h, clock);
    const bSn = b.terminal.info()!.terminalSn;
    expect(bSn).not.toBe(h.terminalSn);
    const before = brief(b.dayReport(D0));
    expect(before).toMatchObject({ payments: { count: 0, cents: 0 }, net: 0, reconciled: true });

    clock.set(at(D, 11));
    const r = await b.refunds.request({ sn: o.sn }, 1000, WHO, 'test'); // findOrImport: the order comes from the gateway
    expect(r.state).toBe('refunded');
    // The paying till, from the gateway's answer; the refund's own answer (made here) did not move it.
    expect(b.orders.get(o.sn)).toMatchObject({ terminalSn: h.terminalSn, businessDay: D0, status: 'PARTIAL_REFUNDED', netCents: 3000 });

    // Till B's old day: as it was (the payment is till A's).
    const old = b.dayReport(D0);
    expect(brief(old)).toEqual(before);
    expect(old.returnedElsewhere.orders).toEqual([]);
    expectTruth(old);
    // Till B's day: its refund, on another till's order (the base of it, not a payment here).
    const today = b.dayReport(D);
    expect(brief(today)).toMatchObject({ payments: { count: 0, cents: 0 }, refunds: { count: 1, cents: 1000 }, elsewhere: 0, net: -1000 });
    expect(today.byPayway.map((l) => [l.payway, l.payments.cents, l.refunds.cents, l.netCents])).toEqual([[o.payway, 0, 1000, -1000]]);
    expect(today.byOperator.map((l) => [l.operator, l.payments.cents, l.refunds.cents])).toEqual([['cashier-b', 0, 1000]]);
    expect(today.check).toMatchObject({ ordersNetCents: 0, returnedForOtherOrdersCents: 1000 });
    expectTruth(today);

    // Till A: its payment on its day; the ¥10 went back at another till (learned by an import).
    await h.rt.orders.import({ sn: o.sn }, 'test');
    const a = h.rt.dayReport(D0);
    expect(brief(a)).toMatchObject({ payments: { count: 1, cents: 4000 }, refunds: { count: 0, cents: 0 }, elsewhere: 1000, net: 3000 });
    expectTruth(a);
  });

  it('imported and voided here the same day: this till’s revoke only; the other till sees it returned elsewhere', async () => {
    const clock = new ManualClock(at(D, 9));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const b = await anotherTill(h, clock);
    const o = h.paidOrder({ totalCents: 5000, operator: 'op-a', finishedAt: at(D, 9, 30) });

    clock.set(at(D, 10));
    const imported = await b.orders.import({ sn: o.sn }, 'test'); // a receipt scanned at till B
    expect(imported.terminalSn).toBe(h.terminalSn);
    expect(brief(b.dayReport(D))).toMatchObject({ payments: { count: 0, cents: 0 }, net: 0, reconciled: true });

    clock.set(at(D, 10, 5));
    expect((await b.revokes.request({ sn: o.sn }, 'cashier-b', 'test')).state).toBe('revoked');
    const rb = b.dayReport(D);
    expect(brief(rb)).toMatchObject({ payments: { count: 0, cents: 0 }, revokes: { count: 1, cents: 5000 }, elsewhere: 0, net: -5000 });
    expect(rb.check).toMatchObject({ ordersNetCents: 0, returnedForOtherOrdersCents: 5000 });
    expectTruth(rb);

    await h.rt.orders.import({ sn: o.sn }, 'test');
    const ra = h.rt.dayReport(D);
    expect(brief(ra)).toMatchObject({ payments: { count: 1, cents: 5000 }, revokes: { count: 0, cents: 0 }, elsewhere: 5000, net: 0 });
    expectTruth(ra);
  });

  it('an order stored before schema version 18 (no terminal) is this counter’s, as before', () => {
    const dir = tempDir();
    const old = new Database(path.join(dir, DB_FILE));
    migrate(old, 17);
    old
      .prepare(
        `INSERT INTO orders (sn, client_sn, trade_no, total_cents, net_cents, payway, payway_name, subject, operator, finished_at, status, business_day, updated_at)
         VALUES ('7890000000000018', 'POS-V17', 'T1', 2500, 2500, '3', '微信', '咖啡', 'op', ?, 'PAID', ?, ?)`,
      )
      .run(at(D0, 12), D0, at(D0, 12));
    old.close();
    const rt = createRuntime({ dataDir: dir, printer: 'none', startWorkers: false, clock: new ManualClock(at(D, 9)) });
    extra.push({ rt, dir });
    expect(rt.schemaVersion()).toBeGreaterThanOrEqual(18);
    expect(rt.orders.get('7890000000000018')!.terminalSn).toBeNull();
    const r = rt.dayReport(D0);
    expect(brief(r)).toMatchObject({ payments: { count: 1, cents: 2500 }, net: 2500 });
    expectTruth(r);
  });

  it('a re-activated counter (a new terminal sn) still counts the payments taken under its old one', async () => {
    const clock = new ManualClock(at(D0, 10));
    h = await createHarness({ clock, sandbox: { gateway: { strict: false } } });
    const first = h.terminalSn;
    h.paidOrder({ totalCents: 3000, finishedAt: at(D0, 10) });
    clock.set(at(D, 9));
    const v = h.sandbox.gateway.vendor;
    await h.rt.terminal.activate(
      { appId: v.appId, code: h.sandbox.gateway.addActivationCode(), deviceId: 'test-counter', vendorSn: v.vendorSn, vendorKey: v.vendorKey, force: true },
      'test',
    );
    expect(h.rt.terminal.info()!.terminalSn).not.toBe(first);
    const r = h.rt.dayReport(D0);
    expect(brief(r)).toMatchObject({ payments: { count: 1, cents: 3000 }, net: 3000 });
    expectTruth(r);
  });
});

describe('schema version 18', () => {
  it('is applied to the counter’s file', () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, DB_FILE));
    migrate(db);
    expect(schemaVersion(db)).toBeGreaterThanOrEqual(18);
    const cols = (db.prepare("SELECT name FROM pragma_table_info('orders')").pluck().all() as string[]);
    expect(cols).toContain('terminal_sn');
    // The counter's terminals are found by the partial index, not by reading the whole audit log.
    const plan = db
      .prepare("EXPLAIN QUERY PLAN SELECT terminal_sn FROM terminal UNION SELECT subject FROM audit_log WHERE action = 'terminal.activated' AND subject IS NOT NULL")
      .all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join('\n')).toContain('audit_log_activations');
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
