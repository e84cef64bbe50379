/** The export outbox in SQLite: one event per change, in the change's own transaction; heartbeats coalesced. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { backlog, heartbeatPayload, writeHeartbeat } from '../../main/fleet/outbox';
import { ACCOUNTABLE_COLUMNS, FLEET_TRIGGER_MIGRATIONS, fleetTriggersSql, operationTriggers, REVOKES_SOURCE } from '../../main/fleet/outbox-sql';
import { migrate } from '../../main/store/migrate';
import { MIGRATIONS } from '../../main/store/migrations';
import { M011_TRIGGERS_SQL, m011 } from '../../main/store/migrations/011-fleet-identity';
import { M012_FLEET_TRIGGERS_SQL, m012 } from '../../main/store/migrations/012-payments';
import { M014_OUTBOX_COUNT_SQL, m014 } from '../../main/store/migrations/014-cheaper-writes';
import { M015_COUNTED_TRIGGERS_SQL, m015 } from '../../main/store/migrations/015-outbox-count-in-writers';
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

  it('the live generator reproduces the frozen SQL of each migration that installs fleet triggers (11, 12 for payments, 14 the cheaper count, 15 the count in the writers)', () => {
    expect(FLEET_TRIGGER_MIGRATIONS.map((m) => m.migration)).toEqual([m011.name, m012.name, m014.name, m015.name]);
    expect(FLEET_TRIGGER_MIGRATIONS[0]!.sql()).toBe(M011_TRIGGERS_SQL);
    expect(FLEET_TRIGGER_MIGRATIONS[1]!.sql()).toBe(M012_FLEET_TRIGGERS_SQL);
    expect(FLEET_TRIGGER_MIGRATIONS[2]!.sql()).toBe(M014_OUTBOX_COUNT_SQL);
    expect(FLEET_TRIGGER_MIGRATIONS[3]!.sql()).toBe(M015_COUNTED_TRIGGERS_SQL);
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
    expect(b.cap).toEqual({ rows: 6, cap: 6, dropped: { heartbeats: 1, audit: 6, money: 0 } });
    expect(kinds()).toEqual(Array(6).fill('revoke'));
    // Money gives way last, oldest first; the heartbeat written at the cap is dropped at once.
    revokeThrough(db, t + 300_000, 999, 'alipay', 'alice', R);
    writeHeartbeat(db, t + 400_000);
    b = backlog(db, t + 600_000);
    expect(b.cap).toEqual({ rows: 6, cap: 6, dropped: { heartbeats: 2, audit: 8, money: 2 } });
    expect(db.prepare('SELECT count(*) FROM fleet_outbox').pluck().get()).toBe(6);
    expect(db.prepare("SELECT min(amount_cents) FROM fleet_outbox WHERE kind = 'revoke'").pluck().get()).toBe(101);
    expect(b.warning).toContain('cap 6 reached');
    expect(heartbeatPayload(db, t + 600_000).dropped).toEqual({ heartbeats: 2, audit: 8, money: 2 });
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
