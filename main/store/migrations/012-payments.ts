/**
 * Version 12: payments (barcode `pay` and QR `precreate`), the third kind of
 * durable money operation. Keyed by the attempt's own `client_sn`, committed
 * before the first send and never reused. A payment is never queued: its
 * states are the write-ahead `sending`, the uncertain `pending` (queried by
 * client_sn), `canceling` (the automatic reversal, 冲正, driven until the
 * order is final), `needs_attention` (still driven, a person told) and the
 * finals `paid`, `failed` (no money taken) and `canceled`; the order lock of
 * version 9 holds while a payment is open (kind `pay`). Print jobs learn
 * the kind `payment` (收款凭证 and the 撤销/冲正 slip), and so does the fleet
 * outbox (payment events: created, paid, failed, canceled, needs_attention);
 * both CHECKs are edited in place as in version 7 (only the kind list's text
 * changes: version 11's added outbox columns, its cap and its triggers stay).
 * Literal SQL, frozen.
 */
import type { Migration } from './migration';

/**
 * The fleet export of payments: a payment's creation, and its moves to paid,
 * failed, canceled and needs_attention, each an outbox event in the change's
 * own transaction, with the identity columns of version 11. What
 * main/fleet/outbox-sql.ts generated for PAYMENTS_SOURCE
 * (test/unit/fleet-outbox.test.ts keeps the generator equal to it).
 */
export const M012_FLEET_TRIGGERS_SQL = `
    DROP TRIGGER IF EXISTS fleet_payments_insert;
    CREATE TRIGGER fleet_payments_insert AFTER INSERT ON payments
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_payments_state;
    CREATE TRIGGER fleet_payments_state AFTER UPDATE OF state ON payments
    WHEN OLD.state IS NOT NEW.state AND NEW.state IN ('paid', 'failed', 'canceled', 'needs_attention')
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
    END;`;

export const m012: Migration = {
  name: '012-payments',
  up(db) {
    db.exec(`
      CREATE TABLE payments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        -- The gateway's order sn once an answer gave it ('' until then); the attempt is keyed by client_sn.
        order_sn TEXT NOT NULL DEFAULT '',
        client_sn TEXT NOT NULL UNIQUE CHECK (length(CAST(client_sn AS BLOB)) BETWEEN 1 AND 32),
        method TEXT NOT NULL CHECK (method IN ('barcode', 'qr')),
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0 AND amount_cents <= 9999999999),
        payway TEXT,
        payway_name TEXT,
        subject TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sending','pending','canceling','paid','failed','canceled','needs_attention')),
        order_status TEXT,
        -- Some answer showed the order PAID: a reversal after that gave money back.
        seen_paid INTEGER NOT NULL DEFAULT 0 CHECK (seen_paid IN (0, 1)),
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
        -- The pay or precreate (1) plus every cancel sent.
        attempts INTEGER NOT NULL DEFAULT 0,
        queries INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        pending_since INTEGER,
        paid_at INTEGER,
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
      CREATE INDEX payments_day ON payments (requested_day, id);
      CREATE INDEX payments_order ON payments (order_sn) WHERE order_sn <> '';

      -- One open money operation per order (migration 009): a payment's order is its own client_sn.
      CREATE TRIGGER payments_lock_open AFTER INSERT ON payments
      WHEN NEW.state NOT IN ('paid', 'failed', 'canceled')
      BEGIN
        INSERT INTO open_operations (order_client_sn, kind, op_id, opened_at) VALUES (NEW.client_sn, 'pay', NEW.id, NEW.requested_at);
      END;
      CREATE TRIGGER payments_lock_release AFTER UPDATE OF state ON payments
      WHEN NEW.state IN ('paid', 'failed', 'canceled')
      BEGIN
        DELETE FROM open_operations WHERE kind = 'pay' AND op_id = NEW.id;
      END;

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
      db.prepare("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'fleet_outbox'").run(
        "kind IN ('revoke', 'refund', 'audit', 'heartbeat')",
        "kind IN ('revoke', 'refund', 'audit', 'heartbeat', 'payment')",
      );
      db.pragma(`schema_version = ${version + 1}`);
    } finally {
      db.pragma('writable_schema = OFF');
      db.unsafeMode(false);
    }
    // After the outbox learns the kind: the triggers write 'payment' rows.
    db.exec(M012_FLEET_TRIGGERS_SQL);
  },
};
