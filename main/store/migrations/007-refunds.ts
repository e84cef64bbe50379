/**
 * Version 7: refunds (a second kind of durable money operation) and their
 * receipts. A refund row names who did it and who approved it from the start.
 * At most one open refund per order (several partial refunds over time);
 * `request_no` is the gateway's idempotency key, unique everywhere. Print
 * jobs learn the kinds `refund` and `report` (the CHECK is edited in place as
 * in version 5: a rebuild's DROP would fire ON DELETE SET NULL on receipts).
 */
import type { Migration } from './migration';

export const m007: Migration = {
  name: '007-refunds',
  up(db) {
    db.exec(`
      CREATE TABLE refunds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        order_sn TEXT NOT NULL REFERENCES orders (sn) ON DELETE CASCADE,
        client_sn TEXT NOT NULL,
        request_no TEXT NOT NULL UNIQUE,
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
        -- The order's net amount when the refund was asked for: a query's net amount below it by the
        -- refund's amount shows the refund applied when the answer carries no client_tsn.
        net_before_cents INTEGER NOT NULL CHECK (net_before_cents >= 0),
        state TEXT NOT NULL CHECK (state IN ('sending','queued','pending','refunded','rejected','needs_attention')),
        operator_id INTEGER,
        operator TEXT NOT NULL,
        approver_id INTEGER,
        approver_name TEXT,
        requested_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        queries INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        pending_since INTEGER,
        refunded_at INTEGER,
        refunded_day TEXT,
        error_code TEXT,
        error_zh TEXT,
        error_en TEXT,
        gateway_code TEXT,
        gateway_message TEXT,
        last_result_code TEXT,
        lease_owner TEXT,
        lease_until INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX refunds_one_open_per_order ON refunds (order_sn)
        WHERE state IN ('sending', 'queued', 'pending', 'needs_attention');
      CREATE INDEX refunds_state ON refunds (state, id);
      CREATE INDEX refunds_order ON refunds (order_sn, id);
      CREATE INDEX refunds_day ON refunds (refunded_day) WHERE refunded_day IS NOT NULL;
      ALTER TABLE print_jobs ADD COLUMN refund_id INTEGER REFERENCES refunds (id) ON DELETE SET NULL;
      CREATE UNIQUE INDEX print_jobs_one_refund_original ON print_jobs (refund_id) WHERE copy = 0 AND refund_id IS NOT NULL;
    `);
    const version = db.pragma('schema_version', { simple: true }) as number;
    db.unsafeMode(true);
    try {
      db.pragma('writable_schema = ON');
      db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'print_jobs'").run(
        "kind IN ('revoke', 'test')",
        "kind IN ('revoke', 'test', 'refund', 'report')",
      );
      db.pragma(`schema_version = ${version + 1}`);
    } finally {
      db.pragma('writable_schema = OFF');
      db.unsafeMode(false);
    }
  },
};
