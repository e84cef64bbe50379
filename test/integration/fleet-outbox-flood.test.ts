/**
 * Attack: with head office unreachable (here: none configured, so nothing
 * ships), a hostile window floods money operations that move no money:
 * payments with the gateway unreachable (failed, NOT_SENT) and payments the
 * gateway refuses (PAY_FAIL, failed). Each writes a 'sending' and a 'failed'
 * event plus audit entries into the capped fleet outbox. Before migration 16
 * the flood pushed the oldest money events out of the export, real ones
 * first. Now, past the cap, the heartbeat, then audit entries, then events of
 * operations that ended with no money moved give way, counted in
 * dropped_no_money: a real revoke's and a real payment's events all survive,
 * and no money event is dropped. Real runtimes against the embedded sandbox,
 * through the handlers the IPC uses; `fleet status` shows the count.
 */
import { describe, expect, it } from 'vitest';
import { backlog, heartbeatPayload } from '../../main/fleet/outbox';
import type { PaymentView, Result } from '../../main/ipc/contract';
import { createHandlerSet, type HandlerSet } from '../../main/ipc/handlers';
import { databaseOf } from '../../main/runtime';
import type { Db } from '../../main/store/db';
import { closedPort } from '../support/chaos-net';
import { cli } from '../support/fleet-pg';
import { until, type Harness } from '../support/harness';
import { okValue, signIn, TEST_HANDLER_OPTIONS } from '../support/operators';
import { harnessWithHandlersEach } from '../support/operators-each';
import { CUSTOMER_BARCODE } from '../support/pay';

const FLOOD = 30;
const BARCODE = CUSTOMER_BARCODE;

let h: Harness;
let set: HandlerSet;
harnessWithHandlersEach((fresh) => ({ h, set } = fresh));

const rows = (db: Db) => db.prepare('SELECT count(*) FROM fleet_outbox').pluck().get() as number;
const moneyEvents = (db: Db, kind: string, id: number) =>
  db.prepare('SELECT seq, op_state, no_money FROM fleet_outbox WHERE kind = ? AND op_id = ? ORDER BY seq').all(kind, id) as Array<{ seq: number; op_state: string; no_money: number }>;
interface Drops {
  dropped_heartbeats: number;
  dropped_audit: number;
  dropped_no_money: number;
  dropped_money: number;
}
const state = (db: Db) => db.prepare('SELECT dropped_heartbeats, dropped_audit, dropped_no_money, dropped_money FROM fleet_state WHERE id = 1').get() as Drops;

const value = (r: Result<PaymentView>): PaymentView => okValue(r, 'a payment');

