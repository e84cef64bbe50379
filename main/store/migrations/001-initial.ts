/** Version 1: terminal, orders, revokes, print jobs, audit log, locks, settings. */
import type { Migration } from './migration';

export const m001: Migration = {
  name: '001-initial',
  up(db) {
    db.exec(`
      CREATE TABLE terminal (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        terminal_sn TEXT NOT NULL,
        device_id TEXT NOT NULL,
        app_id TEXT,
        merchant_sn TEXT,
        merchant_name TEXT,
        store_sn TEXT,
        store_name TEXT,
        -- Which vault sealed the keys (the app's OS keychain or the file vault).
        key_vault TEXT NOT NULL,
        sealed_key BLOB NOT NULL,
        sealed_prev_key BLOB,
        key_updated_at INTEGER NOT NULL,
        activated_at INTEGER NOT NULL,
        last_checkin_day TEXT
      ) STRICT;

      CREATE TABLE orders (
        sn TEXT PRIMARY KEY,
        client_sn TEXT NOT NULL UNIQUE,
        trade_no TEXT,
        total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
        net_cents INTEGER NOT NULL CHECK (net_cents >= 0),
        payway TEXT,
        payway_name TEXT,
        subject TEXT,
        operator TEXT,
        finished_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        business_day TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX orders_day ON orders (business_day, finished_at);
      CREATE INDEX orders_amount ON orders (total_cents);

      CREATE TABLE revokes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        order_sn TEXT NOT NULL REFERENCES orders (sn) ON DELETE CASCADE,
        client_sn TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
          ('requested','sending','queued','pending','revoked','rejected','needs_attention','expired')),
        operator TEXT,
        requested_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        queries INTEGER NOT NULL DEFAULT 0,
        -- Re-sends after a query showed the order still PAID (bounded).
        resends INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        pending_since INTEGER,
        deadline_day TEXT NOT NULL,
        revoked_at INTEGER,
        error_code TEXT,
        error_zh TEXT,
        error_en TEXT,
        gateway_code TEXT,
        gateway_message TEXT,
        last_result_code TEXT,
        warned_at INTEGER,
        lease_owner TEXT,
        lease_until INTEGER
      ) STRICT;
      -- At most one open (or successful) revoke per order.
      CREATE UNIQUE INDEX revokes_one_per_order ON revokes (order_sn)
        WHERE state NOT IN ('rejected', 'expired');
      CREATE INDEX revokes_state ON revokes (state, id);

      CREATE TABLE print_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        revoke_id INTEGER REFERENCES revokes (id) ON DELETE SET NULL,
        order_sn TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('revoke', 'test')),
        copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
        state TEXT NOT NULL CHECK (state IN ('pending', 'printed', 'failed')),
        receipt TEXT NOT NULL,
        bytes BLOB,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        printed_at INTEGER,
        next_attempt_at INTEGER,
        lease_owner TEXT,
        lease_until INTEGER
      ) STRICT;
      -- One original receipt per revoke; copies are extra rows.
      CREATE UNIQUE INDEX print_jobs_one_original ON print_jobs (revoke_id) WHERE copy = 0 AND revoke_id IS NOT NULL;
      CREATE INDEX print_jobs_state ON print_jobs (state, id);

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        details TEXT
      ) STRICT;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

      -- Cross-process leases (e.g. one check-in at a time across the app and the CLI).
      CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        until INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
