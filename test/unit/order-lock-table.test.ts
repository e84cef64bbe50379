/** Migration 14's order lock: one WITHOUT ROWID b-tree keyed by the order, the same lock, rows of an upgrade kept. */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../main/store/migrate';

const NOW = Date.UTC(2026, 11, 6, 4);

function paidOrder(db: Database.Database, sn: string, clientSn: string): void {
  db.prepare(
    `INSERT INTO orders (sn, client_sn, total_cents, net_cents, finished_at, status, business_day, updated_at) VALUES (?, ?, 100, 100, ?, 'PAID', '2026-12-06', ?)`,
  ).run(sn, clientSn, NOW, NOW);
}

const openRevoke = (db: Database.Database, sn: string, clientSn: string) =>
  db
    .prepare(`INSERT INTO revokes (order_sn, client_sn, state, operator, requested_at, updated_at, attempts, queries, deadline_day) VALUES (?, ?, 'pending', 'op', ?, ?, 1, 0, '2026-12-06')`)
    .run(sn, clientSn, NOW, NOW);

const openRefund = (db: Database.Database, sn: string, clientSn: string) =>
  db
    .prepare(
      `INSERT INTO refunds (order_sn, client_sn, request_no, amount_cents, net_before_cents, state, operator, requested_at, updated_at) VALUES (?, ?, 'R1', 100, 100, 'sending', 'op', ?, ?)`,
    )
    .run(sn, clientSn, NOW, NOW);

describe('the order lock after migration 14', () => {
  it('an upgrade keeps the open operations’ locks; a second open operation is still refused; a final state releases', () => {
    const db = new Database(':memory:');
    migrate(db, 12);
    paidOrder(db, '7890000000000001', 'C1');
    openRevoke(db, '7890000000000001', 'C1');
    migrate(db);
    expect(db.prepare('SELECT order_client_sn, kind, op_id FROM open_operations').all()).toEqual([{ order_client_sn: 'C1', kind: 'revoke', op_id: 1 }]);
    expect(() => openRefund(db, '7890000000000001', 'C1')).toThrow(/open_operations\.order_client_sn/);
    db.prepare("UPDATE revokes SET state = 'revoked' WHERE id = 1").run();
    expect(db.prepare('SELECT count(*) FROM open_operations').pluck().get()).toBe(0);
    openRefund(db, '7890000000000001', 'C1');
    expect(db.prepare('SELECT kind FROM open_operations').pluck().all()).toEqual(['refund']);
    db.close();
  });

  it('is one b-tree: WITHOUT ROWID, keyed by the order, no other index', () => {
    const db = new Database(':memory:');
    migrate(db);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'open_operations'").pluck().get()).toMatch(/WITHOUT ROWID/);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'open_operations'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM sqlite_temp_master').pluck().get()).toBe(0);
    db.close();
  });
});
