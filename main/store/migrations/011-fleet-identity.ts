/**
 * Version 11: fleet identity and bounds. Each outbox row captures, when it is
 * written, the terminal and store of that moment, the install's epoch and a
 * random event id (head office's key: a restored backup reuses sequence
 * numbers, never ids). Poison rows are set aside, not retried for ever. The
 * shared credential kept in clear in fleet_state.url is dropped (a counter's
 * own credential is sealed in the key vault: docs/fleet.md). The outbox is
 * bounded by a cap (heartbeats give way first, money last). Literal SQL:
 * M011_TRIGGERS_SQL is what main/fleet/outbox-sql.ts generated for it
 * (test/unit/fleet-outbox.test.ts keeps the generator equal to it).
 */
import type { Migration } from './migration';

export const M011_TABLES_SQL = `
      -- Identity captured when an event is written; a random event id head office keeps unique;
      -- poison events set aside (kept here, reported to head office) instead of blocking the rest.
      ALTER TABLE fleet_outbox ADD COLUMN event_id TEXT;
      ALTER TABLE fleet_outbox ADD COLUMN epoch TEXT;
      ALTER TABLE fleet_outbox ADD COLUMN terminal_sn TEXT;
      ALTER TABLE fleet_outbox ADD COLUMN store_sn TEXT;
      ALTER TABLE fleet_outbox ADD COLUMN store_name TEXT;
      ALTER TABLE fleet_outbox ADD COLUMN merchant_sn TEXT;
      ALTER TABLE fleet_outbox ADD COLUMN set_aside_at INTEGER;
      ALTER TABLE fleet_outbox ADD COLUMN set_aside_reason TEXT;
      ALTER TABLE fleet_outbox ADD COLUMN alert_shipped INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX fleet_outbox_set_aside ON fleet_outbox (seq) WHERE set_aside_at IS NOT NULL;

      -- The shared credential stored in clear goes: a counter's credential is sealed in the key vault.
      ALTER TABLE fleet_state DROP COLUMN url;
      ALTER TABLE fleet_state ADD COLUMN sealed_url BLOB;
      ALTER TABLE fleet_state ADD COLUMN url_vault TEXT;
      ALTER TABLE fleet_state ADD COLUMN url_shown TEXT;
      -- The install's epoch (a new one when head office reports a restored or copied data dir).
      ALTER TABLE fleet_state ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
      ALTER TABLE fleet_state ADD COLUMN epoch_started_at INTEGER;
      ALTER TABLE fleet_state ADD COLUMN restore_detected_at INTEGER;
      -- The bound: rows counted by trigger, the cap, and what gave way.
      ALTER TABLE fleet_state ADD COLUMN outbox_rows INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE fleet_state ADD COLUMN outbox_cap INTEGER NOT NULL DEFAULT 200000 CHECK (outbox_cap > 0);
      ALTER TABLE fleet_state ADD COLUMN dropped_heartbeats INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE fleet_state ADD COLUMN dropped_audit INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE fleet_state ADD COLUMN dropped_money INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE fleet_state ADD COLUMN set_aside_total INTEGER NOT NULL DEFAULT 0;

      UPDATE fleet_state SET epoch = lower(hex(randomblob(16))), outbox_rows = (SELECT count(*) FROM fleet_outbox) WHERE id = 1;
      UPDATE fleet_outbox SET event_id = lower(hex(randomblob(16))), epoch = (SELECT epoch FROM fleet_state WHERE id = 1);
      UPDATE fleet_outbox SET terminal_sn = t.terminal_sn, store_sn = t.store_sn, store_name = t.store_name, merchant_sn = t.merchant_sn
        FROM terminal t WHERE t.id = 1;
`;

export const M011_TRIGGERS_SQL = `
    DROP TRIGGER IF EXISTS fleet_revokes_insert;
    CREATE TRIGGER fleet_revokes_insert AFTER INSERT ON revokes
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_revokes_state;
    CREATE TRIGGER fleet_revokes_state AFTER UPDATE OF state ON revokes
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_refunds_insert;
    CREATE TRIGGER fleet_refunds_insert AFTER INSERT ON refunds
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_refunds_state;
    CREATE TRIGGER fleet_refunds_state AFTER UPDATE OF state ON refunds
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_audit_log_insert;
    CREATE TRIGGER fleet_audit_log_insert AFTER INSERT ON audit_log
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, operator_name, action, order_sn, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'audit', NEW.at, strftime('%Y-%m-%d', NEW.at / 1000, 'unixepoch', '+8 hours'), NEW.actor, NEW.action, NEW.subject,
        json_object('id', NEW.id, 'actor', NEW.actor, 'action', NEW.action, 'subject', NEW.subject,
          'details', CASE WHEN json_valid(NEW.details) THEN json(NEW.details) ELSE NEW.details END), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    CREATE TRIGGER fleet_outbox_count_in AFTER INSERT ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),
        dropped_money = dropped_money + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind IN ('heartbeat', 'audit')))
      WHERE id = 1 AND outbox_rows > outbox_cap;
      DELETE FROM fleet_outbox
      WHERE (SELECT outbox_rows > outbox_cap FROM fleet_state WHERE id = 1)
        AND seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),
          (SELECT min(seq) FROM fleet_outbox));
    END;
    DROP TRIGGER IF EXISTS fleet_outbox_count_out;
    CREATE TRIGGER fleet_outbox_count_out AFTER DELETE ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows - 1 WHERE id = 1;
    END;`;

export const m011: Migration = {
  name: '011-fleet-identity',
  up(db) {
    db.exec(M011_TABLES_SQL);
    db.exec(M011_TRIGGERS_SQL);
  },
};
