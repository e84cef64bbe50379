/**
 * Schema migrations: one file per version under ./migrations, guarded by
 * `PRAGMA user_version`; each version's DDL and its version bump commit in one
 * transaction, so a crash leaves the file at a whole version.
 */
import type Database from 'better-sqlite3';
import { StoreError } from './errors';
import { MIGRATIONS } from './migrations';

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export const LATEST_VERSION = MIGRATIONS.length;

/** Brings the database to `target` (default: the latest version). */
export function migrate(db: Database.Database, target = LATEST_VERSION): void {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new StoreError(
      'STORE_TOO_NEW',
      `the database is at schema version ${current}, newer than this upay-pos (${LATEST_VERSION}); upgrade upay-pos`,
    );
  }
  for (let v = current + 1; v <= target; v++) {
    const m = MIGRATIONS[v - 1];
    if (!m) throw new Error(`missing migration ${v}`);
    db.transaction(() => {
      // Re-check inside the write lock: another process may have migrated meanwhile.
      if (schemaVersion(db) >= v) return;
      m.up(db);
      db.pragma(`user_version = ${v}`);
    }).immediate();
  }
}
