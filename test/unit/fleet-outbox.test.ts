/** The export outbox in SQLite: one event per change, in the change's own transaction; heartbeats coalesced. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backlog, writeHeartbeat } from '../../main/fleet/outbox';
import Database from 'better-sqlite3';
import { AUDIT_TRIGGER_SQL, operationTriggers, REFUNDS_SOURCE, REVOKES_SOURCE, ACCOUNTABLE_COLUMNS } from '../../main/fleet/outbox-sql';
import { migrate } from '../../main/store/migrate';
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
    expect(hb).toMatchObject({ openOperations: 0, refundQueue: {} });
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
});

/**
 * The newest migration that installs the fleet triggers (migrations are frozen
 * literal SQL). A migration that replaces the triggers moves this pointer; the
 * live generator must produce what that migration installed.
 */
const FLEET_TRIGGERS_MIGRATION = 8;

describe('the frozen fleet migration and the live generator', () => {
  const triggersOf = (db: Database.Database) =>
    (db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'fleet_%' ORDER BY name").all() as Array<{ name: string; sql: string }>).map(
      (t) => ({ name: t.name, sql: t.sql.replace(/\s+/g, ' ').trim() }),
    );

  it(`the generator produces the triggers migration ${FLEET_TRIGGERS_MIGRATION} installed`, () => {
    const installed = new Database(':memory:');
    migrate(installed, FLEET_TRIGGERS_MIGRATION);
    const generated = new Database(':memory:');
    migrate(generated, FLEET_TRIGGERS_MIGRATION);
    for (const { name } of triggersOf(generated)) generated.exec(`DROP TRIGGER ${name}`);
    generated.exec([operationTriggers(REVOKES_SOURCE), operationTriggers(REFUNDS_SOURCE), AUDIT_TRIGGER_SQL].join('\n'));
    expect(triggersOf(installed).length).toBeGreaterThan(0);
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
