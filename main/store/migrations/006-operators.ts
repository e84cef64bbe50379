/**
 * Version 6: operators (who may sign in at the counter, with a scrypt PIN
 * hash and a durable lockout), and on each revoke who voided it (id) and who
 * approved it. The existing `revokes.operator` keeps the voider's name; the
 * payment's own operator stays on the order.
 */
import type { Migration } from './migration';

export const m006: Migration = {
  name: '006-operators',
  up(db) {
    db.exec(`
      CREATE TABLE operators (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('cashier', 'supervisor', 'store_it')),
        -- scrypt$N$r$p$salt$hash (base64): the cost travels with the hash, so it can be raised later.
        pin_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        language TEXT CHECK (language IN ('zh-CN', 'en')),
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      -- Names are how people find themselves on the sign-in screen: one active operator per name.
      CREATE UNIQUE INDEX operators_active_name ON operators (name) WHERE active = 1;

      ALTER TABLE revokes ADD COLUMN operator_id INTEGER NULL;
      ALTER TABLE revokes ADD COLUMN approver_id INTEGER NULL;
      ALTER TABLE revokes ADD COLUMN approver_name TEXT NULL;
    `);
  },
};
