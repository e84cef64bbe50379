/**
 * How head office folds an operation's events into fleet.operations (head
 * office version 5), on a real PostgreSQL 18: within one install epoch by the
 * counter's sequence numbers (its commit order), whatever its clock said (a
 * PC's clock corrected back between two events of one revoke); by time only
 * across epochs (a restored backup); never from a final state back to an
 * open one; and an operation's order sn is never lost to a later event
 * without one. A terminal's heartbeat follows the same rule.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { businessDay, businessDayStart, ManualClock, systemClock } from '../../main/common/time';
import { withHeadOffice } from '../../main/fleet/head-office';
import { writeHeartbeat, type OutboxRow } from '../../main/fleet/outbox';
import { shipBatch, type BatchIdentity } from '../../main/fleet/ship-batch';
import { Shipper } from '../../main/fleet/shipper';
import { openDb, type Db } from '../../main/store/db';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough } from '../support/fleet-pg';
import { FAST, pgForThisFile, targetOf } from '../support/fleet-server';
import { createHarness } from '../support/harness';

const ho = pgForThisFile();

const D = daysAgo(5);
const at = (hh: number, mm = 0, ss = 0) => businessDayStart(D) + ((hh * 60 + mm) * 60 + ss) * 1000;
const MIN = 60_000;
/** The runtime never queries on its own here: the test says when. */
const SLOW = { firstQueryMs: 10 * MIN, queryEveryMs: 10 * MIN, pendingWindowMs: 60 * MIN, backoffBaseMs: 30, backoffCapMs: 200 };

async function drain(db: Db, url: string): Promise<void> {
  const s = new Shipper({ db, target: targetOf(url), clock: systemClock, timing: FAST });
  try {
    await s.drain();
  } finally {
    s.close();
  }
}

let seqs = 0;
/** A revoke's event as a counter's outbox holds it (op 1 of terminal TC, asked at 10:00 on D). */
function event(over: Partial<OutboxRow>): OutboxRow {
  const seq = over.seq ?? ++seqs;
  return {
    seq, kind: 'revoke', at: at(10), business_day: D, op_id: 1, op_state: 'sending', order_sn: null, amount_cents: 900, payway: 'alipay',
    operator_id: null, operator_name: 'alice', approver_id: null, approver_name: null, action: null,
    payload: JSON.stringify({ requested_at: at(10) }), event_id: `ev-${seq}-${Math.random()}`, epoch: 'e1',
    terminal_sn: 'TC', store_sn: 'S1', store_name: 's', merchant_sn: 'M1', counting_day: null, ...over,
  };
}
const who = (epoch: string): BatchIdentity => ({ terminalSn: 'TC', storeSn: 'S1', storeName: 's', merchantSn: 'M1', epoch });

async function ship(c: pg.Client, epoch: string, rows: OutboxRow[]): Promise<void> {
  for (const d of new Set(rows.map((r) => r.business_day))) await c.query('SELECT fleet.ensure_day($1::date)', [d]);
  await shipBatch(c, who(epoch), rows, []);
}

