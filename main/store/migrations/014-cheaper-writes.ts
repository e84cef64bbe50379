/**
 * Version 14: cheaper writes for every money operation, the same guarantees.
 *
 * The fleet outbox's bound of version 11, cheaper. Every outbox
 * row (four per revoke: its two state events and two audit entries) ran a
 * trigger of three statements (count, count what gives way, delete it) even
 * far below the cap. Now a BEFORE INSERT trigger of one UPDATE keeps the
 * count, and the cap's work runs only WHEN the count is over the cap. The
 * BEFORE trigger always fires before the row's AFTER triggers, so the guard
 * sees the count with the new row in it, whatever order SQLite keeps its
 * triggers in. Same rows kept, same rows dropped, same counts. Literal SQL,
 * frozen: what main/fleet/outbox-sql.ts generates as OUTBOX_COUNT_SQL
 * (test/unit/fleet-outbox.test.ts keeps the generator equal to it).
 */
import type { Migration } from './migration';

export const M014_OUTBOX_COUNT_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    CREATE TRIGGER fleet_outbox_count_in BEFORE INSERT ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER INSERT ON fleet_outbox
    WHEN (SELECT outbox_rows > outbox_cap FROM fleet_state WHERE id = 1)
    BEGIN
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),
        dropped_money = dropped_money + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind IN ('heartbeat', 'audit')))
      WHERE id = 1;
      DELETE FROM fleet_outbox
      WHERE seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),
          (SELECT min(seq) FROM fleet_outbox));
    END;`;

/**
 * The order lock of version 9, one b-tree instead of three: `open_operations`
 * becomes a WITHOUT ROWID table keyed by the order's `client_sn` alone (the
 * lock: a second open operation on the order still fails its INSERT), and
 * each kind's release deletes its row by that key (checking kind and id), so
 * the `(kind, op_id)` index goes. Each of a revoke's two commits wrote the
 * table and its two indexes: three pages; now one. The rows are copied
 * through a temporary table (no rename: the kinds' triggers name the table
 * and compile against the new one); the open triggers stay as they are.
 */
export const M014_LOCK_SQL = `
      CREATE TEMP TABLE open_operations_copy AS SELECT order_client_sn, kind, op_id, opened_at FROM open_operations;
      DROP TABLE open_operations;
      CREATE TABLE open_operations (
        order_client_sn TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        op_id INTEGER NOT NULL,
        opened_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      INSERT INTO open_operations (order_client_sn, kind, op_id, opened_at)
        SELECT order_client_sn, kind, op_id, opened_at FROM open_operations_copy;
      DROP TABLE open_operations_copy;

      DROP TRIGGER revokes_lock_release;
      CREATE TRIGGER revokes_lock_release AFTER UPDATE OF state ON revokes
      WHEN NEW.state IN ('revoked', 'rejected', 'expired')
      BEGIN
        DELETE FROM open_operations WHERE order_client_sn = NEW.client_sn AND kind = 'revoke' AND op_id = NEW.id;
      END;
      DROP TRIGGER refunds_lock_release;
      CREATE TRIGGER refunds_lock_release AFTER UPDATE OF state ON refunds
      WHEN NEW.state IN ('refunded', 'rejected')
      BEGIN
        DELETE FROM open_operations WHERE order_client_sn = NEW.client_sn AND kind = 'refund' AND op_id = NEW.id;
      END;
      DROP TRIGGER payments_lock_release;
      CREATE TRIGGER payments_lock_release AFTER UPDATE OF state ON payments
      WHEN NEW.state IN ('paid', 'failed', 'canceled')
      BEGIN
        DELETE FROM open_operations WHERE order_client_sn = NEW.client_sn AND kind = 'pay' AND op_id = NEW.id;
      END;
`;

export const m014: Migration = {
  name: '014-cheaper-writes',
  up(db) {
    db.exec(M014_OUTBOX_COUNT_SQL);
    db.exec(M014_LOCK_SQL);
  },
};
