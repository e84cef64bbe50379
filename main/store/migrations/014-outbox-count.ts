/**
 * Version 14: the fleet outbox's bound of version 11, cheaper. Every outbox
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

export const m014: Migration = {
  name: '014-outbox-count',
  up(db) {
    db.exec(M014_OUTBOX_COUNT_SQL);
  },
};