describe('head office folds an operation’s events in the counter’s order', () => {
  it('the PC’s clock stepped back between two events of a revoke: head office has its later state, and counts it', async () => {
    const url = await ho.headOffice('ho_clock');
    const clock = new ManualClock(at(10, 0, 30));
    const h = await createHarness({ clock, sandbox: { gateway: { strict: false } }, runtime: { timing: SLOW } });
    try {
      const o = h.paidOrder({ finishedAt: at(9), totalCents: 2300 });
      h.sandbox.gateway.inject('revoke', { kind: 'drop_after' }, 1);
      const r = await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
      expect(r.state).toBe('pending');
      // The shipper runs all along: `pending` reaches head office.
      let db = openDb(h.dataDir);
      await drain(db, url);
      db.close();
      // The PC's clock is corrected back 30 s; the query then finds the order voided.
      clock.set(at(10));
      expect((await h.rt.revokes.queryAgain(r.id, 'test')).state).toBe('revoked');
      db = openDb(h.dataDir);
      await drain(db, url);
      db.close();
      const events = await ho.pg.query('ho_clock', "SELECT op_state FROM fleet.events WHERE kind = 'revoke' ORDER BY seq");
      expect(events.rows.map((e) => e.op_state)).toEqual(['sending', 'pending', 'revoked']);
      const ops = await ho.pg.query('ho_clock', 'SELECT kind, state, amount_cents::int AS cents FROM fleet.operations');
      expect(ops.rows).toEqual([{ kind: 'revoke', state: 'revoked', cents: 2300 }]);
      expect(h.rt.dayReport(D).revokes).toEqual({ count: 1, cents: 2300 });
      const totals = await ho.pg.query('ho_clock', 'SELECT kind, operations::int AS n, amount_cents::int AS cents FROM fleet.day_totals WHERE business_day = $1', [D]);
      expect(totals.rows).toEqual([{ kind: 'revoke', n: 1, cents: 2300 }]);
    } finally {
      await h.close();
    }
  });

  it('a heartbeat written after the clock stepped back replaces the one before', async () => {
    const url = await ho.headOffice('ho_clock_hb');
    const c = counterDir('TH', { sn: 'S1', name: 's' });
    const now = Date.now();
    writeHeartbeat(c.db, now);
    await drain(c.db, url);
    // An open revoke, then a heartbeat stamped 10 minutes earlier than the last one.
    revokeThrough(c.db, now - 20 * MIN, 100, 'alipay', 'alice', ['sending']);
    writeHeartbeat(c.db, now - 10 * MIN);
    await drain(c.db, url);
    const health = await ho.pg.query('ho_clock_hb', "SELECT open_operations, heartbeat_at FROM fleet.terminal_health WHERE terminal_sn = 'TH'");
    expect(health.rows).toEqual([{ open_operations: 1, heartbeat_at: new Date(now - 10 * MIN) }]);
    c.db.close();
  });

  it('within an epoch by sequence number, across epochs by time; a final state never goes back to an open one; the order sn stays', async () => {
    const url = await ho.headOffice('ho_fold');
    const state = async () =>
      (await ho.pg.query('ho_fold', "SELECT state, order_sn, last_seq::int AS seq, epoch FROM fleet.operations WHERE terminal_sn = 'TC'")).rows[0] as Record<string, unknown>;
    await withHeadOffice(targetOf(url), async (c) => {
      // A payment-like sequence on a revoke: the first event knows no order sn, a later one does, a later one again does not.
      await ship(c, 'e1', [event({ seq: 10, at: at(10, 5), op_state: 'sending' })]);
      await ship(c, 'e1', [event({ seq: 11, at: at(10, 4), op_state: 'pending', order_sn: 'SN-1' })]);
      expect(await state()).toEqual({ state: 'pending', order_sn: 'SN-1', seq: 11, epoch: 'e1' });
      await ship(c, 'e1', [event({ seq: 12, at: at(10, 3), op_state: 'needs_attention' })]);
      expect(await state()).toEqual({ state: 'needs_attention', order_sn: 'SN-1', seq: 12, epoch: 'e1' });
      // A final state, then (in the same batch and in a later one) an open one with a higher sequence number: still final.
      const revoked = event({ seq: 13, at: at(10, 2), op_state: 'revoked', order_sn: 'SN-1' });
      await ship(c, 'e1', [revoked, event({ seq: 14, at: at(10, 6), op_state: 'pending' })]);
      expect(await state()).toMatchObject({ state: 'revoked', seq: 13 });
      await ship(c, 'e1', [event({ seq: 15, at: at(11), op_state: 'queued' })]);
      expect(await state()).toMatchObject({ state: 'revoked', seq: 13 });
      // A final state after a final one (the gateway's truth: rejected, then seen voided) follows the sequence.
      await ship(c, 'e1', [event({ seq: 16, at: at(9), op_state: 'rejected' })]);
      expect(await state()).toMatchObject({ state: 'rejected', seq: 16 });
      // An earlier batch sent again (an answer lost): nothing changes.
      await ship(c, 'e1', [revoked]);
      expect(await state()).toMatchObject({ state: 'rejected', seq: 16 });
      // Another epoch (a restored backup): time decides, not its lower sequence numbers.
      await ship(c, 'e2', [event({ seq: 3, at: at(8), op_state: 'revoked', epoch: 'e2' })]);
      expect(await state()).toMatchObject({ state: 'rejected', seq: 16, epoch: 'e1' });
      await ship(c, 'e2', [event({ seq: 4, at: at(12), op_state: 'revoked', epoch: 'e2' })]);
      expect(await state()).toEqual({ state: 'revoked', order_sn: 'SN-1', seq: 4, epoch: 'e2' });
    });
    expect(businessDay(at(12))).toBe(D);
  });
});
