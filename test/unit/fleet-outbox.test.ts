/** The export outbox in SQLite: one event per change, in the change's own transaction; heartbeats coalesced. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { businessDay } from '../../main/common/time';
import { backlog, heartbeatPayload, markShipped, pendingAlerts, readBatch, recordFailure, requeueSetAside, setAside, writeHeartbeat } from '../../main/fleet/outbox';
import {
  ACCOUNTABLE_COLUMNS,
  FLEET_TRIGGER_MIGRATIONS,
  fleetTriggersSql,
  NO_MONEY_WINDOW,
  noMoneyBackfillSql,
  operationTriggers,
  PAYMENTS_SOURCE,
  REFUNDS_SOURCE,
  REVOKES_SOURCE,
} from '../../main/fleet/outbox-sql';
import { migrate } from '../../main/store/migrate';
import { MIGRATIONS } from '../../main/store/migrations';
import { M011_TRIGGERS_SQL, m011 } from '../../main/store/migrations/011-fleet-identity';
import { M012_FLEET_TRIGGERS_SQL, m012 } from '../../main/store/migrations/012-payments';
import { M014_OUTBOX_COUNT_SQL, m014 } from '../../main/store/migrations/014-cheaper-writes';
import { M015_COUNTED_TRIGGERS_SQL, m015 } from '../../main/store/migrations/015-outbox-count-in-writers';
import { M016_BACKFILL_SQL, M016_FLEET_TRIGGERS_SQL, m016 } from '../../main/store/migrations/016-no-money-gives-way-first';
import { audit } from '../../main/store/audit';
import type { Db } from '../../main/store/db';
import { counterDir, revokeThrough } from '../support/fleet-pg';

let c: { dir: string; db: Db } | undefined;
afterEach(() => {
  c?.db.close();
  if (c) fs.rmSync(c.dir, { recursive: true, force: true });
  c = undefined;
});

const events = (db: Db) => db.prepare('SELECT kind, op_state, action, operator_name FROM fleet_outbox ORDER BY seq').all();

describe('fleet outbox (migration 8)', () => {
  it('a revoke and each state change are events, with the audit entries of the same transactions, in commit order', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    revokeThrough(c.db, Date.UTC(2026, 10, 20, 3), 500, 'alipay', 'alice', ['sending', 'pending', 'revoked']);
    expect(events(c.db)).toEqual([
      { kind: 'revoke', op_state: 'sending', action: null, operator_name: 'alice' },
      { kind: 'audit', op_state: null, action: 'revoke.requested', operator_name: 'alice' },
      { kind: 'revoke', op_state: 'pending', action: null, operator_name: 'alice' },
      { kind: 'audit', op_state: null, action: 'revoke.resolved', operator_name: 'alice' },
      { kind: 'revoke', op_state: 'revoked', action: null, operator_name: 'alice' },
      { kind: 'audit', op_state: null, action: 'revoke.resolved', operator_name: 'alice' },
    ]);
    const rev = c.db.prepare("SELECT business_day, amount_cents, payway, operator_id, approver_name FROM fleet_outbox WHERE kind = 'revoke' LIMIT 1").get();
    expect(rev).toEqual({ business_day: '2026-11-20', amount_cents: 500, payway: 'alipay', operator_id: null, approver_name: null });
  });

  it('a refund and each state change are events naming who refunded and who approved, on the day it was asked for', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    // An order paid on the 19th, refunded on the 20th (UTC+8).
    const { sn } = revokeThrough(c.db, Date.UTC(2026, 10, 19, 3), 800, 'wechat', 'alice', ['sending', 'rejected']);
    const at = Date.UTC(2026, 10, 20, 3);
    const id = Number(
      c.db
        .prepare(
          `INSERT INTO refunds (order_sn, client_sn, request_no, amount_cents, net_before_cents, state, operator_id, operator, approver_id, approver_name, requested_at, updated_at)
           VALUES (?, ?, 'R1', 300, 800, 'sending', 7, 'bob', 9, 'carol', ?, ?)`,
        )
        .run(sn, `C${sn}`, at, at).lastInsertRowid,
    );
    c.db.prepare("UPDATE refunds SET state = 'refunded', updated_at = ? WHERE id = ?").run(at + 1000, id);
    const rows = c.db.prepare("SELECT op_state, business_day, amount_cents, payway, operator_id, operator_name, approver_id, approver_name FROM fleet_outbox WHERE kind = 'refund' ORDER BY seq").all();
    const who = { business_day: '2026-11-20', amount_cents: 300, payway: 'wechat', operator_id: 7, operator_name: 'bob', approver_id: 9, approver_name: 'carol' };
    expect(rows).toEqual([{ op_state: 'sending', ...who }, { op_state: 'refunded', ...who }]);
    writeHeartbeat(c.db, at + 2000);
    const hb = JSON.parse(c.db.prepare("SELECT payload FROM fleet_outbox WHERE kind = 'heartbeat'").pluck().get() as string) as Record<string, unknown>;
    expect(hb).toMatchObject({ openOperations: 0, refundQueue: {}, paymentQueue: {} });
  });

  it('a rolled-back change leaves no event; an update that keeps the state adds none', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    const { id } = revokeThrough(c.db, Date.UTC(2026, 10, 20, 3), 500, 'alipay', 'alice', ['sending']);
    const before = backlog(c.db, Date.now()).events;
    expect(() =>
      c!.db.transaction(() => {
        c!.db.prepare("UPDATE revokes SET state = 'revoked' WHERE id = ?").run(id);
        throw new Error('crash before commit');
      })(),
    ).toThrow('crash before commit');
    c.db.prepare('UPDATE revokes SET attempts = attempts + 1 WHERE id = ?').run(id);
    expect(backlog(c.db, Date.now()).events).toBe(before);
  });

  it('heartbeats are coalesced: only the latest unshipped one is kept; events never are', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    revokeThrough(c.db, Date.UTC(2026, 10, 20, 3), 500, 'alipay', 'alice', ['sending']);
    for (let i = 0; i < 5; i++) writeHeartbeat(c.db, Date.UTC(2026, 10, 20, 4, i));
    const b = backlog(c.db, Date.UTC(2026, 10, 20, 5));
    expect(b.heartbeats).toBe(1);
    expect(b.money).toBe(1);
    const hb = JSON.parse(c.db.prepare("SELECT payload FROM fleet_outbox WHERE kind = 'heartbeat'").pluck().get() as string) as Record<string, unknown>;
    expect(hb).toMatchObject({ businessDay: '2026-11-20', openOperations: 1, queue: { sending: 1 }, printer: { state: 'ok' }, backlog: 2 });
  });

  it('the generator is the one place a table or who-did-it columns are added', () => {
    const sql = operationTriggers({ ...REVOKES_SOURCE, table: 'refunds', kind: 'refund', columns: { ...REVOKES_SOURCE.columns, ...ACCOUNTABLE_COLUMNS } });
    expect(sql).toContain('CREATE TRIGGER fleet_refunds_insert AFTER INSERT ON refunds');
    expect(sql).toContain('CREATE TRIGGER fleet_refunds_state AFTER UPDATE OF state ON refunds');
    expect(sql).toContain('NEW.operator_id');
    expect(sql).toContain('NEW.approver_name');
  });

  it('the live generator reproduces the frozen SQL of each migration that installs fleet triggers (11, 12 for payments, 14 the cheaper count, 15 the count in the writers, 16 the no-money tier)', () => {
    expect(FLEET_TRIGGER_MIGRATIONS.map((m) => m.migration)).toEqual([m011.name, m012.name, m014.name, m015.name, m016.name]);
    expect(FLEET_TRIGGER_MIGRATIONS[0]!.sql()).toBe(M011_TRIGGERS_SQL);
    expect(FLEET_TRIGGER_MIGRATIONS[1]!.sql()).toBe(M012_FLEET_TRIGGERS_SQL);
    expect(FLEET_TRIGGER_MIGRATIONS[2]!.sql()).toBe(M014_OUTBOX_COUNT_SQL);
    expect(FLEET_TRIGGER_MIGRATIONS[3]!.sql()).toBe(M015_COUNTED_TRIGGERS_SQL);
    expect(FLEET_TRIGGER_MIGRATIONS[4]!.sql()).toBe(M016_FLEET_TRIGGERS_SQL);
    expect(noMoneyBackfillSql()).toBe(M016_BACKFILL_SQL);
  });

  it('each event captures terminal, store, epoch and a unique id when it is written', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    revokeThrough(c.db, Date.UTC(2026, 10, 20, 3), 500, 'alipay', 'alice', ['sending', 'revoked']);
    c.db.prepare("UPDATE terminal SET terminal_sn = 'TV', store_sn = 'S2' WHERE id = 1").run();
    revokeThrough(c.db, Date.UTC(2026, 10, 20, 4), 500, 'alipay', 'alice', ['sending']);
    const rows = c.db.prepare('SELECT terminal_sn, store_sn, epoch, event_id FROM fleet_outbox ORDER BY seq').all() as Array<Record<string, string>>;
    expect(rows.map((r) => `${r.terminal_sn}/${r.store_sn}`)).toEqual(['TU/S', 'TU/S', 'TU/S', 'TU/S', 'TV/S2', 'TV/S2']);
    expect(new Set(rows.map((r) => r.epoch)).size).toBe(1);
    expect(rows[0]!.epoch).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
  });

  it('bounded without a head office: past the cap heartbeats give way first, then audit entries, money last, all counted', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    const db = c.db;
    db.prepare('UPDATE fleet_state SET outbox_cap = 6').run();
    const t = Date.UTC(2026, 10, 20, 3);
    writeHeartbeat(db, t);
    const R = ['sending', 'revoked'];
    for (let i = 0; i < 3; i++) revokeThrough(db, t + i * 60_000, 100 + i, 'alipay', 'alice', R);
    const kinds = () => db.prepare('SELECT kind FROM fleet_outbox ORDER BY seq').pluck().all();
    let b = backlog(db, t + 600_000);
    expect(b.cap).toEqual({ rows: 6, cap: 6, dropped: { heartbeats: 1, audit: 6, noMoney: 0, money: 0 } });
    expect(kinds()).toEqual(Array(6).fill('revoke'));
    // Money gives way last, oldest first; the heartbeat written at the cap is dropped at once.
    revokeThrough(db, t + 300_000, 999, 'alipay', 'alice', R);
    writeHeartbeat(db, t + 400_000);
    b = backlog(db, t + 600_000);
    expect(b.cap).toEqual({ rows: 6, cap: 6, dropped: { heartbeats: 2, audit: 8, noMoney: 0, money: 2 } });
    expect(db.prepare('SELECT count(*) FROM fleet_outbox').pluck().get()).toBe(6);
    expect(db.prepare("SELECT min(amount_cents) FROM fleet_outbox WHERE kind = 'revoke'").pluck().get()).toBe(101);
    expect(b.warning).toContain('cap 6 reached');
    expect(heartbeatPayload(db, t + 600_000).dropped).toEqual({ heartbeats: 2, audit: 8, noMoney: 0, money: 2 });
  });

  it('markShipped forgets exactly the batch: an event requeued meanwhile (lower seq) stays, a coalesced heartbeat’s successor stays, each event is counted once', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    const db = c.db;
    const t = Date.UTC(2026, 10, 20, 3);
    for (let i = 0; i < 3; i++) revokeThrough(db, t + i * 60_000, 100 + i, 'alipay', 'alice', ['sending', 'revoked']);
    const seqs = () => db.prepare('SELECT seq FROM fleet_outbox ORDER BY seq').pluck().all() as number[];
    const poison = seqs()[0]!;
    setAside(db, poison, '22008: date/time field value out of range', t);
    writeHeartbeat(db, t + 200_000);
    const batch = readBatch(db, 500, 1 << 20);
    const alerts = pendingAlerts(db, 100);
    expect(batch.map((r) => r.seq)).not.toContain(poison);
    expect(alerts.map((a) => a.seq)).toEqual([poison]);
    expect(batch.at(-1)!.kind).toBe('heartbeat');
    // While the batch is on its way: `fleet requeue` (another connection) puts the poison back, and a new heartbeat replaces the batch's.
    expect(requeueSetAside(db)).toBe(1);
    writeHeartbeat(db, t + 260_000);
    const newHeartbeat = db.prepare("SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat'").pluck().get() as number;
    markShipped(db, batch.map((r) => r.seq), alerts.map((a) => a.seq), t + 300_000);
    expect(seqs()).toEqual([poison, newHeartbeat]);
    const st = () => db.prepare('SELECT shipped_total, last_shipped_seq FROM fleet_state WHERE id = 1').get() as { shipped_total: number; last_shipped_seq: number };
    expect(st()).toEqual({ shipped_total: batch.length - 1, last_shipped_seq: batch.at(-1)!.seq });
    // The requeued event is not marked reported (it is no longer set aside); set aside again, it reports again.
    expect(db.prepare('SELECT set_aside_at, alert_shipped FROM fleet_outbox WHERE seq = ?').get(poison)).toEqual({ set_aside_at: null, alert_shipped: 0 });
    // The same batch confirmed again (an answer lost, the batch sent again): nothing more is deleted or counted.
    markShipped(db, batch.map((r) => r.seq), [], t + 400_000);
    expect(st().shipped_total).toBe(batch.length - 1);
    // The requeued event is the next batch.
    expect(readBatch(db, 500, 1 << 20).map((r) => r.seq)).toEqual([poison, newHeartbeat]);
  });

  it('a reason stored for an event set aside, and the last error, are one folded line of at most 500 characters', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    revokeThrough(c.db, Date.UTC(2026, 10, 20, 3), 100, 'alipay', 'alice', ['sending']);
    const seq = c.db.prepare('SELECT min(seq) FROM fleet_outbox').pluck().get() as number;
    const hostile = `22023: bad\r\nFORGED upay-pos started\u001b[2J\u202e${'x'.repeat(1 << 20)}`;
    setAside(c.db, seq, hostile, 1);
    const reason = c.db.prepare('SELECT set_aside_reason FROM fleet_outbox WHERE seq = ?').pluck().get(seq) as string;
    expect(reason.length).toBeLessThanOrEqual(500);
    expect(reason).toMatch(/^22023: bad FORGED upay-pos started\ufffd\[2J\ufffdx+…$/);
    recordFailure(c.db, hostile, 2);
    expect(backlog(c.db, 3).lastError).toBe(reason);
  });
});

describe('the outbox count (migration 15: kept by the writers)', () => {
  it('stays equal to the rows through events, coalesced heartbeats, shipping and the cap; the outbox has no INSERT trigger', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    const db = c.db;
    const rows = () => db.prepare('SELECT count(*) FROM fleet_outbox').pluck().get();
    const counted = () => db.prepare('SELECT outbox_rows FROM fleet_state WHERE id = 1').pluck().get();
    const t = Date.UTC(2026, 10, 20, 3);
    for (let i = 0; i < 4; i++) {
      revokeThrough(db, t + i * 60_000, 100 + i, 'alipay', 'alice', ['sending', 'pending', 'revoked']);
      writeHeartbeat(db, t + i * 60_000 + 1);
      expect(counted()).toBe(rows());
    }
    // Shipping deletes from the front.
    db.prepare('DELETE FROM fleet_outbox WHERE seq <= (SELECT min(seq) + 4 FROM fleet_outbox)').run();
    expect(counted()).toBe(rows());
    // A cap below the rows: the next event pushes exactly one out (as before), and the count follows.
    const before = rows() as number;
    db.prepare('UPDATE fleet_state SET outbox_cap = ?').run(before - 3);
    revokeThrough(db, t + 600_000, 999, 'alipay', 'alice', ['sending']);
    expect(rows()).toBe(before + 2 - 2);
    expect(counted()).toBe(rows());
    const inserting = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'fleet_outbox' AND sql LIKE '%INSERT ON fleet_outbox%'").pluck().all();
    expect(inserting).toEqual([]);
  });
});

describe('the frozen fleet migrations and the live generator', () => {
  const triggersOf = (db: Database.Database) =>
    (db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'fleet_%' ORDER BY name").all() as Array<{ name: string; sql: string }>).map(
      (t) => ({ name: t.name, sql: t.sql.replace(/\s+/g, ' ').trim() }),
    );

  it('a database at the newest version has exactly the fleet triggers the generator produces (no trigger of an older style left)', () => {
    const installed = new Database(':memory:');
    migrate(installed, MIGRATIONS.length);
    const generated = new Database(':memory:');
    migrate(generated, MIGRATIONS.length);
    for (const { name } of triggersOf(generated)) generated.exec(`DROP TRIGGER ${name}`);
    generated.exec(fleetTriggersSql());
    expect(triggersOf(installed).map((t) => t.name)).toContain('fleet_payments_state');
    expect(triggersOf(generated)).toEqual(triggersOf(installed));
    installed.close();
    generated.close();
  });

  it('migration 8 is literal SQL: it imports nothing from main/fleet/', () => {
    const source = fs.readFileSync(path.join(__dirname, '../../main/store/migrations/008-fleet-outbox.ts'), 'utf8');
    expect(source).not.toMatch(/from '.*fleet/);
    expect(source).toContain('CREATE TRIGGER fleet_revokes_insert');
  });
});

describe('the no-money tier (migration 16): operations that moved no money give way before any that moved money', () => {
  let payments = 0;
  /**
   * A payment walked through `states` (each its own transaction); `code`: the final state's error_code (a canceled
   * payment's CANCELED, REVERSED or REVERSED_UNCONFIRMED); `seenPaid`: before its last state an answer showed it PAID.
   */
  function paymentThrough(db: Db, at: number, amountCents: number, states: string[], { code = null as string | null, seenPaid = false } = {}): number {
    const [first, ...rest] = states;
    const id = db.transaction(() => {
      const r = db
        .prepare(
          `INSERT INTO payments (client_sn, method, amount_cents, subject, state, window_until, operator, requested_at, requested_day, updated_at)
           VALUES (?, 'barcode', ?, 'x', ?, ?, 'eve', ?, ?, ?)`,
        )
        .run(`P${process.pid}-${++payments}`, amountCents, first, at + 60_000, at, businessDay(at), at);
      audit(db, at, 'eve', 'pay.requested', null);
      return Number(r.lastInsertRowid);
    })();
    rest.forEach((st, i) => {
      if (seenPaid && i === rest.length - 1) db.prepare('UPDATE payments SET seen_paid = 1 WHERE id = ?').run(id);
      db.transaction(() => {
        const last = i === rest.length - 1;
        db.prepare('UPDATE payments SET state = ?, error_code = ?, updated_at = ? WHERE id = ?').run(st, last ? code : null, at + (i + 1) * 1000, id);
        audit(db, at, 'eve', 'pay.resolved', null, { state: st });
      })();
    });
    return id;
  }
  let refundNo = 0;
  function refundThrough(db: Db, at: number, states: string[]): number {
    const { sn } = revokeThrough(db, at, 900, 'wechat', 'alice', ['sending', 'rejected']);
    const [first, ...rest] = states;
    const id = Number(
      db
        .prepare(
          `INSERT INTO refunds (order_sn, client_sn, request_no, amount_cents, net_before_cents, state, operator, requested_at, updated_at)
           VALUES (?, ?, ?, 300, 900, ?, 'bob', ?, ?)`,
        )
        .run(sn, `C${sn}`, `R${process.pid}-${++refundNo}`, first, at, at).lastInsertRowid,
    );
    rest.forEach((st, i) => db.prepare('UPDATE refunds SET state = ?, updated_at = ? WHERE id = ?').run(st, at + (i + 1) * 1000, id));
    return id;
  }
  const marks = (db: Db, kind: string, id: number) => db.prepare('SELECT op_state, no_money FROM fleet_outbox WHERE kind = ? AND op_id = ? ORDER BY seq').all(kind, id);
  const t = Date.UTC(2026, 10, 20, 3);

  it('an operation that ends with no money moved marks every event of it still in the outbox; one that moved money marks none; leaving such a state unmarks them', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    const db = c.db;
    const m = (kind: string, id: number) => marks(db, kind, id).map((r) => (r as { no_money: number }).no_money);
    const revoked = revokeThrough(db, t, 500, 'alipay', 'alice', ['sending', 'pending', 'revoked']).id;
    const rejected = revokeThrough(db, t, 500, 'alipay', 'alice', ['sending', 'pending', 'rejected']).id;
    const expired = revokeThrough(db, t, 500, 'alipay', 'alice', ['queued', 'expired']).id;
    const refusedHere = revokeThrough(db, t, 500, 'alipay', 'alice', ['rejected']).id;
    expect([m('revoke', revoked), m('revoke', rejected), m('revoke', expired), m('revoke', refusedHere)]).toEqual([[0, 0, 0], [1, 1, 1], [1, 1], [1]]);
    expect([m('refund', refundThrough(db, t, ['sending', 'pending', 'rejected'])), m('refund', refundThrough(db, t, ['sending', 'refunded']))]).toEqual([
      [1, 1, 1],
      [0, 0],
    ]);
    const failed = paymentThrough(db, t, 100, ['sending', 'failed']);
    const attentionThenFailed = paymentThrough(db, t, 100, ['sending', 'pending', 'canceling', 'needs_attention', 'failed']);
    const paid = paymentThrough(db, t, 100, ['sending', 'pending', 'paid']);
    const CANCELING = ['sending', 'pending', 'canceling', 'canceled'];
    const canceledUnpaid = paymentThrough(db, t, 100, CANCELING, { code: 'CANCELED' });
    // Canceled with money taken and given back (two moves of money), or counted as given back: not no-money.
    const reversed = paymentThrough(db, t, 100, CANCELING, { code: 'REVERSED' });
    const reversedUnconfirmed = paymentThrough(db, t, 100, CANCELING, { code: 'REVERSED_UNCONFIRMED' });
    const canceledAfterPaid = paymentThrough(db, t, 100, CANCELING, { code: 'CANCELED', seenPaid: true });
    // No code at all (never written so): not shown to be no-money, and never a NULL mark.
    const canceledNoCode = paymentThrough(db, t, 100, CANCELING);
    const canceledThenUnconfirmed = paymentThrough(db, t, 100, CANCELING, { code: 'CANCELED' });
    const all = [failed, attentionThenFailed, paid, canceledUnpaid, reversed, reversedUnconfirmed, canceledAfterPaid, canceledNoCode, canceledThenUnconfirmed];
    expect(all.map((id) => m('payment', id))).toEqual([[1, 1], [1, 1, 1], [0, 0], [1, 1], [0, 0], [0, 0], [0, 0], [0, 0], [1, 1]]);

    // The gateway's truth wins: a rejected revoke later seen CANCELED is revoked, a failed payment seen PAID is paid,
    // a canceled payment later shown to have been PAID moved money: none of their events gives way early any more.
    db.prepare("UPDATE revokes SET state = 'revoked' WHERE id = ?").run(rejected);
    db.prepare("UPDATE payments SET state = 'paid' WHERE id = ?").run(failed);
    db.prepare('UPDATE payments SET seen_paid = 1 WHERE id = ?').run(canceledUnpaid);
    db.prepare("UPDATE payments SET error_code = 'REVERSED_UNCONFIRMED' WHERE id = ?").run(canceledThenUnconfirmed);
    expect([m('revoke', rejected), m('payment', failed), m('payment', canceledUnpaid), m('payment', canceledThenUnconfirmed)]).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0],
      [0, 0],
      [0, 0],
    ]);
    // An update that is no transition (a revoke's attempts, a payment's facts) changes no mark.
    db.prepare('UPDATE revokes SET attempts = attempts + 1 WHERE id = ?').run(expired);
    db.prepare('UPDATE payments SET seen_paid = 0, order_status = ? WHERE id = ?').run('PAY_CANCELED', attentionThenFailed);
    expect([m('revoke', expired), m('payment', attentionThenFailed)]).toEqual([[1, 1], [1, 1, 1]]);
  });

  it('past the cap: the heartbeat, then audit entries, then no-money events (oldest first, counted apart), and only then other money events', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    const db = c.db;
    const rows = () => db.prepare('SELECT count(*) FROM fleet_outbox').pluck().get() as number;
    const realRevoke = revokeThrough(db, t, 8_880, 'alipay', 'alice', ['sending', 'pending', 'revoked']);
    const realPayment = paymentThrough(db, t + 1000, 4_321, ['sending', 'paid']);
    revokeThrough(db, t + 2000, 600, 'alipay', 'alice', ['sending', 'rejected']);
    writeHeartbeat(db, t + 3000);
    const real = [...marks(db, 'revoke', realRevoke.id), ...marks(db, 'payment', realPayment)];
    expect(real).toHaveLength(5);
    // Full: 5 real money events, 2 events of the rejected revoke, 7 audit entries, the heartbeat.
    expect(rows()).toBe(15);
    db.prepare('UPDATE fleet_state SET outbox_cap = 15').run();

    // The flood: 20 payments that fail (each a 'sending' and a 'failed' event and two audit entries): 80 rows.
    for (let i = 0; i < 20; i++) paymentThrough(db, t + 10_000 + i, 100 + i, ['sending', 'failed']);
    let b = backlog(db, t + 600_000);
    // Written 80 rows at the cap: the heartbeat, the 7 older audit entries and the 40 new ones gave way first, then 32
    // no-money events (the rejected revoke's 2, then the flood's oldest 30); the real money events are all there.
    expect(b.cap).toEqual({ rows: 15, cap: 15, dropped: { heartbeats: 1, audit: 47, noMoney: 32, money: 0 } });
    expect([...marks(db, 'revoke', realRevoke.id), ...marks(db, 'payment', realPayment)]).toEqual(real);
    expect(db.prepare('SELECT count(*) FROM fleet_outbox WHERE no_money = 1').pluck().get()).toBe(10);
    expect(b.warning).toContain('32 no-money');
    expect(heartbeatPayload(db, t + 600_000).dropped).toEqual({ heartbeats: 1, audit: 47, noMoney: 32, money: 0 });

    // Real money keeps coming: the 10 no-money events give way, then the oldest real money events, oldest first.
    for (let i = 0; i < 6; i++) revokeThrough(db, t + 20_000 + i * 1000, 200 + i, 'alipay', 'alice', ['sending', 'revoked']);
    b = backlog(db, t + 600_000);
    expect(b.cap).toEqual({ rows: 15, cap: 15, dropped: { heartbeats: 1, audit: 47 + 12, noMoney: 32 + 10, money: 2 } });
    expect(db.prepare('SELECT count(*) FROM fleet_outbox WHERE no_money = 1').pluck().get()).toBe(0);
    expect(marks(db, 'revoke', realRevoke.id)).toEqual(real.slice(2, 3));
    expect(marks(db, 'payment', realPayment)).toEqual(real.slice(3));
  });

  it('an operation looks for its earlier events among the newest NO_MONEY_WINDOW sequence numbers: an older one stays a money event (kept, never dropped sooner)', () => {
    c = counterDir('TU', { sn: 'S', name: 's' });
    const db = c.db;
    // Each payment's 'sending' event, then other events until the newest is `gap` sequence numbers later, then its failure.
    const failAfter = (gap: number): number => {
      const id = paymentThrough(db, t, 100, ['sending']);
      const sending = db.prepare("SELECT seq FROM fleet_outbox WHERE kind = 'payment' AND op_id = ?").pluck().get(id) as number;
      db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'fleet_outbox'").run(sending + gap - 1);
      audit(db, t, 'eve', 'pay.requested', null);
      expect(db.prepare('SELECT max(seq) FROM fleet_outbox').pluck().get()).toBe(sending + gap);
      db.prepare("UPDATE payments SET state = 'failed' WHERE id = ?").run(id);
      return id;
    };
    const near = failAfter(NO_MONEY_WINDOW - 1);
    const far = failAfter(NO_MONEY_WINDOW);
    expect([marks(db, 'payment', near), marks(db, 'payment', far)]).toEqual([
      [
        { op_state: 'sending', no_money: 1 },
        { op_state: 'failed', no_money: 1 },
      ],
      [
        { op_state: 'sending', no_money: 0 },
        { op_state: 'failed', no_money: 1 },
      ],
    ]);
  });

  it('a success (revoked, refunded, paid) writes exactly the rows it wrote at version 15: the new triggers cost it their WHEN only', () => {
    const changes = (version: number) => {
      const db = new Database(':memory:');
      migrate(db, version);
      const total = () => db.prepare('SELECT total_changes()').pluck().get() as number;
      const out: Record<string, number> = {};
      const { sn } = revokeThrough(db, t, 500, 'alipay', 'alice', ['sending']);
      const revoke = db.prepare('SELECT id FROM revokes WHERE order_sn = ?').pluck().get(sn) as number;
      const refund = refundThrough(db, t, ['sending']);
      const payment = paymentThrough(db, t, 100, ['sending']);
      const step = (name: string, sql: string, id: number) => {
        const before = total();
        db.prepare(sql).run(id);
        out[name] = total() - before;
      };
      step('revoked', "UPDATE revokes SET state = 'revoked' WHERE id = ?", revoke);
      step('refunded', "UPDATE refunds SET state = 'refunded' WHERE id = ?", refund);
      step('paid', "UPDATE payments SET state = 'paid', seen_paid = 1 WHERE id = ?", payment);
      const failing = paymentThrough(db, t, 100, ['sending']);
      step('failed', "UPDATE payments SET state = 'failed' WHERE id = ?", failing);
      db.close();
      return out;
    };
    const [v15, v16] = [changes(15), changes(16)];
    expect({ revoked: v16.revoked, refunded: v16.refunded, paid: v16.paid }).toEqual({ revoked: v15.revoked, refunded: v15.refunded, paid: v15.paid });
    // The no-money transition alone does the extra work: its 'sending' event marked.
    expect(v16.failed).toBe(v15.failed! + 1);
    // And no success state of any kind is a no-money state, whatever the row shows.
    for (const [src, success] of [
      [REVOKES_SOURCE, 'revoked'],
      [REFUNDS_SOURCE, 'refunded'],
      [PAYMENTS_SOURCE, 'paid'],
    ] as const) {
      for (const [seen, code] of [
        [0, null],
        [1, 'CANCELED'],
      ] as const) {
        const sql = `SELECT ${src.noMoney.when('x')} FROM (SELECT ? AS state, ? AS seen_paid, ? AS error_code) x`;
        expect(new Database(':memory:').prepare(sql).pluck().get(success, seen, code)).toBe(0);
      }
    }
  });

  it('upgrading to version 16 marks the events already in the outbox of operations that had ended with no money moved', () => {
    const db = new Database(':memory:');
    migrate(db, 15);
    const revoked = revokeThrough(db, t, 500, 'alipay', 'alice', ['sending', 'revoked']).id;
    const expired = revokeThrough(db, t, 500, 'alipay', 'alice', ['queued', 'expired']).id;
    const failed = paymentThrough(db, t, 100, ['sending', 'failed']);
    const canceled = paymentThrough(db, t, 100, ['sending', 'canceled'], { code: 'CANCELED' });
    const reversed = paymentThrough(db, t, 100, ['sending', 'canceled'], { code: 'REVERSED', seenPaid: true });
    const rejectedRefund = refundThrough(db, t, ['sending', 'rejected']);
    migrate(db);
    const m = (kind: string, id: number) => marks(db, kind, id).map((r) => (r as { no_money: number }).no_money);
    expect([m('revoke', revoked), m('revoke', expired), m('payment', failed), m('payment', canceled), m('payment', reversed), m('refund', rejectedRefund)]).toEqual([
      [0, 0],
      [1, 1],
      [1, 1],
      [1, 1],
      [0, 0],
      [1, 1],
    ]);
    expect(db.prepare('SELECT dropped_no_money FROM fleet_state WHERE id = 1').pluck().get()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM fleet_outbox WHERE kind = 'audit' AND no_money = 1").pluck().get()).toBe(0);
    db.close();
  });
});
