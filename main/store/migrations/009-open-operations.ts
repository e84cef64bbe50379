/**
 * Version 9: one open money operation per order, and money rows kept for good.
 *
 * - `open_operations` holds one row per order (keyed by the order's
 *   `client_sn`, which a payment has before the gateway gives an sn) while a
 *   revoke or refund of it is open; triggers on each kind's table insert the
 *   row with an open operation and delete it when that operation reaches a
 *   final state. A second open operation on the order fails its INSERT, in
 *   every process (store/open-operations.ts). A later kind adds the same two
 *   triggers for its table in its own migration (docs/operations.md).
 * - Revokes and refunds no longer follow their order out by ON DELETE
 *   CASCADE: retention never deletes money. Only a foreign-key clause
 *   changes, not the file format, so the stored definitions are edited in
 *   place as SQLite documents (as in versions 5 and 7): no table rebuild, so
 *   every trigger on these tables (order change log, fleet outbox) stays as
 *   it is.
 */
import type { Migration } from './migration';

export const m009: Migration = {
  name: '009-open-operations',
  up(db) {
    db.exec(`
      CREATE TABLE open_operations (
        order_client_sn TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        op_id INTEGER NOT NULL,
        opened_at INTEGER NOT NULL,
        UNIQUE (kind, op_id)
      ) STRICT;

      CREATE TRIGGER revokes_lock_open AFTER INSERT ON revokes
      WHEN NEW.state NOT IN ('revoked', 'rejected', 'expired')
      BEGIN
        INSERT INTO open_operations (order_client_sn, kind, op_id, opened_at) VALUES (NEW.client_sn, 'revoke', NEW.id, NEW.requested_at);
      END;
      CREATE TRIGGER revokes_lock_release AFTER UPDATE OF state ON revokes
      WHEN NEW.state IN ('revoked', 'rejected', 'expired')
      BEGIN
        DELETE FROM open_operations WHERE kind = 'revoke' AND op_id = NEW.id;
      END;

      CREATE TRIGGER refunds_lock_open AFTER INSERT ON refunds
      WHEN NEW.state NOT IN ('refunded', 'rejected')
      BEGIN
        INSERT INTO open_operations (order_client_sn, kind, op_id, opened_at) VALUES (NEW.client_sn, 'refund', NEW.id, NEW.requested_at);
      END;
      CREATE TRIGGER refunds_lock_release AFTER UPDATE OF state ON refunds
      WHEN NEW.state IN ('refunded', 'rejected')
      BEGIN
        DELETE FROM open_operations WHERE kind = 'refund' AND op_id = NEW.id;
      END;

      -- Operations open at the upgrade take their order's lock (the oldest first, if an order had two).
      INSERT OR IGNORE INTO open_operations (order_client_sn, kind, op_id, opened_at)
        SELECT client_sn, kind, id, requested_at FROM (
          SELECT client_sn, 'revoke' AS kind, id, requested_at FROM revokes WHERE state NOT IN ('revoked', 'rejected', 'expired')
          UNION ALL
          SELECT client_sn, 'refund' AS kind, id, requested_at FROM refunds WHERE state NOT IN ('refunded', 'rejected')
        ) ORDER BY requested_at, kind;
    `);
    const version = db.pragma('schema_version', { simple: true }) as number;
    db.unsafeMode(true);
    try {
      db.pragma('writable_schema = ON');
      db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name IN ('revokes', 'refunds')").run(
        'REFERENCES orders (sn) ON DELETE CASCADE',
        'REFERENCES orders (sn)',
      );
      db.pragma(`schema_version = ${version + 1}`);
    } finally {
      db.pragma('writable_schema = OFF');
      db.unsafeMode(false);
    }
  },
};
