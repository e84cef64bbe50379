/**
 * Version 5: the revokes table's state CHECK lists exactly the states a
 * revoke can be in. Version 1 also allowed `requested`, which no version ever
 * wrote. Only a CHECK constraint changes, not the file format, so the table's
 * stored definition is edited in place, the way SQLite documents for such a
 * change (writable_schema, schema_version bumped in the same transaction): a
 * rebuild would DROP the table, and under foreign_keys that fires print_jobs'
 * ON DELETE SET NULL on every receipt's revoke.
 */
import type { Migration } from './migration';

export const m005: Migration = {
  name: '005-revoke-states',
  up(db) {
    const stray = db.prepare("SELECT count(*) FROM revokes WHERE state = 'requested'").pluck().get() as number;
    if (stray > 0) throw new Error(`${stray} revokes in the never-written state 'requested': refusing to guess what they are`);
    const version = db.pragma('schema_version', { simple: true }) as number;
    db.unsafeMode(true);
    try {
      db.pragma('writable_schema = ON');
      db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, '') WHERE type = 'table' AND name = 'revokes'").run("'requested',");
      db.pragma(`schema_version = ${version + 1}`);
    } finally {
      db.pragma('writable_schema = OFF');
      db.unsafeMode(false);
    }
  },
};
