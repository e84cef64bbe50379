/**
 * Version 12: payments (barcode `pay` and QR `precreate`), the third kind of
 * durable money operation. Keyed by the attempt's own `client_sn`, committed
 * before the first send and never reused. A payment is never queued: its
 * states are the write-ahead `sending`, the uncertain `pending` (queried by
 * client_sn), `canceling` (the automatic reversal, 冲正, driven until the
 * order is final), `needs_attention` (still driven, a person told) and the
 * finals `paid`, `failed` (no money taken) and `canceled`. Print jobs learn
 * the kind `payment` (收款凭证 and the 撤销/冲正 slip; the CHECK is edited in
 * place as in version 7). Literal SQL, frozen.
 */
import type { Migration } from './index';

export const m012: Migration = {
  name: '012-payments',
  up(db) {
    db.exec(`
      CREATE TABLE payments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_sn TEXT NOT NULL UNIQUE CHECK (length(CAST(client_sn AS BLOB)) BETWEEN 1 AND 32),
        method TEXT NOT NULL CHECK (method IN ('barcode', 'qr')),
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0 AND amount_cents <= 9999999999),
        payway TEXT,
        payway_name TEXT,
        subject TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sending','pending','canceling','paid','failed','canceled','needs_attention')),
        order_sn TEXT,
        order_status TEXT,
        trade_no TEXT,
        qr_code TEXT,
        window_until INTEGER NOT NULL,
        operator_id INTEGER,
        operator TEXT NOT NULL,
        approver_id INTEGER,
        approver_name TEXT,
        requested_at INTEGER NOT NULL,
        requested_day TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        queries INTEGER NOT NULL DEFAULT 0,
        cancels INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        pending_since INTEGER,
        cancel_since INTEGER,
        paid_at INTEGER,
        final_at INTEGER,
        money_returned INTEGER NOT NULL DEFAULT 0 CHECK (money_returned IN (0, 1)),
        error_code TEXT,
        error_zh TEXT,
        error_en TEXT,
        gateway_code TEXT,
        gateway_message TEXT,
        last_result_code TEXT,
        lease_owner TEXT,
        lease_until INTEGER
      ) STRICT;
      CREATE INDEX payments_state ON payments (state, id);
      CREATE INDEX payments_open_due ON payments (next_attempt_at) WHERE state IN ('sending', 'pending', 'canceling', 'needs_attention');
      CREATE INDEX payments_day ON payments (requested_day, id);
      CREATE INDEX payments_order ON payments (order_sn) WHERE order_sn IS NOT NULL;
      ALTER TABLE print_jobs ADD COLUMN payment_id INTEGER REFERENCES payments (id) ON DELETE SET NULL;
      CREATE UNIQUE INDEX print_jobs_one_payment_original ON print_jobs (payment_id) WHERE copy = 0 AND payment_id IS NOT NULL;
    `);
    const version = db.pragma('schema_version', { simple: true }) as number;
    db.unsafeMode(true);
    try {
      db.pragma('writable_schema = ON');
      db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'print_jobs'").run(
        "kind IN ('revoke', 'test', 'refund', 'report')",
        "kind IN ('revoke', 'test', 'refund', 'report', 'payment')",
      );
      db.pragma(`schema_version = ${version + 1}`);
    } finally {
      db.pragma('writable_schema = OFF');
      db.unsafeMode(false);
    }
  },
};
