/**
 * Migration 5: the revoke state CHECK no longer admits the never-written
 * `requested`, and upgrading a file in place keeps every row and every
 * receipt's link to its revoke.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../main/store/migrate';

const T0 = Date.UTC(2026, 2, 10, 4);

describe('revoke states (migration 5)', () => {
  it('a version-4 file upgrades in place: rows and receipt links kept, `requested` refused, the rest allowed', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, 4);
    db.prepare(
      `INSERT INTO orders (sn, client_sn, trade_no, total_cents, net_cents, finished_at, status, business_day, updated_at)
       VALUES ('7890000000000001', 'POS-0001', NULL, 8800, 0, ?, 'CANCELED', '2026-03-10', ?)`,
    ).run(T0, T0);
    const revokeId = db
      .prepare("INSERT INTO revokes (order_sn, client_sn, state, requested_at, updated_at, deadline_day) VALUES ('7890000000000001', 'POS-0001', 'revoked', ?, ?, '2026-03-10')")
      .run(T0, T0).lastInsertRowid;
    db.prepare("INSERT INTO print_jobs (revoke_id, order_sn, kind, copy, state, receipt, attempts, created_at) VALUES (?, '7890000000000001', 'revoke', 0, 'pending', '{}', 0, ?)").run(
      revokeId,
      T0,
    );

    migrate(db, 5);

    expect(schemaVersion(db)).toBeGreaterThanOrEqual(5);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT revoke_id FROM print_jobs').pluck().get()).toBe(revokeId);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'revokes'").pluck().get()).not.toContain("'requested'");
    const insert = db.prepare("INSERT INTO revokes (order_sn, client_sn, state, requested_at, updated_at, deadline_day) VALUES ('7890000000000001', 'POS-0001', ?, 1, 1, '2026-03-10')");
    expect(() => insert.run('requested')).toThrow(/CHECK constraint failed/);
    expect(() => insert.run('expired')).not.toThrow();
    db.close();
  });
});