describe('a flood of money operations that move no money, past the fleet outbox cap', () => {
  it("drops the flood's own events (counted as no-money), never a real revoke's or payment's", async () => {
    const db = databaseOf(h.rt);
    const cashier = await signIn(h.rt, set, 'cashier');

    // Real money: a revoke (the order voided at the gateway) and a payment (money taken).
    const order = h.paidOrder({ totalCents: 8_880 });
    const revoke = await cashier['revoke.request']({ sn: order.sn });
    expect(revoke).toMatchObject({ ok: true, value: { state: 'revoked' } });
    expect(h.sandbox.gateway.effects('revoke', order.sn)).toBe(1);
    const paid = value((await cashier['pay.request']({ method: 'barcode', amountCents: 4_321, barcode: BARCODE })) as Result<PaymentView>);
    expect(paid.state).toBe('paid');
    // The receipts' writes settle before the outbox is measured.
    await until(() => h.rt.printing.jobs({}).every((j) => j.state !== 'pending'));
    const revokeId = revoke.ok ? revoke.value.id : -1;
    const realRevoke = moneyEvents(db, 'revoke', revokeId);
    const realPayment = moneyEvents(db, 'payment', paid.id);
    expect(realRevoke.map((e) => [e.op_state, e.no_money])).toEqual([
      ['sending', 0],
      ['revoked', 0],
    ]);
    expect(realPayment.map((e) => [e.op_state, e.no_money])).toEqual([
      ['sending', 0],
      ['paid', 0],
    ]);

    // The outbox is nearly full.
    const cap = rows(db) + 8;
    db.prepare('UPDATE fleet_state SET outbox_cap = ? WHERE id = 1').run(cap);
    const before = state(db);
    const firstFlood = db.prepare('SELECT coalesce(max(id), 0) FROM payments').pluck().get() as number;

    // The flood, part 1: a hostile window on a runtime whose gateway is unreachable: every payment fails, NOT_SENT.
    const dead = h.runtime({ apiDomain: `http://127.0.0.1:${await closedPort()}` });
    const hostile = await signIn(dead, createHandlerSet(dead, TEST_HANDLER_OPTIONS), 'cashier', 'hostile');
    for (let i = 0; i < FLOOD; i++) {
      const p = value((await hostile['pay.request']({ method: 'barcode', amountCents: 100 + i, barcode: BARCODE })) as Result<PaymentView>);
      expect(p.state).toBe('failed');
    }
    // Part 2: the gateway reached, every payment refused (PAY_FAIL): failed, no money taken.
    h.sandbox.gateway.inject('pay', { kind: 'pay_fail', errorCode: 'INSUFFICIENT_FUND' }, FLOOD);
    for (let i = 0; i < FLOOD; i++) {
      const p = value((await cashier['pay.request']({ method: 'barcode', amountCents: 200 + i, barcode: BARCODE })) as Result<PaymentView>);
      expect(p.state).toBe('failed');
    }
    const codes = db.prepare('SELECT error_code, count(*) AS n FROM payments WHERE id > ? GROUP BY error_code ORDER BY error_code').all(firstFlood);
    expect(codes).toEqual([
      { error_code: 'NOT_SENT', n: FLOOD },
      { error_code: 'PAY_FAILED', n: FLOOD },
    ]);

    // The outbox is at its cap; the real money events are all there, as they were; no money event was dropped.
    expect(rows(db)).toBe(cap);
    expect(moneyEvents(db, 'revoke', revokeId)).toEqual(realRevoke);
    expect(moneyEvents(db, 'payment', paid.id)).toEqual(realPayment);
    const after = state(db);
    expect(after.dropped_money).toBe(before.dropped_money);
    // Every flood payment wrote two events, all marked no-money; what is not in the outbox any more was counted.
    const floodEvents = 2 * 2 * FLOOD;
    const floodLeft = db.prepare("SELECT count(*) FROM fleet_outbox WHERE kind = 'payment' AND op_id > ?").pluck().get(firstFlood) as number;
    expect(db.prepare("SELECT count(*) FROM fleet_outbox WHERE kind = 'payment' AND op_id > ? AND no_money = 0").pluck().get(firstFlood)).toBe(0);
    expect(after.dropped_no_money - before.dropped_no_money).toBe(floodEvents - floodLeft);
    expect(after.dropped_no_money).toBeGreaterThan(FLOOD);
    // Audit entries gave way before them: none is left.
    expect(db.prepare("SELECT count(*) FROM fleet_outbox WHERE kind = 'audit'").pluck().get()).toBe(0);

    // Shown wherever the drops are: the backlog (fleet status), the heartbeat, the CLI.
    const dropped = { heartbeats: after.dropped_heartbeats, audit: after.dropped_audit, noMoney: after.dropped_no_money, money: after.dropped_money };
    expect(backlog(db, Date.now()).cap).toEqual({ rows: cap, cap, dropped });
    expect(heartbeatPayload(db, Date.now()).dropped).toEqual(dropped);
    const env = { UPAY_POS_QUIET: '1' };
    const json = await cli(['fleet', 'status', '--json', '--data-dir', h.dataDir], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ cap: { rows: cap, cap, dropped } });
    const human = await cli(['fleet', 'status', '--data-dir', h.dataDir], env);
    expect(human.out).toContain(`dropped at the cap: ${dropped.heartbeats} heartbeats, ${dropped.audit} audit, ${dropped.noMoney} no-money, ${dropped.money} money`);
    expect(human.out).toContain(`${dropped.noMoney} no-money (operations that moved no money)`);
  });
});
